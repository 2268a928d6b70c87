#!/usr/bin/env node
/**
 * `npm run bench`: speed figures measured side by side in one run (the machines are noisy, so compare ratios).
 *
 * Core + CLI (issue 2), on the seed-0 ResNet50 from ../shared and a folder of ImageNet-sized JPEG photos:
 *   - raw `session.run` images/s on ready tensors, batch 1 and 8
 *   - the CLI's end-to-end images/s (exact and fast), batch 1 and 8
 *   - exact-mode resize time per image: ours (fixed-point, crop-window only) vs the naive float port
 * Server (issue 3): scripts/bench-server.mjs, when present.
 * Against PyTorch (issue 21): scripts/bench-pytorch.mjs, the CLI and the PyTorch pipeline whole process on the same
 *   folders, the CLI's exit after its answer, the first answer, fast vs exact, the server's exact folder vs raw
 *   (`--no-pytorch` leaves it out; `--quick` runs one round).
 * Curation at scale (issue 9): scripts/bench-curation.mjs (synthetic embeddings; `--no-curation` leaves it out).
 * Curation on the dev set: scripts/bench-curation-dev.mjs (cold `curate` end to end with MobileNetV2 and ResNet50,
 *   quality per method beside ../shared/datasets/curation-dev's baselines; `--no-curation-dev` leaves it out).
 * Remote inference (issue 23): scripts/bench-remote.mjs (a real Triton on this machine: client CPU per image, loopback
 *   throughput, in-flight depth; `--no-remote` leaves it out).
 *
 * Writes bench-out/results.json and the figures section of BENCHMARKS.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { makeJpegFolder } from './bench-images.mjs';
import { markdown as curationMarkdown } from './bench-curation.mjs';
import { markdown as curationDevMarkdown } from './bench-curation-dev.mjs';
import { markdown as pytorchMarkdown } from './bench-pytorch.mjs';
import { markdown as remoteMarkdown } from './bench-remote.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

// Measure under the same process conditions as the product (the extension and the CLI start the engine with glibc's
// malloc tuned, packages/protocol/src/launch.ts): raw session.run, the CLI and the server alike.
{
  const launch = require(path.join(ROOT, 'packages/protocol/dist/launch.js'));
  if (launch.mallocTuningMissing()) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: launch.engineProcessEnv(process.env),
    });
    process.exit(r.status ?? 1);
  }
}
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

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function benchRawSession(images) {
  const session = await core.ModelSession.load(RESNET, { graphOptimizationLevel: 'all' });
  const per = 3 * 224 * 224;
  const tensors = [];
  for (const f of images.slice(0, 8)) {
    tensors.push((await core.preprocessImage(readFileSync(f), f, { preprocessing: 'exact' })).tensor);
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
      log(
        `CLI ${mode} batch ${batch}: ${ips.toFixed(1)} img/s (wall ${nBig} images ${(tBig / 1000).toFixed(2)} s, ${nSmall} images ${(tSmall / 1000).toFixed(2)} s)`,
      );
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
  const big = await core.decodeImage(
    await sharp(path.join(SHARED, 'images', 'skimage_astronaut.png'))
      .resize(4000, 3000)
      .jpeg()
      .toBuffer(),
    '4000x3000',
  );
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
  for (const [k, v] of Object.entries(res))
    log(
      `exact resize+crop ${k}: ours ${v.oursMs.toFixed(2)} ms, naive ${v.naiveMs.toFixed(2)} ms (${(v.naiveMs / v.oursMs).toFixed(1)}× faster)`,
    );
  // Both must agree with Pillow: check ours against the naive float port on one image (±1 level).
  const a = ours(decoded[0]).data;
  const b = naive(decoded[0]);
  let maxLevels = 0;
  for (let i = 0; i < a.length; i++) maxLevels = Math.max(maxLevels, Math.abs(a[i] - b[i]));
  res.naiveVsOursMaxLevels = maxLevels;
  return res;
}

/**
 * The engine in this process on the same folder, alternating configurations so noise hits them alike:
 * ready tensors through its batching (no decoding), decode and inference taking turns, decode overlapping inference.
 */
async function benchEngine(files) {
  const c = await core.Classifier.create({
    modelPath: RESNET,
    preprocessing: 'fast',
    maxBatch: 8,
    session: { optimizedModelCacheDir: path.join(OUT, 'opt') },
  });
  const phased = await core.Classifier.create({
    modelPath: RESNET,
    preprocessing: 'fast',
    maxBatch: 8,
    overlapDecode: false,
    session: { optimizedModelCacheDir: path.join(OUT, 'opt') },
  });
  // Raw: ONNX Runtime's defaults (spinning threads), as everywhere in these benchmarks.
  const session = await core.ModelSession.load(RESNET, { optimizedModelCacheDir: path.join(OUT, 'opt') });
  try {
    const tensor = (await core.preprocessImage(readFileSync(files[0]), files[0], { preprocessing: 'fast' })).tensor;
    const tensors = files.map(() => tensor.slice());
    const per = tensor.length;
    const raw8 = new Float32Array(per * 8);
    for (let i = 0; i < 8; i++) raw8.set(tensor, i * per);
    const runs = {
      raw: async () => {
        for (let b = 0; b < files.length / 8; b++) await session.run(raw8, 8);
      },
      readyTensors: () => Promise.all(tensors.map((t) => c.infer(t))),
      phased: () => Promise.all(files.map((f) => phased.classifyFile(f))),
      overlapped: () => Promise.all(files.map((f) => c.classifyFile(f))),
    };
    const ips = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
    for (const k in runs) await runs[k]();
    for (let r = 0; r < (QUICK ? 1 : 4); r++) {
      for (const k in runs) {
        const t0 = performance.now();
        await runs[k]();
        ips[k].push((files.length * 1000) / (performance.now() - t0));
        await new Promise((r) => setTimeout(r, 30)); // spinning ORT threads stop before the next configuration
      }
    }
    const out = {};
    for (const k in ips) out[k] = { imagesPerSec: median(ips[k]), ratioToRaw: median(ips[k]) / median(ips.raw) };
    for (const k in out) log(`engine ${k}: ${out[k].imagesPerSec.toFixed(1)} img/s (${out[k].ratioToRaw.toFixed(2)} × raw)`);
    return out;
  } finally {
    await c.close();
    await phased.close();
    await session.release();
  }
}

/** A cold session start (optimized model cached) in a fresh process, with glibc's malloc as is and as tuned. */
function benchColdLoad() {
  const launch = require(path.join(ROOT, 'packages/protocol/dist/launch.js'));
  const script = `const core = require(${JSON.stringify(path.join(ROOT, 'packages/core/dist/index.js'))});
    (async () => { const t = performance.now();
      const b = await core.loadBackend(${JSON.stringify(RESNET)}, { allowSpinning: false, optimizedModelCacheDir: ${JSON.stringify(path.join(OUT, 'opt'))} }, {});
      const load = performance.now() - t; const x = new Float32Array(150528); const t1 = performance.now(); await b.run(x, 1);
      console.log(JSON.stringify({ load, firstRun: performance.now() - t1, rssMb: process.memoryUsage().rss / 1e6 })); await b.release(); })();`;
  const base = { ...process.env };
  delete base.GLIBC_TUNABLES;
  delete base.IMAGE_CLASSIFIER_MALLOC_TUNING;
  const envs = { default: { ...base, ORT_DISABLE_TELEMETRY: '1' }, tuned: launch.engineProcessEnv(base, 'linux') };
  const res = { default: [], tuned: [] };
  for (let r = 0; r < (QUICK ? 1 : 3); r++) {
    for (const k of ['default', 'tuned']) {
      const o = execFileSync(process.execPath, ['-e', script], { env: envs[k], encoding: 'utf8' });
      res[k].push(JSON.parse(o.trim().split('\n').pop()));
    }
  }
  const out = {};
  for (const k in res) {
    out[k] = {
      loadMs: median(res[k].map((x) => x.load)),
      firstRunMs: median(res[k].map((x) => x.firstRun)),
      rssMb: median(res[k].map((x) => x.rssMb)),
    };
    log(
      `cold session load (${k} malloc): ${out[k].loadMs.toFixed(0)} ms, first run ${out[k].firstRunMs.toFixed(0)} ms, RSS ${out[k].rssMb.toFixed(0)} MB`,
    );
  }
  out.tunables = launch.MALLOC_TUNABLES;
  return out;
}

function extensionFigures() {
  // The shipped (production, minified) bundles: build them as `npm run package` does.
  try {
    execFileSync(process.execPath, ['esbuild.mjs', '--production', '--target=linux-x64'], {
      cwd: path.join(ROOT, 'packages', 'extension'),
      stdio: 'pipe',
    });
  } catch (e) {
    log(`extension production build failed: ${e.message}`);
  }
  const f = path.join(OUT, 'extension.json');
  const dist = path.join(ROOT, 'packages', 'extension', 'dist');
  const size = (p) => (existsSync(p) ? statSync(p).size : null);
  const rec = existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : {};
  return {
    ...rec,
    extensionJsBytes: size(path.join(dist, 'extension.js')) ?? rec.extensionJsBytes,
    clientJsBytes: size(path.join(dist, 'client.js')) ?? rec.clientJsBytes,
    serverJsBytes: size(path.join(dist, 'server', 'server.js')) ?? rec.serverJsBytes,
  };
}

function fmt(n, d = 1) {
  return Number.isFinite(n) ? n.toFixed(d) : 'n/a';
}

function markdown(r) {
  const raw = r.raw;
  const cli = r.cli;
  const lines = [];
  lines.push(
    `Measured ${r.date} on ${r.machine} (Node ${process.versions.node}, onnxruntime-node ${r.ortVersion}), seed-0 ResNet50, graph optimization \`all\`, ${r.threads} intra-op threads; ${r.folder.count} JPEG photos of ${r.folder.size}.`,
  );
  lines.push('');
  lines.push('### Core and CLI');
  lines.push('');
  lines.push('| path | batch 1 img/s | batch 8 img/s | batch 8 vs raw |');
  lines.push('| --- | --- | --- | --- |');
  lines.push(`| raw \`session.run\` on ready tensors | ${fmt(raw.b1.imagesPerSec)} | ${fmt(raw.b8.imagesPerSec)} | 1.00 |`);
  for (const mode of ['exact', 'fast']) {
    const b1 = cli[`${mode}_b1`].imagesPerSec;
    const b8 = cli[`${mode}_b8`].imagesPerSec;
    lines.push(
      `| CLI end to end, \`${mode}\` (decode, preprocess, infer, JSON out) | ${fmt(b1)} (${fmt(b1 / raw.b1.imagesPerSec, 2)}× raw) | ${fmt(b8)} | ${fmt(b8 / raw.b8.imagesPerSec, 2)} |`,
    );
  }
  lines.push('');
  lines.push(
    'CLI figures are marginal throughput, (N₂ − N₁) / (T(N₂) − T(N₁)) over two folder sizes, so process start and model load cancel out.',
  );
  lines.push('');
  lines.push(
    '| exact-mode resize + center crop, per image | ours (fixed-point, crop window only) | naive float port (full resize, then crop) | speed-up |',
  );
  lines.push('| --- | --- | --- | --- |');
  for (const [k, label] of [
    ['imagenetSized', '500×375 JPEG photos'],
    ['large4000x3000', '4000×3000 image'],
  ]) {
    const v = r.resize[k];
    lines.push(`| ${label} | ${fmt(v.oursMs, 2)} ms | ${fmt(v.naiveMs, 2)} ms | ${fmt(v.naiveMs / v.oursMs)}× |`);
  }
  if (r.decoders) {
    const d = r.decoders;
    lines.push('');
    lines.push(
      `Decoding only (\`decodeImage\`: header checks, pixels to 8-bit RGB), median ms per image over ${d.images} photos × ${d.reps} runs, each photo re-encoded in the format; sharp's JPEG decode of the same pixels beside it:`,
    );
    lines.push('');
    lines.push('| format | ms / image | vs sharp JPEG, same pixels |');
    lines.push('| --- | --- | --- |');
    lines.push(`| JPEG (sharp), 500×375 | ${fmt(d.jpegMs, 2)} | 1.00 |`);
    for (const [k, ms] of Object.entries(d.formats)) {
      const ico = k.startsWith('ICO');
      const base = ico ? d.jpegSmallMs : d.jpegMs;
      lines.push(
        `| ${k}${ico ? '' : ', 500×375'} | ${fmt(ms, 2)} | ${fmt(ms / base, 2)}${ico ? ` (JPEG 256×256: ${fmt(base, 2)} ms)` : ''} |`,
      );
    }
  }
  if (r.engine) {
    const e = r.engine;
    lines.push('');
    lines.push('### Engine: does decoding overlap inference?');
    lines.push('');
    lines.push(
      `The \`Classifier\` in one process on the same ${r.folder.count} photos (\`fast\`, batch 8), configurations alternated ${QUICK ? 1 : 4} times, medians:`,
    );
    lines.push('');
    lines.push('| configuration | img/s | vs raw `session.run` b8 |');
    lines.push('| --- | --- | --- |');
    lines.push(`| raw \`session.run\`, batch 8, ready tensors | ${fmt(e.raw.imagesPerSec)} | 1.00 |`);
    lines.push(
      `| engine, ready tensors (batching + worker thread, no decoding) | ${fmt(e.readyTensors.imagesPerSec)} | ${fmt(e.readyTensors.ratioToRaw, 2)} |`,
    );
    lines.push(`| engine, decoding and inference take turns | ${fmt(e.phased.imagesPerSec)} | ${fmt(e.phased.ratioToRaw, 2)} |`);
    lines.push(
      `| engine, decoding overlaps inference (default) | ${fmt(e.overlapped.imagesPerSec)} | ${fmt(e.overlapped.ratioToRaw, 2)} |`,
    );
  }
  if (r.coldLoad) {
    const c = r.coldLoad;
    lines.push('');
    lines.push('### Cold start of a session (optimized model cached), fresh process');
    lines.push('');
    lines.push('| glibc malloc | session ready | first batch-1 run | RSS |');
    lines.push('| --- | --- | --- | --- |');
    lines.push(`| as is | ${fmt(c.default.loadMs, 0)} ms | ${fmt(c.default.firstRunMs, 0)} ms | ${fmt(c.default.rssMb, 0)} MB |`);
    lines.push(
      `| tuned (\`GLIBC_TUNABLES=${c.tunables}\`, set by the extension and the CLI) | ${fmt(c.tuned.loadMs, 0)} ms | ${fmt(c.tuned.firstRunMs, 0)} ms | ${fmt(c.tuned.rssMb, 0)} MB |`,
    );
  }
  if (r.server && !r.server.skipped) {
    const v = r.server;
    const t = v.targets;
    const ok = (b) => (b ? '✅' : '❌');
    lines.push('');
    lines.push('### Inference server (JSON-RPC over stdio, started as the extension starts it)');
    lines.push('');
    lines.push(
      `${v.images} JPEG photos (500×375), batch ${v.batch}, \`fast\` unless said otherwise; raw figures measured in the bench process beside the server.`,
    );
    lines.push('');
    lines.push('| measure | server | raw, side by side | target |');
    lines.push('| --- | --- | --- | --- |');
    lines.push(
      `| cached result round trip, idle (n=${v.cachedIdle.n}) | p50 ${fmt(v.cachedIdle.p50Ms, 2)} ms, p99 ${fmt(v.cachedIdle.p99Ms, 2)} ms | | p99 ≤ 5 ms ${ok(t.cachedP99Le5ms)} |`,
    );
    lines.push(
      `| cached result round trip while a folder runs (n=${v.cachedDuringFolder.n}) | p50 ${fmt(v.cachedDuringFolder.p50Ms, 2)} ms, p99 ${fmt(v.cachedDuringFolder.p99Ms, 2)} ms, max ${fmt(v.cachedDuringFolder.maxMs, 1)} ms | | p99 ≤ 5 ms ${ok(t.cachedDuringFolderP99Le5ms)} |`,
    );
    if (v.cachedDuringFlood) {
      const f = v.cachedDuringFlood;
      lines.push(
        `| cached result round trip while ${f.concurrent} concurrent uncached classify requests wait (n=${f.n}) | p50 ${fmt(f.p50Ms, 2)} ms, p99 ${fmt(f.p99Ms, 2)} ms, max ${fmt(f.maxMs, 0)} ms | | p99 ≤ 20 ms ${ok(t.cachedDuringFloodP99Le20ms)} |`,
      );
    }
    lines.push(
      `| … while an \`exact\` folder runs (n=${v.cachedDuringExactFolder.n}) | p50 ${fmt(v.cachedDuringExactFolder.p50Ms, 2)} ms, p99 ${fmt(v.cachedDuringExactFolder.p99Ms, 2)} ms | | |`,
    );
    lines.push(
      `| one uncached image (median) | ${fmt(v.singleUncached.medianMs)} ms | decode + \`session.run\` b1: ${fmt(v.singleUncached.rawDecodePlusRunB1Ms)} ms | (${fmt(v.singleUncached.ratio, 2)}×) |`,
    );
    lines.push(
      `| folder throughput, \`fast\` | ${fmt(v.folderFast.imagesPerSec)} img/s | \`session.run\` b${v.batch}: ${fmt(v.folderFast.rawSessionRunImagesPerSec)} img/s | ≥ 0.85× ${ok(t.folderFastGe085xRaw)} (${fmt(v.folderFast.ratioToRawRun, 2)}×) |`,
    );
    if (v.folderFastWithEmbeddings)
      lines.push(
        `| folder throughput, \`fast\`, returning and caching each embedding | ${fmt(v.folderFastWithEmbeddings.imagesPerSec)} img/s | | (${fmt(v.folderFastWithEmbeddings.ratioToWithout, 2)}× without) |`,
      );
    lines.push(
      `| folder throughput, \`exact\` (with hover probes) | ${fmt(v.folderExact.imagesPerSec)} img/s | | (${fmt(v.folderExact.ratioToRawRun, 2)}×) |`,
    );
    lines.push(
      `| process start → first answer, cached result | ${fmt(v.startToFirstAnswer.cachedResultMs, 0)} ms | | ≤ 1000 ms ${ok(t.firstAnswerLe1s)} |`,
    );
    lines.push(
      `| process start → first answer, uncached image | ${fmt(v.startToFirstAnswer.uncachedMs, 0)} ms (model ready at ${fmt(v.startToFirstAnswer.modelReadyMs, 0)} ms) | | ≤ 1000 ms ${ok(v.startToFirstAnswer.uncachedMs <= 1000)} |`,
    );
    lines.push(`| model reload on a configuration change | ${fmt(v.reloadMs, 0)} ms | | |`);
    lines.push(`| peak RSS | ${fmt(v.peakRssMb, 0)} MB | | |`);
    lines.push(
      `| RSS over a ${v.longRun.uris}-image run (${v.longRun.classified ?? v.longRun.uris - v.longRun.cached} classified, ${v.longRun.cached} from the cache) | ${fmt(v.longRun.rssStartMb, 0)} MB at the start, ${fmt(v.longRun.rssAfterFirstTenthMb, 0)} MB after the first tenth, max ${fmt(v.longRun.rssMaxMb, 0)}, end ${fmt(v.longRun.rssEndMb, 0)} MB (${fmt(v.longRun.seconds, 0)} s) | | flat ${ok(t.rssFlat)} |`,
    );
  }
  if (r.server?.cacheAtScale) {
    const c = r.server.cacheAtScale;
    lines.push('');
    lines.push(`### Result cache at dataset scale (${c.entries.toLocaleString('en-US')} images, reopened as a restarted server does)`);
    lines.push('');
    lines.push('| log | size on disk | open (read + verify + index) | index on the heap | lookup p50 / p99 |');
    lines.push('| --- | --- | --- | --- | --- |');
    lines.push(
      `| results (top-10 each) + file index, read at start | ${fmt(c.results.fileMb)} MB | ${fmt(c.results.openMs, 0)} ms | ${fmt(c.results.indexHeapMb)} MB | ${fmt(c.results.get.p50Us)} / ${fmt(c.results.get.p99Us)} µs |`,
    );
    lines.push(
      `| embeddings (${c.embeddings.dims}-d float16), read on first use | ${fmt(c.embeddings.fileMb)} MB | ${fmt(c.embeddings.openMs, 0)} ms | ${fmt(c.embeddings.indexHeapMb)} MB | ${fmt(c.embeddings.get.p50Us)} / ${fmt(c.embeddings.get.p99Us)} µs |`,
    );
  }
  if (r.extension && (r.extension.extensionJsBytes || r.extension.activateMs)) {
    const x = r.extension;
    const kib = (b) => (b ? `${(b / 1024).toFixed(0)} KiB` : 'n/a');
    lines.push('');
    lines.push('### Extension');
    lines.push('');
    lines.push('| measure | value | budget |');
    lines.push('| --- | --- | --- |');
    lines.push(
      `| own bundle: \`dist/extension.js\` + \`dist/client.js\` (vscode-languageclient, loaded on first need) | ${kib(x.extensionJsBytes)} + ${kib(x.clientJsBytes)} | ≤ 1 MB |`,
    );
    lines.push(`| server bundle \`dist/server/server.js\` (plus onnxruntime-node and sharp native files) | ${kib(x.serverJsBytes)} | |`);
    if (x.vsixBytes) lines.push(`| linux-x64 VSIX | ${(x.vsixBytes / 1e6).toFixed(1)} MB | ≤ 70 MB |`);
    if (x.activateMs) {
      lines.push(`| activation: \`activate()\` | ${fmt(x.activateMs, 1)} ms | |`);
      lines.push(
        `| activation: loading the bundle + \`activate()\`, main-thread CPU (wall clock ${fmt(x.loadAndActivateWallMs, 1)} ms) | ${fmt(x.loadAndActivateCpuMs, 1)} ms | ≤ 50 ms |`,
      );
      lines.push('');
      lines.push(`Activation measured by the in-host end-to-end test (${x.date}, ${x.host}); \`npm test\` refreshes it.`);
    }
  }
  if (r.pytorch && !r.pytorch.skipped) lines.push('', pytorchMarkdown(r.pytorch));
  if (r.curation) lines.push('', curationMarkdown(r.curation));
  if (r.curationDev) lines.push('', curationDevMarkdown(r.curationDev));
  if (r.remote) lines.push('', remoteMarkdown(r.remote));
  return lines.join('\n');
}

/** The engine's own decoders against sharp's JPEG decode of the same pixels (scripts/bench-decoders.ts, via tsx). */
function benchDecoders(files) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'bench-decoders.ts'), ...files], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    log(`decoder bench failed: ${r.stderr}`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

async function main() {
  const started = Date.now();
  const work = path.join(tmpdir(), 'image-classifier-bench');
  const nSmall = QUICK ? 4 : 8;
  const nBig = QUICK ? 24 : 72;
  const bigDir = path.join(work, 'big');
  await makeJpegFolder(SHARED, bigDir, nBig);
  const smallDir = path.join(work, 'small');
  rmSync(smallDir, { recursive: true, force: true });
  mkdirSync(smallDir, { recursive: true });
  const bigFiles = readdirSync(bigDir)
    .sort()
    .map((f) => path.join(bigDir, f));
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
  log('— decoders: BMP, Netpbm, TGA, ICO vs sharp JPEG');
  result.decoders = benchDecoders(bigFiles.slice(0, nSmall));
  log('— engine: ready tensors, phased, overlapped');
  result.engine = await benchEngine(bigFiles);
  if (process.platform === 'linux') {
    log('— cold session load: malloc as is vs tuned');
    result.coldLoad = benchColdLoad();
  }
  result.extension = extensionFigures();
  const serverBench = path.join(ROOT, 'scripts', 'bench-server.mjs');
  if (existsSync(serverBench) && !process.argv.includes('--no-server')) {
    log('— server');
    const { benchServer } = await import(pathToFileURL(serverBench).href);
    result.server = await benchServer({ sharedDir: SHARED, images: bigFiles, log, quick: QUICK });
  }
  if (!process.argv.includes('--no-pytorch')) {
    log('— against the PyTorch pipeline (whole process, same folders)');
    const { benchPytorch } = await import(pathToFileURL(path.join(ROOT, 'scripts', 'bench-pytorch.mjs')).href);
    result.pytorch = await benchPytorch({ sharedDir: SHARED, log, quick: QUICK, server: !process.argv.includes('--no-server') });
  }
  if (!process.argv.includes('--no-curation')) {
    log('— curation at scale (synthetic embeddings)');
    const { benchCuration } = await import(pathToFileURL(path.join(ROOT, 'scripts', 'bench-curation.mjs')).href);
    result.curation = benchCuration({ log, quick: QUICK });
  }
  if (!process.argv.includes('--no-curation-dev')) {
    log('— curation on the dev set (cold curate end to end, quality per method)');
    const { benchCurationDev } = await import(pathToFileURL(path.join(ROOT, 'scripts', 'bench-curation-dev.mjs')).href);
    result.curationDev = await benchCurationDev({ log, sharedDir: SHARED, runs: QUICK ? 1 : 2 });
  }
  if (!process.argv.includes('--no-remote')) {
    log('— remote inference (Triton through PyTriton on this machine, loopback)');
    const { benchRemote } = await import(pathToFileURL(path.join(ROOT, 'scripts', 'bench-remote.mjs')).href);
    result.remote = await benchRemote({ log, sharedDir: SHARED, quick: QUICK });
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
