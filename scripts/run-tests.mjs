#!/usr/bin/env node
/**
 * Runs every test suite in one `node --test` invocation so the runner's closing summary covers them all:
 * packages/*\/test/*.test.ts (through tsx), scripts/test/*.test.mjs and the VS Code end-to-end suites in e2e/
 * (which skip loudly when their prerequisites — `bash .ci/install-e2e.sh` — are missing).
 * `--unit` runs the package suites and scripts/test/ only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const files = [];
for (const pkg of ['protocol', 'core', 'server', 'extension']) {
  const dir = path.join(ROOT, 'packages', pkg, 'test');
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.test.ts')) files.push(path.join('packages', pkg, 'test', f));
}
// The repository's own scripts (packaging, the CI workflow): scripts/test/*.test.mjs.
const scriptTests = path.join(ROOT, 'scripts', 'test');
if (existsSync(scriptTests)) {
  for (const f of readdirSync(scriptTests).sort()) if (f.endsWith('.test.mjs')) files.push(path.join('scripts', 'test', f));
}
if (!process.argv.includes('--unit')) {
  const e2e = path.join(ROOT, 'e2e');
  if (existsSync(e2e)) for (const f of readdirSync(e2e).sort()) if (f.endsWith('.test.mjs')) files.push(path.join('e2e', f));
  // linux-arm64 under qemu (MobileNetV2, a few minutes; skips loudly off Debian x86-64).
  files.push(path.join('scripts', 'platforms', 'linux-arm64.test.mjs'));
}
console.log(`Running ${files.length} test files:\n  ${files.join('\n  ')}`);
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${path.join(ROOT, 'scripts', 'summary-reporter.mjs')}`,
    '--test-reporter-destination=stdout',
    ...files,
  ],
  {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
  },
);
process.exit(r.status ?? 1);
