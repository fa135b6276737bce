#!/usr/bin/env bash
# Structure-aware fuzzer of the wire protocol against a real coordinator and a real worker on
# loopback (scripts/fuzz/protocol_fuzz.py does the work; its --help lists every option):
#   scripts/fuzz-protocol.sh --messages 5000 --seed 7
#   STYLEFARM_BIN=/path/to/stylefarm scripts/fuzz-protocol.sh --duration 600
#   scripts/fuzz-protocol.sh --replay out/fuzz-protocol/seed-7/reproducers/crash-1.json
# Prints figures and checks; the last line is "N passed, M failed"; exits 1 on any failure.
# Output (logs, the coordinator's data, reproducers, summary.json) goes to out/fuzz-protocol/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! python3 -c 'import zmq' 2>/dev/null; then
  pip install --quiet pyzmq
fi

if [ -z "${STYLEFARM_BIN:-}" ]; then
  STYLEFARM_BIN="$(swift build --show-bin-path)/stylefarm"
  [ -x "$STYLEFARM_BIN" ] || swift build --product stylefarm
fi

# Well-behaved fuzz workers announce this binary's engine (the coordinator refuses any other).
STYLEFARM_ENGINE_VERSION="$("$STYLEFARM_BIN" --version | awk '{print $2}')"
export STYLEFARM_ENGINE_VERSION
exec python3 scripts/fuzz/protocol_fuzz.py --bin "$STYLEFARM_BIN" "$@"
