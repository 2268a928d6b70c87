#!/usr/bin/env node
/**
 * Builds the extension for packaging:
 *   src/extension.ts                                   → dist/extension.js   (activation; `vscode` external)
 *   src/server/client.ts                               → dist/client.js      (the language client, loaded on first need)
 *   @image-classifier/server: src/server-main.ts       → dist/server/server.js        (the JSON-RPC server)
 *   @image-classifier/core: src/engine/inference-worker.ts → dist/server/inference-worker.js
 *   @image-classifier/core: src/image/preprocess-worker.ts → dist/server/preprocess-worker.js
 *   @image-classifier/server: src/rpc/curate-worker.ts → dist/server/curate-worker.js (curation's analysis)
 *   @image-classifier/server: src/rpc/ann-probe.ts     → dist/server/ann-probe.js (loads a saved graph out of process)
 *   @image-classifier/server: src/cli.ts               → dist/server/cli.js (the command line, for the npm package
 *                                                          scripts/pack-cli.mjs makes; left out of the VSIX)
 *   src/webview/board.ts                               → dist/media/board.js (the curation board's webview script)
 * The server and core are found as packages (Node resolution from here, then from the server), not by relative path.
 * onnxruntime-node, sharp and usearch stay external: their JS and one platform's native files are copied to
 * dist/server/node_modules/, everything else (other platforms, install scripts, typings, maps) is left out.
 *
 * Build check: the client bundles (extension.js, client.js) must not contain anything of packages/core,
 * packages/server, onnxruntime-node or sharp (the extension depends on @image-classifier/protocol alone); esbuild's
 * metafile says what went in, and the build fails otherwise.
 *
 *   node esbuild.mjs [--production] [--target=linux-x64] [--watch]
 *
 * --target is a VS Code platform target of scripts/targets.mjs (win32-x64, win32-arm64, darwin-arm64, linux-x64,
 * linux-arm64); sharp's @img/sharp-<os>-<cpu> packages for targets other than this machine's are fetched from the
 * npm registry into the natives cache (scripts/natives.mjs) on first use.
 */
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { thinMachO } from './scripts/native-headers.mjs';
import { findPackage, sharpNativeDirs } from './scripts/natives.mjs';
import { targetOf } from './scripts/targets.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const production = args.includes('--production');
const watch = args.includes('--watch');
const target = (args.find((a) => a.startsWith('--target='))?.slice('--target='.length) ?? `${process.platform}-${process.arch}`).trim();

function fail(msg) {
  console.error(`\nesbuild.mjs: ${msg}\n`);
  process.exit(1);
}
let targetInfo;
try {
  targetInfo = targetOf(target);
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}

// ---- Preconditions: the server's sources and core's build ------------------------------------------------
const requireHere = createRequire(import.meta.url);
/** The folder of a workspace package, found the way Node finds `<name>/package.json` from `require`. */
function packageDirOf(name, require) {
  try {
    return path.dirname(realpathSync(require.resolve(`${name}/package.json`)));
  } catch {
    fail(`${name} is not installed: run \`npm install\` at the repository root (npm workspaces link it).`);
  }
}
const serverDir = packageDirOf('@image-classifier/server', requireHere);
const coreDir = packageDirOf('@image-classifier/core', createRequire(path.join(serverDir, 'package.json')));
const serverEntry = path.join(serverDir, 'src', 'server-main.ts');
const workerEntry = path.join(coreDir, 'src', 'engine', 'inference-worker.ts');
const preprocessEntry = path.join(coreDir, 'src', 'image', 'preprocess-worker.ts');
const curateEntry = path.join(serverDir, 'src', 'rpc', 'curate-worker.ts');
const annProbeEntry = path.join(serverDir, 'src', 'rpc', 'ann-probe.ts');
const coreDist = path.join(coreDir, 'dist');
if (!existsSync(serverEntry)) {
  fail(
    `The server's entry point ${path.relative(process.cwd(), serverEntry)} does not exist. The extension bundles the server: build it from the repository root with \`npm run build\` once packages/server is in place.`,
  );
}
for (const f of [workerEntry, preprocessEntry]) if (!existsSync(f)) fail(`${f} does not exist.`);
for (const f of ['index.js', 'engine/inference-worker.js', 'image/preprocess-worker.js']) {
  if (!existsSync(path.join(coreDist, f))) {
    fail(
      `packages/core is not built (${path.join('packages/core/dist', f)} is missing). Run \`npm run build\` at the repository root (turbo builds core and server before the extension).`,
    );
  }
}

/** The folder of package `name` as Node would find it from `from` (walks up through node_modules folders). */
function pkgDir(name, from = here) {
  for (let d = path.resolve(from); ; d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    if (path.dirname(d) === d) throw new Error(`${name} not found from ${from}`);
  }
}

// ---- Bundles -------------------------------------------------------------------------------------------------
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: production,
  sourcemap: production ? false : 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  // vscode-languageclient's package.json exports "./node" under the "node" condition.
  conditions: ['node'],
  mainFields: ['module', 'main'],
};

const dist = path.join(here, 'dist');

// ---- Build check: nothing native or server-side in the client bundles -----------------------------------------
const forbidden = [
  { what: 'packages/core', test: (p) => p === coreDir || p.startsWith(coreDir + path.sep) },
  { what: 'packages/server', test: (p) => p === serverDir || p.startsWith(serverDir + path.sep) },
  { what: 'onnxruntime-node', test: (p) => /[\\/]node_modules[\\/]onnxruntime-(node|common)[\\/]/.test(p) },
  { what: 'sharp', test: (p) => /[\\/]node_modules[\\/](sharp|@img)[\\/]/.test(p) },
  { what: 'usearch', test: (p) => /[\\/]node_modules[\\/]usearch[\\/]/.test(p) },
];

/** The inputs of the client bundles (extension.js, client.js) that belong to the server side, as 'input (what)'. */
function serverSideInputs(metafile) {
  const bad = [];
  for (const input of Object.keys(metafile.inputs)) {
    // Metafile paths are relative to the working directory (namespaced ones, e.g. `file:`, are prefixed).
    const rel = input.replace(/^[a-z-]+:/, '');
    let abs = path.resolve(process.cwd(), rel);
    try {
      abs = realpathSync(abs);
    } catch {
      /* a virtual module: judge it by its path */
    }
    const hit = forbidden.find((f) => f.test(abs));
    if (hit) bad.push(`${input} (${hit.what})`);
  }
  return bad;
}

/** Fails the build (or, when watching, reports) when a client bundle took in core, server or native code. */
function clientBundleCheck() {
  return {
    name: 'client-bundle-check',
    setup(build) {
      build.onEnd((result) => {
        if (!result.metafile) return;
        const bad = serverSideInputs(result.metafile);
        if (!bad.length) return;
        const msg = `the client bundles (extension.js, client.js) must depend on @image-classifier/protocol alone, but took in:\n  ${bad.join('\n  ')}`;
        if (watch) console.error(`esbuild.mjs: ${msg}`);
        else fail(msg);
      });
    },
  };
}
rmSync(dist, { recursive: true, force: true });

const builds = [
  {
    ...common,
    // client.js (vscode-languageclient) is required by extension.js on first need, not during activation.
    entryPoints: { extension: path.join(here, 'src/extension.ts'), client: path.join(here, 'src/server/client.ts') },
    outdir: dist,
    external: ['vscode'],
    // Lets activate() report the time from the bundle's first line to its own end.
    banner: {
      js:
        'var __IMAGE_CLASSIFIER_LOAD_START__ = globalThis.performance ? performance.now() : undefined, __IMAGE_CLASSIFIER_LOAD_CPU__ = process.threadCpuUsage ? process.threadCpuUsage() : undefined;' +
        // The editor builds each extension's `vscode` API object on its first require: timed on its own.
        'require("vscode"); var __IMAGE_CLASSIFIER_VSCODE_API_MS__ = globalThis.performance ? performance.now() - __IMAGE_CLASSIFIER_LOAD_START__ : undefined;',
    },
    footer: {
      js: 'var __IMAGE_CLASSIFIER_LOAD_END__ = globalThis.performance ? performance.now() : undefined, __IMAGE_CLASSIFIER_LOAD_CPU__ = __IMAGE_CLASSIFIER_LOAD_CPU__ && process.threadCpuUsage(__IMAGE_CLASSIFIER_LOAD_CPU__);',
    },
    metafile: true,
    plugins: [clientBundleCheck()],
  },
  {
    ...common,
    entryPoints: {
      server: serverEntry,
      'inference-worker': workerEntry,
      'preprocess-worker': preprocessEntry,
      'curate-worker': curateEntry,
      'ann-probe': annProbeEntry,
      // The command line (not in the VSIX: .vscodeignore lists what goes in); scripts/pack-cli.mjs packs it.
      cli: path.join(serverDir, 'src', 'cli.ts'),
    },
    outdir: path.join(dist, 'server'),
    external: ['onnxruntime-node', 'sharp', 'usearch'],
    metafile: true,
  },
  {
    // The curation board's webview script (DOM only): media/board.css is its style sheet.
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: production,
    sourcemap: production ? false : 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    entryPoints: { board: path.join(here, 'src/webview/board.ts') },
    outdir: path.join(dist, 'media'),
    metafile: true,
    plugins: [clientBundleCheck()],
  },
];

// ---- Native runtime files (one platform) ------------------------------------------------------------------------
function copy(src, dest) {
  mkdirSync(path.dirname(dest), { recursive: true });
  copyFileSync(src, dest);
}

/** Copies the files of `srcDir` matched by `keep(rel)` into `destDir`. */
function copyTree(srcDir, destDir, keep) {
  let n = 0;
  const walk = (rel) => {
    for (const ent of readdirSync(path.join(srcDir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isDirectory()) walk(r);
      else if (keep(r)) {
        copy(path.join(srcDir, r), path.join(destDir, r));
        n++;
      }
    }
  };
  walk('');
  if (n === 0) fail(`nothing copied from ${srcDir}`);
  return n;
}

const isLicense = (r) => /^(LICEN[CS]E|NOTICE|COPYING)(\.\w+)?$/i.test(r) || /^ThirdPartyNotices/i.test(r);

function copyRuntime() {
  const nm = path.join(dist, 'server', 'node_modules');
  const ortDir = pkgDir('onnxruntime-node', coreDir);
  const ortBin = `bin/napi-v6/${targetInfo.ort}/`;
  if (!existsSync(path.join(ortDir, ortBin))) fail(`onnxruntime-node has no binaries for ${target} (${ortBin}).`);
  copyTree(
    ortDir,
    path.join(nm, 'onnxruntime-node'),
    (r) => r === 'package.json' || isLicense(r) || /^dist\/[^/]+\.js$/.test(r) || (r.startsWith(ortBin) && !ortDuplicate(ortDir, r)),
  );

  const commonDir = pkgDir('onnxruntime-common', ortDir);
  copyTree(
    commonDir,
    path.join(nm, 'onnxruntime-common'),
    (r) => r === 'package.json' || isLicense(r) || /^dist\/cjs\/(.*\.js|package\.json)$/.test(r),
  );

  const sharpDir = pkgDir('sharp', coreDir);
  copyTree(sharpDir, path.join(nm, 'sharp'), (r) => r === 'package.json' || isLicense(r) || /^dist\/[^/]+\.cjs$/.test(r));
  for (const dep of ['@img/colour', 'detect-libc', 'semver']) {
    const d = pkgDir(dep, sharpDir);
    copyTree(
      d,
      path.join(nm, dep),
      (r) => r === 'package.json' || isLicense(r) || (/\.(c?js)$/.test(r) && !r.startsWith('bin/') && !r.startsWith('test')),
    );
  }
  // This machine's sharp packages are installed by npm; other targets' come from the natives cache (natives.mjs).
  let nativeDirs;
  try {
    nativeDirs = sharpNativeDirs(target, sharpDir, (name) => findPackage(name, sharpDir));
  } catch (e) {
    fail(`sharp's native packages for ${target}: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const [name, dir] of Object.entries(nativeDirs)) {
    copyTree(dir, path.join(nm, name), (r) =>
      name.includes('libvips')
        ? r === 'package.json' ||
          r === 'versions.json' ||
          r === 'README.md' ||
          isLicense(r) ||
          r === 'lib/index.js' ||
          /^lib\/[^/]+\.(so[.\d]*|dylib)$/.test(r)
        : r === 'package.json' || isLicense(r) || r === 'index.cjs' || /^lib\/.*\.(node|dll)$/.test(r),
    );
  }
  copyUsearch(nm);
}

/**
 * onnxruntime-node's macOS folder holds libonnxruntime.1.dylib and libonnxruntime.1.30.0.dylib, the same bytes twice
 * (npm packs no symlinks); the binding loads `@rpath/libonnxruntime.1.dylib`, so the versioned copy is left out.
 */
function ortDuplicate(ortDir, rel) {
  const m = /^(.*\/libonnxruntime\.\d+)\.\d+\.\d+\.dylib$/.exec(rel);
  if (!m) return false;
  const twin = path.join(ortDir, `${m[1]}.dylib`);
  return existsSync(twin) && statSync(twin).size === statSync(path.join(ortDir, rel)).size;
}

/**
 * usearch (curation's approximate-nearest-neighbour index, Node-API): its CommonJS build, the target's prebuild and
 * its loader's dependencies. Without a prebuild for the target (none for win32-arm64) nothing is copied and curation
 * searches exactly (packages/core/src/curation/ann.ts). macOS's prebuild is universal: its arm64 slice is shipped.
 */
function copyUsearch(nm) {
  const dir = pkgDir('usearch', coreDir);
  const pre = targetInfo.usearch && `prebuilds/${targetInfo.usearch}/`;
  if (!pre || !existsSync(path.join(dir, pre))) {
    console.warn(`esbuild.mjs: usearch has no prebuild for ${target}: curation will search exactly (slow beyond ~20k images).`);
    return;
  }
  copyTree(
    dir,
    path.join(nm, 'usearch'),
    (r) => r === 'package.json' || isLicense(r) || /^javascript\/dist\/cjs\/(usearch\.js|package\.json)$/.test(r) || r.startsWith(pre),
  );
  if (targetInfo.usearchSlice) {
    const f = path.join(nm, 'usearch', pre, 'usearch.node');
    writeFileSync(f, thinMachO(readFileSync(f), targetInfo.usearchSlice));
  }
  for (const [dep, from] of [
    ['node-gyp-build', dir],
    ['bindings', dir],
    ['file-uri-to-path', pkgDir('bindings', dir)],
  ]) {
    copyTree(pkgDir(dep, from), path.join(nm, dep), (r) => r === 'package.json' || isLicense(r) || /^[^/]+\.js$/.test(r));
  }
}

function dirSize(d) {
  let n = 0;
  for (const ent of readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, ent.name);
    n += ent.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return n;
}

if (watch) {
  const ctxs = await Promise.all(builds.map((b) => esbuild.context(b)));
  copyRuntime();
  await Promise.all(ctxs.map((c) => c.watch()));
  console.log('esbuild.mjs: watching…');
} else {
  try {
    await Promise.all(builds.map((b) => esbuild.build(b)));
  } catch (e) {
    fail(`bundling failed (see the errors above). ${e instanceof Error ? e.message.split('\n')[0] : ''}`);
  }
  copyRuntime();
  const ext = statSync(path.join(dist, 'extension.js')).size + statSync(path.join(dist, 'client.js')).size;
  const mb = (n) => `${(n / 1e6).toFixed(2)} MB`;
  console.log(
    `esbuild.mjs: ${target}${production ? ' (production)' : ''}: dist/extension.js ${(statSync(path.join(dist, 'extension.js')).size / 1024).toFixed(0)} KiB + client.js ${(statSync(path.join(dist, 'client.js')).size / 1024).toFixed(0)} KiB, dist/server/*.js ${mb(
      statSync(path.join(dist, 'server', 'server.js')).size +
        statSync(path.join(dist, 'server', 'inference-worker.js')).size +
        statSync(path.join(dist, 'server', 'preprocess-worker.js')).size,
    )}, native runtime ${mb(dirSize(path.join(dist, 'server', 'node_modules')))}`,
  );
  if (production && ext > 1024 * 1024) fail(`dist/extension.js + client.js are ${mb(ext)}: over the 1 MB budget.`);
}
