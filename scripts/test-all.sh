#!/usr/bin/env bash
# The full test run on a fresh machine: installs what the tests need (npm dependencies offline-safe; Debian's
# Chromium and code-server for the VS Code end-to-end tests; a Python venv with Triton for the remote-inference
# tests), builds, and runs every suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash .ci/install-e2e.sh
# The real Open Inference Protocol server (NVIDIA Triton through PyTriton, from PyPI) for the remote-inference tests;
# without it those tests skip loudly.
bash scripts/install-remote-server.sh || echo "[test-all] the Triton environment could not be made: the remote-inference tests will be SKIPPED"
node scripts/ci/ensure-npm.mjs
if [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "[test-all] node_modules up to date"
else
  npm ci --no-audit --no-fund
fi
npm test
