/**
 * The server process under faults, end to end (the real `image-classifier serve --stdio` child, the real model):
 * the stream closing or signals in the middle of a batch, malformed frames, hostile params, huge batches, and the
 * inference worker dying.
 */
import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { fork, spawn } from 'node:child_process';
import { engineProcessEnv } from '@image-classifier/protocol/launch';
import { createMessageConnection, IPCMessageReader, IPCMessageWriter, type Message, StreamMessageReader } from 'vscode-jsonrpc/node';
import { type BatchItem, ClassifyBatchRequest, type ClassifyResult, ClassifyRequest, RpcErrorCodes } from '@image-classifier/protocol';
import { FIXTURE_IMAGES, sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';
import { Admission } from '../src/admission.js';
import { FrameGuard, parseHeader } from '../src/frame-guard.js';
import { BIN, type ServerHandle, startServer, rpcError, MOBILENET_INT8, CAT, uri, startReadyServer } from './server-client.js';

const shared = sharedDir();
const CRASH_INFERENCE_WORKER = '$/imageClassifier/test/crashInferenceWorker';

function rssMb(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0; // gone
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** Resolves with the exit, or rejects after `ms`. */
async function exitWithin(s: ServerHandle, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the server did not exit within ${ms} ms:\n${s.stderr()}`)), ms);
  });
  try {
    const r = await Promise.race([s.exited, timeout]);
    return { ...r, ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

/** Raw LSP framing on a server whose helper connection does not listen: send bytes, read answers. */
function raw(s: ServerHandle) {
  const received: Message[] = [];
  const waiters: Array<() => void> = [];
  new StreamMessageReader(s.child.stdout!).listen((m) => {
    received.push(m);
    for (const w of waiters.splice(0)) w();
  });
  s.child.stdin!.on('error', () => undefined); // EPIPE once the server has gone
  const answer = async (id: number) => {
    for (;;) {
      const m = received.find((x) => (x as { id?: unknown }).id === id);
      if (m) return m as { result?: unknown; error?: { code: number; message: string; data?: { code: string } } };
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  const frame = (body: string) => {
    const b = Buffer.from(body, 'utf8');
    s.child.stdin!.write(Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`), b]));
  };
  return { received, answer, frame, write: (x: string | Buffer) => s.child.stdin!.write(x) };
}

describe('frame guard (unit)', () => {
  test('parseHeader: Content-Length present, decimal, 0 < n ≤ limit; header lines well-formed', () => {
    assert.deepEqual(parseHeader('Content-Length: 12'), { length: 12 });
    assert.deepEqual(parseHeader('content-length:7\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8'), { length: 7 });
    assert.deepEqual(parseHeader('Content-Length: 3\r\nContent-Length: 3'), { length: 3 });
    for (const bad of [
      'Content-Type: x',
      'Content-Length: abc',
      'Content-Length: -1',
      'Content-Length: 1e3',
      'Content-Length: 0',
      'Content-Length: 1000000000000',
      'Content-Length: 3\r\nContent-Length: 4',
      '{"jsonrpc":"2.0"}Content-Length: 3',
      'Content-Length 3',
    ]) {
      assert.ok('error' in parseHeader(bad), bad);
    }
  });

  test('FrameGuard passes frames split anywhere and stops at the first bad one', () => {
    const reasons: string[] = [];
    const g = new FrameGuard({ onViolation: (r) => reasons.push(r) });
    const out: Buffer[] = [];
    g.on('data', (d: Buffer) => out.push(d));
    const good = Buffer.from('Content-Length: 2\r\n\r\n{}Content-Length: 4\r\n\r\nnull');
    for (let i = 0; i < good.length; i += 3) g.write(good.subarray(i, i + 3));
    g.write('Content-Length: x\r\n\r\n{}Content-Length: 2\r\n\r\n{}');
    assert.equal(Buffer.concat(out).toString(), good.toString());
    assert.equal(reasons.length, 1);
    assert.match(reasons[0]!, /not a decimal/);
    g.destroy();
  });
});

describe('admission fairness (unit)', () => {
  test('interactive waiters go newest, oldest, newest…; bulk only when no interactive one waits', async () => {
    const a = new Admission(1, 0);
    const order: string[] = [];
    const first = await a.acquire(true);
    const wait = (name: string, interactive: boolean) =>
      a.acquire(interactive).then((release) => {
        order.push(name);
        setImmediate(release);
      });
    const all = [wait('bulk', false), wait('i1', true), wait('i2', true), wait('i3', true), wait('i4', true)];
    first();
    await Promise.all(all);
    assert.deepEqual(order, ['i4', 'i1', 'i3', 'i2', 'bulk']);
  });
});

describe('server process under faults', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let work: string;
  let ws: string;
  let cat: string;
  let coffee: string;

  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'ic-fault-'));
    ws = path.join(work, 'ws');
    mkdirSync(ws, { recursive: true });
    cat = path.join(ws, 'cat.jpg');
    coffee = path.join(ws, 'coffee.jpg');
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'), cat);
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'), coffee);
  });

  async function ready(env: NodeJS.ProcessEnv = {}, name = 'cache'): Promise<ServerHandle> {
    return startReadyServer({ cacheDir: path.join(work, name), roots: [ws] }, env);
  }

  /** Cached round trips of `file` with nothing else running: the baseline the loaded figures are held to. */
  async function idleP90(s: ServerHandle, file: string): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t = performance.now();
      await s.conn.sendRequest(ClassifyRequest.type, { uri: uri(file) });
      times.push(performance.now() - t);
    }
    return pct(times, 90);
  }

  /** A batch that keeps inference busy (force: every item runs the model). */
  function busyBatch(s: ServerHandle, n: number, token = 'busy'): Promise<{ items: BatchItem[]; cancelled: boolean }> {
    const uris = Array.from({ length: n }, (_, i) => uri(i % 2 ? cat : coffee));
    return s.conn.sendRequest(ClassifyBatchRequest.type, { uris, force: true, workDoneToken: token });
  }

  async function untilProgress(s: ServerHandle, token: string): Promise<void> {
    const list = s.progress(token);
    while (!list.some((v) => (v as { kind?: string }).kind === 'report')) await new Promise((r) => setTimeout(r, 20));
  }

  for (const how of ['stdin closed', 'SIGTERM', 'SIGINT', 'shutdown + exit'] as const) {
    test(`${how} in the middle of a batch: exit code 0 within seconds, no abort`, async () => {
      const s = await ready({}, `cache-${how.replace(/\W+/g, '-')}`);
      const batch = busyBatch(s, 2000).catch(() => undefined);
      await untilProgress(s, 'busy');
      if (how === 'stdin closed') s.child.stdin!.end();
      else if (how === 'shutdown + exit') {
        await s.conn.sendRequest('shutdown');
        await s.conn.sendNotification('exit');
      } else s.child.kill(how);
      const r = await exitWithin(s, 8000);
      // Answered before the exit (cancelled, with what it finished), or lost with the stream.
      await Promise.race([batch, new Promise((r) => setTimeout(r, 500))]);
      assert.equal(r.signal, null, `killed by ${r.signal}:\n${s.stderr()}`);
      assert.equal(r.code, 0, s.stderr());
      assert.doesNotMatch(s.stderr(), /terminate called|Napi::Error|Aborted/);
      assert.match(s.stderr(), /shutting down/);
    });
  }

  test("the client process (--clientProcessId) dies mid-batch: orderly exit 0, not vscode-languageserver's process.exit", async () => {
    const client = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const s = startServer({}, ['--stdio', `--clientProcessId=${client.pid}`]);
    try {
      await s.initialize({ model: MOBILENET_INT8, cacheDir: path.join(work, 'cache-client'), roots: [ws] });
      await s.waitStatus((x) => x.state === 'ready');
      const batch = busyBatch(s, 4000, 'client').catch(() => undefined);
      await untilProgress(s, 'client');
      client.kill('SIGKILL');
      const r = await exitWithin(s, 12_000);
      await Promise.race([batch, new Promise((r) => setTimeout(r, 500))]);
      assert.equal(r.signal, null, `killed by ${r.signal}:\n${s.stderr()}`);
      assert.equal(r.code, 0, s.stderr());
      assert.match(s.stderr(), /the client process \d+ is gone/);
    } finally {
      client.kill('SIGKILL');
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  });

  test('node-ipc: the channel closing mid-batch ends the server in order (exit 0)', async () => {
    const child = fork(BIN, ['serve', '--node-ipc'], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'], env: engineProcessEnv(process.env) });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.on('exit', (code, signal) => r({ code, signal })),
    );
    const conn = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    let reports = 0;
    conn.onNotification('$/progress', (p: { value: { kind: string } }) => {
      if (p.value.kind === 'report') reports++;
    });
    conn.listen();
    try {
      await conn.sendRequest('initialize', {
        processId: process.pid,
        rootUri: null,
        capabilities: {},
        initializationOptions: { model: MOBILENET_INT8, cacheDir: path.join(work, 'cache-ipc'), roots: [ws] },
      });
      await conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) }); // waits for the model
      const uris = Array.from({ length: 4000 }, (_, i) => uri(i % 2 ? cat : coffee));
      void conn.sendRequest(ClassifyBatchRequest.type, { uris, force: true, workDoneToken: 'ipc' }).catch(() => undefined);
      while (reports === 0) await new Promise((r) => setTimeout(r, 20));
      child.disconnect();
      const r = await Promise.race([exited, new Promise<never>((_, j) => setTimeout(() => j(new Error(`no exit:\n${err}`)), 8000))]);
      assert.equal(r.signal, null, `killed by ${r.signal}:\n${err}`);
      assert.equal(r.code, 0, err);
      assert.match(err, /closed the IPC channel/);
    } finally {
      conn.dispose();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  const malformed: Array<[string, string | Buffer, RegExp]> = [
    ['missing Content-Length', 'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}', /no Content-Length/],
    ['non-numeric Content-Length', 'Content-Length: abc\r\n\r\n{}', /not a decimal/],
    ['negative Content-Length', 'Content-Length: -2\r\n\r\n{}', /not a decimal/],
    ['Content-Length too small', 'Content-Length: 5\r\n\r\n{"jsonrpc":"2.0","method":"nothing"}', /malformed header line/],
    ['garbage instead of a header', '{"jsonrpc":"2.0","id":1,"method":"shutdown"}\r\n\r\n', /malformed header line/],
  ];
  for (const [what, bytes, reason] of malformed) {
    test(`malformed frame (${what}): the reason is logged and the process exits (code 1)`, async () => {
      const s = startServer({}, ['--stdio'], { listen: false });
      const io = raw(s);
      io.write(bytes);
      // Later requests would be misread: the server gives up on the stream instead of going deaf.
      for (let i = 0; i < 5; i++) io.frame(`{"jsonrpc":"2.0","id":${i + 1},"method":"imageClassifier/modelInfo"}`);
      const r = await exitWithin(s, 5000);
      assert.equal(r.code, 1, s.stderr());
      assert.match(s.stderr(), /malformed message frame/);
      assert.match(s.stderr(), reason);
    });
  }

  test('malformed frame (Content-Length larger than the body): exits once the frame stalls', async () => {
    const s = startServer({ IMAGE_CLASSIFIER_FRAME_STALL_MS: '500' }, ['--stdio'], { listen: false });
    const io = raw(s);
    io.write('Content-Length: 400\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"imageClassifier/modelInfo"}');
    const r = await exitWithin(s, 5000);
    assert.equal(r.code, 1, s.stderr());
    assert.match(s.stderr(), /waited 500 ms for \d+ bytes of a message body/);
  });

  test('malformed frame (Content-Length 10¹²): refused at the header, memory does not grow', async () => {
    const s = startServer({}, ['--stdio'], { listen: false });
    const io = raw(s);
    await new Promise((r) => setTimeout(r, 300));
    const before = rssMb(s.child.pid);
    io.write('Content-Length: 1000000000000\r\n\r\n');
    const chunk = Buffer.alloc(1 << 20, 0x61);
    let peak = before;
    for (let i = 0; i < 64 && s.child.exitCode === null; i++) {
      io.write(chunk);
      peak = Math.max(peak, rssMb(s.child.pid));
      await new Promise((r) => setTimeout(r, 5));
    }
    const r = await exitWithin(s, 5000);
    assert.equal(r.code, 1, s.stderr());
    assert.match(s.stderr(), /Content-Length 1000000000000 exceeds the limit/);
    assert.ok(peak - before < 64, `RSS grew from ${before.toFixed(0)} to ${peak.toFixed(0)} MB`);
  });

  test('hostile params: [p, null], a 10⁵-deep uri, a 1 MB uri → INVALID_ARGUMENT, quickly', async () => {
    const s = startServer({}, ['--stdio'], { listen: false });
    const io = raw(s);
    try {
      const init = {
        processId: null,
        rootUri: null,
        capabilities: {},
        initializationOptions: { model: MOBILENET_INT8, cacheDir: path.join(work, 'c-p'), roots: [ws] },
      };
      io.frame(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: init }));
      await io.answer(1);
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      const huge = JSON.stringify(`/${'a'.repeat(1_000_000)}`);
      const cases: Array<[number, string, string]> = [
        [2, 'classify', `[{"uri":${JSON.stringify(uri(cat))}},null]`],
        [3, 'classify', `{"uri":${deep}}`],
        [4, 'classify', `{"uri":${huge}}`],
        [5, 'classifyBatch', `[{"uris":[]},null]`],
        [6, 'classifyBatch', `{"uris":{"deep":${deep}}}`],
        [7, 'classify', `{"uri":{"a":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}}`],
        [8, 'classify', 'null'],
      ];
      for (const [id, method, params] of cases) {
        const t0 = performance.now();
        io.frame(`{"jsonrpc":"2.0","id":${id},"method":"imageClassifier/${method}","params":${params}}`);
        const a = await io.answer(id);
        const ms = performance.now() - t0;
        assert.equal(a.error?.code, RpcErrorCodes.INVALID_ARGUMENT, `${id}: ${JSON.stringify(a).slice(0, 300)}`);
        assert.equal(a.error?.data?.code, 'INVALID_ARGUMENT');
        assert.ok(a.error!.message.length < 300, `${id}: a short sentence`);
        assert.ok(ms < 1000, `${id}: answered in ${ms.toFixed(0)} ms`);
      }
      // A batch item that is not a string, or too long, fails alone.
      io.frame(
        `{"jsonrpc":"2.0","id":9,"method":"imageClassifier/classifyBatch","params":{"uris":[${deep},${huge},${JSON.stringify(uri(cat))}]}}`,
      );
      const b = (await io.answer(9)).result as { items: BatchItem[] };
      assert.deepEqual(
        b.items.map((i) => i.error?.code ?? 'ok'),
        ['INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'ok'],
      );
      assert.ok(b.items[1]!.uri.length < 400);
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  test('a batch of 10⁶ URIs is refused at once; 10⁵ missing files are answered while a cached classify stays fast', async () => {
    const s = await ready({}, 'cache-big');
    try {
      const first = await s.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
      assert.equal(first.predictions[0]!.index, CAT);
      // Shared cores: the bound is 50 ms or 8 × the idle p90 on this machine right now, whichever is larger (the
      // median must stay under it, the p90 under twice it); the figures are printed.
      const bound = Math.max(50, 8 * (await idleP90(s, cat)));
      const million = Array.from({ length: 1_000_000 }, (_, i) => `/nowhere/${i}.jpg`);
      let t0 = performance.now();
      const e = await rpcError(s.conn.sendRequest(ClassifyBatchRequest.type, { uris: million }));
      assert.equal(e.data?.code, 'INVALID_ARGUMENT');
      assert.match(e.message, /limit is 100000/);
      assert.ok(performance.now() - t0 < 5000, `refused in ${(performance.now() - t0).toFixed(0)} ms`);
      const missing = Array.from({ length: 100_000 }, (_, i) => path.join(ws, 'missing', `${i}.jpg`));
      t0 = performance.now();
      let done = false;
      const batch = s.conn.sendRequest(ClassifyBatchRequest.type, { uris: missing }).finally(() => {
        done = true;
      });
      const times: number[] = [];
      let peak = 0;
      while (!done) {
        const t = performance.now();
        const r: ClassifyResult = await s.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
        if (!done) times.push(performance.now() - t);
        assert.equal(r.cached, true);
        peak = Math.max(peak, rssMb(s.child.pid));
      }
      const result = await batch;
      const secs = (performance.now() - t0) / 1000;
      assert.equal(result.items.length, 100_000);
      assert.ok(result.items.every((i) => i.error?.code === 'FILE_NOT_FOUND'));
      const line = `cached classify during a 10⁵-missing-file batch (${secs.toFixed(1)} s): p50 ${pct(times, 50).toFixed(1)} p90 ${pct(times, 90).toFixed(1)} p99 ${pct(times, 99).toFixed(1)} ms (n=${times.length}), peak RSS ${peak.toFixed(0)} MB`;
      process.stderr.write(`${line}\n`);
      assert.ok(secs < 60, line);
      assert.ok(pct(times, 50) <= bound && pct(times, 90) <= 2 * bound, `${line}; bound ${bound.toFixed(1)} ms`);
      assert.ok(peak < 1024, line);
    } finally {
      await s.stop();
    }
  });

  test('400 concurrent uncached classify requests: a cached hover stays fast, a new uncached hover goes ahead', async () => {
    const s = await ready({}, 'cache-flood');
    try {
      await s.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
      const bound = Math.max(50, 8 * (await idleP90(s, cat)));
      let left = 400;
      const t0 = performance.now();
      const flood = Array.from({ length: 400 }, (_, i) =>
        s.conn.sendRequest(ClassifyRequest.type, { uri: uri(i % 2 ? cat : coffee), force: true }).finally(() => left--),
      );
      const times: number[] = [];
      for (let i = 0; i < 20 && left > 0; i++) {
        const t = performance.now();
        const r = await s.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
        if (left > 0) times.push(performance.now() - t);
        assert.equal(r.cached, true);
        await new Promise((r) => setTimeout(r, 5));
      }
      const t = performance.now();
      const hover = await s.conn.sendRequest(ClassifyRequest.type, { uri: uri(coffee), force: true });
      const hoverMs = performance.now() - t;
      const waitingThen = left;
      await Promise.all(flood);
      const floodMs = performance.now() - t0;
      const line = `flood of 400: ${floodMs.toFixed(0)} ms; uncached hover ${hoverMs.toFixed(0)} ms with ${waitingThen} still waiting; cached p50 ${pct(times, 50).toFixed(1)} p90 ${pct(times, 90).toFixed(1)} max ${Math.max(...times).toFixed(1)} ms`;
      process.stderr.write(`${line}\n`);
      assert.equal(hover.cached, false);
      assert.ok(waitingThen > 50, `the flood was still running (${line})`);
      assert.ok(hoverMs < floodMs / 4, line);
      assert.ok(pct(times, 50) <= bound && pct(times, 90) <= 2 * bound, `${line}; bound ${bound.toFixed(1)} ms`);
    } finally {
      await s.stop();
    }
  });

  test('the inference worker dies mid-batch: its images fail with INFERENCE_FAILED, a fresh worker answers the rest', async () => {
    const s = await ready({ IMAGE_CLASSIFIER_TEST_HOOKS: '1' }, 'cache-crash');
    try {
      const batch = busyBatch(s, 300, 'crash');
      await untilProgress(s, 'crash');
      const r = (await s.conn.sendRequest(CRASH_INFERENCE_WORKER)) as { crashed: boolean };
      assert.equal(r.crashed, true);
      const { items } = await batch;
      assert.equal(items.length, 300);
      const failed = items.filter((i) => i.error);
      assert.ok(failed.length >= 1 && failed.length <= 16, `${failed.length} failed`);
      for (const f of failed) {
        assert.equal(f.error!.code, 'INFERENCE_FAILED');
        assert.match(f.error!.message, /inference worker exited/);
      }
      const lastOk = items.findLastIndex((i) => !i.error);
      assert.ok(lastOk > items.findIndex((i) => i.error), 'items after the crash were classified');
      const next = await s.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat), force: true });
      assert.equal(next.predictions[0]!.index, CAT);
    } finally {
      await s.stop();
    }
  });
});
