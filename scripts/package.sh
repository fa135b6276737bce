#!/usr/bin/env bash
# Builds dist/stylefarm_<version>_amd64.deb: the stylefarm binary for Debian 12 machines that
# have no Swift toolchain, with the systemd units, a supervisor for hosts without systemd, a man
# page, and maintainer scripts that create the stylefarm user (and start nothing).
#
#   scripts/package.sh [--out DIR] [--no-lintian] [--binary FILE]
#
# --binary packages a stylefarm already built that way (its --version names its commit) instead
# of building one.
#
# The binary is `swift build -c release --static-swift-stdlib` (the Swift runtime and Foundation
# linked in, the C libraries left to Debian's packages) in its own scratch folder,
# .build-static, so the normal release build is not disturbed. It is built with
# -DSTYLEFARM_COMMIT="<short hash>[+dirty]", which `stylefarm --version` prints. Changing that
# value (any new commit, or dirtying the tree) changes the compiler flags, so SwiftPM compiles
# the whole package again: about 3 minutes on 2 cores.
#
# The package's version is stylefarm's release with the commit after it,
# <release>+<commits>.g<hash> (and .dirty<time> from a dirty tree), so that a package built from
# another commit is another version: apt installs it over the old one, and deploy/add-node.sh
# leaves a node alone only when it already has this very build.
#
# Depends: comes from packaging/deb/runtime-depends, with dpkg-shlibdeps' minimum versions; the
# script checks that every library the binary needs (objdump -p, NEEDED) belongs to one of
# those packages (dpkg -S on this machine), and that no Swift runtime library is needed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"

FALLBACK_VERSION=0.11.0      # used only if the binary has no --version (main before issue 11)
out="$repo/dist" run_lintian=1 given_binary=""
while (($#)); do
  case "$1" in
    --out) out="$(realpath -m "$2")"; shift 2 ;;
    --no-lintian) run_lintian=0; shift ;;
    --binary) given_binary="$(realpath "$2")"; shift 2 ;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
say() { echo "package: $*" >&2; }
die() { echo "package: $*" >&2; exit 1; }
for tool in swift dpkg-deb objdump strip git; do command -v "$tool" >/dev/null || die "$tool is missing"; done

# --- the binary ------------------------------------------------------------------------------
hash="$(git rev-parse --short=12 HEAD)"
commit="$hash"
dirty=""
if [ -n "$(git status --porcelain)" ]; then commit="$hash+dirty"; dirty=".dirty$(date -u +%Y%m%d%H%M%S)"; fi
scratch="$repo/.build-static"
if [ -n "$given_binary" ]; then
  bin="$given_binary"; build_note="none (packaged $bin)"
  [ -x "$bin" ] || die "no binary at $bin"
  [[ "$("$bin" --version 2>/dev/null)" =~ \(commit\ ([^\)]*)\) ]] || die "$bin has no --version naming its commit"
  commit="${BASH_REMATCH[1]}"; hash="${commit%+dirty}"
  dirty=""; [ "$commit" = "$hash" ] || dirty=".dirty$(date -u -r "$bin" +%Y%m%d%H%M%S)"
  git cat-file -e "$hash^{commit}" 2>/dev/null || die "$bin was built from commit $hash, which this checkout does not have"
else
  build=(swift build -c release --static-swift-stdlib --disable-local-rpath --product stylefarm
         --scratch-path "$scratch" -Xcc "-DSTYLEFARM_COMMIT=\"$commit\"")
  mkdir -p "$scratch"
  say "building the static release binary at commit $commit (log: $scratch/package-build.log)"
  started=$SECONDS
  if ! "${build[@]}" >"$scratch/package-build.log" 2>&1; then
    grep -E 'error:' "$scratch/package-build.log" | head -20 >&2
    die "swift build failed; see $scratch/package-build.log"
  fi
  build_seconds=$((SECONDS - started)); build_note="$build_seconds s (swift build, static, release)"
  bin="$("${build[@]}" --show-bin-path)/stylefarm"
  [ -x "$bin" ] || die "no binary at $bin"
  say "built in ${build_seconds} s: $bin"
fi

# The Swift runtime must be inside the binary: a node has no toolchain.
if ldd "$bin" | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime'; then
  die "the binary still needs Swift's shared libraries (above): is --static-swift-stdlib working?"
fi

# --- the version -----------------------------------------------------------------------------
if line="$("$bin" --version 2>/dev/null)" && [[ "$line" =~ ^stylefarm\ ([0-9][^ ]*)\ \(commit\ ([^\)]*)\)$ ]]; then
  release="${BASH_REMATCH[1]}"
  [ "${BASH_REMATCH[2]}" = "$commit" ] || die "the binary says commit ${BASH_REMATCH[2]}, the build asked for $commit"
else
  release="$FALLBACK_VERSION"
  say "note: this binary has no 'stylefarm --version' (main before issue 11): using $release from this script"
fi
version="$release+$(git rev-list --count "$hash").g$hash$dirty"

# --- dependencies ----------------------------------------------------------------------------
# Our list, one entry a line, "a | b" for alternatives.
mapfile -t depends < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e 's/^[[:space:]]*//' packaging/deb/runtime-depends | grep -v '^$')
declared=" $(printf '%s\n' "${depends[@]}" | tr '|' '\n' | tr -d ' ' | tr '\n' ' ')"
# Every NEEDED library must come from a declared package (libc6 is one).
mapfile -t needed < <(objdump -p "$bin" | awk '$1 == "NEEDED" {print $2}')
problems=0
for lib in "${needed[@]}"; do
  path="$(ldd "$bin" | awk -v l="$lib" '$1 == l && $3 ~ /^\// {print $3} $1 ~ "/" l "$" {print $1}' | head -1)"
  [ -n "$path" ] || { say "NEEDED $lib: not found on this machine"; problems=1; continue; }
  real="$(readlink -f "$path")"
  # Merged /usr: dpkg may list the file under /lib or /usr/lib; match on the name.
  owners="$(dpkg -S "*/$(basename "$real")" 2>/dev/null | awk -v f="/$(basename "$real")" '
    { split($0, parts, ": "); path = parts[2]
      if ((path ~ /^\/lib\// || path ~ /^\/usr\/lib\//) && substr(path, length(path) - length(f) + 1) == f) print parts[1] }' |
    tr ',' '\n' | sed 's/^ *//; s/:amd64$//' | sort -u | tr '\n' ' ' || true)"
  ok=0
  for owner in $owners; do [[ "$declared" == *" $owner "* ]] && ok=1; done
  if ((ok)); then
    say "NEEDED $lib -> $real ($owners)"
  else
    say "NEEDED $lib -> $real is from '${owners:-no package}', which packaging/deb/runtime-depends does not list"; problems=1
  fi
done
((problems == 0)) || die "add the missing packages to packaging/deb/runtime-depends"

# Minimum versions from the libraries' symbols files, where dpkg-shlibdeps is installed.
declare -A minimum=()
if command -v dpkg-shlibdeps >/dev/null; then
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/debian"; printf 'Source: stylefarm\n\nPackage: stylefarm\nArchitecture: amd64\n' >"$tmp/debian/control"
  shlibs="$(cd "$tmp" && dpkg-shlibdeps -O "$bin" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
  IFS=',' read -ra entries <<<"$shlibs"
  for entry in "${entries[@]}"; do
    entry="$(echo "$entry" | sed 's/^ *//')"
    name="${entry%% *}"
    [[ "$declared" == *" $name "* ]] || die "dpkg-shlibdeps wants $name, which packaging/deb/runtime-depends does not list"
    [[ "$entry" == *"("* ]] && minimum[$name]="(${entry#*(}"
  done
fi
depends_field=""
for line in "${depends[@]}"; do
  alts=""
  IFS='|' read -ra options <<<"$line"
  for option in "${options[@]}"; do
    option="$(echo "$option" | tr -d ' ')"
    alts+="${alts:+ | }$option${minimum[$option]:+ ${minimum[$option]}}"
  done
  depends_field+="${depends_field:+, }$alts"
done

# --- the package tree ------------------------------------------------------------------------
mkdir -p "$out"
root="$out/stylefarm-root"
rm -rf "$root"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/lib/stylefarm" \
           "$root/usr/share/doc/stylefarm" "$root/usr/share/man/man1"
strip --strip-all -o "$root/usr/bin/stylefarm" "$bin"
chmod 0755 "$root/usr/bin/stylefarm"
"$root/usr/bin/stylefarm" --help >/dev/null || die "the stripped binary does not run"
install -m 0644 deploy/systemd/stylefarm-worker.service deploy/systemd/stylefarm-coordinator.service "$root/lib/systemd/system/"
install -m 0755 packaging/deb/supervise-worker "$root/usr/lib/stylefarm/supervise-worker"
install -m 0755 packaging/deb/DEBIAN/postinst packaging/deb/DEBIAN/prerm packaging/deb/DEBIAN/postrm "$root/DEBIAN/"

maintainer="$(git log -1 --format='%an <%ae>' HEAD)"
{
  echo "stylefarm ($version) bookworm; urgency=medium"
  echo
  echo "  * Built from commit $commit by scripts/package.sh."
  echo
  echo " -- $maintainer  $(date -R)"
} | gzip -9n >"$root/usr/share/doc/stylefarm/changelog.gz"
{
  echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
  echo "Upstream-Name: stylefarm"
  echo "Comment: StyleFarm's own code carries no licence statement in its repository."
  echo "  The binary links these statically (each checkout's LICENSE file, as built):"
  echo "  the Swift standard library, Foundation and Dispatch (Apache-2.0 with the Runtime Library Exception)"
  for dir in "$scratch"/checkouts/*/; do
    licence_file="$(ls "$dir" | grep -iE '^(LICENSE|LICENCE|COPYING)' | head -1 || true)"
    kind="see its LICENSE"
    if [ -n "$licence_file" ]; then
      if grep -q 'Apache License' "$dir/$licence_file"; then kind="Apache-2.0"
      elif grep -q 'Permission is hereby granted, free of charge' "$dir/$licence_file"; then kind="MIT"; fi
    fi
    echo "  $(basename "$dir") ($kind)"
  done
  echo "  swift-crypto includes BoringSSL (OpenSSL and ISC licences)."
  echo "  Apache-2.0: /usr/share/common-licenses/Apache-2.0"
  echo
  echo "Files: *"
  echo "Copyright: the StyleFarm authors"
  echo "License: none-stated"
  echo " No licence has been stated for StyleFarm's own code."
} >"$root/usr/share/doc/stylefarm/copyright"

if command -v help2man >/dev/null; then
  help2man -N --no-discard-stderr -n "a render farm for neural style transfer on CPUs" \
    --version-string="$release" "$root/usr/bin/stylefarm" 2>/dev/null | gzip -9n >"$root/usr/share/man/man1/stylefarm.1.gz" ||
    { say "help2man failed: no man page"; rm -f "$root/usr/share/man/man1/stylefarm.1.gz"; }
else
  say "help2man is not installed (apt-get install help2man): no man page"
fi
[ -s "$root/usr/share/man/man1/stylefarm.1.gz" ] || rmdir --ignore-fail-on-non-empty -p "$root/usr/share/man/man1" 2>/dev/null || true

# The units, as systemd reads them (systemd is not PID 1 here, so verify against a copy of this
# machine's unit folder with the package's files in it).
if command -v systemd-analyze >/dev/null && [ -d /usr/lib/systemd/system ]; then
  check_root="$(mktemp -d)"
  mkdir -p "$check_root/usr/lib/systemd" "$check_root/usr/bin"
  cp -a /usr/lib/systemd/system "$check_root/usr/lib/systemd/"
  cp "$root"/lib/systemd/system/*.service "$check_root/usr/lib/systemd/system/"
  cp "$root/usr/bin/stylefarm" "$check_root/usr/bin/"
  if systemd-analyze verify --root="$check_root" /usr/lib/systemd/system/stylefarm-worker.service \
       /usr/lib/systemd/system/stylefarm-coordinator.service >"$check_root/verify.log" 2>&1; then
    say "systemd-analyze verify passed for both units"
  else
    cat "$check_root/verify.log" >&2; rm -rf "$check_root"; die "systemd-analyze verify found problems in deploy/systemd (above)"
  fi
  rm -rf "$check_root"
fi

installed_kb="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
cat >"$root/DEBIAN/control" <<EOF
Package: stylefarm
Version: $version
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $installed_kb
Depends: $depends_field
Section: graphics
Priority: optional
Description: render farm for neural style transfer on CPUs
 StyleFarm renders Gatys-style neural style transfer (VGG19 on OpenBLAS) on
 CPUs: one machine with 'stylefarm render', or many with a coordinator handing
 γ sweeps and tiles of very large images to workers over ZeroMQ with CURVE keys.
 .
 This package holds the stylefarm binary (the Swift runtime linked in), the
 systemd units stylefarm-worker and stylefarm-coordinator (installed, not
 enabled), and /usr/lib/stylefarm/supervise-worker for hosts without systemd.
 Installing it creates the stylefarm system user and starts nothing: see
 deploy/add-node.sh in the source for adding a node to a farm.
 .
 Built from commit $commit.
EOF
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum >DEBIAN/md5sums)

deb="$out/stylefarm_${version}_amd64.deb"
rm -f "$out"/stylefarm_*_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
rm -rf "$root"

# --- checks and summary ----------------------------------------------------------------------
dpkg-deb -I "$deb" >/dev/null && dpkg-deb -c "$deb" >/dev/null || die "dpkg-deb cannot read $deb"
if ((run_lintian)) && command -v lintian >/dev/null; then
  say "lintian:"
  lintian "$deb" 2>&1 | grep -v 'running with root privileges' | sed 's/^/    /' >&2 || true
fi
echo "package: $deb"
echo "  version:      $version ($("$bin" --version 2>/dev/null || echo "stylefarm $release, no --version"))"
echo "  size:         $(du -k "$deb" | cut -f1) KiB (.deb), $installed_kb KiB installed"
echo "  depends:      $depends_field"
echo "  build:        $build_note"
dpkg-deb -c "$deb" | awk '{print "  " $1 " " $2 " " $6}' | grep -v '/$'
