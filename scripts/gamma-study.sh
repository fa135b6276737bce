#!/usr/bin/env bash
# Reproduces the γ-balancing study (Froehling 2021) on a local farm: tubingen.jpg with
# starry_night.jpg (style 1) and the_scream.jpg (style 2), γ = 0, 0.1, … 1, once without
# balancing and once with --balance auto. Prints, for each run, the crossover γ* (where
# RI₁ = RI₂) and RI₁/RI₂ at γ = 0.5, and copies both RI-against-γ plots into out/gamma-study/.
#   scripts/gamma-study.sh [--size N] [--iterations K] [--workers W]
# Needs ../shared/images beside the checkout (or IMAGES=DIR).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

size=128
iterations=100
workers=2
while (($#)); do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    *) echo "gamma-study: unknown option $1 (use --size N, --iterations K, --workers W)" >&2; exit 2 ;;
  esac
done
images="${IMAGES:-$(pwd)/../shared/images}"

swift build -c release --product stylefarm
bin=.build/release/stylefarm
"$bin" weights fetch

out="$(pwd)/out/gamma-study"
data="$out/data"
source scripts/local-farm.sh
start_local_farm "$bin" "$data" "$out" "$workers" study

common=(--coordinator "$endpoint" --content "$images/tubingen.jpg" --style "$images/starry_night.jpg"
        --style "$images/the_scream.jpg" --gamma 0:1:0.1 --size "$size" --iterations "$iterations" --threads 1)
off=$("$bin" submit sweep "${common[@]}" --balance off --priority 2)
auto=$("$bin" submit sweep "${common[@]}" --balance auto --priority 1)
echo "gamma-study: jobs $off (balance off) and $auto (balance auto); $size px, $iterations iterations" >&2
"$bin" wait "$off" --coordinator "$endpoint" --timeout 14400
"$bin" wait "$auto" --coordinator "$endpoint" --timeout 14400

for run in "off:$off" "auto:$auto"; do
  name="${run%%:*}"; job="${run#*:}"
  cp "$data/jobs/$job/relative_improvement.svg" "$out/relative_improvement-balance-$name.svg"
  python3 scripts/gamma-study-summary.py "$data/jobs/$job/job.json" "balance $name"
done
echo "gamma-study: plots in $out/"
