#!/usr/bin/env bash
# Makes (once, cached) the Python virtual environment from which the remote-inference tests and bench start a real
# Open Inference Protocol server: NVIDIA Triton through PyTriton, serving deploy/pytriton/serve.py. The packages come
# from PyPI, pinned in deploy/pytriton/requirements.txt. Prints the environment's python on the last line.
#
# Which Python: Triton's Python backend runs models in a stub process linked against the system's
# libpython3.X.so.1.0, so the environment's interpreter must be that same build (a pyenv 3.11.7 next to Debian's
# libpython 3.11.2 fails in multiprocessing). The system's python3 is used unless IMAGE_CLASSIFIER_PYTHON names one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${IMAGE_CLASSIFIER_REMOTE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/image-classifier/pytriton-venv}"
REQ=deploy/pytriton/requirements.txt
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ -f "$VENV/.requirements.sha256" ] && [ "$(cat "$VENV/.requirements.sha256")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  echo "[remote-server] $VENV is up to date"
  echo "$VENV/bin/python"
  exit 0
fi
PY="${IMAGE_CLASSIFIER_PYTHON:-/usr/bin/python3}"
if ! "$PY" -c 'import sys, venv, ensurepip; assert (3, 8) <= sys.version_info[:2] <= (3, 13)' 2>/dev/null; then
  echo "[remote-server] $PY is not a Python 3.8–3.13 with venv and ensurepip (Debian: apt-get install python3-venv); set IMAGE_CLASSIFIER_PYTHON" >&2
  exit 1
fi
lib="libpython$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")').so.1.0"
if ! ldconfig -p 2>/dev/null | grep -q "$lib"; then
  echo "[remote-server] the system has no $lib, which Triton's Python backend loads (Debian: apt-get install libpython3-dev or lib${lib%%.so*})" >&2
  exit 1
fi
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$REQ"
# The wheel's tritonserver must start on this system (glibc ≥ 2.35): it prints its usage (and exits 1) when it can.
"$VENV/bin/python" -c '
import pathlib, subprocess, sys, pytriton
b = pathlib.Path(pytriton.__file__).parent / "tritonserver/bin/tritonserver"
r = subprocess.run([str(b), "--help"], capture_output=True, text=True)
sys.exit(0 if "Usage: tritonserver" in r.stdout + r.stderr else f"tritonserver does not start here: {r.stderr.strip()[:400]}")'
echo "$want" > "$VENV/.requirements.sha256"
echo "[remote-server] made $VENV"
echo "$VENV/bin/python"
