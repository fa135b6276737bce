#!/usr/bin/env bash
# Exact tiled mode on a local farm against one whole-image render with the same settings:
#   scripts/exact-vs-render.sh [SIZE] [TILE] [STEPS] [LR]     (default 256 128 50 1: 2×2 tiles)
# Prints the largest per-pixel difference (on 0…255) between the two 16-bit outputs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size="${1:-256}" tile="${2:-128}" steps="${3:-50}" lr="${4:-1}"
swift build -c release --product stylefarm > /dev/null
bin="$(swift build -c release --show-bin-path)/stylefarm"
source scripts/local-farm.sh
home="${STYLEFARM_HOME:-$HOME/.cache/stylefarm}"
study="$home/exact-vs-render"
rm -rf "$study"
images="${STYLEFARM_IMAGES:-../shared/images}"
options=(--content "$images/tubingen.jpg" --style "$images/starry_night.jpg" --init content --optimizer adam --lr "$lr"
         --iterations "$steps" --size "$size")
start_local_farm "$bin" "$study/data" "$study/logs" 2 exact
started=$(date +%s.%N)
job=$("$bin" submit tiled --coordinator "$endpoint" "${options[@]}" --tile "$tile" --mode exact --shards 2 --bit-depth 16)
"$bin" wait --coordinator "$endpoint" "$job" > /dev/null
tiled_seconds=$(echo "$(date +%s.%N) - $started" | bc)
started=$(date +%s.%N)
"$bin" render "${options[@]}" --threads 1 --bit-depth 16 --out "$study/whole.png" > /dev/null
whole_seconds=$(echo "$(date +%s.%N) - $started" | bc)
echo "exact tiled (2 shards, 1 thread each): $tiled_seconds s; whole-image render (1 thread): $whole_seconds s"
"$bin" inspect difference "$study/data/jobs/$job/output.png" "$study/whole.png"
