/**
 * Caches that degrade, never break, and settings that are never trusted: the real server child process (real
 * MobileNetV2 int8 model) against an unwritable, full, read-only or folder-shaped cache, two servers sharing one
 * cache across a clearCache, hostile initializationOptions; and the CLI's text output of hostile file names.
 */
import { strict as assert } from 'node:assert';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClassifyBatchRequest, ClassifyRequest, ClearCacheRequest, RpcErrorCodes, type ServerSettings } from '@image-classifier/protocol';
import { FIXTURE_IMAGES, sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';
import { ResultCache } from '../src/result-cache.js';
import { BIN, type ServerHandle, startServer, rpcError, MOBILENET_INT8, CAT, ESPRESSO } from './server-client.js';

const shared = sharedDir();
const T = { timeout: 180_000 };

interface Img {
  file: string;
  cat: boolean;
}

/** `n` distinct files (distinct content hashes: trailing bytes after the JPEG's end), alternately cat and coffee. */
function variants(dir: string, n: number, prefix = 'v'): Img[] {
  mkdirSync(dir, { recursive: true });
  const cat = readFileSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'));
  const coffee = readFileSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'));
  const out: Img[] = [];
  for (let i = 0; i < n; i++) {
    const isCat = i % 2 === 0;
    const file = path.join(dir, `${prefix}${String(i).padStart(3, '0')}.jpg`);
    writeFileSync(file, Buffer.concat([isCat ? cat : coffee, Buffer.from(`${prefix}-${i}-${process.pid}`)]));
    out.push({ file, cat: isCat });
  }
  return out;
}

function mount(dir: string, options: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function umount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    // not mounted
  }
}

/** Every file under `dir` (recursively), relative. */
function listAll(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: false }) as string[];
}

async function start(settings: ServerSettings, extra: Record<string, unknown> = {}): Promise<ServerHandle> {
  const srv = startServer({ IMAGE_CLASSIFIER_CACHE_DIR: path.join(os.tmpdir(), 'ic-fault-env-cache') });
  await srv.initialize({ model: MOBILENET_INT8, ...settings }, extra);
  return srv;
}

async function ready(srv: ServerHandle): Promise<void> {
  const s = await srv.waitStatus((x) => x.state === 'ready' || x.state === 'error');
  assert.equal(s.state, 'ready', `model failed to load: ${s.message}\n${srv.stderr()}`);
}

/** Classifies `imgs` in one batch; asserts every label; returns how many were cache hits. */
async function classifyAll(srv: ServerHandle, imgs: Img[]): Promise<number> {
  const r = await srv.conn.sendRequest(ClassifyBatchRequest.type, { uris: imgs.map((i) => i.file), topK: 1 });
  assert.equal(r.items.length, imgs.length);
  let hits = 0;
  for (const item of r.items) {
    const img = imgs.find((i) => i.file === item.uri || `file://${i.file}` === item.uri);
    assert.ok(img, `unexpected uri ${item.uri}`);
    assert.equal(item.error, undefined, `${item.uri}: ${JSON.stringify(item.error)}`);
    assert.equal(item.predictions![0]!.index, img.cat ? CAT : ESPRESSO, `${item.uri} (cached: ${item.cached})`);
    if (item.cached) hits++;
  }
  return hits;
}

describe('ResultCache shared by two processes (in process)', () => {
  const value = (i: number) => ({ p: [{ index: i, label: `class ${i}`, probability: 0.5 }], w: 1, h: 1 });
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test("one's clear is seen by the other (log identity), whose later writes land in the live log", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ic-fault-rc-'));
    const a = ResultCache.open<ReturnType<typeof value>>(dir);
    const logs: string[] = [];
    const b = ResultCache.open<ReturnType<typeof value>>(dir, (m) => logs.push(m));
    for (let i = 0; i < 5; i++) b.put(`m:${i}`, value(i));
    b.flush();
    assert.deepEqual(b.get('m:1'), value(1));
    assert.equal(a.clear(), 5, "a counts b's results, which it never read");
    await wait(150);
    assert.equal(b.get('m:1'), undefined, 'cleared: not served from the old (unlinked) log');
    assert.ok(logs.some((l) => /was replaced/.test(l)));
    b.put('m:9', value(9));
    b.close();
    a.close();
    const c = ResultCache.open<ReturnType<typeof value>>(dir);
    assert.equal(c.entries, 1);
    assert.deepEqual(c.get('m:9'), value(9));
    c.close();
  });

  test('a deleted log (the embeddings log removed unread by clearCache) is started again', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ic-fault-rc-'));
    const a = ResultCache.open<ReturnType<typeof value>>(dir);
    a.put('k', value(1));
    a.flush();
    rmSync(a.file);
    await wait(150);
    assert.equal(a.get('k'), undefined);
    a.put('k2', value(2));
    a.close();
    assert.deepEqual(ResultCache.open<ReturnType<typeof value>>(dir).get('k2'), value(2));
  });

  test('a path that is a folder or under a file: a memory-only cache, no throw, no temp file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ic-fault-rc-'));
    mkdirSync(path.join(dir, 'results-v1.log'));
    writeFileSync(path.join(dir, 'file'), '');
    for (const d of [dir, path.join(dir, 'file', 'sub')]) {
      const logs: string[] = [];
      const c = ResultCache.open<ReturnType<typeof value>>(d, (m) => logs.push(m));
      assert.equal(c.stats.mode, 'memory');
      c.put('k', value(3));
      c.flush();
      assert.deepEqual(c.get('k'), value(3));
      assert.equal(c.clear(), 1);
      assert.equal(c.get('k'), undefined);
      c.close();
      assert.ok(logs.some((l) => /memory only/.test(l)));
    }
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });
});

describe('caches that degrade, never break', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let work: string;
  const mounts: string[] = [];
  before(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ic-fault-'));
  });
  after(() => {
    for (const m of mounts) umount(m);
  });

  test('an unusable cache folder (its parent is a file): the model loads, answers are right and cached in memory', T, async () => {
    writeFileSync(path.join(work, 'a-file'), 'not a folder');
    const imgs = variants(path.join(work, 'ws-unusable'), 4);
    const srv = await start({ cacheDir: path.join(work, 'a-file', 'cache') });
    try {
      await ready(srv);
      assert.equal(await classifyAll(srv, imgs), 0);
      assert.equal(await classifyAll(srv, imgs), imgs.length, 'served from memory');
      const log = srv.stderr();
      assert.match(log, /optimized-model cache not written/);
      assert.match(log, /keeping results in memory only/);
      assert.doesNotMatch(log, /model failed|Protobuf|operators this runtime/);
    } finally {
      await srv.stop();
    }
  });

  test('a full disk (64 KiB tmpfs): the model loads without its optimized copy, writes stop, answers go on', T, async (t) => {
    const dir = path.join(work, 'full');
    mkdirSync(dir);
    if (!mount(dir, 'size=64k')) {
      t.skip('cannot mount a tmpfs here (needs root with mount privileges)');
      return;
    }
    mounts.push(dir);
    const imgs = variants(path.join(work, 'ws-full'), 120);
    const srv = await start({ cacheDir: dir });
    try {
      await ready(srv);
      assert.equal(await classifyAll(srv, imgs), 0);
      await new Promise((r) => setTimeout(r, 100)); // the buffered appends are written (and fail)
      assert.equal(await classifyAll(srv, imgs), imgs.length, 'every answer still served (disk or memory)');
      const log = srv.stderr();
      assert.match(log, /optimized-model cache not written/);
      assert.match(log, /write failed \(ENOSPC/);
      assert.doesNotMatch(log, /model failed|operators this runtime/);
      assert.deepEqual(
        listAll(dir).filter((f) => f.endsWith('.tmp')),
        [],
      );
    } finally {
      await srv.stop();
    }
    // What reached the disk is whole and right: a new server serves it (and computes the rest) with no wrong label.
    const again = await start({ cacheDir: dir });
    try {
      await ready(again);
      const hits = await classifyAll(again, imgs);
      assert.ok(hits > 0 && hits < imgs.length, `some results were saved before the disk filled (${hits})`);
      assert.deepEqual(
        listAll(dir).filter((f) => f.endsWith('.tmp')),
        [],
      );
    } finally {
      await again.stop();
    }
  });

  test('a read-only warm cache serves its hits (and the model its optimized copy)', T, async (t) => {
    const dir = path.join(work, 'ro');
    mkdirSync(dir);
    if (!mount(dir, 'size=64m')) {
      t.skip('cannot mount a tmpfs here (needs root with mount privileges)');
      return;
    }
    mounts.push(dir);
    const imgs = variants(path.join(work, 'ws-ro'), 40);
    const warm = await start({ cacheDir: dir });
    try {
      await ready(warm);
      assert.equal(await classifyAll(warm, imgs), 0);
    } finally {
      await warm.stop();
    }
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    const srv = await start({ cacheDir: dir });
    try {
      await ready(srv);
      assert.equal(await classifyAll(srv, imgs), imgs.length, 'every result from the read-only cache');
      assert.match(srv.stderr(), /model ready: .*optimized-model cache hit/);
      assert.match(srv.stderr(), /is read-only .*serving its 40 results/);
      // New results are answered (and kept in memory), never written.
      const fresh = variants(path.join(work, 'ws-ro-new'), 4, 'n');
      assert.equal(await classifyAll(srv, fresh), 0);
      assert.equal(await classifyAll(srv, fresh), fresh.length);
      // clearCache cannot clear a read-only log: it answers, and forgets in this server.
      const cleared = await srv.conn.sendRequest(ClearCacheRequest.type, {});
      assert.ok(cleared.removed >= 40);
      assert.equal(await classifyAll(srv, imgs.slice(0, 2)), 0);
    } finally {
      await srv.stop();
    }
  });

  test('the log path is a folder: no temp file is leaked, start after start; stale temps of dead servers go', T, async () => {
    const cacheDir = path.join(work, 'log-folder');
    const results = path.join(cacheDir, 'results');
    mkdirSync(path.join(results, 'results-v1.log'), { recursive: true });
    let dead = 999_999;
    while (dead > 2) {
      try {
        process.kill(dead, 0);
        dead--;
      } catch {
        break;
      }
    }
    writeFileSync(path.join(results, `embeddings-v1.log.${dead}.tmp`), 'left by a crashed server');
    const imgs = variants(path.join(work, 'ws-folder'), 2);
    for (let round = 0; round < 2; round++) {
      const srv = await start({ cacheDir });
      try {
        await ready(srv);
        assert.equal(await classifyAll(srv, imgs), 0, 'nothing on disk to hit');
        assert.equal(await classifyAll(srv, imgs), imgs.length, 'hits from memory');
        // The embeddings' log opens (and sweeps) on first use.
        await srv.conn.sendRequest(ClassifyRequest.type, { uri: imgs[0]!.file, embedding: true });
        assert.match(srv.stderr(), /keeping results in memory only/);
      } finally {
        await srv.stop();
      }
      assert.deepEqual(
        readdirSync(results).filter((f) => f.endsWith('.tmp')),
        [],
        `round ${round}`,
      );
    }
  });

  test("two servers sharing a cache: one's clearCache is seen by the other, whose new results go to the live log", T, async () => {
    const cacheDir = path.join(work, 'shared-cache');
    const imgs = variants(path.join(work, 'ws-shared'), 4);
    const a = await start({ cacheDir });
    const b = await start({ cacheDir });
    try {
      await Promise.all([ready(a), ready(b)]);
      assert.equal(await classifyAll(b, imgs), 0);
      assert.equal(await classifyAll(b, imgs), imgs.length);
      await new Promise((r) => setTimeout(r, 100)); // b's appends are written
      const { removed } = await a.conn.sendRequest(ClearCacheRequest.type, {});
      assert.ok(removed >= imgs.length, `a saw b's results (${removed})`);
      await new Promise((r) => setTimeout(r, 250)); // past the identity-check interval
      assert.equal(await classifyAll(b, imgs), 0, 'b does not serve the cleared results');
      assert.match(b.stderr(), /was replaced \(cleared or compacted by another server\)/);
      await new Promise((r) => setTimeout(r, 100));
      const log = readFileSync(path.join(cacheDir, 'results', 'results-v1.log'), 'utf8');
      assert.equal(log.split('\n').filter((l) => l.includes('"t":"r"')).length, imgs.length, "b's new results are in the live log");
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    const c = await start({ cacheDir });
    try {
      await ready(c);
      assert.equal(await classifyAll(c, imgs), imgs.length, 'a third server finds them');
    } finally {
      await c.stop();
    }
  });
});

describe('hostile settings, end to end', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let work: string;
  let ws: string;
  let cat: string;
  let outsideFile: string;
  before(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ic-fault-settings-'));
    ws = path.join(work, 'ws');
    mkdirSync(ws);
    cat = path.join(ws, 'cat.jpg');
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'), cat);
    outsideFile = path.join(work, 'outside.jpg');
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'), outsideFile);
  });

  test('roots as a string with no workspace folders: refused and logged, nothing readable (never "/")', T, async () => {
    const srv = await start({ cacheDir: path.join(work, 'cache'), roots: ws } as unknown as ServerSettings);
    try {
      await ready(srv);
      for (const f of [cat, outsideFile, '/etc/hostname']) {
        const e = await rpcError(srv.conn.sendRequest(ClassifyRequest.type, { uri: f }));
        assert.equal(e.code, RpcErrorCodes.OUTSIDE_WORKSPACE, f);
      }
      assert.match(srv.stderr(), /settings: roots: must be a list of absolute paths/);
      // Still serving: valid roots from a configuration change take effect.
      await srv.conn.sendNotification('workspace/didChangeConfiguration', { settings: { imageClassifier: { roots: [ws] } } });
      await ready(srv);
      const r = await srv.conn.sendRequest(ClassifyRequest.type, { uri: cat });
      assert.equal(r.predictions[0]!.index, CAT);
      const e = await rpcError(srv.conn.sendRequest(ClassifyRequest.type, { uri: outsideFile }));
      assert.equal(e.code, RpcErrorCodes.OUTSIDE_WORKSPACE);
    } finally {
      await srv.stop();
    }
  });

  test('roots {}, cacheDir 123, maxBatch "abc", threads 4096, topK 0: each refused with a log line, the server serves', T, async () => {
    const hostile = { roots: {}, cacheDir: 123, maxBatch: 'abc', threads: 4096, topK: 0, maxQueue: -1, maxDelayMs: 1e9 };
    const srv = await start(hostile as unknown as ServerSettings, { rootUri: `file://${ws}` });
    try {
      await ready(srv);
      const log = srv.stderr();
      for (const key of Object.keys(hostile)) assert.match(log, new RegExp(`settings: ${key}: `), key);
      // topK 0 → the default 5; maxBatch "abc" → 8: a batch is dispatched and answered.
      const one = await srv.conn.sendRequest(ClassifyRequest.type, { uri: cat });
      assert.equal(one.predictions.length, 5);
      assert.equal(one.predictions[0]!.index, CAT);
      const imgs = variants(path.join(ws, 'batch'), 6);
      assert.equal(await classifyAll(srv, imgs), 0);
      const e = await rpcError(srv.conn.sendRequest(ClassifyRequest.type, { uri: outsideFile }));
      assert.equal(e.code, RpcErrorCodes.OUTSIDE_WORKSPACE, 'the workspace folder still bounds reads');
      // threads 4096 refused: the process has nowhere near that many threads.
      const threads = Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${srv.child.pid}/status`, 'utf8'))?.[1]);
      assert.ok(threads < os.availableParallelism() * 2 + 64, `${threads} threads`);
      // The same through a configuration change, then a default topK of "x".
      await srv.conn.sendNotification('workspace/didChangeConfiguration', {
        settings: { imageClassifier: { roots: '/', topK: 'x', maxBatch: 'abc' } },
      });
      await new Promise((r) => setTimeout(r, 200));
      await ready(srv);
      assert.equal((await srv.conn.sendRequest(ClassifyRequest.type, { uri: cat })).predictions.length, 5);
      const e2 = await rpcError(srv.conn.sendRequest(ClassifyRequest.type, { uri: outsideFile }));
      assert.equal(e2.code, RpcErrorCodes.OUTSIDE_WORKSPACE, 'roots "/" from a configuration change is refused');
      assert.match(srv.stderr(), /settings: topK: must be an integer \(got "x"\)/);
    } finally {
      await srv.stop();
    }
  });

  test('a missing labels file is a model error (1006, LABELS_INVALID), not the image code 1001; a fix reloads', T, async () => {
    const srv = await start(
      { cacheDir: path.join(work, 'cache'), labels: path.join(work, 'no-such-labels.txt') },
      { rootUri: `file://${ws}` },
    );
    try {
      const s = await srv.waitStatus((x) => x.state === 'ready' || x.state === 'error');
      assert.equal(s.state, 'error');
      const e = await rpcError(srv.conn.sendRequest(ClassifyRequest.type, { uri: cat }));
      assert.equal(e.code, RpcErrorCodes.MODEL_LOAD_FAILED);
      assert.notEqual(e.code, RpcErrorCodes.FILE_NOT_FOUND);
      assert.equal(e.data?.code, 'LABELS_INVALID');
      assert.match(e.message, /labels file/);
      await srv.conn.sendNotification('workspace/didChangeConfiguration', { settings: { imageClassifier: { labels: '' } } });
      await srv.waitStatus((x) => x.state === 'ready');
      assert.equal((await srv.conn.sendRequest(ClassifyRequest.type, { uri: cat })).predictions[0]!.index, CAT);
    } finally {
      await srv.stop();
    }
  });
});

describe('CLI text output of hostile file names', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  test('newlines and escape sequences in names are escaped, never printed raw', T, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ic-fault-cli-'));
    const name = 'evil\nline\u001b[31mred\u0007.jpg';
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'), path.join(dir, name));
    writeFileSync(path.join(dir, 'bad\r\u009bname.jpg'), 'not an image');
    const out = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(
        process.execPath,
        [BIN, 'classify', '--model', MOBILENET_INT8, '--format', 'text', '--top-k', '1', '--no-progress', dir],
        { env: { ...process.env, IMAGE_CLASSIFIER_CACHE_DIR: path.join(dir, '.cache') } },
        (err, stdout, stderr) => (err && !stdout ? reject(err) : resolve({ stdout, stderr })),
      ),
    );
    assert.doesNotMatch(out.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no raw control bytes');
    const lines = out.stdout.split('\n');
    assert.ok(lines.includes(`${dir}/evil\\nline\\u001b[31mred\\u0007.jpg`), out.stdout);
    assert.ok(lines.includes(`${dir}/bad\\r\\u009bname.jpg`), out.stdout);
    assert.match(out.stdout, /Egyptian cat {2}\(285\)/);
    rmSync(dir, { recursive: true, force: true });
  });

  test('--threads 4096, --top-k 0 and --batch 1e9 are usage errors, as the server refuses them', async () => {
    for (const args of [
      ['--threads', '4096'],
      ['--top-k', '0'],
      ['--batch', '1000000000'],
    ]) {
      const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(process.execPath, [BIN, 'classify', '--model', MOBILENET_INT8, ...args, FIXTURE_IMAGES], (err, _o, stderr) =>
          resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr }),
        ),
      );
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, new RegExp(`${args[0]} must be an integer`));
    }
  });
});
