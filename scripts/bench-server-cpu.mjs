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
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeJpegFolder } from './bench-images.mjs';

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

/** CPU ms of every thread of `pid` and its children, keyed by pid:tid. */
function threads(pid) {
  let kids = [];
  try {
    kids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    // no children
  }
  const out = new Map();
  for (const p of [pid, ...kids]) {
    let tids = [];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tids) {
      try {
        const comm = readFileSync(`/proc/${p}/task/${t}/comm`, 'utf8').trim();
        const ms = Number(readFileSync(`/proc/${p}/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
        out.set(`${p}:${t}`, { server: p === pid, main: String(p) === t, comm, ms });
      } catch {
        // the thread ended
      }
    }
  }
  return out;
}

const COMPONENTS = ['server main', 'onnx runtime', 'server other', 'decoder main', 'decoder libvips', 'decoder other'];

function component(t, msPerImage) {
  if (t.server) return t.main ? 'server main' : msPerImage > 8 ? 'onnx runtime' : 'server other';
  return t.main ? 'decoder main' : t.comm === 'libvips worker' ? 'decoder libvips' : 'decoder other';
}

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
      const row = { 'wall ms': (performance.now() - t0) / files.length };
      for (const c of COMPONENTS) row[c] = 0;
      for (const [k, t] of threads(b.s.child.pid)) {
        const d = (t.ms - (before.get(k)?.ms ?? 0)) / files.length;
        row[component(t, d)] += d;
      }
      row['all but onnx runtime'] = COMPONENTS.filter((c) => c !== 'onnx runtime').reduce((a, c) => a + row[c], 0);
      b.rows.push(row);
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
