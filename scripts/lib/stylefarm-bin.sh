# shellcheck shell=bash
# Sourced by the scripts that drive a built stylefarm (soak.sh, test-slurm.sh):
#   resolve_stylefarm_bin REPO   sets $bin to $STYLEFARM_BIN, else the debug build's, as an
#                                absolute path, and $user_home to STYLEFARM_HOME (weights checked);
#                                calls the script's own die() when either is missing.
resolve_stylefarm_bin() {
  local repo="$1" bin_dir
  if [[ -n "${STYLEFARM_BIN:-}" ]]; then
    bin=$STYLEFARM_BIN
  else
    bin_dir=$(cd "$repo" && swift build --show-bin-path 2>/dev/null) || die "set STYLEFARM_BIN, or build first (swift build)"
    bin="$bin_dir/stylefarm"
  fi
  [[ -x "$bin" ]] || die "no stylefarm binary at '$bin' (set STYLEFARM_BIN or run swift build)"
  bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
  user_home=${STYLEFARM_HOME:-$HOME/.cache/stylefarm}
  ls "$user_home"/weights/*.sfw >/dev/null 2>&1 || die "no weights in $user_home/weights: run '$bin weights fetch' first"
}
