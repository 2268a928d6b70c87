/**
 * sharp's per-platform packages for a packaging target: the installed ones where npm put them (this machine's), else
 * a cached copy fetched from the npm registry with `npm pack <name>@<version>` (the version sharp's own
 * optionalDependencies pin) and unpacked into the natives cache:
 *   <cache>/<name>@<version>/package.json, lib/…
 * The cache is IMAGE_CLASSIFIER_NATIVES_CACHE, else <repo>/.cache/natives (git-ignored). A second run finds the
 * packages there and reaches no network; npm's own cache also keeps the tarballs.
 *
 *   node scripts/natives.mjs [--target=win32-x64 …] [--all]     fetch (if missing) and print the folders
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { sharpPackages, TARGETS, targetOf } from './targets.mjs';

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(here, '..', '..');

/** The folder of package `name` as Node would find it from `from` (up through node_modules folders), or undefined. */
export function findPackage(name, from) {
  for (let d = path.resolve(from); ; d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    if (path.dirname(d) === d) return undefined;
  }
}

export function nativesCacheDir() {
  return path.resolve(process.env.IMAGE_CLASSIFIER_NATIVES_CACHE || path.join(REPO, '.cache', 'natives'));
}

/** Unpacks a .tgz's `package/` folder into `dest` (files and folders only; links and other entries are refused). */
export function untarPackage(tgz, dest) {
  const tar = gunzipSync(readFileSync(tgz));
  let longName;
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (o, n) => header.toString('utf8', o, o + n).replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const mode = Number.parseInt(field(100, 8).trim() || '644', 8);
    const type = String.fromCharCode(header[156] || 48);
    const body = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type === 'x' || type === 'g') continue; // pax headers: npm's tarballs need none of their fields here
    const prefix = field(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    const rel = name.replace(/^[^/]+\//, ''); // npm's tarballs hold one top folder, `package/` (or another name)
    if (!rel || rel.split('/').some((p) => p === '..' || p === '')) {
      if (rel === '' || rel.endsWith('/')) continue;
      throw new Error(`${tgz}: unsafe entry ${name}`);
    }
    const out = path.join(dest, ...rel.split('/'));
    if (type === '5') mkdirSync(out, { recursive: true });
    else if (type === '0' || type === '7') {
      mkdirSync(path.dirname(out), { recursive: true });
      writeFileSync(out, body);
      if (mode & 0o111) chmodSync(out, 0o755);
    } else throw new Error(`${tgz}: ${name} is a link or special file (type ${type}); refusing it`);
  }
}

/** Runs npm (the one running this script when started by npm, else `npm` on the PATH). */
function npm(args, cwd) {
  const execPath = process.env.npm_execpath;
  const r = execPath?.endsWith('.js')
    ? spawnSync(process.execPath, [execPath, ...args], { cwd, encoding: 'utf8' })
    : spawnSync('npm', args, { cwd, encoding: 'utf8', shell: process.platform === 'win32' });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim().slice(-800)}`);
  return r.stdout;
}

/** The folder of `name@version` in the natives cache, fetched with `npm pack` first when missing. */
export function cachedPackage(name, version) {
  const dir = path.join(nativesCacheDir(), `${name.replace('/', '+')}@${version}`);
  const manifest = path.join(dir, 'package.json');
  if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === version) return dir;
  mkdirSync(nativesCacheDir(), { recursive: true });
  const tmp = mkdtempSync(path.join(tmpdir(), 'ic-natives-'));
  try {
    const out = npm(['pack', `${name}@${version}`, '--json', '--pack-destination', tmp], tmp);
    const file = JSON.parse(out)[0]?.filename ?? readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!file) throw new Error(`npm pack ${name}@${version} wrote no tarball`);
    const staging = path.join(tmp, 'unpacked');
    untarPackage(path.join(tmp, path.basename(file)), staging);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/**
 * The folders of sharp's native packages for `target` ({ [name]: dir }), from `findInstalled(name)` (a folder or
 * undefined) when npm installed them at the version sharp pins, else from the natives cache.
 */
export function sharpNativeDirs(target, sharpDir, findInstalled) {
  const pins = JSON.parse(readFileSync(path.join(sharpDir, 'package.json'), 'utf8')).optionalDependencies ?? {};
  const dirs = {};
  for (const name of sharpPackages(targetOf(target))) {
    const version = pins[name];
    if (!version) throw new Error(`sharp ${sharpDir} pins no version of ${name}`);
    const installed = findInstalled(name);
    const ok = installed && JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')).version === version;
    dirs[name] = ok ? installed : cachedPackage(name, version);
  }
  return dirs;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const targets = args.includes('--all')
    ? Object.keys(TARGETS)
    : args.filter((a) => a.startsWith('--target=')).map((a) => a.slice('--target='.length));
  const sharpDir = findPackage('sharp', path.join(REPO, 'packages', 'core'));
  for (const t of targets) {
    for (const [name, dir] of Object.entries(sharpNativeDirs(t, sharpDir, () => undefined))) console.log(`${t}: ${name} ${dir}`);
  }
}
