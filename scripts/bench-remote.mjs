#!/usr/bin/env node
/**
 * Remote inference (issue 23) against a real NVIDIA Triton (PyTriton, scripts/install-remote-server.sh) on this
 * machine, beside the local backend, on ../shared/datasets/curation-dev's photos with the seed-0 ResNet50:
 *   - the CLI's marginal throughput, (N₂ − N₁) / (T(N₂) − T(N₁)) over two folder sizes (start-up cancels out),
 *     local vs remote over loopback, for several requests in flight;
 *   - the client's own CPU per image (the part that stays on the laptop: decode, preprocess, HTTP), marginal the
 *     same way, from /proc of the CLI's process group (the CLI and its decoder processes), and the server's CPU per
 *     image (/proc of Triton's process group);
 *   - binary tensors vs JSON tensors.
 * The server runs on the same cores as the client here (no GPU), so remote throughput on loopback measures the
 * client's overhead, not a speed-up.
 * `node scripts/bench-remote.mjs [--quick] [--json]`; `benchRemote()` is what scripts/bench.mjs calls (`--no-remote`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'packages', 'server', 'bin', 'image-classifier.js');
const TICK = 100; // clock ticks per second in /proc/<pid>/stat (Linux's USER_HZ)

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** CPU seconds (user + system) of every process in process group `pgid`. */
function groupCpu(pgid) {
  let ticks = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return ticks / TICK;
}

/** CPU ticks per process of group `pgid`, merged into `seen` (a process's ticks only grow; the last sample counts). */
function sampleGroup(pgid, seen) {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) seen.set(d, Number(f[11]) + Number(f[12]));
    } catch {
      // gone
    }
  }
}

/**
 * Runs the CLI in a process group of its own and returns wall seconds and the CPU seconds of the whole group (the
 * CLI, its malloc-tuned re-run, its decoder processes), sampled from /proc every 20 ms until it exits.
 */
async function timedCli(args, extraEnv = {}) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...extraEnv, IMAGE_CLASSIFIER_CACHE_DIR: mkdtempSync(path.join(tmpdir(), 'ic-bench-remote-')) },
  });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
  // Records are read only for their errors (a failed image fails the measurement).
  child.stdout.on('data', (d) => {
    for (const l of String(d).split('\n')) if (l.includes('"error"')) err = (err + l.slice(0, 400)).slice(-2000);
  });
  const seen = new Map();
  const timer = setInterval(() => sampleGroup(child.pid, seen), 20);
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  clearInterval(timer);
  const wall = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${args.slice(0, 8).join(' ')} … failed: ${err}`);
  return { wall, cpu: [...seen.values()].reduce((a, b) => a + b, 0) / TICK };
}

function photos(sharedDir) {
  const root = path.join(sharedDir, 'datasets', 'curation-dev');
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(jpe?g|png)$/i.test(e.name)) out.push(p);
    }
  };
  walk(root);
  return out;
}

/** With an access token, serve.py restricts inference and metadata to it and leaves the statistics open. */
const TOKEN = 'bench-remote-token';
const AUTH = { IMAGE_CLASSIFIER_REMOTE_HEADERS: JSON.stringify({ 'triton-access-token': TOKEN }) };

/** Triton's cumulative statistics of the model: queue and compute time (ns), executions and images. */
async function tritonStats(url) {
  const r = await fetch(`${url}/v2/models/resnet50/stats`).then((x) => x.json());
  const m = r.model_stats[0];
  const s = m.inference_stats;
  return {
    queueNs: Number(s.queue.ns),
    computeNs: Number(s.compute_infer.ns),
    executions: Number(m.execution_count),
    images: Number(m.inference_count),
  };
}

async function startTriton(python, modelFile, threads, log) {
  const port = await freePort();
  const args = [
    path.join(ROOT, 'deploy', 'pytriton', 'serve.py'),
    '--model',
    `resnet50=${modelFile}`,
    '--threads',
    String(threads),
    '--access-token',
    TOKEN,
  ];
  args.push('--http-port', String(port), '--grpc-port', String(await freePort()), '--metrics-port', String(await freePort()));
  const child = spawn(python, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 180_000;
  for (;;) {
    const ok = await fetch(`${url}/v2/models/resnet50/ready`, { headers: { 'triton-access-token': TOKEN } }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || Date.now() > end) throw new Error(`Triton did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  log(`  Triton on ${url} (pgid ${child.pid})`);
  return {
    url,
    pgid: child.pid,
    stop: () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    },
  };
}

export async function benchRemote({ log = console.error, sharedDir, quick = false } = {}) {
  const model = path.join(sharedDir, 'models', 'resnet50-torchvision-seed0.onnx');
  if (!existsSync(model)) return { skipped: `${model} not found` };
  const inst = spawnSync('bash', [path.join(ROOT, 'scripts', 'install-remote-server.sh')], { encoding: 'utf8', timeout: 20 * 60_000 });
  const python = inst.stdout?.trim().split('\n').pop();
  if (inst.status !== 0 || !python || !existsSync(python)) {
    log(`!!! remote bench skipped: no Triton environment (${(inst.stderr ?? '').trim().slice(-300)})`);
    return { skipped: 'no Triton environment (scripts/install-remote-server.sh failed)' };
  }
  const repo = mkdtempSync(path.join(tmpdir(), 'ic-bench-repo-'));
  const exp = spawnSync(process.execPath, [CLI, 'model', 'export-triton', repo, '--model', model, '--name', 'resnet50', '--no-progress'], {
    encoding: 'utf8',
  });
  if (exp.status !== 0) throw new Error(exp.stderr);
  const threads = cpus().length;
  const all = photos(sharedDir);
  const [n1, n2] = quick ? [16, 48] : [24, all.length];
  const depths = quick ? [1, 2, 4] : [1, 2, 4, 8];
  const triton = await startTriton(python, path.join(repo, 'resnet50', '1', 'model.onnx'), threads, log);
  const marginal = async (args, label) => {
    const server0 = groupCpu(triton.pgid);
    const a = await timedCli([...args, ...all.slice(0, n1)], AUTH);
    const server1 = groupCpu(triton.pgid);
    const st1 = await tritonStats(triton.url);
    const b = await timedCli([...args, ...all.slice(0, n2)], AUTH);
    const server2 = groupCpu(triton.pgid);
    const st2 = await tritonStats(triton.url);
    const n = n2 - n1;
    const r = {
      imagesPerSec: n / (b.wall - a.wall),
      // The share of the server's cores busy during the larger run (its CPU time over the run's wall time).
      serverBusy: (server2 - server1) / b.wall / threads,
      // Time requests waited in Triton's queue per unit of compute during the larger run: ≈ 0 when the server idles
      // between batches (the client is the bottleneck), ≥ 1 when a batch is always waiting (the server is kept busy).
      queuePerCompute: st2.computeNs > st1.computeNs ? (st2.queueNs - st1.queueNs) / (st2.computeNs - st1.computeNs) : 0,
      serverBatch: st2.executions > st1.executions ? (st2.images - st1.images) / (st2.executions - st1.executions) : 0,
      clientCpuMsPerImage: ((b.cpu - a.cpu) * 1000) / n,
      serverCpuMsPerImage: ((server2 - server1 - (server1 - server0)) * 1000) / n,
    };
    log(
      `  ${label}: ${r.imagesPerSec.toFixed(1)} img/s, client CPU ${r.clientCpuMsPerImage.toFixed(1)} ms/img, server CPU ${r.serverCpuMsPerImage.toFixed(1)} ms/img, server busy ${Math.round(r.serverBusy * 100)}%, queue/compute ${r.queuePerCompute.toFixed(2)}, server batch ${r.serverBatch.toFixed(1)}`,
    );
    return r;
  };
  try {
    const base = ['classify', '--format', 'jsonl', '--batch', '8', '--no-progress'];
    const remote = (depth, protocol = 'binary') => [
      ...base,
      '--remote',
      triton.url,
      '--remote-model',
      'resnet50',
      '--remote-inflight',
      String(depth),
      '--remote-protocol',
      protocol,
      // A generous timeout: on a shared machine a JSON batch can wait long for the CPU.
      '--remote-timeout',
      '300000',
    ];
    // Warm both (the local optimized-model cache, Triton's first batches).
    await timedCli([...base, '--model', model, ...all.slice(0, 4)]);
    await timedCli([...remote(2), ...all.slice(0, 8)], AUTH);
    const local = await marginal([...base, '--model', model], 'local (onnxruntime-node)');
    local.serverCpuMsPerImage = 0;
    const byDepth = {};
    for (const d of depths) byDepth[d] = await marginal(remote(d), `remote, ${d} in flight`);
    const json = await marginal(remote(4, 'json'), 'remote, 4 in flight, JSON tensors');
    const keepsBusy = keepsServerBusy(byDepth);
    return {
      date: new Date().toISOString(),
      load: loadavg()[0],
      cores: threads,
      images: [n1, n2],
      local,
      byDepth,
      json,
      keepsBusy,
      server: 'Triton 2.51 (PyTriton 0.7.0), onnxruntime 1.32 CPU',
    };
  } finally {
    triton.stop();
  }
}

/**
 * The smallest depth at which a batch is nearly always waiting when the server finishes one: requests wait in
 * Triton's queue at least 3/4 as long as they compute (at 1 in flight a request never waits and the server idles
 * while the client works; once a batch is always waiting, a request waits about one compute, since the dynamic
 * batcher merges whatever waits into the next, larger batch).
 */
function keepsServerBusy(byDepth) {
  const d = Object.keys(byDepth).find((k) => byDepth[k].queuePerCompute >= 0.75);
  return d === undefined ? null : Number(d);
}

const f1 = (x) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));

export function markdown(r) {
  if (!r || r.skipped) return `### Remote inference (Triton on this machine)\n\nSkipped: ${r?.skipped ?? 'not run'}.`;
  const pct = (x) => (x === undefined ? '-' : `${Math.round(x * 100)}%`);
  const lines = [
    '### Remote inference (Triton on this machine, loopback)',
    '',
    `${r.server}, the same seed-0 ResNet50 and ${r.cores} threads as the local backend, on the same ${r.cores} cores (load average ${f1(r.load)} when measured); CLI \`classify --batch 8\` on the curation-dev photos, marginal over ${r.images[0]} → ${r.images[1]} images. Client CPU: the CLI's process group (the CLI and its decoder processes: decode, preprocess, HTTP); server CPU: Triton's process group; server busy: its CPU time over the run's wall time and cores.`,
    '',
    '| backend | img/s | client CPU ms/img | server CPU ms/img | server busy | Triton queue / compute | server batch |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| local (onnxruntime-node in the CLI) | ${f1(r.local.imagesPerSec)} | ${f1(r.local.clientCpuMsPerImage)} | - | - | - | - |`,
  ];
  const f2 = (x) => (x === undefined ? '-' : x.toFixed(2));
  const row = (what, v) =>
    `| ${what} | ${f1(v.imagesPerSec)} | ${f1(v.clientCpuMsPerImage)} | ${f1(v.serverCpuMsPerImage)} | ${pct(v.serverBusy)} | ${f2(v.queuePerCompute)} | ${f1(v.serverBatch)} |`;
  for (const [d, v] of Object.entries(r.byDepth))
    lines.push(row(`remote, binary tensors, ${d} request${d === '1' ? '' : 's'} in flight`, v));
  lines.push(row('remote, JSON tensors, 4 in flight', r.json));
  lines.push(
    '',
    `In-flight depth that keeps the server busy (the smallest at which requests wait in Triton's queue at least 3/4 as long as they compute: a batch is nearly always ready when the server finishes one): ${keepsServerBusy(r.byDepth) ?? 'none of those measured'}.`,
  );
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const sharedDir = process.env.IMAGE_CLASSIFIER_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');
  const r = await benchRemote({ sharedDir, quick: process.argv.includes('--quick') });
  console.log(process.argv.includes('--json') ? JSON.stringify(r, null, 2) : markdown(r));
}
