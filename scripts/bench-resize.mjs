#!/usr/bin/env node
/**
 * CPU per image of the `exact` resize + center crop (resizeAndCropExact) and of the normalization (normalizeInto),
 * the JS code against the WebAssembly SIMD kernels, side by side: each photo is decoded once, then the two run
 * alternately (js, simd, js, simd…) `--reps` times each; per photo the median of each, and over the folder the mean
 * per photo and the ratio of the sums. Both outputs are compared bit for bit on every run. Prints one JSON object
 * per folder. Needs `npm run build`.
 *
 *   node scripts/bench-resize.mjs [--reps=5] [--limit=N] <folder>...
 *
 * The folders of scripts/bench-pytorch.mjs fit: bench-out/pytorch/folders/small-120 (500×375) and large-40
 * (4000×3000; decoded one at a time).
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const core = await import(pathToFileURL(path.join(ROOT, 'packages/core/dist/index.js')).href);
const { decodeImage, resizeAndCropExact, normalizeInto, tensorElements, IMAGENET_PREPROCESS, simdResizeDefault } = core;

const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
};
const REPS = arg('reps', 5);
const LIMIT = arg('limit', Number.POSITIVE_INFINITY);
const folders = process.argv.slice(2).filter((a) => !a.startsWith('--'));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** CPU milliseconds (user + system, this process) that `fn` takes, and its result. */
function cpuMs(fn) {
  const t0 = process.cpuUsage();
  const r = fn();
  const d = process.cpuUsage(t0);
  return { ms: (d.user + d.system) / 1000, r };
}

async function benchFolder(dir) {
  const files = readdirSync(dir)
    .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
    .sort()
    .slice(0, LIMIT);
  const c = IMAGENET_PREPROCESS;
  const tensorJs = new Float32Array(tensorElements(c));
  const tensorSimd = new Float32Array(tensorElements(c));
  const perPhoto = [];
  let size = '';
  for (const f of files) {
    const t0 = process.cpuUsage();
    const img = await decodeImage(readFileSync(path.join(dir, f)), f);
    const d = process.cpuUsage(t0);
    size = `${img.width}×${img.height}`;
    const js = [];
    const simd = [];
    const normJs = [];
    const normSimd = [];
    for (let r = 0; r < REPS; r++) {
      const a = cpuMs(() => resizeAndCropExact(img, c, 'js'));
      const b = cpuMs(() => resizeAndCropExact(img, c, 'simd'));
      if (!Buffer.from(a.r.data).equals(Buffer.from(b.r.data))) throw new Error(`${f}: SIMD and JS crops differ`);
      js.push(a.ms);
      simd.push(b.ms);
      normJs.push(cpuMs(() => normalizeInto(a.r, c, tensorJs, 0, 'js')).ms);
      normSimd.push(cpuMs(() => normalizeInto(b.r, c, tensorSimd, 0, 'simd')).ms);
      if (!Buffer.from(tensorJs.buffer).equals(Buffer.from(tensorSimd.buffer))) throw new Error(`${f}: SIMD and JS tensors differ`);
    }
    perPhoto.push({
      decode: (d.user + d.system) / 1000,
      js: median(js),
      simd: median(simd),
      normJs: median(normJs),
      normSimd: median(normSimd),
    });
  }
  const sum = (k) => perPhoto.reduce((s, p) => s + p[k], 0);
  const n = perPhoto.length;
  const round = (x, k = 3) => Number(x.toFixed(k));
  return {
    folder: path.basename(dir),
    photos: n,
    lastSize: size,
    reps: REPS,
    msPerImage: {
      decode: round(sum('decode') / n),
      resizeJs: round(sum('js') / n),
      resizeSimd: round(sum('simd') / n),
      normalizeJs: round(sum('normJs') / n),
      normalizeSimd: round(sum('normSimd') / n),
    },
    resizeSimdOverJs: round(sum('simd') / sum('js')),
    normalizeSimdOverJs: round(sum('normSimd') / sum('normJs')),
  };
}

console.log(JSON.stringify({ node: process.version, simdDefault: simdResizeDefault(), date: new Date().toISOString() }));
for (const dir of folders) console.log(JSON.stringify(await benchFolder(dir)));
