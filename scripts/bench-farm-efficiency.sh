#!/usr/bin/env bash
# Farm efficiency: the same sweep (8 γ points, 256 px) on 1 and on 2 single-threaded workers,
# coordinator and workers on loopback, timed from submission to completion. Prints both times
# and their ratio (ideal 0.5). Not part of CI. Build first: swift build -c release.
#   scripts/bench-farm-efficiency.sh [--iterations K]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
iterations=20
[ "${1:-}" = "--iterations" ] && iterations="$2"
bin="${STYLEFARM_BIN:-.build/release/stylefarm}"
[ -x "$bin" ] || { echo "bench-farm-efficiency: build first (swift build -c release)" >&2; exit 1; }
samples="$(scripts/fetch-samples.sh)"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

run() {  # workers → seconds
  local workers=$1 port=$(( 20000 + RANDOM % 20000 )) dir="$work/$1"
  mkdir -p "$dir"
  "$bin" coordinator --bind "tcp://127.0.0.1:$port" --data "$dir/data" > "$dir/coordinator.log" 2>&1 &
  local pids=($!)
  for _ in $(seq 50); do grep -q listening "$dir/coordinator.log" 2>/dev/null && break; sleep 0.1; done
  for i in $(seq "$workers"); do
    "$bin" worker --join "tcp://127.0.0.1:$port" --threads 1 --name "w$i" > "$dir/w$i.log" 2>&1 & pids+=($!)
  done
  local joined=0
  for _ in $(seq 150); do
    joined=$("$bin" workers --coordinator "tcp://127.0.0.1:$port" 2>/dev/null | grep -c threads || true)
    [ "$joined" = "$workers" ] && break
    sleep 0.2
  done
  [ "$joined" = "$workers" ] || { echo "bench-farm-efficiency: only $joined of $workers workers joined in 30 s (see $dir)" >&2; exit 1; }
  local start end job
  start=$(date +%s.%N)
  job=$("$bin" submit sweep --coordinator "tcp://127.0.0.1:$port" --content "$samples/chelsea.png" \
        --style "$samples/hubble_deep_field.jpg" --style "$samples/ihc.png" \
        --gamma 0,0.14,0.29,0.43,0.57,0.71,0.86,1 --size 256 --iterations "$iterations")
  "$bin" wait "$job" --coordinator "tcp://127.0.0.1:$port" > /dev/null
  end=$(date +%s.%N)
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
  python3 -c "print(f'{$end - $start:.1f}')"
}
one=$(run 1); two=$(run 2)
python3 -c "print(f'1 worker: $one s, 2 workers: $two s, ratio {$two / $one:.3f} (ideal 0.5)')"
