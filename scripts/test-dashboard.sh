#!/usr/bin/env bash
# The dashboard in a real browser (issue 12): headless Chromium over WebDriver watches a γ sweep
# and a tiled job render on a real local farm (a coordinator with --http and a token, two
# workers), without reloading: live thumbnails, points and tiles arriving, a loss curve growing;
# then cancels a job from its page, refused without the token and done with it.
#
#   scripts/test-dashboard.sh [--screenshots DIR] [--keep]
#
#   --screenshots DIR  also save the farm page, the sweep and the tiled job as
#                      DIR/dashboard-{farm,sweep,tiled}.png (the README's come from here)
#   --keep             keep the farm's folder (logs, records) even when every check passed
#
# Installs Debian's chromium and chromium-driver when they are missing (as root, or with sudo).
# The binary is $STYLEFARM_BIN, else `swift build --show-bin-path`/stylefarm (not built here);
# weights must be in $STYLEFARM_HOME/weights. Everything stays on loopback; the processes it
# started are stopped by pid on exit. The last line is "test-dashboard: N passed, M failed";
# exit status 0 when all passed, 1 when one failed, 2 when it could not be set up.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
die() { echo "test-dashboard: $*" >&2; exit 2; }
# shellcheck source=scripts/lib/stylefarm-bin.sh
source "$repo/scripts/lib/stylefarm-bin.sh"

extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --screenshots) [[ -n "${2:-}" ]] || die "--screenshots needs a directory"; mkdir -p "$2"; extra+=(--screenshots "$(cd "$2" && pwd)"); shift 2 ;;
    --keep) extra+=(--keep); shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
done

resolve_stylefarm_bin "$repo"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "test-dashboard: installing chromium and chromium-driver" >&2
  $sudo apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null \
    || die "could not install chromium and chromium-driver"
fi
images=${STYLEFARM_IMAGES:-$repo/../shared/images}
[[ -f "$images/tubingen.jpg" ]] || die "no sample images in $images (set STYLEFARM_IMAGES)"
exec python3 "$here/dashboard/browser_test.py" --bin "$bin" --images "$images" "${extra[@]}"
