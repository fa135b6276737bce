# shellcheck shell=bash
# Sourced by scripts that run a farm on this machine (demo.sh, gamma-study.sh):
#   start_local_farm BIN DATA LOGS WORKERS NAME
# starts a coordinator on a random loopback port with its records in DATA and WORKERS
# single-threaded workers named NAME-1…, logs in LOGS; sets $endpoint; stops them all on exit.
pids=()
stop_local_farm() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
start_local_farm() {
  local bin="$1" data="$2" logs="$3" workers="$4" name="$5"
  mkdir -p "$data" "$logs"
  endpoint="tcp://127.0.0.1:$(( 20000 + RANDOM % 20000 ))"
  trap stop_local_farm EXIT
  "$bin" coordinator --bind "$endpoint" --data "$data" > "$logs/coordinator.log" 2>&1 & pids+=($!)
  for i in $(seq "$workers"); do
    "$bin" worker --join "$endpoint" --threads 1 --name "$name-$i" > "$logs/worker-$i.log" 2>&1 & pids+=($!)
  done
  for _ in $(seq 50); do grep -q "listening" "$logs/coordinator.log" 2>/dev/null && break; sleep 0.1; done
}
