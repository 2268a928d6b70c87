#!/usr/bin/env node
/**
 * CPU an image of the server's `exact` folder run, by thread, two builds side by side:
 *   `node scripts/bench-server-cpu.mjs [--against=<built checkout>] [--rounds=N] [--images=N] [--hover]`
 * Each build's server is started once (with its own launch settings, its own `scripts/bench-server.mjs`), then forced
 * `classifyBatch` runs of the same 500×375 photos alternate between them round by round. Around each run the CPU of
 * every thread of the server and its decoder processes is read from `/proc/<pid>/task/<tid>/schedstat` (ns), and
 * the medians per image are printed by component: the server's main thread, ONNX Runtime's threads (the server's
 * threads busier than 8 ms an image), the server's other threads (V8's GC threads, libuv), the decoders' main
 * threads, their libvips workers and their other threads. `--hover` sends a cached classify every 5 ms meanwhile
 * and prints its p50/p99 (its own CPU is then in the server's main thread). Linux only; needs `npm run build`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeJpegFolder } from './bench-images.mjs';
import { perImage, threads } from './lib/thread-cpu.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const rounds = Number(arg('rounds', 8));
const hover = process.argv.includes('--hover');
const sharedDir = process.env.IMAGE_CLASSIFIER_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');
const model = path.join(sharedDir, 'models', 'resnet50-torchvision-seed0.onnx');
const uri = (f) => pathToFileURL(f).href;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const work = mkdtempSync(path.join(tmpdir(), 'ic-bench-cpu-'));
const files = await makeJpegFolder(sharedDir, path.join(work, 'images'), Number(arg('images', 120)));
const builds = [ROOT, ...(arg('against') ? [path.resolve(arg('against'))] : [])];
const servers = [];
try {
  for (const root of builds) {
    const { startServer } = await import(pathToFileURL(path.join(root, 'scripts/bench-server.mjs')).href);
    const s = startServer();
    servers.push({ name: root === ROOT ? 'this' : path.basename(root), s, rows: [], hovers: [] });
    await s.initialize({
      model,
      cacheDir: path.join(work, `cache-${servers.length}`),
      roots: [path.join(work, 'images')],
      maxBatch: 8,
      threads: 2,
      preprocessing: 'exact',
    });
    await s.ready;
    await s.classify(files[0]);
    await s.conn.sendRequest('imageClassifier/classifyBatch', { uris: files.map(uri), force: true });
  }
  for (let r = 0; r < rounds; r++) {
    for (const b of r % 2 ? [...servers].reverse() : servers) {
      await new Promise((res) => setTimeout(res, 300));
      const before = threads(b.s.child.pid);
      const t0 = performance.now();
      let done = false;
      const run = b.s.conn.sendRequest('imageClassifier/classifyBatch', { uris: files.map(uri), force: true }).finally(() => {
        done = true;
      });
      while (hover && !done) {
        const h = performance.now();
        await b.s.classify(files[0]);
        if (!done) b.hovers.push(performance.now() - h);
        await new Promise((res) => setTimeout(res, 5));
      }
      await run;
      b.rows.push({ 'wall ms': (performance.now() - t0) / files.length, ...perImage(before, threads(b.s.child.pid), files.length) });
    }
  }
  console.log(`${files.length} photos × ${rounds} rounds: medians, ms of CPU per image (wall: ms per image)`);
  console.log(['component'.padEnd(22), ...servers.map((b) => b.name)].join('\t'));
  for (const k of Object.keys(servers[0].rows[0])) {
    console.log([k.padEnd(22), ...servers.map((b) => median(b.rows.map((x) => x[k])).toFixed(3))].join('\t'));
  }
  if (hover) {
    for (const b of servers) {
      const h = [...b.hovers].sort((x, y) => x - y);
      const p = (q) => h[Math.min(h.length - 1, Math.max(0, Math.ceil(q * h.length) - 1))]?.toFixed(2);
      console.log(`${b.name}: cached hover during the folder p50 ${p(0.5)} ms, p99 ${p(0.99)} ms (n=${h.length})`);
    }
  }
} finally {
  for (const b of servers) await b.s.stop();
  rmSync(work, { recursive: true, force: true });
}
