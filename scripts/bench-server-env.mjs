#!/usr/bin/env node
/**
 * The server's `exact` folder under different environments, side by side:
 *   `node scripts/bench-server-env.mjs '[{}, {"IMAGE_CLASSIFIER_ORT_SPINNING": "0"}]' [--rounds=N] [--hover=MS]`
 * One server per environment (this build's, started as the extension starts it, each with the variables given on
 * top of this process's), then forced `classifyBatch` runs of bench-pytorch's 120 photos (500×375) alternate between
 * them round by round, a cached hover every `--hover` ms (default 50; 0: none) meanwhile. After each folder run, raw
 * `session.run` batch 8 on ready tensors in this process; each run is compared with the mean of the raw runs either
 * side of it (the host's speed drifts). Prints per round and the medians: the ratio to raw, the share of the two
 * cores left idle during the run (/proc/stat), the hovers' p99. Linux; needs `npm run build` and bench-pytorch's
 * folders (`node scripts/bench-pytorch.mjs` makes them).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rawSessionRate, startServer } from './bench-server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const envs = JSON.parse(process.argv[2] ?? '[{}]');
const rounds = Number(arg('rounds', 6));
const hoverMs = Number(arg('hover', 50));
const sharedDir = process.env.IMAGE_CLASSIFIER_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');
const model = path.join(sharedDir, 'models', 'resnet50-torchvision-seed0.onnx');
const dir = path.join(ROOT, 'bench-out', 'pytorch', 'folders', 'small-120');
const cache = path.join(ROOT, 'bench-out', 'pytorch', 'cache');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .map((f) => path.join(dir, f));
const uris = files.map((f) => pathToFileURL(f).href);

/** Idle and total jiffies of all cores. */
function cpuStat() {
  const v = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: v[3] + v[4], total: v.slice(0, 8).reduce((a, b) => a + b, 0) };
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
const p99 = (a) => [...a].sort((x, y) => x - y)[Math.floor(0.99 * (a.length - 1))];

const core = require(path.join(ROOT, 'packages/core/dist/index.js'));
const { session, rawIps } = await rawSessionRate(core, model, files, path.join(cache, 'optimized'));
const servers = [];
for (const env of envs) {
  const s = startServer(env);
  await s.initialize({ model, cacheDir: path.join(cache, 'server'), roots: [dir], maxBatch: 8, threads: 2, preprocessing: 'exact' });
  await s.ready;
  await s.classify(files[0]);
  // One untimed pass: code compiled, buffers at their steady size.
  await s.conn.sendRequest('imageClassifier/classifyBatch', { uris, force: true });
  servers.push({ env, s, ratios: [], idle: [], hovers: [] });
}

/** One folder run with a cached hover every hoverMs; its img/s. */
async function folder(x) {
  let done = false;
  const t = performance.now();
  const run = x.s.conn.sendRequest('imageClassifier/classifyBatch', { uris, force: true }).finally(() => (done = true));
  while (!done && hoverMs > 0) {
    const h = performance.now();
    await x.s.classify(files[0]);
    if (!done) x.hovers.push(performance.now() - h);
    await new Promise((r) => setTimeout(r, hoverMs));
  }
  const res = await run;
  if (res.items.some((i) => i.error)) throw new Error(JSON.stringify(res.items.find((i) => i.error)));
  return (files.length * 1000) / (performance.now() - t);
}

try {
  let before = await rawIps();
  for (let r = 0; r < rounds; r++) {
    for (const x of servers) {
      const a = cpuStat();
      const ips = await folder(x);
      const b = cpuStat();
      await new Promise((res) => setTimeout(res, 30));
      const after = await rawIps();
      x.ratios.push(ips / ((before + after) / 2));
      x.idle.push((100 * (b.idle - a.idle)) / (b.total - a.total));
      before = after;
    }
    console.log(
      `round ${r + 1}: ${servers.map((x) => `${JSON.stringify(x.env)} ${x.ratios.at(-1).toFixed(3)}× idle ${x.idle.at(-1).toFixed(1)} %`).join(' | ')}`,
    );
  }
  for (const x of servers) {
    const hov = x.hovers.length ? `, hover p99 ${p99(x.hovers).toFixed(1)} ms (n=${x.hovers.length})` : '';
    console.log(`${JSON.stringify(x.env)}: median ${median(x.ratios).toFixed(3)}× raw, idle ${median(x.idle).toFixed(1)} %${hov}`);
  }
} finally {
  for (const x of servers) await x.s.stop();
  await session.release();
}
