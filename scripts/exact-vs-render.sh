#!/usr/bin/env bash
# Exact tiled mode on a local farm of two single-threaded workers against one single-threaded
# whole-image render with the same settings:
#   scripts/exact-vs-render.sh [SIZE] [TILE] [STEPS] [LR]     (default 256 128 50 1)
#   STYLEFARM_BIN=path (default: builds and uses the release binary)  OPTIMIZER=adam|lbfgs (default adam)  SCHEME=auto|gradient-exchange|wide-halo (default auto)
#   PRESET=name (default: the render's default)  STYLE=path (default starry_night.jpg)  CONTENT=path (default tubingen.jpg; a square crop gives a square output:
#   convert tubingen.jpg -gravity center -crop 768x768+0+0 +repage square.png)
# Prints both wall times and their ratio, the largest per-pixel difference (on 0…255) between
# the two 16-bit outputs, and both final losses.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size="${1:-256}" tile="${2:-128}" steps="${3:-50}" lr="${4:-1}"
optimizer="${OPTIMIZER:-adam}" scheme="${SCHEME:-auto}"
if [[ -n "${STYLEFARM_BIN:-}" ]]; then bin="$STYLEFARM_BIN"; else   # an optimised build: the engine is slow without one
  swift build -c release --product stylefarm > /dev/null
  bin="$(swift build -c release --show-bin-path)/stylefarm"
fi
source scripts/local-farm.sh
home="${STYLEFARM_HOME:-$HOME/.cache/stylefarm}"
study="$home/exact-vs-render"
rm -rf "$study"
images="${STYLEFARM_IMAGES:-../shared/images}"
options=(--content "${CONTENT:-$images/tubingen.jpg}" --style "${STYLE:-$images/starry_night.jpg}" --init content --optimizer "$optimizer" --lr "$lr"
         --iterations "$steps" --size "$size")
if [[ -n "${PRESET:-}" ]]; then options+=(--preset "$PRESET"); fi
start_local_farm "$bin" "$study/data" "$study/logs" 2 exact
started=$(date +%s.%N)
job=$("$bin" submit tiled --coordinator "$endpoint" "${options[@]}" --tile "$tile" --mode exact --shards 2 --exact-scheme "$scheme" \
      --checkpoint-every 0 --bit-depth 16)
"$bin" wait --coordinator "$endpoint" "$job" > /dev/null
tiled_seconds=$(echo "$(date +%s.%N) - $started" | bc)
started=$(date +%s.%N)
"$bin" render "${options[@]}" --threads 1 --bit-depth 16 --out "$study/whole.png" --summary "$study/whole.json" > /dev/null
whole_seconds=$(echo "$(date +%s.%N) - $started" | bc)
echo "exact tiled (2 shards, 1 thread each, $optimizer, scheme $scheme): $tiled_seconds s; whole-image render (1 thread): $whole_seconds s; ratio $(echo "scale=3; $tiled_seconds / $whole_seconds" | bc)"
"$bin" inspect difference "$study/data/jobs/$job/output.png" "$study/whole.png"
python3 - "$study/data/jobs/$job/job.json" "$study/whole.json" <<'PY'
import json, sys
def find(node, key):
    if isinstance(node, dict):
        if key in node: return node[key]
        for value in node.values():
            found = find(value, key)
            if found is not None: return found
    if isinstance(node, list):
        for value in node:
            found = find(value, key)
            if found is not None: return found
    return None
job, whole = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
shards = [t for t in job.get("tasks", []) if str(t.get("key", "")).startswith("shard-")]
exact = [find(t, "final_losses") or find(t, "finalLosses") for t in shards]
render = find(whole, "final_losses") or find(whole, "finalLosses")
print("job.json exact:", json.dumps(job.get("exact")))
for t, losses in zip(shards, exact):
    summary = find(t, "summary") or {}
    print(f"{t['key']}: final loss {losses['total']:.6g}, {find(summary, 'seconds')} s, window {find(summary, 'window_pixels') or find(summary, 'windowPixels')} px")
if exact and render:
    e, r = exact[0]["total"], render["total"]
    print(f"final loss: exact {e:.6g}, render {r:.6g}, relative difference {abs(e - r) / r:.3%}")
PY
