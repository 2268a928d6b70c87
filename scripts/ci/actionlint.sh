#!/usr/bin/env bash
# Lints .github/workflows/*.yml with actionlint (github.com/rhysd/actionlint), built once from the Go module proxy
# into <repo>/.cache/tools/bin (`go install`, needs Go). Exit 3 when Go is missing (the caller skips loudly).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSION=v1.7.12
BIN="$ROOT/.cache/tools/bin"
AL="$BIN/actionlint"
if ! { [ -x "$AL" ] && "$AL" -version 2>/dev/null | head -1 | grep -qx "$VERSION"; }; then
  command -v go >/dev/null || { echo "actionlint.sh: go is not installed (needed once to build actionlint $VERSION)" >&2; exit 3; }
  echo "[actionlint] go install github.com/rhysd/actionlint/cmd/actionlint@$VERSION" >&2
  mkdir -p "$BIN"
  GOBIN="$BIN" GOFLAGS=-buildvcs=false go install "github.com/rhysd/actionlint/cmd/actionlint@$VERSION" >&2
fi
cd "$ROOT"
# shellcheck and pyflakes are used by actionlint when on the PATH; their absence is not an error.
exec "$AL" -no-color "$@"
