#!/usr/bin/env bash
# Makes the Python venv the curation bench runs cleanlab in: .cache/cleanlab-venv (git-ignored), cleanlab with its
# Datalab extra (Hugging Face `datasets`) and scikit-learn from PyPI. Prints the venv's python on success.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.cache/cleanlab-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import cleanlab, datasets' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'cleanlab[datalab]' scikit-learn
fi
echo "$venv/bin/python"
