#!/usr/bin/env bash
# The Slurm test (issue 11): deploy/slurm/stylefarm-workers.sbatch under a real, one-node Slurm
# cluster, cancelled mid-task the way an operator does it (plain `scancel JOBID`).
#
#   sudo scripts/test-slurm.sh [--keep] [--time-limit] [--iterations K]
#
# As root, it installs Debian's slurm-wlm and munge when they are missing, then builds a cluster
# of its own in a fresh temporary directory: a munge key and a munged on its own socket, a
# slurm.conf (this host as controller and only node, on 127.0.0.1 and free ports), slurmctld and
# slurmd. It starts a coordinator on loopback, submits a small γ sweep whose tasks take several
# seconds, sbatches the workers script, waits until its worker (slurm-HOST) is rendering, and
# `scancel`s the allocation. It passes when the coordinator's records (farm.sqlite) show that
# worker's attempt ended 'lost' with reason 'handed back…' (the worker gave its task back before
# it exited, rather than being found gone), the worker exited by itself with status 0 (slurmd's
# log), and, once an ordinary local worker has joined, the job finishes (`stylefarm wait`) with
# the handed-back task rendered by that worker. Then, on a task that never ends, a SIGTERM for
# the batch shell alone (`scancel --batch --signal=TERM`, as --signal=B:TERM@N sends): the
# script must pass it on (hand-back again) and wait for its worker, so the job ends COMPLETED.
#
#   --keep          keep the temporary directory (logs, slurm.conf, the farm's records)
#   --time-limit    then also the time limit (about 40 s more): an allocation of 2 minutes
#                   rendering a task that would outlast it must hand the task back on the
#                   script's early --signal and end COMPLETED, not TIMEOUT
#   --iterations K  iterations of each render (default 80: about 8 s a task for a debug build on
#                   2 cores; raise it if the task finishes before the scancel lands)
#
# Not root: prints why and exits 0 (skipped). The binary is $STYLEFARM_BIN, else
# `swift build --show-bin-path`/stylefarm (not built here). Weights must already be in
# $STYLEFARM_HOME/weights (default ~/.cache/stylefarm). Nothing leaves loopback. On exit it stops
# exactly the processes it started, by pid (the Slurm job first, then the workers, the
# coordinator, slurmd, slurmctld and munged), and removes its temporary directory.
#
# Exit status: 0 when every check passed (or skipped), 1 when one failed, 2 on bad usage or when
# the cluster or the farm could not be set up. The last line is "test-slurm: N passed, M failed".
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
sbatch_script="$repo/deploy/slurm/stylefarm-workers.sbatch"
records="$here/slurm/records.py"

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; }
die() { echo "test-slurm: $*" >&2; exit 2; }

keep=0 iterations=80 time_limit=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --keep) keep=1; shift ;;
    --time-limit) time_limit=1; shift ;;
    --iterations) iterations="${2:-}"; shift 2 || die "--iterations needs a value" ;;
    --iterations=*) iterations="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[[ "$iterations" =~ ^[0-9]+$ && "$iterations" -ge 1 ]] || die "--iterations must be a positive whole number"

if [[ $(id -u) -ne 0 ]]; then
  echo "test-slurm: SKIP: needs root, to install slurm-wlm and munge and to run munged, slurmctld and"
  echo "test-slurm: slurmd (slurmd starts job steps as their owner, which only root can do)"
  echo "test-slurm: 0 passed, 0 failed, 1 skipped"
  exit 0
fi

# ---------------------------------------------------------------- clock, checks

start_ns=$(date +%s%N)
elapsed() { local ns=$(( $(date +%s%N) - start_ns )); printf '%d.%01d' $(( ns / 1000000000 )) $(( ns / 100000000 % 10 )); }
say() { echo "test-slurm: [+$(elapsed)s] $*"; }
timings=()
mark() { timings+=("$1 +$(elapsed)s"); }
passed=0 failed=0
check() {   # check OK MESSAGE: OK is 1 or 0
  if [[ "$1" == 1 ]]; then passed=$(( passed + 1 )); echo "PASS: $2"
  else failed=$(( failed + 1 )); echo "FAIL: $2"; fi
}

# ---------------------------------------------------------------- what it needs

need=()
for cmd in munged munge slurmctld slurmd sbatch srun scancel sinfo squeue scontrol; do
  command -v "$cmd" >/dev/null || need+=("$cmd")
done
if (( ${#need[@]} )); then
  say "installing slurm-wlm and munge (missing: ${need[*]})"
  export DEBIAN_FRONTEND=noninteractive
  # Quiet, but apt's and dpkg's errors still reach stderr; the list is refreshed once if stale.
  apt-get install -y -qq slurm-wlm munge >/dev/null \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq slurm-wlm munge >/dev/null; } \
    || die "could not install slurm-wlm and munge"
  for cmd in "${need[@]}"; do command -v "$cmd" >/dev/null || die "$cmd still missing after installing slurm-wlm and munge"; done
fi
command -v python3 >/dev/null || die "python3 is needed (to read the coordinator's records)"
[[ -f "$sbatch_script" ]] || die "missing $sbatch_script"

# shellcheck source=scripts/lib/stylefarm-bin.sh
source "$repo/scripts/lib/stylefarm-bin.sh"
resolve_stylefarm_bin "$repo"

# ---------------------------------------------------------------- processes and clean-up

# Everything lives under one directory; munged wants every directory above its socket to be
# searchable by all, so it is 0755 (the key's own directory stays 0700).
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stylefarm-slurm.XXXXXX") || die "mktemp failed"
chmod 0755 "$tmp"
etc="$tmp/etc" run="$tmp/run" logs="$tmp/logs" data="$tmp/data" home="$tmp/home" images="$tmp/images"
mkdir -p "$etc/munge" "$run" "$logs" "$data" "$home" "$images" "$tmp/state" "$tmp/spool"
chmod 0700 "$etc/munge"
ln -s "$user_home/weights" "$home/weights"   # the farm's blob caches start empty, in $home
export SLURM_CONF="$etc/slurm.conf"          # for sinfo, sbatch, scancel… and the job itself

node="" munged_pid="" slurmctld_pid="" slurmd_pid="" coordinator_pid="" local_pid="" slurm_job=""

# alive PID: running or stopped, not exited (a zombie counts as exited)
alive() {
  [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null || return 1
  local stat
  { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ "${stat%% *}" != Z ]]
}
# stop PID NAME: SIGTERM, up to 10 s, then SIGKILL; always reaped (every PID here is our child)
stop() {
  local pid=$1 name=$2
  [[ -n "$pid" ]] || return 0
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then echo "test-slurm: $name (pid $pid) did not stop on SIGTERM; killed" >&2; kill -KILL "$pid" 2>/dev/null; fi
  fi
  wait "$pid" 2>/dev/null
}
slurm_job_active() {   # the job is still pending, running or completing
  [[ -n "$slurm_job" ]] && [[ -n "$(squeue -h -j "$slurm_job" -o %t 2>/dev/null)" ]]
}
cleanup() {
  set +e
  trap - EXIT INT TERM
  if [[ -n "$slurmctld_pid" ]] && slurm_job_active; then
    scancel "$slurm_job" 2>/dev/null
    for _ in $(seq 400); do slurm_job_active || break; sleep 0.1; done
  fi
  stop "$local_pid" "local worker"
  stop "$coordinator_pid" coordinator
  # slurmstepd (one per job step, started by slurmd and not its child) leaves its socket in the
  # spool directory (NODE_JOB.STEP) until it is done: wait for them, so no step outlives the cluster.
  for _ in $(seq 400); do compgen -G "$tmp/spool/${node}_[0-9]*" >/dev/null || break; sleep 0.1; done
  compgen -G "$tmp/spool/${node}_[0-9]*" >/dev/null \
    && echo "test-slurm: a job step is still running: $(cd "$tmp/spool" && echo "${node}"_[0-9]*)" >&2
  stop "$slurmd_pid" slurmd
  stop "$slurmctld_pid" slurmctld
  stop "$munged_pid" munged
  if (( keep )); then echo "test-slurm: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'echo "test-slurm: interrupted" >&2; exit 130' INT TERM

fail_setup() {   # fail_setup MESSAGE LOG…: prints the logs' tails, then exits 2
  local message=$1; shift
  echo "test-slurm: $message" >&2
  for log in "$@"; do [[ -f "$log" ]] && { echo "--- tail of $log" >&2; tail -n 20 "$log" >&2; }; done
  exit 2
}
free_port() { python3 "$here/soak/check.py" free-port; }

# ---------------------------------------------------------------- the cluster

node=$(hostname -s 2>/dev/null || hostname)
[[ -n "$node" ]] || die "this host has no name"
cpus=$(nproc)
memory_mb=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 9 / 10 / 1024 ))
worker_cpus=$(( cpus >= 2 ? 2 : 1 ))   # the sbatch asks for 2 per task

say "one-node cluster '$node' ($cpus CPUs, ${memory_mb} MB) in $tmp"
head -c 1024 /dev/urandom > "$etc/munge/munge.key"
chmod 0400 "$etc/munge/munge.key"
munged --foreground --socket="$run/munge.socket" --key-file="$etc/munge/munge.key" \
  --pid-file="$run/munged.pid" --seed-file="$etc/munge/munged.seed" --log-file="$logs/munged.log" \
  > "$logs/munged.out" 2>&1 &
munged_pid=$!
for _ in $(seq 100); do [[ -S "$run/munge.socket" ]] && break; alive "$munged_pid" || break; sleep 0.1; done
munge -n -S "$run/munge.socket" 2>/dev/null | unmunge -S "$run/munge.socket" >/dev/null 2>&1 \
  || fail_setup "munged does not answer on $run/munge.socket" "$logs/munged.out"

ctld_port=$(free_port) slurmd_port=$(free_port)
: > "$etc/plugstack.conf"
cat > "$SLURM_CONF" <<EOF
# A one-node cluster for scripts/test-slurm.sh: this host is the controller and the only node,
# on 127.0.0.1; every file is under $tmp.
ClusterName=stylefarm-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$run/munge.socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd.pid
SlurmctldLogFile=$logs/slurmctld.log
SlurmdLogFile=$logs/slurmd.log
SlurmctldDebug=info
# verbose: slurmd logs how each task exited ("task 0 (PID) exited with exit code 0").
SlurmdDebug=verbose
PlugStackConfig=$etc/plugstack.conf
MailProg=/bin/true
MpiDefault=none
# No cgroups needed: processes are tracked by parentage, tasks are not bound.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
# Between the SIGTERM of a cancelled job's steps and their SIGKILL (Slurm's default, spelt out):
# a worker needs well under a second to hand its task back.
KillWait=30
InactiveLimit=0
# Finished jobs stay visible to scontrol for the checks.
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D -f "$SLURM_CONF" > "$logs/slurmctld.out" 2>&1 &
slurmctld_pid=$!
slurmd -D -f "$SLURM_CONF" > "$logs/slurmd.out" 2>&1 &
slurmd_pid=$!
state=""
for _ in $(seq 300); do
  state=$(sinfo -h -n "$node" -o %t 2>/dev/null)
  [[ "$state" == idle ]] && break
  { alive "$slurmctld_pid" && alive "$slurmd_pid"; } || break
  sleep 0.1
done
[[ "$state" == idle ]] || fail_setup "node $node is not idle (sinfo says '${state:-nothing}')" \
  "$logs/slurmctld.out" "$logs/slurmctld.log" "$logs/slurmd.out" "$logs/slurmd.log"
mark "cluster up"
say "slurmctld (pid $slurmctld_pid) and slurmd (pid $slurmd_pid) up, node $node idle"

# ---------------------------------------------------------------- the farm

export STYLEFARM_HOME="$home"
endpoint="tcp://127.0.0.1:$(free_port)"
"$bin" coordinator --bind "$endpoint" --data "$data" > "$logs/coordinator.log" 2>&1 &
coordinator_pid=$!
for _ in $(seq 100); do grep -q "listening" "$logs/coordinator.log" 2>/dev/null && break; alive "$coordinator_pid" || break; sleep 0.1; done
grep -q "listening" "$logs/coordinator.log" || fail_setup "the coordinator does not start" "$logs/coordinator.log"

python3 "$here/soak/check.py" images "$images" || die "could not write the input images"
job=$("$bin" submit sweep --coordinator "$endpoint" --insecure --content "$images/c.png" \
  --style "$images/a.png" --style "$images/b.png" --gamma 0,1 --size 64 --iterations "$iterations" 2>"$logs/submit.err") \
  || fail_setup "the submit failed" "$logs/submit.err"
say "coordinator on $endpoint; job $job: 2 tasks of $iterations iterations at 64 px"

# ---------------------------------------------------------------- the Slurm worker

# start_slurm_worker SBATCH-OPTION…: sbatches the workers script and waits (120 s at most: the
# worker loads the weights, joins, takes a task) until its worker renders; sets slurm_job and
# running ("ATTEMPT TASK WORKER_ID", empty if it never did)
start_slurm_worker() {
  local out
  out=$(STYLEFARM_COORDINATOR="$endpoint" STYLEFARM_BIN="$bin" STYLEFARM_HOME="$home" \
    sbatch --parsable --chdir="$tmp" --output="$logs/slurm-%j.out" --cpus-per-task="$worker_cpus" \
    "$@" "$sbatch_script" 2>"$logs/sbatch.err") || fail_setup "sbatch failed" "$logs/sbatch.err"
  slurm_job=${out%%;*}
  say "sbatch${*:+ $*} $(basename "$sbatch_script"): Slurm job $slurm_job"
  running=""
  for _ in $(seq 1200); do
    running=$(python3 "$records" running "$data" slurm- 2>/dev/null)
    [[ -n "$running" ]] && return
    slurm_job_active || break
    sleep 0.1
  done
  check 0 "the Slurm worker started a task (job $slurm_job: $(scontrol show job "$slurm_job" 2>/dev/null | grep -o 'JobState=[A-Z_]*'))"
  for log in "$logs/slurm-$slurm_job.out" "$logs/slurmd.log"; do echo "--- tail of $log"; tail -n 20 "$log"; done
  echo "test-slurm: $passed passed, $failed failed"
  exit 1
}
# wait_attempt_end ATTEMPT SECONDS: until it has ended and the Slurm job is gone; sets outcome,
# finished and reason
wait_attempt_end() {
  for _ in $(seq $(( $2 * 10 ))); do
    IFS=$'\t' read -r outcome finished reason <<< "$(python3 "$records" attempt "$data" "$1" 2>/dev/null)"
    [[ "$outcome" != running && -n "$outcome" ]] && ! slurm_job_active && return
    sleep 0.1
  done
}

start_slurm_worker
read -r attempt task worker_id <<< "$running"
mark "Slurm worker rendering"
say "Slurm worker $worker_id is rendering task $task (attempt $attempt)"

# ---------------------------------------------------------------- scancel

sleep 1   # well into the render: the hand-back has to interrupt work, not a task just received
before=$(python3 "$records" attempt "$data" "$attempt" | cut -f1)
scancel_ns=$(date +%s%N)
scancel "$slurm_job"
mark "scancel"
say "scancel $slurm_job (attempt $attempt was $before)"

wait_attempt_end "$attempt" 45   # KillWait (30 s) and some
mark "allocation gone"
if [[ "$finished" =~ ^[0-9.]+$ ]]; then
  after_ms=$(python3 -c "print(round(($finished - $scancel_ns / 1e9) * 1000))")
  say "attempt $attempt: $outcome ($reason), ${after_ms} ms after the scancel"
else
  say "attempt $attempt: ${outcome:-unknown}, not finished"
fi

# The attempt in $attempt ($outcome, $reason) was handed back, slurmd saw the worker exit 0 by
# itself (not killed), and the Slurm job ended in state $1; $2 says when.
check_handed_back_and_left() {
  local expected="$1" when="$2" exit_line slurm_state
  check "$([[ "$outcome" == lost && "$reason" == "handed back"* ]] && echo 1 || echo 0)" \
    "$when the Slurm worker handed its task back: attempt $attempt ended '$outcome' with reason '$reason'"
  exit_line=$(grep -E "\[$slurm_job\.0\] task 0 \([0-9]+\) exited" "$logs/slurmd.log" | tail -n 1)
  check "$([[ "$exit_line" == *"exited with exit code 0."* ]] && echo 1 || echo 0)" \
    "the worker exited by itself with status 0, not killed (slurmd: ${exit_line#*"[$slurm_job.0] "})"
  slurm_state=$(scontrol show job "$slurm_job" 2>/dev/null | grep -o 'JobState=[A-Z_]*')
  check "$([[ "$slurm_state" == "JobState=$expected" ]] && echo 1 || echo 0)" \
    "the Slurm job ended $expected (${slurm_state:-no record})"
}

check "$([[ "$before" == running ]] && echo 1 || echo 0)" \
  "the scancel landed while the Slurm worker was rendering (attempt $attempt was $before)"
check_handed_back_and_left CANCELLED "on scancel"

# ---------------------------------------------------------------- another worker finishes

"$bin" worker --join "$endpoint" --threads "$cpus" --name local-1 --insecure > "$logs/local-1.log" 2>&1 &
local_pid=$!
say "local worker local-1 joined; waiting for job $job"
timeout 600 "$bin" wait "$job" --coordinator "$endpoint" --insecure > "$logs/wait.log" 2>&1
wait_status=$?
mark "job finished"
check "$([[ $wait_status == 0 ]] && echo 1 || echo 0)" \
  "job $job finished on the other worker (stylefarm wait: status $wait_status, $(tail -n 1 "$logs/wait.log"))"
done_by=$(python3 "$records" done-by "$data" "$task" 2>/dev/null)
check "$([[ "$done_by" == local-1 ]] && echo 1 || echo 0)" \
  "the handed-back task $task was rendered by local-1 (by: ${done_by:-nobody})"

# ---------------------------------------------------------------- SIGTERM for the batch shell alone

# What `scancel --batch --signal=TERM` and --signal=B:TERM@N send: the script must pass it on to
# its workers and wait for them, not die (a dead batch shell ends the job FAILED).
stop "$local_pid" "local worker"; local_pid=""
# One task far longer than any allocation here (it stays unfinished; the farm stops at the end).
long_job=$("$bin" submit sweep --coordinator "$endpoint" --insecure --content "$images/c.png" \
  --style "$images/a.png" --style "$images/b.png" --gamma 0.5 --size 64 --iterations 100000 2>"$logs/submit.err") \
  || fail_setup "the submit failed" "$logs/submit.err"
start_slurm_worker
read -r attempt task worker_id <<< "$running"
say "Slurm worker $worker_id is rendering task $task of job $long_job (attempt $attempt)"
sleep 1
scancel --batch --signal=TERM "$slurm_job"
mark "scancel --batch"
wait_attempt_end "$attempt" 45
say "attempt $attempt: ${outcome:-unknown} (${reason:-})"
check "$([[ "$outcome" == lost && "$reason" == "handed back"* ]] && echo 1 || echo 0)" \
  "on 'scancel --batch --signal=TERM' the Slurm worker handed its task back: attempt $attempt ended '$outcome' with reason '$reason'"
slurm_state=$(scontrol show job "$slurm_job" 2>/dev/null | grep -o 'JobState=[A-Z_]*')
check "$([[ "$slurm_state" == JobState=COMPLETED ]] && echo 1 || echo 0)" \
  "the batch shell passed the SIGTERM on and waited for its worker (${slurm_state:-no record}; FAILED if it died of it)"

# ---------------------------------------------------------------- the time limit (--time-limit)

if (( time_limit )); then
  start_slurm_worker --time=2
  read -r attempt task worker_id <<< "$running"
  mark "time-limit worker rendering"
  say "Slurm worker $worker_id is rendering task $task of job $long_job (attempt $attempt); waiting for the time limit"
  wait_attempt_end "$attempt" 200
  mark "time-limit allocation gone"
  say "attempt $attempt: ${outcome:-unknown} (${reason:-}); Slurm job $slurm_job: $(scontrol show job "$slurm_job" 2>/dev/null | grep -o 'RunTime=[0-9:]*')"
  check_handed_back_and_left COMPLETED "before the time limit (TIMEOUT would mean the limit's kill)"
fi

printf -v joined '%s, ' "${timings[@]}"
say "timings: ${joined%, }"
if (( failed )); then
  for log in "$logs/slurm-$slurm_job.out" "$logs/coordinator.log"; do echo "--- tail of $log"; tail -n 20 "$log"; done
  (( keep )) || say "run again with --keep to keep the logs"
fi
echo "test-slurm: $passed passed, $failed failed"
(( failed == 0 ))
