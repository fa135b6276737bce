#!/usr/bin/env bash
# Soak test of the farm on loopback: a coordinator and four single-threaded workers under a
# random fault injector (kill -9 of workers and of the coordinator, SIGTERM of workers,
# SIGSTOP/SIGCONT pauses longer than the heartbeat timeout) while waves of small sweeps and
# tiled jobs are submitted; then every job is waited for and the records and job folders are
# checked (scripts/soak/check.py).
#
#   scripts/soak.sh [--schedule full|ci] [--duration SECONDS] [--out DIR] [--seed N]
#
#   --schedule full  (default) 50 worker kill -9, 5 coordinator kill -9 + restart, 3 worker
#                    SIGTERMs, 3 worker pauses of 2–3 s; default --duration 1800
#   --schedule ci    10 worker kill -9, 2 coordinator restarts, 1 SIGTERM, 1 pause; default
#                    --duration 300
#   --duration S     hard cap on the whole run: faults stop after 60 % of (S − 20 s) at the
#                    latest, the rest is for the jobs to finish; the last 20 s are kept for
#                    the shutdown and the checks
#   --out DIR        keeps logs/, data/ (farm.sqlite, jobs/), events.log and the summary
#                    (default: a fresh mktemp directory)
#   --seed N         seed of the fault injector's random choices (default: random; printed)
#   --stall S        once the faults are over, stop waiting when the farm has made no progress
#                    (no attempt started or ended, no job finished) for S seconds (default 300)
#
# The binary is $STYLEFARM_BIN, else `swift build --show-bin-path`/stylefarm (not built here).
# Weights must already be in $STYLEFARM_HOME/weights (default ~/.cache/stylefarm): the farm
# runs with STYLEFARM_HOME=OUT/home, whose weights/ links there, so the workers' blob caches
# start empty. Nothing leaves loopback; every process started here is stopped here, by pid.
#
# Exit status: 0 when every check passed, 1 on any violation, 2 on bad usage or set-up.
# The last line of output is "N passed, M failed".
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
checker="$here/soak/check.py"

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; }
die() { echo "soak: $*" >&2; exit 2; }

schedule=full duration="" out="" seed="" stall=300
while [[ $# -gt 0 ]]; do
  case "$1" in
    --schedule) schedule="${2:-}"; shift 2 || die "--schedule needs a value" ;;
    --schedule=*) schedule="${1#*=}"; shift ;;
    --duration) duration="${2:-}"; shift 2 || die "--duration needs a value" ;;
    --duration=*) duration="${1#*=}"; shift ;;
    --out) out="${2:-}"; shift 2 || die "--out needs a value" ;;
    --out=*) out="${1#*=}"; shift ;;
    --seed) seed="${2:-}"; shift 2 || die "--seed needs a value" ;;
    --seed=*) seed="${1#*=}"; shift ;;
    --stall) stall="${2:-}"; shift 2 || die "--stall needs a value" ;;
    --stall=*) stall="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done

# ---------------------------------------------------------------- the schedule
# planned[kind]: how many faults of each kind; intervals between faults are uniform in
# [fault_min_ms, fault_max_ms]; pauses last [pause_min_ms, pause_max_ms] (> heartbeat 200 ms ×
# liveness 6 = 1.2 s, so the coordinator declares the worker lost before it resumes).
declare -A planned done_count
case "$schedule" in
  full) planned=([worker_kill9]=50 [coordinator_kill9]=5 [worker_term]=3 [worker_pause]=3)
        fault_min_ms=1500 fault_max_ms=7000 default_duration=1800 ;;
  ci)   planned=([worker_kill9]=10 [coordinator_kill9]=2 [worker_term]=1 [worker_pause]=1)
        fault_min_ms=1500 fault_max_ms=5000 default_duration=300 ;;
  *) die "--schedule must be full or ci, not '$schedule'" ;;
esac
for kind in "${!planned[@]}"; do done_count[$kind]=0; done
duration=${duration:-$default_duration}
[[ "$duration" =~ ^[0-9]+$ && "$duration" -ge 60 ]] || die "--duration must be a whole number of seconds, at least 60"
if [[ -z "$seed" ]]; then seed=$(( (RANDOM << 15) | RANDOM )); fi
[[ "$seed" =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer"
[[ "$stall" =~ ^[0-9]+$ && "$stall" -ge 10 ]] || die "--stall must be a whole number of seconds, at least 10"
RANDOM=$seed
pause_min_ms=2000 pause_max_ms=3000
heartbeat_ms=200
workers=4
term_timeout_ms=30000          # a SIGTERMed worker must be gone by then
teardown_reserve_ms=20000      # kept at the end of --duration for shutdown and checks

command -v python3 >/dev/null || die "python3 is needed"
[[ -f "$checker" ]] || die "missing $checker"

# shellcheck source=scripts/lib/stylefarm-bin.sh
source "$repo/scripts/lib/stylefarm-bin.sh"
resolve_stylefarm_bin "$repo"

if [[ -z "$out" ]]; then out=$(mktemp -d "${TMPDIR:-/tmp}/stylefarm-soak.XXXXXX"); fi
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
[[ -e "$out/data/farm.sqlite" ]] && die "$out/data already holds a farm; give a fresh --out"
data="$out/data" logs="$out/logs" images="$out/images" home="$out/home"
mkdir -p "$data" "$logs" "$images" "$home"
ln -sfn "$user_home/weights" "$home/weights"
: > "$out/stats.txt"; : > "$out/jobs.tsv"; : > "$out/waits.tsv"; : > "$out/anomalies.txt"; : > "$out/notes.txt"
events="$out/events.log"; : > "$events"
python3 "$checker" images "$images" || die "could not write the input images"

# ---------------------------------------------------------------- clock, log, random

now=0
tick_clock() { local t=${EPOCHREALTIME/./}; now=$(( t / 1000 )); }
tick_clock
start_ms=$now
deadline_ms=$(( start_ms + duration * 1000 ))
fault_end_ms=$(( start_ms + (duration * 1000 - teardown_reserve_ms) * 6 / 10 ))
elapsed() { local ms=$(( now - start_ms )); printf '%d.%03d' $(( ms / 1000 )) $(( ms % 1000 )); }
log() { tick_clock; printf '[+%9ss] %s\n' "$(elapsed)" "$*" | tee -a "$events"; }
anomaly() { log "ANOMALY: $*"; printf '%s\n' "$*" >> "$out/anomalies.txt"; }
note() { log "note: $*"; printf '%s\n' "$*" >> "$out/notes.txt"; }
# rand_between A B: uniform integer in [A, B] (RANDOM is 15 bits: combine two)
rand_between() { local span=$(( $2 - $1 + 1 )); r=$(( $1 + ( (RANDOM << 15) | RANDOM ) % span )); }

declare -A counters=([coordinator_restarts]=0 [worker_restarts]=0 [coordinator_unexpected_exits]=0
                     [worker_unexpected_exits]=0 [submit_gave_up]=0 [term_timeouts]=0 [waves]=0
                     [submits_ok]=0 [submit_retries]=0 [waits]=0 [wait_retries]=0)

# ---------------------------------------------------------------- processes
# Every process started here is a direct child of this shell and is tracked by pid.

# alive PID: running or stopped, not exited (a zombie counts as exited)
alive() {
  [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null || return 1
  local stat
  read -r stat < "/proc/$1/stat" 2>/dev/null || return 1
  stat=${stat##*) }
  [[ "${stat%% *}" != Z ]]
}
# reap PID: its exit status in $rc (the shell keeps it for a child that has exited)
reap() { wait "$1" 2>/dev/null; rc=$?; }

farm_env=(env STYLEFARM_HOME="$home" LOG_LEVEL="${LOG_LEVEL:-info}")

coord_pid="" coord_state=down coord_until=0 coord_gen=0 coord_log="" port="" endpoint=""

start_coordinator() {
  coord_gen=$(( coord_gen + 1 ))
  coord_log="$logs/coordinator.$coord_gen.log"
  "${farm_env[@]}" nice -n 5 "$bin" coordinator --bind "$endpoint" --data "$data" --heartbeat-ms "$heartbeat_ms" \
    > "$coord_log" 2>&1 &
  coord_pid=$!
  coord_state=starting coord_until=$(( now + 60000 ))
  log "coordinator #$coord_gen starting (pid $coord_pid) on $endpoint"
}

supervise_coordinator() {
  case "$coord_state" in
    starting)
      if grep -q "coordinator listening" "$coord_log" 2>/dev/null; then
        coord_state=up
        log "coordinator #$coord_gen listening"
        [[ $coord_gen -gt 1 ]] && counters[coordinator_restarts]=$(( counters[coordinator_restarts] + 1 ))
      elif ! alive "$coord_pid"; then
        reap "$coord_pid"
        anomaly "coordinator #$coord_gen exited with status $rc while starting (see $coord_log)"
        counters[coordinator_unexpected_exits]=$(( counters[coordinator_unexpected_exits] + 1 ))
        coord_pid="" coord_state=down coord_until=$(( now + 1000 ))
      elif (( now >= coord_until )); then
        anomaly "coordinator #$coord_gen not listening 60 s after its start; killed (see $coord_log)"
        kill -9 "$coord_pid" 2>/dev/null; reap "$coord_pid"
        coord_pid="" coord_state=down coord_until=$(( now + 1000 ))
      fi ;;
    up)
      if ! alive "$coord_pid"; then
        reap "$coord_pid"
        anomaly "coordinator #$coord_gen (pid $coord_pid) exited by itself with status $rc (see $coord_log)"
        counters[coordinator_unexpected_exits]=$(( counters[coordinator_unexpected_exits] + 1 ))
        coord_pid="" coord_state=down coord_until=$(( now + 1000 ))
      fi ;;
    down)
      (( now >= coord_until )) && start_coordinator ;;
  esac
}

# worker slots 1..4: pid, state (run, paused, term, dead), a time (resume, give up, restart), generation
declare -a w_pid w_state w_until w_gen w_since
start_worker() {
  local i=$1
  w_gen[$i]=$(( ${w_gen[$i]:-0} + 1 ))
  "${farm_env[@]}" nice -n 5 "$bin" worker --join "$endpoint" --threads 1 --name "w$i" \
    > "$logs/w$i.${w_gen[$i]}.log" 2>&1 &
  w_pid[$i]=$! w_state[$i]=run w_until[$i]=0 w_since[$i]=$now
  [[ ${w_gen[$i]} -gt 1 ]] && counters[worker_restarts]=$(( counters[worker_restarts] + 1 ))
  log "worker w$i #${w_gen[$i]} started (pid ${w_pid[$i]})"
}
worker_gone() {   # slot, delay before its replacement starts
  w_pid[$1]="" w_state[$1]=dead w_until[$1]=$(( now + $2 ))
}

supervise_workers() {
  local i
  for (( i = 1; i <= workers; i++ )); do
    case "${w_state[$i]}" in
      run|paused)
        if ! alive "${w_pid[$i]}"; then
          reap "${w_pid[$i]}"
          anomaly "worker w$i #${w_gen[$i]} (pid ${w_pid[$i]}) exited by itself with status $rc (see $logs/w$i.${w_gen[$i]}.log)"
          counters[worker_unexpected_exits]=$(( counters[worker_unexpected_exits] + 1 ))
          worker_gone "$i" 500
        elif [[ "${w_state[$i]}" == paused ]] && (( now >= w_until[$i] )); then
          kill -CONT "${w_pid[$i]}" 2>/dev/null
          w_state[$i]=run
          log "SIGCONT worker w$i (pid ${w_pid[$i]}) after $(( now - w_since[$i] )) ms"
        fi ;;
      term)
        if ! alive "${w_pid[$i]}"; then
          reap "${w_pid[$i]}"
          log "worker w$i (pid ${w_pid[$i]}) exited $(( now - w_since[$i] )) ms after SIGTERM, status $rc"
          [[ $rc -ne 0 ]] && note "worker w$i exited with status $rc after SIGTERM (expected 0)"
          rand_between 200 1500; worker_gone "$i" "$r"
        elif (( now >= w_until[$i] )); then
          anomaly "worker w$i (pid ${w_pid[$i]}) still running $(( term_timeout_ms / 1000 )) s after SIGTERM; killed (see $logs/w$i.${w_gen[$i]}.log)"
          counters[term_timeouts]=$(( counters[term_timeouts] + 1 ))
          kill -9 "${w_pid[$i]}" 2>/dev/null; reap "${w_pid[$i]}"
          worker_gone "$i" 500
        fi ;;
      dead)
        (( now >= w_until[$i] )) && start_worker "$i" ;;
    esac
  done
}

# ---------------------------------------------------------------- faults

next_fault_ms=0
faults_left() { local k n=0; for k in "${!planned[@]}"; do n=$(( n + planned[$k] - done_count[$k] )); done; echo "$n"; }
running_slots() { local i s=(); for (( i = 1; i <= workers; i++ )); do [[ "${w_state[$i]}" == run ]] && s+=("$i"); done; echo "${s[@]:-}"; }

inject_fault() {
  local slots kinds=() weights=() total=0 k n pick i slot
  read -ra slots <<< "$(running_slots)"
  for k in worker_kill9 coordinator_kill9 worker_term worker_pause; do
    n=$(( planned[$k] - done_count[$k] ))
    (( n > 0 )) || continue
    if [[ $k == coordinator_kill9 ]]; then [[ $coord_state == up ]] || continue
    else (( ${#slots[@]} > 0 )) || continue; fi
    kinds+=("$k"); weights+=("$n"); total=$(( total + n ))
  done
  (( total > 0 )) || return 0      # nothing possible right now: try at the next interval
  rand_between 0 $(( total - 1 )); pick=$r
  for i in "${!kinds[@]}"; do
    if (( pick < weights[i] )); then k=${kinds[$i]}; break; fi
    pick=$(( pick - weights[i] ))
  done
  if [[ $k != coordinator_kill9 ]]; then rand_between 0 $(( ${#slots[@]} - 1 )); slot=${slots[$r]}; fi
  done_count[$k]=$(( done_count[$k] + 1 ))
  case "$k" in
    worker_kill9)
      kill -9 "${w_pid[$slot]}" 2>/dev/null
      log "FAULT kill -9 worker w$slot #${w_gen[$slot]} (pid ${w_pid[$slot]}) [${done_count[$k]}/${planned[$k]}]"
      reap "${w_pid[$slot]}"
      rand_between 200 2000; worker_gone "$slot" "$r" ;;
    worker_term)
      kill -TERM "${w_pid[$slot]}" 2>/dev/null
      w_state[$slot]=term w_until[$slot]=$(( now + term_timeout_ms )) w_since[$slot]=$now
      log "FAULT SIGTERM worker w$slot #${w_gen[$slot]} (pid ${w_pid[$slot]}) [${done_count[$k]}/${planned[$k]}]" ;;
    worker_pause)
      kill -STOP "${w_pid[$slot]}" 2>/dev/null
      rand_between "$pause_min_ms" "$pause_max_ms"
      w_state[$slot]=paused w_until[$slot]=$(( now + r )) w_since[$slot]=$now
      log "FAULT SIGSTOP worker w$slot #${w_gen[$slot]} (pid ${w_pid[$slot]}) for $r ms [${done_count[$k]}/${planned[$k]}]" ;;
    coordinator_kill9)
      kill -9 "$coord_pid" 2>/dev/null
      log "FAULT kill -9 coordinator #$coord_gen (pid $coord_pid) [${done_count[$k]}/${planned[$k]}]"
      reap "$coord_pid"
      rand_between 500 3000
      coord_pid="" coord_state=down coord_until=$(( now + r )) ;;
  esac
}

# ---------------------------------------------------------------- clients (one at a time, in the background)
# Queue entries: "submit VARIANT WAVE" or "wait JOB".

declare -a client_queue=()
client_pid="" client_what="" client_tries=0 client_not_before=0
client_out="$out/client.out"
submit_max_tries=30

variant_args() {
  local common=(--coordinator "$endpoint" --content "$images/c.png" --style "$images/a.png" --style "$images/b.png")
  case "$1" in
    sweep-off)  args=(submit sweep "${common[@]}" --gamma 0:1:0.05 --size 32 --iterations 3) ;;
    sweep-auto) args=(submit sweep "${common[@]}" --gamma 0:1:0.05 --size 32 --iterations 3 --balance auto) ;;
    tiled-independent) args=(submit tiled "${common[@]}" --size 128 --tile 64 --iterations 2 --mode independent) ;;
    tiled-exact) args=(submit tiled "${common[@]}" --size 128 --tile 64 --iterations 2 --mode exact --shards 2) ;;
  esac
}

start_client() {
  local what=$1 args
  read -ra parts <<< "$what"
  if [[ ${parts[0]} == submit ]]; then
    variant_args "${parts[1]}"
  else
    local left=$(( (deadline_ms - teardown_reserve_ms - now) / 1000 ))
    (( left > 30 )) && left=30
    (( left < 1 )) && left=1
    args=(wait "${parts[1]}" --coordinator "$endpoint" --timeout "$left")
  fi
  printf '\n### [+%ss] try %d: stylefarm %s\n' "$(elapsed)" "$(( client_tries + 1 ))" "${args[*]}" >> "$logs/clients.log"
  "$bin" "${args[@]}" > "$client_out" 2>> "$logs/clients.log" &
  client_pid=$! client_what=$what
}

service_clients() {
  if [[ -n "$client_pid" ]]; then
    alive "$client_pid" && return
    reap "$client_pid"; client_pid=""
    local output parts
    output=$(cat "$client_out" 2>/dev/null)
    printf '%s\n(status %d)\n' "$output" "$rc" >> "$logs/clients.log"
    read -ra parts <<< "$client_what"
    if [[ ${parts[0]} == submit ]]; then
      local job
      job=$(printf '%s\n' "$output" | grep -E '^[A-Za-z0-9_-]{4,64}$' | tail -1)   # the id is the last line
      if [[ $rc -eq 0 && -n "$job" ]]; then
        printf '%s\t%s\t%s\n' "$job" "${parts[1]}" "${parts[2]}" >> "$out/jobs.tsv"
        counters[submits_ok]=$(( counters[submits_ok] + 1 ))
        log "submitted ${parts[1]} (wave ${parts[2]}): job $job$( (( client_tries > 0 )) && echo " after $client_tries retries")"
        client_queue=("${client_queue[@]:1}") client_tries=0
      else
        client_tries=$(( client_tries + 1 ))
        counters[submit_retries]=$(( counters[submit_retries] + 1 ))
        if (( client_tries >= submit_max_tries )); then
          anomaly "submit ${parts[1]} (wave ${parts[2]}) gave up after $client_tries tries (see $logs/clients.log)"
          counters[submit_gave_up]=$(( counters[submit_gave_up] + 1 ))
          client_queue=("${client_queue[@]:1}") client_tries=0
        else
          log "submit ${parts[1]} failed (status $rc); retrying"
          client_not_before=$(( now + 1000 ))
        fi
      fi
    else
      local job=${parts[1]} said
      said=$(printf '%s\n' "$output" | grep -Eo "job $job (succeeded|failed|cancelled)" | awk '{print $3}' | tail -1)
      if [[ -n "$said" ]]; then
        printf '%s\t%s\n' "$job" "$said" >> "$out/waits.tsv"
        counters[waits]=$(( counters[waits] + 1 ))
        log "wait $job: $said"
        client_queue=("${client_queue[@]:1}") client_tries=0
      elif (( now >= deadline_ms - teardown_reserve_ms )); then
        printf '%s\t%s\n' "$job" "unfinished at the deadline" >> "$out/waits.tsv"
        log "wait $job: still not finished at the deadline"
        client_queue=("${client_queue[@]:1}") client_tries=0
      else
        # Timed out (status 2) or no answer from the coordinator: ask again later, after the
        # other jobs, so that one stuck job does not keep the others from being waited for.
        client_tries=0
        counters[wait_retries]=$(( counters[wait_retries] + 1 ))
        log "wait $job: not finished yet (status $rc); asking again after the other jobs"
        client_queue=("${client_queue[@]:1}" "wait $job")
        client_not_before=$(( now + 1000 ))
      fi
    fi
  fi
  if [[ -z "$client_pid" && ${#client_queue[@]} -gt 0 ]] && (( now >= client_not_before )); then
    [[ $coord_state == up ]] || [[ ${client_queue[0]} == submit* ]] || return   # waits only ask a live coordinator
    start_client "${client_queue[0]}"
  fi
}

wave=0
enqueue_wave() {
  wave=$(( wave + 1 ))
  counters[waves]=$wave
  local balance=sweep-off
  (( wave % 2 == 0 )) && balance=sweep-auto
  client_queue+=("submit $balance $wave" "submit tiled-independent $wave" "submit tiled-exact $wave")
  (( wave % 3 == 0 )) && client_queue+=("submit sweep-auto $wave")
  log "wave $wave queued"
}

# ---------------------------------------------------------------- clean-up (by pid, always)

cleaned=0
cleanup() {
  (( cleaned )) && return; cleaned=1
  local i pids=()
  [[ -n "$client_pid" ]] && alive "$client_pid" && pids+=("$client_pid")
  for (( i = 1; i <= workers; i++ )); do
    if alive "${w_pid[$i]:-}"; then kill -CONT "${w_pid[$i]}" 2>/dev/null; pids+=("${w_pid[$i]}"); fi
  done
  (( ${#pids[@]} )) && kill -TERM "${pids[@]}" 2>/dev/null
  for _ in $(seq 100); do
    local any=0; for p in "${pids[@]}"; do alive "$p" && any=1; done
    (( any )) || break; sleep 0.1
  done
  if alive "$coord_pid"; then
    kill -TERM "$coord_pid" 2>/dev/null; pids+=("$coord_pid")
    for _ in $(seq 100); do alive "$coord_pid" || break; sleep 0.1; done
  fi
  for p in "${pids[@]}"; do
    if alive "$p"; then kill -9 "$p" 2>/dev/null; echo "soak: pid $p did not stop on SIGTERM; killed" >&2; fi
    wait "$p" 2>/dev/null
  done
}
trap cleanup EXIT
trap 'echo "soak: interrupted; logs in $out" >&2; exit 130' INT TERM

# ---------------------------------------------------------------- run

log "schedule $schedule (seed $seed), duration cap ${duration} s, binary $bin"
log "out $out"
for _ in 1 2 3; do
  port=$(python3 "$checker" free-port) endpoint="tcp://127.0.0.1:$port"
  start_coordinator
  while [[ $coord_state == starting ]]; do sleep 0.1; tick_clock; supervise_coordinator; done
  [[ $coord_state == up ]] && break
  note "the coordinator could not start on port $port; trying another port"
  coord_state=down
done
[[ $coord_state == up ]] || { echo "soak: the coordinator does not start; see $logs" >&2; exit 2; }
# The first coordinator was not a restart, nor are failed starts before it.
counters[coordinator_restarts]=0 counters[coordinator_unexpected_exits]=0
: > "$out/anomalies.txt"
for (( i = 1; i <= workers; i++ )); do start_worker "$i"; done
enqueue_wave
next_fault_ms=$(( now + 5000 ))    # let the workers join and the first tasks start
next_poll_ms=0
phase=faults
fault_phase_end=""

while true; do
  tick_clock
  supervise_coordinator
  supervise_workers
  service_clients

  if [[ $phase == faults ]]; then
    if (( $(faults_left) == 0 )) || (( now >= fault_end_ms )); then
      phase=drain fault_phase_end=$now
      (( now >= fault_end_ms )) && note "the fault window (60 % of --duration less 20 s) closed with $(faults_left) faults not injected"
      log "faults over; waiting for every job"
    else
      (( now >= next_fault_ms )) && { inject_fault; rand_between "$fault_min_ms" "$fault_max_ms"; next_fault_ms=$(( now + r )); }
      # Keep work on the farm: a new wave whenever fewer than two jobs are unfinished.
      if [[ ${#client_queue[@]} -eq 0 ]] && (( now >= next_poll_ms )); then
        next_poll_ms=$(( now + 2000 ))
        pending=$(python3 "$checker" pending "$data"); unfinished=${pending%% *}
        (( ${unfinished:-0} < 2 )) && enqueue_wave
      fi
    fi
  fi

  if [[ $phase == drain ]]; then
    if [[ ${#client_queue[@]} -eq 0 && -z "$client_pid" ]]; then
      # Every job: those the submits returned, and any other the coordinator recorded
      # (a submit retried after its first try did get through).
      all_jobs=$( { cut -f1 "$out/jobs.tsv"; python3 "$checker" jobs "$data"; } | awk 'NF && !seen[$0]++')
      for job in $all_jobs; do client_queue+=("wait $job"); done
      phase=waiting progress="" last_progress_ms=$now next_progress_poll_ms=$now
      log "waiting for ${#client_queue[@]} jobs"
    fi
  fi
  if [[ $phase == waiting && ${#client_queue[@]} -eq 0 && -z "$client_pid" ]]; then
    log "every job has finished"
    break
  fi
  if [[ $phase == waiting ]] && (( now >= next_progress_poll_ms )); then
    # A farm that neither starts nor ends an attempt nor finishes a job for --stall seconds
    # is stuck: waiting longer until --duration would show nothing more.
    next_progress_poll_ms=$(( now + 5000 ))
    latest=$(python3 "$checker" progress "$data")
    if [[ "$latest" != "$progress" ]]; then
      progress=$latest last_progress_ms=$now
    elif (( now - last_progress_ms >= stall * 1000 )); then
      note "no progress on the farm for $stall s ($progress) with ${#client_queue[@]} jobs not finished: stopped waiting"
      if [[ -n "$client_pid" ]]; then kill -TERM "$client_pid" 2>/dev/null; reap "$client_pid"; client_pid=""; fi
      for entry in "${client_queue[@]}"; do
        [[ $entry == wait* ]] && printf '%s\t%s\n' "${entry#wait }" "no progress for $stall s" >> "$out/waits.tsv"
      done
      client_queue=()
      break
    fi
  fi
  if (( now >= deadline_ms - teardown_reserve_ms )); then
    if [[ $phase != waiting || ${#client_queue[@]} -gt 0 ]]; then
      note "--duration ${duration} s reached in phase $phase with ${#client_queue[@]} client commands left"
      for entry in "${client_queue[@]}"; do
        [[ $entry == wait* ]] && printf '%s\t%s\n' "${entry#wait }" "not waited for: deadline" >> "$out/waits.tsv"
      done
    fi
    break
  fi
  sleep 0.2
done

drain_end=$now
[[ -n "$fault_phase_end" ]] || fault_phase_end=$now
log "stopping the farm"
cleanup
tick_clock
log "farm stopped"

{
  echo "schedule=$schedule"
  echo "seed=$seed"
  echo "binary=$bin"
  echo "start_epoch_ms=$start_ms"
  echo "wall_s=$(( (now - start_ms) / 1000 ))"
  echo "fault_phase_s=$(( (fault_phase_end - start_ms) / 1000 ))"
  echo "drain_s=$(( (drain_end - fault_phase_end) / 1000 ))"
  for k in "${!planned[@]}"; do echo "planned_$k=${planned[$k]}"; echo "done_$k=${done_count[$k]}"; done
  for k in "${!counters[@]}"; do echo "$k=${counters[$k]}"; done
} > "$out/stats.txt"

python3 "$checker" report "$data" "$out" | tee "$out/summary.txt"
exit "${PIPESTATUS[0]}"
