#!/usr/bin/env node
/**
 * Inference-server figures, side by side in one run, on the seed-0 ResNet50 from ../shared:
 *   - JSON-RPC round trip of a cached result, idle and while a folder runs (p50 / p99)
 *   - one uncached image through the server vs raw decode + `session.run` at batch 1 in this process
 *   - folder throughput through the server (classifyBatch) vs raw `session.run` at the same batch size
 *   - time from process start to the first answer (optimized-model cache warm), uncached and cached
 *   - the server's peak RSS, and its RSS over a long folder run (flat = bounded)
 *   - JSON-RPC round trip of a cached result while 1,000 concurrent uncached classify requests run (p50 / p99)
 *
 * `node scripts/bench-server.mjs [--quick]` alone, `node scripts/bench-server.mjs --flood-only [--model=<onnx>]` for the
 * last figure only, `--svg-bomb-only [--model=<onnx>]` for the cached round trip while SVG bombs decode,
 * `--exact-hover-only [--against=<checkout>]` for the cached round trip during an `exact` folder (two builds side by side), or `benchServer({ sharedDir, images, log })` from scripts/bench.mjs.
 * Needs `npm run build` first.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeJpegFolder } from './bench-images.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const BIN = path.join(ROOT, 'packages/server/bin/image-classifier.js');

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const median = (xs) => pct(xs, 50);
const r1 = (x) => Math.round(x * 10) / 10;
const r2 = (x) => Math.round(x * 100) / 100;

function rssOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? NaN) / 1024, hwm: Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? NaN) / 1024 };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

const uri = (f) => pathToFileURL(f).href;

/** Starts `image-classifier serve --stdio` (this build's, or `bin`) with a JSON-RPC client; `t0` is just before spawn. */
export function startServer(env = {}, bin = BIN) {
  const rpc = require('vscode-jsonrpc/node');
  const t0 = performance.now();
  // Started as the extension starts it: telemetry off, malloc tuned, its V8 flags (packages/protocol/src/launch.ts).
  const launch = require(path.join(ROOT, 'packages/protocol/dist/launch.js'));
  const child = spawn(process.execPath, [...(launch.SERVER_EXEC_ARGV ?? []), bin, 'serve', '--stdio'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...launch.engineProcessEnv(process.env), ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.on('exit', r));
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
  const statuses = [];
  let onReady;
  const ready = new Promise((r, j) => (onReady = { r, j }));
  conn.onNotification('imageClassifier/status', (s) => {
    statuses.push(s);
    if (s.state === 'ready') onReady.r(performance.now() - t0);
    if (s.state === 'error') onReady.j(new Error(s.message));
  });
  const progress = new Map();
  conn.onNotification('$/progress', (p) => progress.get(p.token)?.(p.value));
  conn.listen();
  return {
    t0,
    child,
    conn,
    ready,
    progress,
    stderr: () => stderr,
    /** The LSP `initialize` request with these settings as its initializationOptions. */
    initialize: (initializationOptions) =>
      conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions }),
    /** One `imageClassifier/classify` request for a file path. */
    classify: (f, extra = {}) => conn.sendRequest('imageClassifier/classify', { uri: uri(f), ...extra }),
    async stop() {
      try {
        await conn.sendRequest('shutdown');
        await conn.sendNotification('exit');
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
      conn.dispose();
    },
  };
}

export async function benchServer({ sharedDir, images, log = console.error, quick = false } = {}) {
  sharedDir ??= process.env.IMAGE_CLASSIFIER_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');
  const model = path.join(sharedDir, 'models', 'resnet50-torchvision-seed0.onnx');
  if (!existsSync(model)) {
    log(`!!! ${model} not found: the server benchmark needs ../shared (set IMAGE_CLASSIFIER_SHARED_DIR). Nothing measured.`);
    return { skipped: true };
  }
  const core = require(path.join(ROOT, 'packages/core/dist/index.js'));
  const work = mkdtempSync(path.join(tmpdir(), 'ic-bench-server-'));
  const cacheDir = path.join(work, 'cache');
  const files = images?.length ? images : await makeJpegFolder(sharedDir, path.join(work, 'images'), quick ? 48 : 200);
  const roots = [...new Set(files.map((f) => path.dirname(f)))];
  const batch = 8;
  const settings = (extra = {}) => ({ model, cacheDir, roots, maxBatch: batch, preprocessing: 'fast', ...extra });
  const out = { model: path.basename(model), images: files.length, batch, machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}` };
  log(`server bench: ${files.length} images, batch ${batch}, ${out.machine}`);

  // ---- raw baselines in this process (the session stays loaded: raw runs are repeated beside the server's) -------
  let rawSession;
  let rawRun;
  let rawSingle;
  {
    const session = await core.ModelSession.load(model, {
      graphOptimizationLevel: 'all',
      optimizedModelCacheDir: path.join(cacheDir, 'optimized'),
    });
    const per = 3 * 224 * 224;
    const bytes = files.slice(0, 16).map((f) => readFileSync(f));
    const pre = { fast: [], exact: [] };
    const tensors = [];
    for (const mode of ['fast', 'exact']) {
      for (let rep = 0; rep < 2; rep++) {
        for (let i = 0; i < bytes.length; i++) {
          const t = performance.now();
          const r = await core.preprocessImage(bytes[i], files[i], { preprocessing: mode });
          if (rep === 1) pre[mode].push(performance.now() - t);
          if (mode === 'fast' && rep === 0) tensors.push(r.tensor);
        }
      }
    }
    // ONNX Runtime's threads (spinning on by default) keep a core busy for a moment after a run: let them stop
    // before the server is measured beside this session.
    const settle = () => new Promise((r) => setTimeout(r, 30));
    const run = async (b, reps) => {
      const input = new Float32Array(per * b);
      for (let i = 0; i < b; i++) input.set(tensors[i % tensors.length], i * per);
      for (let w = 0; w < 2; w++) await session.run(input, b);
      const times = [];
      for (let r = 0; r < reps; r++) {
        const t = performance.now();
        await session.run(input, b);
        times.push(performance.now() - t);
      }
      await settle();
      return median(times);
    };
    const b1 = await run(1, quick ? 5 : 21);
    const bN = await run(batch, quick ? 3 : 9);
    rawSession = session;
    rawRun = run;
    /** One image the raw way: decode + preprocess (fast) + session.run at batch 1. */
    rawSingle = async (i) => {
      const t = performance.now();
      const r = await core.preprocessImage(readFileSync(files[i]), files[i], { preprocessing: 'fast' });
      await session.run(r.tensor, 1);
      const ms = performance.now() - t;
      await settle();
      return ms;
    };
    out.raw = {
      decodeFastMs: r2(median(pre.fast)),
      decodeExactMs: r2(median(pre.exact)),
      runBatch1Ms: r1(b1),
      singleFastMs: r1(median(pre.fast) + b1),
      singleExactMs: r1(median(pre.exact) + b1),
      [`runBatch${batch}ImagesPerSec`]: r1((batch * 1000) / bN),
      /** Decode then run, one after the other, at the same batch size: what a naive pipeline gets. */
      decodeThenRunImagesPerSec: r1(1000 / (median(pre.fast) + bN / batch)),
    };
    log(
      `raw: session.run b1 ${r1(b1)} ms, b${batch} ${out.raw[`runBatch${batch}ImagesPerSec`]} img/s; decode fast ${out.raw.decodeFastMs} ms, exact ${out.raw.decodeExactMs} ms`,
    );
  }

  // ---- warm the optimized-model cache, then time start → first answer -------------------------------------------
  {
    const warm = startServer();
    await warm.initialize(settings());
    await warm.ready;
    await warm.classify(files[0]);
    await warm.stop();
    const firstAnswer = async () => {
      const s = startServer();
      await s.initialize(settings());
      const r = await s.classify(files[0]);
      const ms = performance.now() - s.t0;
      const readyMs = await s.ready;
      await s.stop();
      return { ms, readyMs, cached: r.cached };
    };
    const cachedRuns = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) cachedRuns.push(await firstAnswer());
    const c = cachedRuns.sort((a, b) => a.ms - b.ms)[Math.floor(cachedRuns.length / 2)];
    // Uncached: a file no server has seen.
    const s = startServer();
    await s.initialize(settings());
    const r = await s.classify(files[files.length - 1], { force: true });
    const uncachedMs = performance.now() - s.t0;
    await s.stop();
    out.startToFirstAnswer = {
      cachedResultMs: Math.round(c.ms),
      uncachedMs: Math.round(uncachedMs),
      modelReadyMs: Math.round(c.readyMs),
      cached: c.cached && !r.cached,
    };
    log(
      `start → first answer: ${out.startToFirstAnswer.cachedResultMs} ms (cached result), ${out.startToFirstAnswer.uncachedMs} ms (uncached); model ready at ${out.startToFirstAnswer.modelReadyMs} ms`,
    );
  }

  // ---- one server, fast mode: latency, throughput, RSS ------------------------------------------------------------
  const s = startServer();
  try {
    await s.initialize(settings());
    await s.ready;
    const pid = s.child.pid;
    const classify = s.classify;

    // Uncached single images, one at a time.
    const single = [];
    const rawSingles = [];
    const n1 = quick ? 6 : 24;
    for (let i = 0; i < n1; i++) {
      rawSingles.push(await rawSingle(i)); // side by side: raw, then the server, image by image
      const t = performance.now();
      await classify(files[i], { force: true });
      single.push(performance.now() - t);
    }
    single.splice(0, 2);
    rawSingles.splice(0, 2);
    out.singleUncached = {
      medianMs: r1(median(single)),
      p90Ms: r1(pct(single, 90)),
      rawDecodePlusRunB1Ms: r1(median(rawSingles)),
      ratio: r2(median(single) / median(rawSingles)),
    };
    log(
      `single uncached: ${out.singleUncached.medianMs} ms median (raw decode + run b1 beside it: ${out.singleUncached.rawDecodePlusRunB1Ms} ms)`,
    );

    // Cached round trips, idle.
    const hot = files[0];
    await classify(hot);
    const idle = [];
    for (let i = 0; i < (quick ? 200 : 1000); i++) {
      const t = performance.now();
      const r = await classify(hot);
      idle.push(performance.now() - t);
      if (!r.cached) throw new Error('expected a cached answer');
    }
    out.cachedIdle = { p50Ms: r2(pct(idle, 50)), p99Ms: r2(pct(idle, 99)), n: idle.length };
    log(`cached round trip, idle: p50 ${out.cachedIdle.p50Ms} ms, p99 ${out.cachedIdle.p99Ms} ms`);

    // Folder throughput (uncached: force), with cached hovers measured while it runs and RSS sampled.
    const folder = async (mode, probe, extra = {}) => {
      const token = `wd-${mode}-${Math.random()}`;
      let done = false;
      const rss = [];
      const sampler = setInterval(() => rss.push(rssOf(pid).rss), 250);
      const t = performance.now();
      const p = s.conn
        .sendRequest('imageClassifier/classifyBatch', { uris: files.map(uri), force: true, workDoneToken: token, ...extra })
        .then((r) => {
          done = true;
          return r;
        });
      const during = [];
      if (probe) {
        while (!done) {
          const t1 = performance.now();
          await classify(hot);
          during.push(performance.now() - t1);
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      const r = await p;
      const secs = (performance.now() - t) / 1000;
      clearInterval(sampler);
      const errors = r.items.filter((i) => i.error);
      if (errors.length) throw new Error(`folder run: ${errors.length} errors, e.g. ${JSON.stringify(errors[0])}`);
      return { imagesPerSec: r1(files.length / secs), during, rss };
    };
    await folder('warm', false);
    // Alternate raw session.run at the same batch size with the server's folder runs; best of each (noise only
    // ever slows a run down). Hovers are probed in a separate run so they do not tax the throughput figure.
    const rawIps = [];
    const plain = [];
    const embRuns = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      rawIps.push((batch * 1000) / (await rawRun(batch, quick ? 2 : 4)));
      plain.push(await folder('fast', false));
      // The same folder returning (and caching) each image's embedding: what dataset tools will ask for.
      embRuns.push(await folder('fast', false, { embedding: true }));
    }
    const runs = [];
    for (let i = 0; i < (quick ? 1 : 2); i++) runs.push(await folder('fast', true));
    const best = plain.sort((a, b) => b.imagesPerSec - a.imagesPerSec)[0];
    const during = runs.flatMap((r) => r.during);
    const rawRun8 = r1(Math.max(...rawIps));
    out.folderFast = {
      imagesPerSec: best.imagesPerSec,
      withHoverProbesImagesPerSec: Math.max(...runs.map((r) => r.imagesPerSec)),
      rawSessionRunImagesPerSec: rawRun8,
      ratioToRawRun: r2(best.imagesPerSec / rawRun8),
      ratioToDecodeThenRun: r2(best.imagesPerSec / out.raw.decodeThenRunImagesPerSec),
    };
    const emb = embRuns.sort((a, b) => b.imagesPerSec - a.imagesPerSec)[0];
    out.folderFastWithEmbeddings = { imagesPerSec: emb.imagesPerSec, ratioToWithout: r2(emb.imagesPerSec / best.imagesPerSec) };
    log(`folder (fast) returning embeddings: ${emb.imagesPerSec} img/s (${out.folderFastWithEmbeddings.ratioToWithout} × without)`);
    out.cachedDuringFolder = latencySummary(during);
    log(
      `folder (fast): ${best.imagesPerSec} img/s = ${out.folderFast.ratioToRawRun} × raw session.run b${batch} beside it (${rawRun8} img/s)`,
    );
    log(
      `cached round trip during the folder run: p50 ${out.cachedDuringFolder.p50Ms} ms, p99 ${out.cachedDuringFolder.p99Ms} ms (n=${during.length})`,
    );

    out.cachedDuringFlood = await cachedDuringFlood(classify, files, hot, quick ? 300 : 1000);
    log(floodLine(out.cachedDuringFlood));

    // Exact mode: reload through a configuration change, same measurements.
    const t = performance.now();
    await s.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { imageClassifier: settings({ preprocessing: 'exact' }) },
    });
    await new Promise((resolve) => {
      const iv = setInterval(async () => {
        const info = await s.conn.sendRequest('imageClassifier/modelInfo', {});
        if (info.state === 'ready' && info.preprocessing === 'exact') {
          clearInterval(iv);
          resolve();
        }
      }, 20);
    });
    out.reloadMs = Math.round(performance.now() - t);
    await classify(hot);
    const exact = await folder('exact', true);
    out.folderExact = { imagesPerSec: exact.imagesPerSec, ratioToRawRun: r2(exact.imagesPerSec / rawRun8), note: 'with hover probes' };
    out.cachedDuringExactFolder = {
      p50Ms: r2(pct(exact.during, 50)),
      p99Ms: r2(pct(exact.during, 99)),
      maxMs: r2(Math.max(...exact.during)),
      n: exact.during.length,
    };
    log(
      `folder (exact): ${exact.imagesPerSec} img/s; cached round trip during it: p50 ${out.cachedDuringExactFolder.p50Ms} ms, p99 ${out.cachedDuringExactFolder.p99Ms} ms`,
    );

    // A long run: 10,000 images (the folder repeated), each decoded and classified (force: no cache hits), in
    // fast mode; RSS must stay flat.
    await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: { imageClassifier: settings() } });
    while ((await s.conn.sendRequest('imageClassifier/modelInfo', {})).preprocessing !== 'fast')
      await new Promise((r) => setTimeout(r, 20));
    const longUris = Array.from({ length: quick ? 1000 : 10000 }, (_, i) => uri(files[i % files.length]));
    const rss = [];
    const sampler = setInterval(() => rss.push(rssOf(pid).rss), 250);
    const tl = performance.now();
    const lr = await s.conn.sendRequest('imageClassifier/classifyBatch', { uris: longUris, force: true });
    clearInterval(sampler);
    const firstTenth = rss.slice(0, Math.max(1, Math.floor(rss.length / 10)));
    out.longRun = {
      uris: longUris.length,
      seconds: r2((performance.now() - tl) / 1000),
      cached: lr.items.filter((i) => i.cached).length,
      classified: lr.items.filter((i) => i.predictions && !i.cached).length,
      errors: lr.items.filter((i) => i.error).length,
      rssAfterFirstTenthMb: Math.round(Math.max(...firstTenth)),
      rssStartMb: Math.round(rss[0] ?? rssOf(pid).rss),
      rssMaxMb: Math.round(Math.max(...rss, rssOf(pid).rss)),
      rssEndMb: Math.round(rssOf(pid).rss),
    };
    out.peakRssMb = Math.round(rssOf(pid).hwm);
    out.rssDuringFolderMb = { min: Math.round(Math.min(...best.rss)), max: Math.round(Math.max(...best.rss)) };
    log(
      `long run: ${longUris.length} URIs in ${out.longRun.seconds} s, RSS ${out.longRun.rssStartMb} → max ${out.longRun.rssMaxMb} MB; server peak RSS ${out.peakRssMb} MB`,
    );
  } finally {
    await s.stop();
    await rawSession.release();
    rmSync(work, { recursive: true, force: true });
  }
  out.cacheAtScale = benchCacheAtScale(quick ? 5000 : 30000, log);
  out.targets = {
    cachedP99Le5ms: out.cachedIdle.p99Ms <= 5,
    cachedDuringFolderP99Le5ms: out.cachedDuringFolder.p99Ms <= 5,
    cachedDuringFloodP99Le20ms: out.cachedDuringFlood.p99Ms <= 20,
    folderFastGe085xRaw: out.folderFast.ratioToRawRun >= 0.85,
    firstAnswerLe1s: out.startToFirstAnswer.cachedResultMs <= 1000,
    uncachedFirstAnswerLe1s: out.startToFirstAnswer.uncachedMs <= 1000,
    /** Flat: after the first tenth of the long run, RSS grows by less than 64 MB. */
    rssFlat: out.longRun.rssMaxMb - out.longRun.rssAfterFirstTenthMb < 64,
  };
  return out;
}

/** p50, p99 and max of latencies in ms (two decimals), and how many there were. */
function latencySummary(ms) {
  return { p50Ms: r2(pct(ms, 50)), p99Ms: r2(pct(ms, 99)), maxMs: r2(Math.max(...ms)), n: ms.length };
}

/**
 * Cached round trips to `hot`, one at a time and 5 ms apart, for as long as `busy()` holds; each must be a cache hit.
 * Resolves with the latencies (ms) of those that finished while `busy()` still held.
 */
async function cachedRoundTripsWhile(classify, hot, busy) {
  const during = [];
  while (busy()) {
    const t1 = performance.now();
    const r = await classify(hot);
    if (busy()) during.push(performance.now() - t1);
    if (!r.cached) throw new Error('expected a cached answer');
    await new Promise((r) => setTimeout(r, 5));
  }
  return during;
}

/** The `--flood-only` and `--svg-bomb-only` model: `--model=<onnx>`, else ResNet50 from ../shared. */
function singleMeasurementModel() {
  const sharedDir = process.env.IMAGE_CLASSIFIER_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');
  const arg = process.argv.find((a) => a.startsWith('--model='));
  const model = arg ? path.resolve(arg.slice('--model='.length)) : path.join(sharedDir, 'models', 'resnet50-torchvision-seed0.onnx');
  return { sharedDir, model };
}

/**
 * Cached round trips (one at a time, 5 ms apart) while `n` uncached classify requests (force: each is decoded and
 * run) are all in flight at once: hovers must not queue behind them.
 */
async function cachedDuringFlood(classify, files, hot, n) {
  await classify(hot);
  let left = n;
  const t = performance.now();
  const flood = Array.from({ length: n }, (_, i) =>
    classify(files[i % files.length], { force: true }).finally(() => {
      left--;
    }),
  );
  const during = await cachedRoundTripsWhile(classify, hot, () => left > 0);
  const results = await Promise.allSettled(flood);
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) throw new Error(`flood: ${failed.length} of ${n} failed, e.g. ${failed[0].reason?.message}`);
  return {
    concurrent: n,
    floodSeconds: r2((performance.now() - t) / 1000),
    ...latencySummary(during),
  };
}

function floodLine(f) {
  return `cached round trip during ${f.concurrent} concurrent uncached classify requests (${f.floodSeconds} s): p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms (n=${f.n})`;
}

/** `--flood-only`: that one measurement, on its own server (`--model=` another model, e.g. a faster one). */
async function benchFloodOnly({ log = console.error } = {}) {
  const { sharedDir, model } = singleMeasurementModel();
  const work = mkdtempSync(path.join(tmpdir(), 'ic-bench-flood-'));
  const files = await makeJpegFolder(sharedDir, path.join(work, 'images'), 200);
  const roots = [path.join(work, 'images')];
  const s = startServer();
  try {
    await s.initialize({ model, cacheDir: path.join(work, 'cache'), roots, maxBatch: 8, preprocessing: 'fast' });
    await s.ready;
    const classify = s.classify;
    const out = { model: path.basename(model), cachedDuringFlood: await cachedDuringFlood(classify, files, files[0], 1000) };
    log(floodLine(out.cachedDuringFlood));
    out.targets = { cachedDuringFloodP99Le20ms: out.cachedDuringFlood.p99Ms <= 20 };
    return out;
  } finally {
    await s.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * `--exact-hover-only [--against=<checkout>] [--rounds=N] [--images=N]`: the editor's default (`exact`) folder run
 * on 500×375 photos (force: every image decoded and run) with a cached hover every 5 ms meanwhile, and raw
 * `session.run` batch 8 on ready tensors in this process before each folder run. With `--against`, the server of
 * another built checkout (e.g. a worktree of main) runs beside this one's: both started once, their folder runs
 * alternated round by round, so both see the same host load. `IMAGE_CLASSIFIER_BENCH_SERVER_PRELOAD=<file.cjs>` is
 * passed to the servers as `--require` (e.g. an event-loop delay monitor printing to stderr).
 */

/**
 * Raw `session.run` batch 8 on ready tensors (the first file's exact tensor, repeated) in this process: the
 * baseline the server's folder throughput is compared with. `rawIps()` runs as many batches as `files` fills.
 */
export async function rawSessionRate(core, model, files, optimizedDir) {
  const session = await core.ModelSession.load(model, { optimizedModelCacheDir: optimizedDir, intraOpNumThreads: 2 });
  const per = 3 * 224 * 224;
  const pre = await core.preprocessImage(readFileSync(files[0]), files[0], { preprocessing: 'exact' });
  const input = new Float32Array(per * 8);
  for (let i = 0; i < 8; i++) input.set(pre.tensor, i * per);
  const rawIps = async () => {
    await session.run(input, 8);
    const reps = Math.ceil(files.length / 8);
    const t = performance.now();
    for (let i = 0; i < reps; i++) await session.run(input, 8);
    const ips = (reps * 8 * 1000) / (performance.now() - t);
    await new Promise((r) => setTimeout(r, 30));
    return ips;
  };
  return { session, rawIps };
}

async function benchExactHover({ log = console.error } = {}) {
  const arg = (name, dflt) => {
    const a = process.argv.find((x) => x.startsWith(`--${name}=`));
    return a ? a.slice(name.length + 3) : dflt;
  };
  const rounds = Number(arg('rounds', 3));
  const against = arg('against', undefined);
  const { sharedDir, model } = singleMeasurementModel();
  const core = require(path.join(ROOT, 'packages/core/dist/index.js'));
  const work = mkdtempSync(path.join(tmpdir(), 'ic-bench-hover-'));
  const files = await makeJpegFolder(sharedDir, path.join(work, 'images'), Number(arg('images', 120)));
  const preload = process.env.IMAGE_CLASSIFIER_BENCH_SERVER_PRELOAD;
  const env = preload ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim() } : {};
  const builds = [{ name: 'this', bin: BIN }];
  if (against)
    builds.push({
      name: path.basename(path.resolve(against)),
      bin: path.join(path.resolve(against), 'packages/server/bin/image-classifier.js'),
    });
  const { session, rawIps } = await rawSessionRate(core, model, files, path.join(work, 'optimized'));
  const settle = () => new Promise((r) => setTimeout(r, 30));
  const loadAvg = () => Math.round(os.loadavg()[0] * 10) / 10;
  const servers = [];
  try {
    for (const b of builds) {
      const s = startServer(env, b.bin);
      servers.push({ ...b, s, during: [], ips: [], loop: [] });
      await s.initialize({
        model,
        cacheDir: path.join(work, `cache-${b.name}`),
        roots: [path.join(work, 'images')],
        maxBatch: 8,
        threads: 2,
        preprocessing: 'exact',
      });
      await s.ready;
      await s.classify(files[0]);
      await s.conn.sendRequest('imageClassifier/classifyBatch', { uris: files.slice(0, 16).map(uri), force: true });
    }
    const raw = [];
    const loads = [loadAvg()];
    for (let r = 0; r < rounds; r++) {
      // ABBA: the builds' order turns every round, so a drift in the host's load favours neither.
      for (const b of r % 2 ? [...servers].reverse() : servers) {
        raw.push(await rawIps());
        const mark = b.s.stderr().length;
        let done = false;
        const t = performance.now();
        const p = b.s.conn.sendRequest('imageClassifier/classifyBatch', { uris: files.map(uri), force: true }).finally(() => (done = true));
        const during = await cachedRoundTripsWhile(b.s.classify, files[0], () => !done);
        const res = await p;
        if (res.items.some((i) => i.error)) throw new Error(`folder: ${JSON.stringify(res.items.find((i) => i.error))}`);
        const ips = (files.length * 1000) / (performance.now() - t);
        b.during.push(...during);
        b.ips.push(ips);
        for (const m of b.s
          .stderr()
          .slice(mark)
          .matchAll(/^LOOPSTATS (.*)$/gm))
          b.loop.push(JSON.parse(m[1]));
        await settle();
        log(
          `round ${r + 1} ${b.name}: folder ${r1(ips)} img/s (raw b8 before it ${r1(raw.at(-1))}), hover p50 ${r2(pct(during, 50))} p99 ${r2(pct(during, 99))} max ${r2(Math.max(...during))} ms (n=${during.length}), load ${loadAvg()}`,
        );
      }
      loads.push(loadAvg());
    }
    const out = { images: files.length, rounds, loadAverage: loads, rawImagesPerSec: r1(median(raw)), builds: {} };
    for (const b of servers) {
      out.builds[b.name] = {
        hover: latencySummary(b.during),
        folderImagesPerSec: r1(median(b.ips)),
        folderVsRaw: r2(median(b.ips) / median(raw)),
        ...(b.loop.length
          ? {
              loopDelayP99Ms: r2(median(b.loop.map((l) => l.p99))),
              loopDelayMaxMs: r2(Math.max(...b.loop.map((l) => l.max))),
              mainThreadCpuMsPerSec: r1(median(b.loop.map((l) => l.mainCpuMs))),
            }
          : {}),
      };
    }
    return out;
  } finally {
    for (const b of servers) await b.s.stop();
    await session.release();
    rmSync(work, { recursive: true, force: true });
  }
}

const SVG_NS = 'xmlns="http://www.w3.org/2000/svg"';

/**
 * SVG bombs, each distinct (no two share a cache entry): the tester's feTurbulence + feGaussianBlur on a 9000×9000
 * canvas, plain 9999×9999 canvases, SVGs over the complexity limits, and SVGs within them that run over the decode
 * time budget (40 filtered full-canvas rectangles).
 */
function writeSvgBombs(dir, perKind) {
  mkdirSync(dir, { recursive: true });
  const kinds = {
    filter: (i) =>
      `<svg ${SVG_NS} width="9000" height="9000"><filter id="f"><feTurbulence baseFrequency="0.${i + 1}" numOctaves="10"/><feGaussianBlur stdDeviation="50"/></filter><rect width="9000" height="9000" filter="url(#f)"/></svg>`,
    plain: (i) => `<svg ${SVG_NS} width="${9999 - i}" height="9999"><rect width="9999" height="9999" fill="red"/></svg>`,
    overLimit: (i) =>
      `<svg ${SVG_NS} width="9000" height="9000"><filter id="f"><feTurbulence baseFrequency="0.9" numOctaves="${1000 + i}"/></filter><rect width="9000" height="9000" filter="url(#f)"/></svg>`,
    slow: (i) =>
      `<svg ${SVG_NS} width="9000" height="9000"><filter id="f"><feTurbulence baseFrequency="0.${i + 1}" numOctaves="8"/><feGaussianBlur stdDeviation="50"/></filter>${'<rect width="9000" height="9000" filter="url(#f)"/>'.repeat(40)}</svg>`,
  };
  const files = [];
  for (const [kind, svg] of Object.entries(kinds)) {
    for (let i = 0; i < perKind; i++) {
      const f = path.join(dir, `${kind}-${i}.svg`);
      writeFileSync(f, svg(i));
      files.push(f);
    }
  }
  return files;
}

/** `--svg-bomb-only`: cached round trips (one at a time, 5 ms apart) while SVG bombs are all in flight at once. */
async function benchSvgBombOnly({ log = console.error, perKind = 4 } = {}) {
  const { sharedDir, model } = singleMeasurementModel();
  const work = mkdtempSync(path.join(tmpdir(), 'ic-bench-svg-'));
  const images = path.join(work, 'images');
  const [hot] = await makeJpegFolder(sharedDir, images, 1);
  const bombs = writeSvgBombs(images, perKind);
  const s = startServer();
  try {
    await s.initialize({ model, cacheDir: path.join(work, 'cache'), roots: [images], maxBatch: 8, preprocessing: 'fast' });
    await s.ready;
    const classify = s.classify;
    await classify(hot);
    let left = bombs.length;
    const t = performance.now();
    const outcomes = bombs.map((f) =>
      classify(f, { force: true })
        .then(
          () => 'classified',
          (e) => e?.data?.code ?? String(e?.message),
        )
        .finally(() => left--),
    );
    const during = await cachedRoundTripsWhile(classify, hot, () => left > 0);
    const counts = {};
    for (const o of await Promise.all(outcomes)) counts[o] = (counts[o] ?? 0) + 1;
    const f = {
      bombs: bombs.length,
      outcomes: counts,
      bombSeconds: r2((performance.now() - t) / 1000),
      ...latencySummary(during),
      serverPeakRssMb: r1(rssOf(s.child.pid).hwm),
    };
    log(
      `cached round trip during ${f.bombs} concurrent SVG bombs (${f.bombSeconds} s; ${JSON.stringify(f.outcomes)}): p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms (n=${f.n}); server peak RSS ${f.serverPeakRssMb} MB`,
    );
    return { model: path.basename(model), cachedDuringSvgBombs: f, targets: { cachedDuringSvgBombsP99Le20ms: f.p99Ms <= 20 } };
  } finally {
    await s.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The on-disk result cache at dataset scale: `n` results (top-10 predictions each) and `n` 2048-d embeddings
 * (float16, ResNet50's width) written through the server's own ResultCache, then reopened as a restarted server
 * does: open time, heap held by the index, and random lookups (a pread and a checksum each).
 */
export function benchCacheAtScale(n, log = console.error) {
  const { ResultCache } = require(path.join(ROOT, 'packages/server/dist/result-cache.js'));
  const core = require(path.join(ROOT, 'packages/core/dist/index.js'));
  const dir = mkdtempSync(path.join(tmpdir(), 'ic-bench-cache-'));
  try {
    const labels = core.IMAGENET_LABELS.labels;
    const key = (i) => `6ab8f5fe22bdc5a1;fast;r256;c224x224:${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}${i}`;
    const emb = new Float32Array(2048);
    {
      const w = ResultCache.open(dir);
      const we = ResultCache.open(dir, () => {}, 'embeddings-v1.log');
      for (let i = 0; i < n; i++) {
        const p = Array.from({ length: 10 }, (_, k) => ({
          index: (i + k * 97) % 1000,
          label: labels[(i + k * 97) % 1000],
          probability: 0.5 / (k + 1),
        }));
        w.put(key(i), { p, w: 500, h: 375 });
        w.setHash(`/data/set/img${i}.jpg`, 100000 + i, 1.7e12 + i, `h${i}`);
        for (let d = 0; d < 2048; d++) emb[d] = Math.abs(Math.sin(i * 31 + d)) * 4;
        we.put(key(i), { d: 2048, f: core.encodeFloat16(emb).toString('base64') });
      }
      w.close();
      we.close();
    }
    const open = (file) => {
      global.gc?.();
      const heap0 = process.memoryUsage().heapUsed;
      const c = file ? ResultCache.open(dir, () => {}, file) : ResultCache.open(dir);
      global.gc?.();
      return { c, heapMb: (process.memoryUsage().heapUsed - heap0) / 2 ** 20 };
    };
    const r = open();
    const e = open('embeddings-v1.log');
    const lookups = (c) => {
      const times = [];
      for (let j = 0; j < 2000; j++) {
        const i = (j * 7919) % n;
        const t = performance.now();
        if (!c.get(key(i))) throw new Error(`cache lost ${key(i)}`);
        times.push(performance.now() - t);
      }
      return { p50Us: r1(pct(times, 50) * 1000), p99Us: r1(pct(times, 99) * 1000) };
    };
    const out = {
      entries: n,
      results: {
        fileMb: r1(r.c.stats.bytes / 2 ** 20),
        openMs: Math.round(r.c.stats.loadMs),
        indexHeapMb: r1(r.heapMb),
        get: lookups(r.c),
      },
      embeddings: {
        dims: 2048,
        fileMb: r1(e.c.stats.bytes / 2 ** 20),
        openMs: Math.round(e.c.stats.loadMs),
        indexHeapMb: r1(e.heapMb),
        get: lookups(e.c),
      },
    };
    r.c.close();
    e.c.close();
    log(
      `cache at scale (${n} images): results ${out.results.fileMb} MB open ${out.results.openMs} ms, get p99 ${out.results.get.p99Us} µs; embeddings ${out.embeddings.fileMb} MB open ${out.embeddings.openMs} ms, get p99 ${out.embeddings.get.p99Us} µs`,
    );
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  (process.argv.includes('--flood-only')
    ? benchFloodOnly()
    : process.argv.includes('--exact-hover-only')
      ? benchExactHover()
      : process.argv.includes('--svg-bomb-only')
        ? benchSvgBombOnly()
        : benchServer({ quick: process.argv.includes('--quick') })
  )
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
