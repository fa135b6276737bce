#!/usr/bin/env bash
# Renders one tiled job on a local farm and reports its seam score, wall time and peak memory:
#   scripts/tiled-study.sh SIZE TILE ITERATIONS [WORKERS] [extra submit options…]
# e.g. scripts/tiled-study.sh 1024 128 50   or   scripts/tiled-study.sh 4096 512 20
# Uses the release build; the farm's data stays in $STYLEFARM_HOME/tiled-study-SIZE.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size="$1" tile="$2" iterations="$3" workers="${4:-2}"
shift $(( $# < 4 ? $# : 4 ))
swift build -c release --product stylefarm > /dev/null
bin="$(swift build -c release --show-bin-path)/stylefarm"
source scripts/local-farm.sh
home="${STYLEFARM_HOME:-$HOME/.cache/stylefarm}"
study="$home/tiled-study-$size"
rm -rf "$study"
images="${STYLEFARM_IMAGES:-../shared/images}"
start_local_farm "$bin" "$study/data" "$study/logs" "$workers" tiles
started=$(date +%s.%N)
job=$("$bin" submit tiled --coordinator "$endpoint" --content "$images/tubingen.jpg" --style "$images/starry_night.jpg" \
        --size "$size" --tile "$tile" --iterations "$iterations" "$@")
"$bin" watch --coordinator "$endpoint" "$job" > "$study/logs/watch.log"
finished=$(date +%s.%N)
out="$study/data/jobs/$job"
peak() { grep -h VmHWM "/proc/$1/status" 2>/dev/null | awk '{printf "%.0f", $2 / 1024}'; }
echo "job $job: ${size} px, tile $tile, $iterations iterations, $workers workers"
echo "wall time: $(echo "$finished - $started" | bc) s"
echo "peak RSS (MB): coordinator $(peak "${pids[0]}"), workers $(for p in "${pids[@]:1}"; do printf '%s ' "$(peak "$p")"; done)"
"$bin" inspect seams "$out/output.png" --tile "$tile"
python3 - "$out/job.json" <<'PY'
import json, sys
tasks = json.load(open(sys.argv[1]))["tasks"]
tiles = [t["summary"] for t in tasks if t["kind"] == "tile" and t.get("summary")]
if tiles:
    print("tiles: %d, mean %.1f s each, worker peak RSS reported by tiles %.0f MB"
          % (len(tiles), sum(t["seconds"] for t in tiles) / len(tiles), max(t["peakRssMb"] for t in tiles)))
for t in tasks:
    if t["kind"] in ("coarse", "style-targets", "stitch") and t.get("summary"):
        s = t["summary"]
        secs = s.get("seconds") or s.get("timings", {}).get("totalSeconds")
        print("%s: %.1f s%s" % (t["key"], secs, ", peak held rows %d of %d" % (s["peakHeldRows"], s["bandRows"]) if "bandRows" in s else ""))
PY
echo "output: $out/output.png"
