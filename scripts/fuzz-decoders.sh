#!/usr/bin/env bash
# Fuzzes the wire protocol's envelope and header decoders with libFuzzer: builds the harness in
# Fuzz/ (a package of its own, so the root `swift build` never sees the fuzzer flags), writes
# the seed corpus, runs RUNS inputs, and prints the executions, the coverage and the findings.
#
#   scripts/fuzz-decoders.sh [RUNS]          # default 10000000
#
# Environment: FUZZ_JOBS=N (default 1) runs libFuzzer's -fork=N and keeps going after a finding;
# FUZZ_MAX_LEN (default 4096 bytes: the seeds are under 500, and the small limits the harness
# picks from its option byte make every "too large" branch reachable below that);
# FUZZ_TIMEOUT (seconds per input, default 10); FUZZ_ASAN=1 adds AddressSanitizer (its own
# build in Fuzz/.build/asan; about 3× slower, and it only watches code compiled here, not Foundation).
# Everything it writes is under Fuzz/artifacts/ (gitignored): seeds/ (regenerated each run),
# corpus/ (grows from run to run), crashes/ (crash-*, timeout-*, oom-*), last-run.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../Fuzz"

runs=${1:-10000000}
jobs=${FUZZ_JOBS:-1}
max_len=${FUZZ_MAX_LEN:-4096}
timeout=${FUZZ_TIMEOUT:-10}
case "$runs" in ''|*[!0-9]*) echo "usage: scripts/fuzz-decoders.sh [RUNS]" >&2; exit 2 ;; esac

# `--sanitize fuzzer` rather than `-Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library`:
# SwiftPM then compiles every module (Protocol included) with coverage and -parse-as-library,
# and links without renaming `main` to `DecodersFuzzer_main`, so libFuzzer's main is used.
build=(swift build -c release --sanitize fuzzer)
if [ "${FUZZ_ASAN:-0}" = 1 ]; then
    # Not `--sanitize address`: with two --sanitize options the modules are compiled without
    # coverage. A build directory of its own, so that switching does not rebuild the other.
    build+=(--scratch-path .build/asan -Xswiftc -sanitize=fuzzer,address)
    # LeakSanitizer counts the Swift runtime's metadata caches, and what `exit` leaves, as leaks.
    export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
fi
"${build[@]}" 2>&1 | grep -v "prohibited flag" >&2
bin="$("${build[@]}" --show-bin-path)/DecodersFuzzer"

mkdir -p artifacts/corpus artifacts/crashes
rm -rf artifacts/seeds
"$bin" --write-corpus artifacts/seeds
before=$(find artifacts/crashes -type f | sort)

flags=(-runs="$runs" -max_len="$max_len" -timeout="$timeout" -rss_limit_mb=2048
       -dict=decoders.dict -artifact_prefix=artifacts/crashes/ -print_final_stats=1)
if [ "$jobs" -gt 1 ]; then
    flags+=(-fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi
echo "running: DecodersFuzzer ${flags[*]} artifacts/corpus artifacts/seeds"
started=$(date +%s)
set +e
# Swift's backtracer would take SIGILL/SIGTRAP first (libFuzzer leaves an existing handler in
# place) and the process would die without libFuzzer writing the input out: off while fuzzing,
# on for the replays below, where it prints the symbolicated Swift stack.
SWIFT_BACKTRACE=enable=no "$bin" "${flags[@]}" artifacts/corpus artifacts/seeds > artifacts/last-run.log 2>&1
status=$?
set -e
elapsed=$(( $(date +%s) - started ))

# The figures: libFuzzer's final stats (single process) or the last status line (fork mode).
echo "== libFuzzer exited with $status after ${elapsed}s; log in Fuzz/artifacts/last-run.log"
grep -E '^INFO: (Loaded|seed corpus)|^#[0-9]+[[:space:]]+(INITED|DONE)' artifacts/last-run.log | sed 's/^/  /' || true
grep -E '^#[0-9]+:' artifacts/last-run.log | tail -1 | sed 's/^/  last: /' || true
grep -E '^stat::' artifacts/last-run.log | sed 's/^/  /' || true
executed=$(grep -E '^stat::number_of_executed_units' artifacts/last-run.log | awk '{print $2}' || true)
if [ -n "$executed" ] && [ "$elapsed" -gt 0 ]; then
    echo "  executions: $executed in ${elapsed}s wall ($(( executed / elapsed )) exec/s)"
fi

# The findings: every new artifact, decoded, with the stack libFuzzer printed for it.
after=$(find artifacts/crashes -type f | sort)
new=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d')
if [ -z "$new" ]; then
    echo "== no crash, timeout or out-of-memory in this run"
    [ "$status" -eq 0 ] || echo "   (but libFuzzer's exit status is $status: read the log)"
    exit "$status"
fi
echo "== findings: $(echo "$new" | wc -l)"
for file in $new; do
    echo "-- $file: replayed (the error and its stack)"
    SWIFT_BACKTRACE=enable=yes,color=no "$bin" -timeout="$timeout" -rss_limit_mb=2048 "$file" 2>&1 \
        | grep -E 'runtime failure|Fatal error|crashed:|ERROR: libFuzzer|SUMMARY|^ *[0-9]+ .* in ' | head -30 | sed 's/^/  /' || true
    echo "-- $file: decoded"
    SWIFT_BACKTRACE=enable=no "$bin" --explain "$file" 2>&1 | sed 's/^/  /' || true
    [ "${PIPESTATUS[0]}" -eq 0 ] || echo "  (the decoders trapped after the last line above)"
done
exit 1
