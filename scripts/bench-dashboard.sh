#!/usr/bin/env bash
# What watching costs the coordinator (issue 12): `stylefarm bench farm` alternately without the
# dashboard and with it served and headless Chromium kept on / and on the benchmark job's page
# (their event streams open for the whole run), ROUNDS rounds each; prints every run's JSON line
# and the medians of each mode side by side.
#
#   STYLEFARM_BIN=.build/release/stylefarm scripts/bench-dashboard.sh [--rounds N] [--workers W] [--tasks T]
#
# Use a release build: the figures are for the README. Needs chromium (apt-get install chromium).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
die() { echo "bench-dashboard: $*" >&2; exit 2; }
# shellcheck source=scripts/lib/stylefarm-bin.sh
source "$repo/scripts/lib/stylefarm-bin.sh"

rounds=3 workers=200 tasks=20000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="${2:-}"; shift 2 ;;
    --workers) workers="${2:-}"; shift 2 ;;
    --tasks) tasks="${2:-}"; shift 2 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
resolve_stylefarm_bin "$repo"
browser=$(command -v chromium) || die "no chromium on PATH (apt-get install chromium)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((round = 1; round <= rounds; round++)); do
  "$bin" bench farm --workers "$workers" --tasks "$tasks" | sed 's/^/without /' | tee -a "$out"
  "$bin" bench farm --workers "$workers" --tasks "$tasks" --http 127.0.0.1:0 --browser "$browser" | sed 's/^/with /' | tee -a "$out"
done
python3 - "$out" <<'PY'
import json, statistics, sys
runs = {"without": [], "with": []}
for line in open(sys.argv[1]):
    mode, _, text = line.partition(" ")
    runs[mode].append(json.loads(text))
keys = ["tasks_per_second", "coordinator_cpu_microseconds_per_task", "dispatch_latency_ms_p50", "dispatch_latency_ms_p99", "peak_rss_mb"]
print(f"{'median of ' + str(len(runs['with'])) + ' rounds':<40}{'without':>12}{'with pages':>12}{'ratio':>8}")
for key in keys:
    a = statistics.median(r[key] for r in runs["without"])
    b = statistics.median(r[key] for r in runs["with"])
    print(f"{key:<40}{a:>12.2f}{b:>12.2f}{b / a if a else float('nan'):>8.3f}")
PY
