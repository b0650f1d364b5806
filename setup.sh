#!/usr/bin/env bash
# Set-up on a fresh machine: a system BLAS for PyTensor, then this package and its test tools.
# On Debian/Ubuntu as root it installs libopenblas-dev and gfortran (PyTensor 2.38 links
# OpenBLAS only when it also finds libgfortran.so, which gfortran's runtime package provides).
# Elsewhere, install an OpenBLAS or MKL development package yourself (see README).
set -euo pipefail
cd "$(dirname "$0")"
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  if ! dpkg -s libopenblas-dev gfortran >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev gfortran >/dev/null
  fi
fi
python -m pip install -q --disable-pip-version-check --root-user-action=ignore -e ".[dev]"
if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
python - <<'PY'
import pytensor
flags = pytensor.config.blas__ldflags
print(f"PyTensor BLAS: {flags or 'NOT FOUND (slow NumPy C-API fallback; see README)'}")
PY
