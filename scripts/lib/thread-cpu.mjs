/**
 * CPU of a server process's threads and its decoder processes' threads, from /proc (Linux), by component: the
 * server's main thread, ONNX Runtime's threads (the server's threads busier than 8 ms an image), the server's other
 * threads (V8's GC threads, libuv), its decoder threads (WebAssembly JPEGs), the decoder processes' main threads,
 * their libvips workers and their other threads.
 * Used by scripts/bench-server-cpu.mjs and scripts/bench-pytorch.mjs.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const COMPONENTS = [
  'server main',
  'onnx runtime',
  'server other',
  'decoder thread',
  'decoder main',
  'decoder libvips',
  'decoder other',
];

/** CPU ms of every thread of `pid` and its children (`/proc/<pid>/task/<tid>/schedstat`, ns), keyed by pid:tid. */
export function threads(pid) {
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

function component(t, msPerImage) {
  // Decoder threads name themselves (packages/core/src/image/decoder-thread.ts).
  if (t.server)
    return t.main ? 'server main' : t.comm === 'jpeg decoder' ? 'decoder thread' : msPerImage > 8 ? 'onnx runtime' : 'server other';
  return t.main ? 'decoder main' : t.comm === 'libvips worker' ? 'decoder libvips' : 'decoder other';
}

/** CPU ms an image by component between two `threads()` snapshots, with `all but onnx runtime`. */
export function perImage(before, after, images) {
  const row = {};
  for (const c of COMPONENTS) row[c] = 0;
  for (const [k, t] of after) {
    const d = (t.ms - (before.get(k)?.ms ?? 0)) / images;
    row[component(t, d)] += d;
  }
  row['all but onnx runtime'] = COMPONENTS.filter((c) => c !== 'onnx runtime').reduce((a, c) => a + row[c], 0);
  return row;
}
