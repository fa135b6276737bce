#!/usr/bin/env bash
# The test suite, from a fresh Debian machine: installs what is missing, fetches the VGG19
# weights (tests that need them fail, never skip, without them), builds and runs every test,
# then the farm under faults (a short soak) and a bounded run of the protocol fuzzer against a
# real coordinator and worker; the dashboard in headless Chromium on a real farm
# (test-dashboard.sh); then the deployment: deploy/ checked without a cluster
# (check-deploy.sh), and, as root, the Slurm script on a one-node Slurm cluster (test-slurm.sh)
# and the package on three bare Debian 12 hosts joined over ssh (test-hosts.sh: builds the .deb,
# a static release build of ~3 minutes; the hosts' debootstrap root is cached under .build/);
# last, with that optimised binary, exact L-BFGS against the render (check-exact-lbfgs.sh).
# The golden tests read ../shared/golden (or $STYLEFARM_GOLDEN).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
swift build --build-tests
bin="$(swift build --show-bin-path)/stylefarm"
"$bin" weights fetch
swift test --skip-build
STYLEFARM_BIN="$bin" scripts/fuzz-protocol.sh --messages 3000 --seed "${FUZZ_SEED:-11}" --out out/fuzz-protocol/ci
STYLEFARM_BIN="$bin" scripts/soak.sh --schedule ci --duration 300 --seed "${SOAK_SEED:-1}"
STYLEFARM_BIN="$bin" scripts/test-dashboard.sh
scripts/check-deploy.sh --binary "$bin"
STYLEFARM_BIN="$bin" scripts/test-slurm.sh
scripts/test-hosts.sh
# Exact L-BFGS against the render at 256 and 512 px needs an optimised engine: the package's
# static release build, which test-hosts.sh has just made (or, without it, a release build).
static="$PWD/.build-static/release/stylefarm"
if [ -x "$static" ]; then STYLEFARM_BIN="$static" scripts/check-exact-lbfgs.sh; else scripts/check-exact-lbfgs.sh; fi
