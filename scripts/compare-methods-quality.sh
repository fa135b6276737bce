#!/usr/bin/env bash
# Do two convolution methods reach the same loss? 100 L-BFGS iterations end wherever rounding
# sends them, within a few percent, so one render per method cannot tell (on 11-27 four single
# runs all ended higher with F(4×4), and ensembles then showed no such bias). This renders the
# same K starting images with each method and reports the paired differences: the starts are
# the content image with seeded ±1/255 noise (the same K for every method), so any difference
# in the mean is the method's, and the spread says how much one run is worth. Not part of CI.
#   scripts/compare-methods-quality.sh [--starts 7] [--size 256] [--iterations 100]
#       [--style starry_night.jpg] [--methods direct,auto] [--threads 1] [--lanes 2]
# Renders preset `pastiche` from tubingen.jpg with `--threads` threads each, `--lanes` at a time
# (its arithmetic does not depend on the machine's load, only the wall time does). Prints one
# line per render and a summary; keeps everything in OUT_DIR.
#
# Environment: STYLEFARM_BIN (default .build/release/stylefarm), PASTICHE_VENV (default
# .venv-pastiche: its Pillow writes the starting images), STYLEFARM_IMAGES (default
# ../shared/images), OUT_DIR (default /tmp/stylefarm-methods-<time>).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STARTS=7 SIZE=256 ITERATIONS=100 STYLE=starry_night.jpg METHODS=direct,auto THREADS=1 LANES=2
BIN="${STYLEFARM_BIN:-.build/release/stylefarm}"
VENV="${PASTICHE_VENV:-$ROOT/.venv-pastiche}"
IMAGES="${STYLEFARM_IMAGES:-$(dirname "$ROOT")/shared/images}"
OUT_DIR="${OUT_DIR:-/tmp/stylefarm-methods-$(date +%Y%m%d-%H%M%S)}"

die() { printf 'compare-methods-quality: error: %s\n' "$*" >&2; exit 1; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '$2'"; }
while (($#)); do
  [[ "$1" == -h || "$1" == --help ]] && { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }
  (($# >= 2)) || die "$1 needs a value"
  case "$1" in
    --starts) positive "$1" "$2"; STARTS=$2 ;;
    --size) positive "$1" "$2"; SIZE=$2 ;;
    --iterations) positive "$1" "$2"; ITERATIONS=$2 ;;
    --threads) positive "$1" "$2"; THREADS=$2 ;;
    --lanes) positive "$1" "$2"; LANES=$2 ;;
    --style) [[ "$2" =~ ^[A-Za-z0-9._-]+$ ]] || die "--style needs a file name in $IMAGES"; STYLE=$2 ;;
    --methods) [[ "$2" =~ ^[a-z0-9]+(,[a-z0-9]+)+$ ]] || die "--methods needs two or more names like direct,auto"; METHODS=$2 ;;
    *) die "unknown argument: $1" ;;
  esac
  shift 2
done
[[ -x "$BIN" ]] || die "no stylefarm binary at '$BIN': build it (swift build -c release) or set STYLEFARM_BIN"
[[ -f "$IMAGES/tubingen.jpg" && -f "$IMAGES/$STYLE" ]] || die "missing images in $IMAGES"
[[ -x "$VENV/bin/python" ]] || die "no Python with Pillow at $VENV (scripts/peer/setup-pastiche-venv.sh makes it)"
mkdir -p "$OUT_DIR"
echo "compare-methods-quality: results in $OUT_DIR" >&2

# The starting images: the content at the render's size (Pillow's bilinear, as preset pastiche
# resamples), every channel moved by a seeded −1, 0 or +1.
"$VENV/bin/python" - "$IMAGES/tubingen.jpg" "$SIZE" "$STARTS" "$OUT_DIR" <<'EOF'
import random, sys
from PIL import Image
path, size, starts, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
image = Image.open(path).convert('RGB')
scale = size / max(image.size)
image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR)
for seed in range(starts):
    rng = random.Random(seed)
    moved = bytes(min(255, max(0, c + rng.choice((-1, 0, 1)))) for c in image.tobytes())
    Image.frombytes('RGB', image.size, moved).save(f'{out}/start-{seed}.png')
EOF

render() {   # method, seed: prints "method seed final-loss"
  local name="$OUT_DIR/$1-$2"
  STYLEFARM_CONV="$1" "$BIN" render --content "$IMAGES/tubingen.jpg" --style "$IMAGES/$STYLE" --preset pastiche \
    --iterations "$ITERATIONS" --size "$SIZE" --threads "$THREADS" --init "$OUT_DIR/start-$2.png" \
    --out "$name.png" --summary "$name.json" > "$name.log" 2>&1 || { tail -5 "$name.log" >&2; die "render $1 $2 failed"; }
  python3 -c 'import json, sys; print(sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))["final_losses"]["total"])' "$1" "$2" "$name.json"
}
IFS=, read -r -a methods <<<"$METHODS"
jobs=()
for ((s = 0; s < STARTS; s++)); do for m in "${methods[@]}"; do jobs+=("$m $s"); done; done
export -f render die
export BIN IMAGES STYLE ITERATIONS SIZE THREADS OUT_DIR
# shellcheck disable=SC2016  # the single quotes are for the bash that xargs starts
printf '%s\n' "${jobs[@]}" | xargs -P "$LANES" -L 1 bash -c 'render "$0" "$1"' | tee "$OUT_DIR/losses.txt"

python3 - "$OUT_DIR/losses.txt" "${methods[@]}" <<'EOF'
import statistics as st, sys
losses = {}
for line in open(sys.argv[1]):
    method, seed, loss = line.split()
    losses.setdefault(method, {})[int(seed)] = float(loss)
methods = sys.argv[2:]
base = methods[0]
for m in methods:
    v = list(losses[m].values())
    spread = st.stdev(v) / st.mean(v) * 100 if len(v) > 1 else 0
    print(f'{m}: mean final loss {st.mean(v):.1f} over {len(v)} starts, spread (sd) {spread:.2f} %')
for m in methods[1:]:
    d = [(losses[m][s] - losses[base][s]) / losses[base][s] * 100 for s in losses[base] if s in losses[m]]
    sem = st.stdev(d) / len(d) ** 0.5 if len(d) > 1 else float('nan')
    print(f'{m} against {base}, same starts: mean {st.mean(d):+.2f} % ± {sem:.2f} (standard error); '
          f'per start {", ".join(f"{x:+.2f}" for x in d)}')
EOF
