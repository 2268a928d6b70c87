#!/usr/bin/env node
/**
 * Builds and packages platform VSIXes: for each target, the production bundle with that target's native files
 * (`node esbuild.mjs --production --target=<t>`), then `vsce package --target <t> --no-dependencies`, then the
 * native-file check (check-vsix.mjs: every native file of the target, nothing of another, ≤ 70 MB).
 *   node scripts/package.mjs [--target <t> | --target=<t> …] [--all] [--out=<file.vsix>] [--out-dir=<dir>]
 * Without --target it packages this machine's target; --all packages every target of targets.mjs, this machine's
 * last. dist/ is left built for this machine (rebuilt when the last target packaged was another). Needs `npm run build` first (the repository root's `npm run
 * package` / `npm run package:all` do both).
 * vsce: e2e/'s @vscode/vsce (4.x) with e2e/'s Node 24 where .ci/install-e2e.sh installed them, else @vscode/vsce
 * VSCE_NODE20_VERSION (3.x runs on Node 20) installed once into <repo>/.cache/tools/vsce from the npm registry.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkVsix, formatCheck } from './check-vsix.mjs';
import { hostTarget, TARGETS, targetOf } from './targets.mjs';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(here, '..', '..');
export const VSCE_NODE20_VERSION = '3.9.2';

function fail(msg) {
  console.error(`package.mjs: ${msg}`);
  process.exit(1);
}

/** Runs vsce with a Node it supports: [node, vsceScript]. */
function findVsce() {
  const e2eVsce = path.join(REPO, 'e2e', 'node_modules', '@vscode', 'vsce', 'vsce');
  const bin = process.platform === 'win32' ? 'node.exe' : path.join('bin', 'node');
  const node24 = path.join(REPO, 'e2e', 'node_modules', `node-${process.platform}-${process.arch}`, bin);
  if (existsSync(e2eVsce) && existsSync(node24)) return [node24, e2eVsce];
  const prefix = path.join(REPO, '.cache', 'tools', 'vsce');
  const script = path.join(prefix, 'node_modules', '@vscode', 'vsce', 'vsce');
  const manifest = path.join(prefix, 'node_modules', '@vscode', 'vsce', 'package.json');
  if (!existsSync(manifest) || JSON.parse(readFileSync(manifest, 'utf8')).version !== VSCE_NODE20_VERSION) {
    console.log(`package.mjs: installing @vscode/vsce ${VSCE_NODE20_VERSION} into ${path.relative(REPO, prefix)}`);
    mkdirSync(prefix, { recursive: true });
    const npmArgs = ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund'];
    const execPath = process.env.npm_execpath;
    const args = [...npmArgs, `@vscode/vsce@${VSCE_NODE20_VERSION}`];
    const r = execPath?.endsWith('.js')
      ? spawnSync(process.execPath, [execPath, ...args], { stdio: 'inherit' })
      : spawnSync('npm', args, { stdio: 'inherit', shell: process.platform === 'win32' });
    if (r.status !== 0) fail(`npm could not install @vscode/vsce ${VSCE_NODE20_VERSION}`);
  }
  return [process.execPath, script];
}

/** Builds and packages one target; returns the VSIX's path. */
export function packageTarget(target, out) {
  targetOf(target);
  const build = spawnSync(process.execPath, ['esbuild.mjs', '--production', `--target=${target}`], { cwd: here, stdio: 'inherit' });
  if (build.status !== 0) fail(`the ${target} build failed`);
  for (const f of [
    'extension.js',
    'server/server.js',
    'server/inference-worker.js',
    'server/preprocess-worker.js',
    'server/curate-worker.js',
    'server/ann-probe.js',
  ]) {
    if (!existsSync(path.join(here, 'dist', f))) fail(`dist/${f} is missing after the build`);
  }
  const [node, vsce] = findVsce();
  const r = spawnSync(node, [vsce, 'package', '--target', target, '--no-dependencies', '--skip-license', '-o', out], {
    cwd: here,
    stdio: 'inherit',
  });
  if (r.status !== 0) fail(`vsce package --target ${target} failed`);
  return out;
}

function parseTargets(args) {
  if (args.includes('--all')) {
    const host = hostTarget();
    const all = Object.keys(TARGETS);
    return all.includes(host) ? [...all.filter((t) => t !== host), host] : all;
  }
  const list = [];
  args.forEach((a, i) => {
    if (a.startsWith('--target=')) list.push(a.slice('--target='.length));
    else if (a === '--target' && args[i + 1]) list.push(args[i + 1]);
  });
  return list.length ? list : [hostTarget()];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const targets = parseTargets(args);
  for (const t of targets) {
    try {
      targetOf(t);
    } catch (e) {
      fail(e.message);
    }
  }
  const pkg = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));
  const outArg = args.find((a) => a.startsWith('--out='))?.slice('--out='.length);
  if (outArg && targets.length > 1) fail('--out names one file: use --out-dir with several targets');
  const outDir = path.resolve(args.find((a) => a.startsWith('--out-dir='))?.slice('--out-dir='.length) ?? here);
  mkdirSync(outDir, { recursive: true });
  let bad = 0;
  for (const t of targets) {
    const out = outArg ? path.resolve(outArg) : path.join(outDir, `${pkg.name}-${t}-${pkg.version}.vsix`);
    packageTarget(t, out);
    const report = checkVsix(out, { target: t });
    console.log(formatCheck(report, process.cwd()));
    if (!report.ok) bad++;
  }
  // dist/ is left as this machine runs it (the extension host, the e2e tests and the CLI load it from there).
  const host = hostTarget();
  if (targets.at(-1) !== host && TARGETS[host]) {
    spawnSync(process.execPath, ['esbuild.mjs', '--production', `--target=${host}`], { cwd: here, stdio: 'inherit' });
  }
  if (bad) fail(`${bad} of ${targets.length} VSIX(es) failed the native-file check`);
}
