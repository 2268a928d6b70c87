#!/usr/bin/env node
/**
 * The command line as an npm package for one platform target, self-contained like the VSIX: the bundled CLI and
 * its workers, and that target's native runtime (onnxruntime-node, sharp + libvips, usearch where it has a build),
 * the same files the VSIX ships. No dependencies and no install scripts: `npm install -g <tarball>` needs no network,
 * and npm refuses it on another OS or CPU (package.json `os`/`cpu`).
 *   node scripts/pack-cli.mjs [--target=<t> …] [--all] [--out-dir=<dir>]   (default: this machine's target, into cli/)
 *   npm install -g cli/image-classifier-cli-<target>-<version>.tgz && image-classifier --help
 * Needs `npm run build` first (`npm run pack:cli` does both).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { hostTarget, TARGETS, targetOf } from '../packages/extension/scripts/targets.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXT = path.join(ROOT, 'packages', 'extension');
const SERVER = path.join(ROOT, 'packages', 'server');

/** Packs the CLI for `target` into `outDir`; returns the tarball's path. */
export async function packCli(target, outDir) {
  const t = targetOf(target);
  const build = spawnSync(process.execPath, ['esbuild.mjs', '--production', `--target=${target}`], { cwd: EXT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`the ${target} build failed`);
  const built = path.join(EXT, 'dist', 'server');
  const version = JSON.parse(readFileSync(path.join(SERVER, 'package.json'), 'utf8')).version;
  const stage = mkdtempSync(path.join(tmpdir(), 'ic-cli-pack-'));
  try {
    const dist = path.join(stage, 'dist');
    mkdirSync(dist, { recursive: true });
    for (const f of ['cli.js', 'inference-worker.js', 'preprocess-worker.js', 'curate-worker.js', 'ann-probe.js']) {
      if (!existsSync(path.join(built, f))) throw new Error(`${f} is missing from packages/extension/dist/server`);
      cpSync(path.join(built, f), path.join(dist, f));
    }
    cpSync(path.join(built, 'node_modules'), path.join(dist, 'node_modules'), { recursive: true });
    // The launcher (malloc tuning on glibc, see packages/server/bin): its protocol import bundled, cli.js beside.
    await esbuild.build({
      entryPoints: [path.join(SERVER, 'bin', 'image-classifier.js')],
      outfile: path.join(stage, 'bin', 'image-classifier.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['../dist/cli.js'],
      logLevel: 'warning',
    });
    writeFileSync(
      path.join(stage, 'package.json'),
      `${JSON.stringify(
        {
          name: 'image-classifier-cli',
          version,
          description: `ImageNet classification and dataset curation on the command line (ONNX Runtime, torchvision-exact preprocessing): ${target} build`,
          license: 'MIT',
          bin: { 'image-classifier': 'bin/image-classifier.js' },
          os: [t.os],
          cpu: [t.cpu],
          engines: { node: '>=20' },
          files: ['bin', 'dist'],
        },
        null,
        2,
      )}\n`,
    );
    cpSync(path.join(EXT, 'LICENSE'), path.join(stage, 'LICENSE'));
    writeFileSync(
      path.join(stage, 'README.md'),
      `# image-classifier-cli (${target})\n\n\`image-classifier --help\` lists the commands. Built from the image-classifier repository by scripts/pack-cli.mjs.\n`,
    );
    mkdirSync(outDir, { recursive: true });
    const out = execFileSync(npmCommand(), ['pack', '--json', '--pack-destination', outDir], {
      cwd: stage,
      encoding: 'utf8',
      shell: process.platform === 'win32',
    });
    const file = JSON.parse(out)[0].filename;
    const dest = path.join(outDir, `image-classifier-cli-${target}-${version}.tgz`);
    renameSync(path.join(outDir, path.basename(file)), dest);
    return dest;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function npmCommand() {
  return process.platform === 'win32' ? 'npm.cmd' : 'npm';
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outDir = path.resolve(args.find((a) => a.startsWith('--out-dir='))?.slice('--out-dir='.length) ?? path.join(ROOT, 'cli'));
  const host = hostTarget();
  let targets = args.filter((a) => a.startsWith('--target=')).map((a) => a.slice('--target='.length));
  if (args.includes('--all')) targets = [...Object.keys(TARGETS).filter((t) => t !== host), ...(TARGETS[host] ? [host] : [])];
  if (!targets.length) targets = [host];
  for (const t of targets) console.log(`pack-cli: ${path.relative(process.cwd(), await packCli(t, outDir))}`);
  // The last build is this machine's (or the only one asked for): rebuild this machine's when it was not.
  if (targets.at(-1) !== host && TARGETS[host])
    spawnSync(process.execPath, ['esbuild.mjs', `--target=${host}`], { cwd: EXT, stdio: 'inherit' });
}
