#!/usr/bin/env bash
# Test hosts: N bare Debian 12 machines on this one, each a chroot of its own in a network
# namespace of its own, reached over real ssh. For testing deploy/add-node.sh and a farm spread
# over several hosts (scripts/test-hosts.sh) without a second machine.
#
#   scripts/testhosts.sh root              build (or find) the cached Debian root
#   scripts/testhosts.sh up N              start N hosts: node1 (10.77.0.11) … nodeN; the head is 10.77.0.1
#   scripts/testhosts.sh ssh HOST CMD…     run a command on a host as root (admin@HOST: as admin, who has sudo)
#   scripts/testhosts.sh cut HOST          pull its network cable (its veth goes down)
#   scripts/testhosts.sh restore HOST      plug it back in
#   scripts/testhosts.sh list              the hosts that are up
#   scripts/testhosts.sh down              stop everything up made
#
# Or source it: `source scripts/testhosts.sh; testhosts_up 3; trap testhosts_down EXIT`, then
# `testhosts_ssh node1 …`; the ssh settings are in "$TH_SSH_CONFIG" (ssh -F / scp -F).
#
# What a host is. The root is `debootstrap --variant=minbase bookworm` from the Debian mirror
# this machine's apt uses, plus openssh-server and sudo (a user "admin" may sudo without a
# password, as on a machine set up for remote administration); nothing else is installed: no Swift toolchain,
# no -dev packages, no Python, no weights, no systemd as PID 1. The hosts have no internet, so
# when the root is cached we also run `apt-get update` in it and `apt-get install
# --download-only` the runtime libraries stylefarm's .deb depends on
# (packaging/deb/runtime-depends): the root has those libraries' .deb files in its apt cache
# and its package lists, but they are NOT installed. That is what lets `apt-get install
# ./stylefarm_….deb` work offline on a host, as it would on a machine with a local mirror.
#
# The root is cached under .build/testhosts/root-<key>/ (the key hashes the suite, this file's
# TH_VERSION and the dependency list) and rebuilt only when missing. Each host gets an overlay
# of it (a copy where overlayfs does not work), its own /proc, /sys, /dev, /dev/pts and /run, its
# own ssh host key, root's authorized_keys with a key made for this run, its own host name (a UTS
# namespace), its own process list (a PID namespace whose PID 1 is sshd: no systemd), and sshd
# started inside its network namespace and chroot. Each host's namespace
# has a veth whose other end is on the bridge sfth-br0 (10.77.0.1/24) in this machine's
# namespace. Everything made here is named sfth-…; `down` kills only the processes inside those
# namespaces (ip netns pids), unmounts only what is mounted under the run folder, and deletes
# only sfth-… links and namespaces.
#
# As root only; prints why and exits 0 (returns 1 from testhosts_check when sourced) if it is
# not root or network namespaces or debootstrap are not available.

TH_VERSION=1                       # bump to rebuild every cached root
TH_SUITE=bookworm
TH_INCLUDE=openssh-server,sudo
TH_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TH_DIR="${TESTHOSTS_DIR:-$TH_REPO/.build/testhosts}"
TH_RUN="$TH_DIR/run"
TH_SSH_CONFIG="$TH_RUN/ssh_config"
TH_NET=10.77.0
TH_HEAD_IP=$TH_NET.1
TH_BRIDGE=sfth-br0
TH_SKIP_REASON=""

th_log() { echo "testhosts: $*" >&2; }

# The runtime dependencies to put into the apt cache: the first of each line's alternatives.
th_runtime_depends() {
  sed -e 's/#.*//' -e 's/|.*//' -e 's/[[:space:]]//g' "$TH_REPO/packaging/deb/runtime-depends" | grep -v '^$'
}

th_key() {
  { echo "$TH_VERSION $TH_SUITE $TH_INCLUDE"; th_runtime_depends; } | sha256sum | cut -c1-12
}

th_root_dir() { echo "$TH_DIR/root-$TH_SUITE-$(th_key)"; }

# The first Debian mirror this machine's apt is configured with (deb.debian.org here).
th_mirror() {
  local uri
  uri="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -1)"
  [ -n "$uri" ] || uri="$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '$2 ~ /debian\/?$/ {print $2}' | head -1)"
  echo "${uri:-http://deb.debian.org/debian}"
}

# Can we make hosts here? Sets TH_SKIP_REASON and returns 1 if not.
testhosts_check() {
  if [ "$(id -u)" != 0 ]; then TH_SKIP_REASON="not root"; return 1; fi
  local probe="sfth-probe-$$"
  if ! ip netns add "$probe" 2>/dev/null; then TH_SKIP_REASON="network namespaces are not available (ip netns add failed)"; return 1; fi
  ip netns del "$probe"
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v ssh >/dev/null || missing+=(openssh-client)
  command -v nsenter >/dev/null || missing+=(util-linux)
  if ((${#missing[@]})); then
    th_log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; } ||
      { TH_SKIP_REASON="cannot install ${missing[*]}"; return 1; }
  fi
  return 0
}

# Build the cached root if it is missing. Prints its path.
testhosts_root() {
  local root tmp mirror started
  root="$(th_root_dir)"
  if [ -f "$root/.testhosts-complete" ]; then echo "$root"; return 0; fi
  mkdir -p "$TH_DIR"
  tmp="$TH_DIR/building-$(th_key)"
  th_umount_under "$tmp"
  rm -rf --one-file-system "$tmp"
  mirror="$(th_mirror)"
  started=$SECONDS
  th_log "building the host root (debootstrap --variant=minbase $TH_SUITE from $mirror; a few minutes, once)"
  if ! debootstrap --variant=minbase --include="$TH_INCLUDE" "$TH_SUITE" "$tmp" "$mirror" >"$TH_DIR/debootstrap.log" 2>&1; then
    th_log "debootstrap failed; see $TH_DIR/debootstrap.log"; tail -5 "$TH_DIR/debootstrap.log" >&2; return 1
  fi
  # The same suites as this machine (bookworm, -updates, -security), so the cached lists and
  # .debs are the ones an up-to-date Debian 12 machine would install.
  rm -f "$tmp/etc/apt/sources.list"
  if ls /etc/apt/sources.list.d/debian.sources >/dev/null 2>&1; then
    cp /etc/apt/sources.list.d/debian.sources "$tmp/etc/apt/sources.list.d/"
  else
    echo "deb $mirror $TH_SUITE main" >"$tmp/etc/apt/sources.list"
  fi
  # Download (not install) the runtime libraries, with whatever they pull in; debootstrap's own
  # .debs are cleaned out first, so the cache holds only what is not installed.
  local deps; mapfile -t deps < <(th_runtime_depends)
  if ! chroot "$tmp" apt-get update -qq >>"$TH_DIR/debootstrap.log" 2>&1 ||
     ! chroot "$tmp" apt-get clean >>"$TH_DIR/debootstrap.log" 2>&1 ||
     ! chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-upgrade --download-only "${deps[@]}" >>"$TH_DIR/debootstrap.log" 2>&1; then
    th_log "apt-get in the new root failed; see $TH_DIR/debootstrap.log"; tail -5 "$TH_DIR/debootstrap.log" >&2; return 1
  fi
  # No host keys in the shared root (each host makes its own), no DNS, no policy that keeps
  # daemons from starting (a real bare machine has none).
  rm -f "$tmp"/etc/ssh/ssh_host_*
  : >"$tmp/etc/resolv.conf"
  cat >"$tmp/etc/ssh/sshd_config.d/testhosts.conf" <<'EOF'
# scripts/testhosts.sh: keys only, root by key (as on a fresh Debian install with a key added).
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF
  echo "$TH_VERSION $TH_SUITE $mirror $(date -u +%FT%TZ) $(ls "$tmp/var/cache/apt/archives/"*.deb 2>/dev/null | wc -l) debs in the apt cache, not installed" >"$tmp/.testhosts-complete"
  # Only one cached root at a time: older keys are removed.
  local old
  for old in "$TH_DIR"/root-*; do [ -d "$old" ] && [ "$old" != "$root" ] && rm -rf --one-file-system "$old"; done
  mv "$tmp" "$root"
  th_log "host root cached in $root ($((SECONDS - started)) s, $(du -sm "$root" | cut -f1) MB; $(cut -d' ' -f5- "$root/.testhosts-complete"))"
  echo "$root"
}

# Unmount everything mounted at or under a path, deepest first.
th_umount_under() {
  local base="$1" mp
  [ -n "$base" ] || return 0
  while read -r mp; do
    umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || th_log "could not unmount $mp"
  done < <(awk -v b="$base" '$5 == b || index($5, b "/") == 1 {print $5}' /proc/self/mountinfo | sort -r)
}

th_mounted_under() {
  awk -v b="$1" '$5 == b || index($5, b "/") == 1 {found=1} END {exit !found}' /proc/self/mountinfo
}

th_host_ip() { echo "$TH_NET.$((10 + ${1#node}))"; }

th_host_up() {
  local name="$1" lower="$2" ip ns h
  ip="$(th_host_ip "$name")"; ns="sfth-$name"; h="$TH_RUN/$name"
  mkdir -p "$h/upper" "$h/work" "$h/root"
  if ! mount -t overlay "sfth-$name" -o "lowerdir=$lower,upperdir=$h/upper,workdir=$h/work" "$h/root" 2>/dev/null; then
    [ -n "${TH_WARNED_COPY:-}" ] || th_log "overlayfs does not work here: copying the root for each host"
    TH_WARNED_COPY=1
    cp -a "$lower/." "$h/root/"
  fi
  local r="$h/root"
  echo "$name" >"$r/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n%s\thead\n' "$name" "$TH_HEAD_IP" >"$r/etc/hosts"

  # The network: a veth from the bridge into the host's namespace, where it is eth0.
  ip netns add "$ns"
  ip link add "$ns" type veth peer name "$ns-i"
  ip link set "$ns-i" netns "$ns"
  ip link set "$ns" master "$TH_BRIDGE" up
  ip -n "$ns" link set "$ns-i" name eth0
  ip -n "$ns" addr add "$ip/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up

  # The file systems a machine has (/proc is mounted below, from inside its PID namespace).
  nsenter --net="/run/netns/$ns" mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys"   # this namespace's view of /sys/class/net
  mount -t tmpfs -o mode=0755,nosuid,size=8m "sfth-dev" "$r/dev"
  local d
  for d in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do
    set -- $d; mknod -m 0666 "$r/dev/$1" c "$2" "$3"
  done
  ln -s /proc/self/fd "$r/dev/fd"; ln -s /proc/self/fd/0 "$r/dev/stdin"
  ln -s /proc/self/fd/1 "$r/dev/stdout"; ln -s /proc/self/fd/2 "$r/dev/stderr"
  mkdir -p "$r/dev/pts" "$r/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$r/dev/pts"
  ln -s pts/ptmx "$r/dev/ptmx"
  mount -t tmpfs -o mode=1777,nosuid,nodev,size=64m shm "$r/dev/shm"
  mount -t tmpfs -o mode=0755,nosuid,nodev,size=32m "sfth-run" "$r/run"

  # ssh: its own host key, our key for root.
  ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$r/etc/ssh/ssh_host_ed25519_key"
  install -d -m 0700 "$r/root/.ssh"
  install -m 0600 "$TH_RUN/id_ed25519.pub" "$r/root/.ssh/authorized_keys"
  # admin: a user with sudo, for tests that must not log in as root.
  chroot "$r" useradd --create-home --shell /bin/bash admin
  echo 'admin ALL=(ALL) NOPASSWD: ALL' >"$r/etc/sudoers.d/admin"; chmod 0440 "$r/etc/sudoers.d/admin"
  install -d -m 0700 -o "$(stat -c %u "$r/home/admin")" -g "$(stat -c %g "$r/home/admin")" "$r/home/admin/.ssh"
  install -m 0600 -o "$(stat -c %u "$r/home/admin")" -g "$(stat -c %g "$r/home/admin")" "$TH_RUN/id_ed25519.pub" "$r/home/admin/.ssh/authorized_keys"
  echo "$name $(cut -d' ' -f1,2 "$r/etc/ssh/ssh_host_ed25519_key.pub")" >>"$TH_RUN/known_hosts"
  cat >>"$TH_SSH_CONFIG" <<EOF
Host $name
  HostName $ip
  HostKeyAlias $name
EOF
  # sshd in the host's network namespace, a UTS namespace (its own host name), a PID namespace
  # (it sees and can signal only its own processes; sshd is its PID 1, as an init would be)
  # and the chroot.
  setsid nsenter --net="/run/netns/$ns" -- unshare --uts --pid --fork -- /bin/sh -c \
    "mount -t proc -o nosuid,nodev,noexec proc '$r/proc' && exec chroot '$r' /bin/sh -c \"hostname '$name' && mkdir -p -m 0755 /run/sshd && exec /usr/sbin/sshd -D -E /var/log/sshd.log\"" \
    </dev/null >>"$h/sshd.out" 2>&1 &
}

testhosts_up() {
  local n="${1:-3}" lower i
  testhosts_check || { th_log "skipped: $TH_SKIP_REASON"; return 1; }
  lower="$(testhosts_root)" || return 1
  if ip link show "$TH_BRIDGE" >/dev/null 2>&1 || ip netns list | grep -q '^sfth-'; then
    th_log "hosts from an earlier run are still up: taking them down first"
    testhosts_down
  fi
  mkdir -p "$TH_RUN"
  ssh-keygen -q -t ed25519 -N '' -C "stylefarm-testhosts" -f "$TH_RUN/id_ed25519"
  : >"$TH_RUN/known_hosts"
  cat >"$TH_SSH_CONFIG" <<EOF
# scripts/testhosts.sh: use with ssh -F / scp -F.
Host *
  User root
  IdentityFile $TH_RUN/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $TH_RUN/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5
  ServerAliveInterval 5
  ServerAliveCountMax 3
  LogLevel ERROR
EOF
  ip link add "$TH_BRIDGE" type bridge forward_delay 0 stp_state 0
  ip addr add "$TH_HEAD_IP/24" dev "$TH_BRIDGE"
  ip link set "$TH_BRIDGE" up
  for ((i = 1; i <= n; i++)); do th_host_up "node$i" "$lower" || return 1; done
  for ((i = 1; i <= n; i++)); do
    local tries=0
    until testhosts_ssh "node$i" true 2>/dev/null; do
      ((++tries < 50)) || { th_log "node$i does not answer ssh"; return 1; }
      sleep 0.2
    done
  done
  th_log "$n hosts up: $(for ((i = 1; i <= n; i++)); do printf 'node%d=%s ' "$i" "$(th_host_ip "node$i")"; done)(head $TH_HEAD_IP, ssh -F $TH_SSH_CONFIG)"
}

testhosts_down() {
  local ns pids tries
  local spaces; spaces="$(ip netns list 2>/dev/null | awk '{print $1}' | grep '^sfth-' || true)"
  for ns in $spaces; do
    pids="$(ip netns pids "$ns" 2>/dev/null)"
    [ -z "$pids" ] || kill -TERM $pids 2>/dev/null
  done
  for ((tries = 0; tries < 50; tries++)); do
    pids=""; for ns in $spaces; do pids+="$(ip netns pids "$ns" 2>/dev/null) "; done
    [ -z "${pids// /}" ] && break
    sleep 0.1
  done
  for ns in $spaces; do
    pids="$(ip netns pids "$ns" 2>/dev/null)"
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
  done
  [ -z "${pids// /}" ] || sleep 0.3
  th_umount_under "$TH_RUN"
  for ns in $spaces; do
    ip link del "$ns" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  ip link del "$TH_BRIDGE" 2>/dev/null
  if th_mounted_under "$TH_RUN"; then
    th_log "something is still mounted under $TH_RUN: leaving it in place"; return 1
  fi
  rm -rf --one-file-system "$TH_RUN"
  [ -z "$spaces" ] || th_log "down: $(echo $spaces)"
  return 0
}

testhosts_ssh() { local host="$1"; shift; ssh -F "$TH_SSH_CONFIG" "$host" "$@"; }
testhosts_cut() { ip link set "sfth-$1" down; }
testhosts_restore() { ip link set "sfth-$1" up; }
testhosts_list() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^sfth-node' | sort -V); do
    local name="${ns#sfth-}" state
    state="$(cat "/sys/class/net/$ns/operstate" 2>/dev/null)"
    echo "$name $(th_host_ip "$name") link=${state:-?} processes=$(ip netns pids "$ns" | wc -l)"
  done
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -uo pipefail
  cmd="${1:-}"; shift || true
  case "$cmd" in
    root|up)
      if ! testhosts_check; then th_log "skipped: $TH_SKIP_REASON"; exit 0; fi
      if [ "$cmd" = root ]; then testhosts_root >/dev/null || exit 1; exit 0; fi
      trap 'rc=$?; if ((rc)); then testhosts_down; fi' EXIT   # a failed `up` leaves nothing behind
      testhosts_up "${1:-3}" ;;
    down) testhosts_down ;;
    ssh) testhosts_ssh "$@" ;;
    cut) testhosts_cut "$1" ;;
    restore) testhosts_restore "$1" ;;
    list) testhosts_list ;;
    *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
fi
