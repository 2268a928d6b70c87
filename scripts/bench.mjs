#!/usr/bin/env node
/**
 * `npm run bench`: speed figures measured side by side in one run (the machines are noisy, so compare ratios).
 *
 * Core + CLI (issue 2), on the seed-0 ResNet50 from ../shared and a folder of ImageNet-sized JPEG photos:
 *   - raw `session.run` images/s on ready tensors, batch 1 and 8
 *   - the CLI's end-to-end images/s (exact and fast), batch 1 and 8
 *   - exact-mode resize time per image: ours (fixed-point, crop-window only) vs the naive float port
 * Server (issue 3): scripts/bench-server.mjs, when present.
 *
 * Writes bench-out/results.json and the figures section of BENCHMARKS.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const core = require(path.join(ROOT, 'packages/core/dist/index.js'));
const sharp = require(path.join(ROOT, 'node_modules/sharp'));

const SHARED = process.env.IMAGE_CLASSIFIER_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');
const RESNET = path.join(SHARED, 'models', 'resnet50-torchvision-seed0.onnx');
if (!existsSync(RESNET)) {
  console.error(`!!! ${RESNET} not found: the benchmarks need ../shared (set IMAGE_CLASSIFIER_SHARED_DIR). Nothing measured.`);
  process.exit(0);
}
const QUICK = process.argv.includes('--quick');
const log = (...a) => console.error(...a);
const OUT = path.join(ROOT, 'bench-out');
mkdirSync(OUT, { recursive: true });

/** ImageNet-sized JPEGs (500×375, quality 90) made from the shared photos by crops, flips and scales. */
export async function makeJpegFolder(dir, count) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const photos = readdirSync(path.join(SHARED, 'images')).filter((f) => f.startsWith('skimage_'));
  for (let i = 0; i < count; i++) {
    const src = path.join(SHARED, 'images', photos[i % photos.length]);
    const m = await sharp(src).metadata();
    const scale = 0.75 + ((i * 7) % 10) / 40;
    const cw = Math.max(64, Math.floor(m.width * scale));
    const ch = Math.max(64, Math.floor(m.height * scale));
    const left = (i * 13) % Math.max(1, m.width - cw + 1);
    const top = (i * 29) % Math.max(1, m.height - ch + 1);
    let p = sharp(src).extract({ left, top, width: cw, height: ch });
    if (i % 2) p = p.flop();
    await p.resize(500, 375, { fit: 'fill' }).jpeg({ quality: 90 }).toFile(path.join(dir, `img${String(i).padStart(4, '0')}.jpg`));
  }
  return dir;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function benchRawSession(images) {
  const session = await core.ModelSession.load(RESNET, { graphOptimizationLevel: 'all' });
  const per = 3 * 224 * 224;
  const tensors = [];
  for (const f of images.slice(0, 8)) {
    tensors.push((await core.preprocessImage(readFileSync(f), f, { mode: 'exact' })).tensor);
  }
  const result = {};
  for (const batch of [1, 8]) {
    const input = new Float32Array(per * batch);
    for (let i = 0; i < batch; i++) input.set(tensors[i % tensors.length], i * per);
    for (let w = 0; w < 2; w++) await session.run(input, batch);
    const reps = QUICK ? 3 : batch === 1 ? 25 : 6;
    const times = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await session.run(input, batch);
      times.push(performance.now() - t0);
    }
    const ms = median(times);
    result[`b${batch}`] = { msPerBatch: ms, imagesPerSec: (batch * 1000) / ms };
    log(`raw session.run batch ${batch}: ${(ms / batch).toFixed(1)} ms/image, ${((batch * 1000) / ms).toFixed(1)} img/s`);
  }
  result.loadMs = session.info.loadMs;
  await session.release();
  return result;
}

function runCli(args, env) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [path.join(ROOT, 'packages/server/bin/image-classifier.js'), ...args], {
    env: { ...process.env, ...env },
    maxBuffer: 256 << 20,
    encoding: 'utf8',
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`CLI failed (${r.status}): ${r.stderr}`);
  return ms;
}

/** Marginal throughput: (N2 − N1) / (T(N2) − T(N1)) cancels start-up and model load. */
async function benchCli(smallDir, bigDir, nSmall, nBig, cacheDir) {
  const out = {};
  const env = { IMAGE_CLASSIFIER_CACHE_DIR: cacheDir };
  // Warm the optimized-model cache and the page cache.
  runCli(['classify', '--model', RESNET, '--format', 'jsonl', smallDir], env);
  for (const mode of ['exact', 'fast']) {
    for (const batch of [1, 8]) {
      const args = ['classify', '--model', RESNET, '--format', 'jsonl', '--preprocess', mode, '--batch', String(batch)];
      const ts = [];
      const tb = [];
      for (let r = 0; r < (QUICK ? 1 : 2); r++) {
        ts.push(runCli([...args, smallDir], env));
        tb.push(runCli([...args, bigDir], env));
      }
      const tSmall = Math.min(...ts);
      const tBig = Math.min(...tb);
      const ips = ((nBig - nSmall) * 1000) / (tBig - tSmall);
      out[`${mode}_b${batch}`] = { imagesPerSec: ips, wallMsBig: tBig, wallMsSmall: tSmall };
      log(`CLI ${mode} batch ${batch}: ${ips.toFixed(1)} img/s (wall ${nBig} images ${(tBig / 1000).toFixed(2)} s, ${nSmall} images ${(tSmall / 1000).toFixed(2)} s)`);
    }
  }
  return out;
}

/** The naive approach: a direct float port of Pillow's filter (no fixed point), full resize, then crop. */
function naiveResizeCrop(img, outW, outH, left, top, cw, ch) {
  const filter = (x) => {
    x = Math.abs(x);
    return x < 1 ? 1 - x : 0;
  };
  const pass = (src, sw, sh, dw, horizontal) => {
    const inSize = horizontal ? sw : sh;
    const outSize = dw;
    const scale = inSize / outSize;
    const fs = Math.max(scale, 1);
    const support = fs;
    const w = horizontal ? outSize : sw;
    const h = horizontal ? sh : outSize;
    const dst = new Uint8Array(w * h * 3);
    for (let o = 0; o < outSize; o++) {
      const center = (o + 0.5) * scale;
      const xmin = Math.max(0, Math.trunc(center - support + 0.5));
      const xmax = Math.min(inSize, Math.trunc(center + support + 0.5));
      const ws = [];
      let sum = 0;
      for (let x = xmin; x < xmax; x++) {
        const v = filter((x - center + 0.5) / fs);
        ws.push(v);
        sum += v;
      }
      const lines = horizontal ? sh : sw;
      for (let l = 0; l < lines; l++) {
        for (let c = 0; c < 3; c++) {
          let acc = 0;
          for (let k = 0; k < ws.length; k++) {
            const x = xmin + k;
            acc += src[(horizontal ? l * sw + x : x * sw + l) * 3 + c] * (ws[k] / sum);
          }
          const v = Math.min(255, Math.max(0, Math.round(acc)));
          dst[(horizontal ? l * w + o : o * w + l) * 3 + c] = v;
        }
      }
    }
    return dst;
  };
  const hpass = pass(img.data, img.width, img.height, outW, true);
  const vpass = pass(hpass, outW, img.height, outH, false);
  const out = new Uint8Array(cw * ch * 3);
  for (let y = 0; y < ch; y++) out.set(vpass.subarray(((y + top) * outW + left) * 3, ((y + top) * outW + left + cw) * 3), y * cw * 3);
  return out;
}

async function benchResize(images) {
  const decoded = [];
  for (const f of images.slice(0, 16)) decoded.push(await core.decodeImage(readFileSync(f), f));
  const big = await core.decodeImage(await sharp(path.join(SHARED, 'images', 'skimage_astronaut.png')).resize(4000, 3000).jpeg().toBuffer(), '4000x3000');
  const cfg = core.IMAGENET_PREPROCESS;
  const measure = (imgs, fn, reps) => {
    fn(imgs[0]);
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) for (const im of imgs) fn(im);
    return (performance.now() - t0) / (reps * imgs.length);
  };
  const ours = (im) => core.resizeAndCropExact(im, cfg);
  const naive = (im) => {
    const [w, h] = core.resizedSize(im.width, im.height, 256);
    const { left, top } = core.centerCropBox(w, h, 224, 224);
    return naiveResizeCrop(im, w, h, left, top, 224, 224);
  };
  const res = {
    imagenetSized: { oursMs: measure(decoded, ours, QUICK ? 2 : 10), naiveMs: measure(decoded, naive, QUICK ? 1 : 2) },
    large4000x3000: { oursMs: measure([big], ours, QUICK ? 2 : 5), naiveMs: measure([big], naive, 1) },
  };
  for (const [k, v] of Object.entries(res)) log(`exact resize+crop ${k}: ours ${v.oursMs.toFixed(2)} ms, naive ${v.naiveMs.toFixed(2)} ms (${(v.naiveMs / v.oursMs).toFixed(1)}× faster)`);
  // Both must agree with Pillow: check ours against the naive float port on one image (±1 level).
  const a = ours(decoded[0]).data;
  const b = naive(decoded[0]);
  let maxLevels = 0;
  for (let i = 0; i < a.length; i++) maxLevels = Math.max(maxLevels, Math.abs(a[i] - b[i]));
  res.naiveVsOursMaxLevels = maxLevels;
  return res;
}

function fmt(n, d = 1) {
  return Number.isFinite(n) ? n.toFixed(d) : 'n/a';
}

function markdown(r) {
  const raw = r.raw;
  const cli = r.cli;
  const lines = [];
  lines.push(`Measured ${r.date} on ${r.machine} (Node ${process.versions.node}, onnxruntime-node ${r.ortVersion}), seed-0 ResNet50, graph optimization \`all\`, ${r.threads} intra-op threads; ${r.folder.count} JPEG photos of ${r.folder.size}.`);
  lines.push('');
  lines.push('### Core and CLI');
  lines.push('');
  lines.push('| path | batch 1 img/s | batch 8 img/s | batch 8 vs raw |');
  lines.push('| --- | --- | --- | --- |');
  lines.push(`| raw \`session.run\` on ready tensors | ${fmt(raw.b1.imagesPerSec)} | ${fmt(raw.b8.imagesPerSec)} | 1.00 |`);
  for (const mode of ['exact', 'fast']) {
    const b1 = cli[`${mode}_b1`].imagesPerSec;
    const b8 = cli[`${mode}_b8`].imagesPerSec;
    lines.push(`| CLI end to end, \`${mode}\` (decode, preprocess, infer, JSON out) | ${fmt(b1)} (${fmt(b1 / raw.b1.imagesPerSec, 2)}× raw) | ${fmt(b8)} | ${fmt(b8 / raw.b8.imagesPerSec, 2)} |`);
  }
  lines.push('');
  lines.push('CLI figures are marginal throughput, (N₂ − N₁) / (T(N₂) − T(N₁)) over two folder sizes, so process start and model load cancel out.');
  lines.push('');
  lines.push('| exact-mode resize + center crop, per image | ours (fixed-point, crop window only) | naive float port (full resize, then crop) | speed-up |');
  lines.push('| --- | --- | --- | --- |');
  for (const [k, label] of [['imagenetSized', '500×375 JPEG photos'], ['large4000x3000', '4000×3000 image']]) {
    const v = r.resize[k];
    lines.push(`| ${label} | ${fmt(v.oursMs, 2)} ms | ${fmt(v.naiveMs, 2)} ms | ${fmt(v.naiveMs / v.oursMs)}× |`);
  }
  if (r.server) {
    lines.push('');
    lines.push('### Server');
    lines.push('');
    lines.push('```json');
    lines.push(JSON.stringify(r.server, null, 2));
    lines.push('```');
  }
  return lines.join('\n');
}

async function main() {
  const started = Date.now();
  const work = path.join(tmpdir(), 'image-classifier-bench');
  const nSmall = QUICK ? 4 : 8;
  const nBig = QUICK ? 24 : 72;
  const bigDir = await makeJpegFolder(path.join(work, 'big'), nBig);
  const smallDir = path.join(work, 'small');
  rmSync(smallDir, { recursive: true, force: true });
  mkdirSync(smallDir, { recursive: true });
  const bigFiles = readdirSync(bigDir).sort().map((f) => path.join(bigDir, f));
  for (const f of bigFiles.slice(0, nSmall)) writeFileSync(path.join(smallDir, path.basename(f)), readFileSync(f));
  const cacheDir = path.join(work, 'cache');

  const result = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
    threads: core.defaultThreads(),
    ortVersion: core.ort().env.versions?.node,
    folder: { count: nBig, size: '500×375' },
  };
  log('— raw session.run');
  result.raw = await benchRawSession(bigFiles);
  log('— CLI end to end');
  result.cli = await benchCli(smallDir, bigDir, nSmall, nBig, cacheDir);
  log('— exact resize vs naive');
  result.resize = await benchResize(bigFiles);
  const serverBench = path.join(ROOT, 'scripts', 'bench-server.mjs');
  if (existsSync(serverBench) && !process.argv.includes('--no-server')) {
    log('— server');
    const { benchServer } = await import(pathToFileURL(serverBench).href);
    result.server = await benchServer({ sharedDir: SHARED, images: bigFiles, log, quick: QUICK });
  }
  result.totalSeconds = (Date.now() - started) / 1000;
  writeFileSync(path.join(OUT, 'results.json'), JSON.stringify(result, null, 2));
  const md = markdown(result);
  const bm = path.join(ROOT, 'BENCHMARKS.md');
  if (existsSync(bm) && !QUICK) {
    const text = readFileSync(bm, 'utf8');
    const start = '<!-- bench:start -->';
    const end = '<!-- bench:end -->';
    if (text.includes(start) && text.includes(end)) {
      writeFileSync(bm, text.slice(0, text.indexOf(start) + start.length) + '\n' + md + '\n' + text.slice(text.indexOf(end)));
      log(`BENCHMARKS.md updated`);
    }
  }
  console.log(md);
}

await main();
