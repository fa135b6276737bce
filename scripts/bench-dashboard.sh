#!/usr/bin/env bash
# What watching costs the coordinator (issue 12): `stylefarm bench farm` in three modes, one
# after the other in each round: without the dashboard; recording its metrics only (`--metrics`,
# what `--http` makes the loop do); and with the dashboard served and headless Chromium kept on /
# and on the benchmark job's page (their event streams open for the whole run). Prints every
# run's JSON line and the medians of each mode side by side.
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
  "$bin" bench farm --workers "$workers" --tasks "$tasks" --metrics | sed 's/^/metrics /' | tee -a "$out"
  "$bin" bench farm --workers "$workers" --tasks "$tasks" --http 127.0.0.1:0 --browser "$browser" | sed 's/^/with /' | tee -a "$out"
done
python3 - "$out" <<'PY'
import json, statistics, sys
runs = {"without": [], "metrics": [], "with": []}
for line in open(sys.argv[1]):
    mode, _, text = line.partition(" ")
    runs[mode].append(json.loads(text))
keys = ["tasks_per_second", "coordinator_cpu_microseconds_per_task", "dispatch_latency_ms_p50", "dispatch_latency_ms_p99", "peak_rss_mb"]
print(f"{'median of ' + str(len(runs['with'])) + ' rounds':<40}{'without':>10}{'metrics':>10}{'pages':>10}{'metrics/without':>17}{'pages/without':>15}")
for key in keys:
    a, m, b = (statistics.median(r[key] for r in runs[mode]) for mode in ("without", "metrics", "with"))
    ratio = lambda x: x / a if a else float("nan")
    print(f"{key:<40}{a:>10.2f}{m:>10.2f}{b:>10.2f}{ratio(m):>17.3f}{ratio(b):>15.3f}")
PY
