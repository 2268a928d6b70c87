// The command line as an npm package (scripts/pack-cli.mjs): packed for this machine's target, installed with
// `npm install -g` from the tarball into a temporary prefix with no network (it has no dependencies), it runs, and
// classifies ../shared's cat photo exactly as the repository's own CLI does (skipped loudly without ../shared).
//   node --test scripts/test/cli-package.test.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { hostTarget, TARGETS } from '../../packages/extension/scripts/targets.mjs';
import { packCli } from '../pack-cli.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = process.env.IMAGE_CLASSIFIER_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');
const MODEL = path.join(SHARED, 'models', 'resnet50-torchvision-seed0.onnx');
const CAT = path.join(SHARED, 'images', 'skimage_chelsea_cat.jpg');
const host = hostTarget();
const skip = !TARGETS[host]
  ? `SKIPPED: ${host} is not a packaged target`
  : !existsSync(path.join(ROOT, 'packages', 'core', 'dist', 'index.js')) && 'SKIPPED: run `npm run build` first';
const work = mkdtempSync(path.join(tmpdir(), 'ic-cli-pkg-'));
after(() => rmSync(work, { recursive: true, force: true }));
const shell = process.platform === 'win32';

/** The package.json inside a tarball. */
function manifestOf(tgz) {
  const tar = gunzipSync(readFileSync(tgz));
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = tar.toString('utf8', at, at + 100).replace(/\0.*$/s, '');
    const size = Number.parseInt(
      tar
        .toString('utf8', at + 124, at + 136)
        .replace(/\0.*$/s, '')
        .trim() || '0',
      8,
    );
    if (name === 'package/package.json') return JSON.parse(tar.toString('utf8', at + 512, at + 512 + size));
    if (!name) break;
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${tgz} has no package/package.json`);
}

let bin;
test('npm install -g from the packed tarball: no dependencies, no network, this target only', { skip, timeout: 900_000 }, async () => {
  const tgz = await packCli(host, work);
  const pkg = manifestOf(tgz);
  assert.equal(pkg.name, 'image-classifier-cli');
  assert.deepEqual([pkg.os, pkg.cpu], [[TARGETS[host].os], [TARGETS[host].cpu]]);
  assert.equal(pkg.dependencies, undefined);
  assert.equal(pkg.scripts, undefined, 'no install scripts');
  const prefix = path.join(work, 'prefix');
  execFileSync(shell ? 'npm.cmd' : 'npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tgz], {
    stdio: 'pipe',
    shell,
  });
  bin = shell ? path.join(prefix, 'image-classifier.cmd') : path.join(prefix, 'bin', 'image-classifier');
  const version = JSON.parse(readFileSync(path.join(ROOT, 'packages', 'server', 'package.json'), 'utf8')).version;
  assert.equal(execFileSync(bin, ['--version'], { encoding: 'utf8', shell }).trim(), `image-classifier ${version}`);
});

const noShared = !existsSync(MODEL) || !existsSync(CAT);
test('the installed CLI classifies like the repository CLI', {
  skip: skip || (noShared && 'SKIPPED: ../shared not found'),
  timeout: 300_000,
}, () => {
  assert.ok(bin, 'installed by the test above');
  const args = ['classify', '--model', MODEL, '--format', 'jsonl', '--no-progress', '--cache-dir', path.join(work, 'cache'), CAT];
  const installed = JSON.parse(execFileSync(bin, args, { encoding: 'utf8', shell }));
  const repo = JSON.parse(
    execFileSync(process.execPath, [path.join(ROOT, 'packages', 'server', 'bin', 'image-classifier.js'), ...args], { encoding: 'utf8' }),
  );
  assert.equal(installed.predictions.length, 5);
  assert.deepEqual(installed.predictions, repo.predictions);
});
