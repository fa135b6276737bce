#!/usr/bin/env bash
# The test suite, from a fresh Debian machine: installs what is missing, fetches the VGG19
# weights (tests that need them fail, never skip, without them), builds and runs every test.
# The golden tests read ../shared/golden (or $STYLEFARM_GOLDEN).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
swift build --build-tests
"$(swift build --show-bin-path)/stylefarm" weights fetch
swift test --skip-build
