#!/bin/sh
# The PyTorch side of scripts/bench-pytorch.mjs: Debian's python3-torchvision (PyTorch 1.13, torchvision 0.14,
# Pillow) for /usr/bin/python3, installed with apt when it is missing. Exits 0 when the pipeline can run.
set -e
PY=/usr/bin/python3
if "$PY" -c 'import torch, torchvision, PIL' 2>/dev/null; then exit 0; fi
echo "bench-pytorch: installing python3-torchvision (Debian) for the PyTorch pipeline…" >&2
if [ "$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
  echo "bench-pytorch: not root and no sudo: run 'apt-get install -y python3-torchvision' as root." >&2
  exit 1
fi
$SUDO apt-get update -qq >&2 || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torchvision >&2
"$PY" -c 'import torch, torchvision, PIL'
