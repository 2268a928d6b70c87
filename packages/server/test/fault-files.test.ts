/**
 * Files that change under the server: a checked folder or file swapped for a symlink to outside the roots (or for a
 * FIFO) between the check and the read, images and models edited in place with their mtime put back, a FIFO as the
 * model, names starting with `..` inside a root. The real server child process, the real MobileNetV2 int8 model.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import { ClassifierError, readImageFile } from '@image-classifier/core';
import type { ResponseError } from 'vscode-jsonrpc/node';
import { ClassifyBatchRequest, ClassifyRequest, ModelInfoRequest, RpcErrorCodes } from '@image-classifier/protocol';
import { FIXTURE_IMAGES, sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';
import { ResultCache } from '../src/result-cache.js';
import { inside, Roots } from '../src/roots.js';
import { startServer, rpcError, MOBILENET_INT8, CAT, ESPRESSO, uri } from './server-client.js';

const shared = sharedDir();
const CAT_JPG = path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg');
const COFFEE_JPG = path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg');
const SKIP = !shared ? SKIP_NO_SHARED : process.platform !== 'linux' ? 'SKIPPED: needs mkfifo and /proc (Linux)' : false;

/** `p`, or a failure after `ms` (a hang fails the test instead of stalling the suite). */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

function mkfifo(file: string): void {
  execFileSync('mkfifo', [file]);
}

/** Copies `from`'s access and modification times to `to` exactly (nanoseconds), as `touch -r` does. */
function copyTimes(from: string, to: string): void {
  execFileSync('touch', ['-r', from, to]);
}

/** The two photos padded with zeros to one size (JPEG decoders stop at the end-of-image marker). */
function sameSizePhotos(): { cat: Buffer; coffee: Buffer } {
  const a = readFileSync(CAT_JPG);
  const b = readFileSync(COFFEE_JPG);
  const n = Math.max(a.length, b.length);
  return { cat: Buffer.concat([a, Buffer.alloc(n - a.length)]), coffee: Buffer.concat([b, Buffer.alloc(n - b.length)]) };
}

/** Rewrites `file` in place (same inode) with `bytes`, then puts its mtime back; asserts size, mtime, inode kept. */
function rewriteKeepingStat(file: string, bytes: Buffer, edit?: (fd: number) => void): void {
  const ref = `${file}.times`;
  writeFileSync(ref, '');
  copyTimes(file, ref);
  const before = statSync(file);
  const fd = openSync(file, 'r+');
  try {
    if (edit) edit(fd);
    else writeSync(fd, bytes, 0, bytes.length, 0);
  } finally {
    closeSync(fd);
  }
  copyTimes(ref, file);
  rmSync(ref);
  const now = statSync(file);
  assert.deepEqual(
    [now.size, now.mtimeMs, now.ino, now.dev],
    [before.size, before.mtimeMs, before.ino, before.dev],
    'the edit keeps size, mtime, inode',
  );
  assert.notEqual(now.ctimeMs, before.ctimeMs, 'only ctime tells the edit');
}

function top(r: { predictions: Array<{ index: number }> }): number {
  return r.predictions[0]!.index;
}

/** The ClassifierError code `f` throws ('OK' if none). */
async function codeOf(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof ClassifierError, String(e));
    return e.code;
  }
  return 'OK';
}

describe('opening files: the parts', { skip: process.platform !== 'linux' ? 'SKIPPED: needs mkfifo and /proc (Linux)' : false }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'ic-fault-parts-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('inside(): a name starting with .. is inside, the segment .. is not', () => {
    assert.equal(inside('/ws/..foo.jpg', '/ws'), true);
    assert.equal(inside('/ws/..dir/b.jpg', '/ws'), true);
    assert.equal(inside('/ws/...', '/ws'), true);
    assert.equal(inside('/ws', '/ws'), true);
    assert.equal(inside('/outside.jpg', '/ws'), false);
    assert.equal(inside('/ws-evil/x.jpg', '/ws'), false);
    assert.equal(inside('/', '/ws'), false);
  });

  test('Roots.open: FIFO refused without blocking; a folder swapped for a symlink after realpath is caught on the descriptor', async () => {
    const ws = path.join(work, 'ws');
    const out = path.join(work, 'out');
    mkdirSync(path.join(ws, 'd'), { recursive: true });
    mkdirSync(path.join(out, 'd'), { recursive: true });
    writeFileSync(path.join(ws, 'd', 'a.jpg'), 'inside');
    writeFileSync(path.join(out, 'd', 'a.jpg'), 'outside');
    mkfifo(path.join(ws, 'pipe.jpg'));
    const roots = new Roots([ws]);
    assert.equal(await codeOf(() => roots.resolve(path.join(ws, 'pipe.jpg'))), 'NOT_A_FILE');
    assert.equal(await codeOf(() => readImageFile(path.join(ws, 'pipe.jpg'))), 'NOT_A_FILE', 'the CLI reader too');
    const o = roots.open(path.join(ws, 'd', 'a.jpg'));
    closeSync(o.fd);
    assert.equal(o.path, path.join(ws, 'd', 'a.jpg'));
    // The swap lands between the path check and the open: what is opened is outside, and refused.
    renameSync(path.join(ws, 'd'), path.join(ws, 'd.real'));
    symlinkSync(path.join(out, 'd'), path.join(ws, 'd'));
    const swapped = new Roots([ws]) as unknown as { realpath: (f: string) => string };
    swapped.realpath = (f) => f; // as if realpath had run before the swap
    assert.equal(await codeOf(() => (swapped as unknown as Roots).open(path.join(ws, 'd', 'a.jpg'))), 'OUTSIDE_WORKSPACE');
  });

  test('file index: ctime/inode/device kept across a reopen; entries without them (older logs) miss', () => {
    const dir = path.join(work, 'cache');
    const a = ResultCache.open(dir);
    const stamp = { ctimeMs: 1.5, ino: 7, dev: 9 };
    a.setHash('/x/a.jpg', 10, 20, 'h1', stamp);
    a.setHash('/x/old.jpg', 10, 20, 'h2'); // as an older server wrote it
    a.close();
    const b = ResultCache.open(dir);
    assert.equal(b.hashFor('/x/a.jpg', 10, 20, stamp), 'h1');
    assert.equal(b.hashFor('/x/a.jpg', 10, 20, { ...stamp, ctimeMs: 2 }), undefined, 'ctime changed (touch -r cannot undo it)');
    assert.equal(b.hashFor('/x/a.jpg', 10, 20, { ...stamp, ino: 8 }), undefined, 'another inode');
    assert.equal(b.hashFor('/x/a.jpg', 10, 20, { ...stamp, dev: 1 }), undefined, 'another device');
    assert.equal(b.hashFor('/x/old.jpg', 10, 20, stamp), undefined, 'an old entry is hashed again');
    b.close();
  });
});

describe('files that change under the server', { skip: SKIP }, () => {
  let work: string;

  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'ic-fault-files-'));
  });

  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  test('..foo.jpg and ..dir/b.jpg inside a root are classified; .. out of the root is still refused', { timeout: 120_000 }, async () => {
    const ws = path.join(work, 'dots');
    mkdirSync(path.join(ws, '..dir'), { recursive: true });
    copyFileSync(CAT_JPG, path.join(ws, '..foo.jpg'));
    copyFileSync(COFFEE_JPG, path.join(ws, '..dir', 'b.jpg'));
    copyFileSync(CAT_JPG, path.join(work, 'outside-dots.jpg'));
    const srv = startServer();
    try {
      await srv.initialize({ model: MOBILENET_INT8, cacheDir: path.join(work, 'cache-dots'), roots: [ws] });
      const a = await within(60_000, '..foo.jpg', srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(path.join(ws, '..foo.jpg')) }));
      assert.equal(top(a), CAT);
      const b = await within(30_000, '..dir/b.jpg', srv.conn.sendRequest(ClassifyRequest.type, { uri: path.join(ws, '..dir', 'b.jpg') }));
      assert.equal(top(b), ESPRESSO);
      const batch = await srv.conn.sendRequest(ClassifyBatchRequest.type, {
        uris: [uri(path.join(ws, '..foo.jpg')), uri(path.join(ws, '..dir', 'b.jpg'))],
      });
      assert.deepEqual(
        batch.items.map((i) => i.predictions?.[0]?.index ?? i.error?.code),
        [CAT, ESPRESSO],
      );
      const out = await rpcError(srv.conn.sendRequest(ClassifyRequest.type, { uri: `${ws}/../outside-dots.jpg` }));
      assert.equal(out.data?.code, 'OUTSIDE_WORKSPACE');
      assert.equal(await srv.stop(), 0);
    } finally {
      await srv.stop();
    }
  });

  test('a FIFO in place of an image: NOT_A_FILE at once (many in parallel), uncached requests still answered, clean exit', {
    timeout: 120_000,
  }, async () => {
    const ws = path.join(work, 'fifo-image');
    mkdirSync(ws, { recursive: true });
    const pipe = path.join(ws, 'pipe.jpg');
    mkfifo(pipe);
    copyFileSync(COFFEE_JPG, path.join(ws, 'coffee.jpg'));
    const srv = startServer();
    try {
      await srv.initialize({ model: MOBILENET_INT8, cacheDir: path.join(work, 'cache-fifo-image'), roots: [ws] });
      await within(
        60_000,
        'ready',
        srv.waitStatus((s) => s.state === 'ready'),
      );
      // More than libuv's 4 I/O threads: none of them may block on the FIFO.
      const singles = Array.from({ length: 8 }, () =>
        rpcError(srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(pipe), force: true })),
      );
      const errors = await within(10_000, 'FIFO requests', Promise.all(singles));
      for (const e of errors) {
        assert.equal(e.code, RpcErrorCodes.FILE_NOT_FOUND);
        assert.equal(e.data?.code, 'NOT_A_FILE');
        assert.match(e.message, /not a regular file \(a FIFO/);
      }
      const batch = await within(
        10_000,
        'FIFO batch',
        srv.conn.sendRequest(ClassifyBatchRequest.type, { uris: Array.from({ length: 8 }, () => uri(pipe)) }),
      );
      assert.deepEqual(
        batch.items.map((i) => i.error?.code),
        Array(8).fill('NOT_A_FILE'),
      );
      const ok = await within(
        30_000,
        'next request',
        srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(path.join(ws, 'coffee.jpg')), force: true }),
      );
      assert.equal(top(ok), ESPRESSO);
      assert.equal(await within(20_000, 'shutdown', srv.stop()), 0);
    } finally {
      await srv.stop();
    }
  });

  test('swap race: folder and file swapped for symlinks to outside, and for a FIFO, while requests run: nothing outside is classified or cached', {
    timeout: 180_000,
  }, async (t) => {
    const ws = path.join(work, 'race');
    const out = path.join(work, 'race-outside');
    const store = path.join(ws, '.store');
    mkdirSync(path.join(ws, 'd'), { recursive: true });
    mkdirSync(path.join(out, 'd'), { recursive: true });
    mkdirSync(store, { recursive: true });
    // Inside: espresso everywhere. Outside: the cat, under the same names.
    copyFileSync(COFFEE_JPG, path.join(ws, 'd', 'in.jpg'));
    copyFileSync(CAT_JPG, path.join(out, 'd', 'in.jpg'));
    copyFileSync(CAT_JPG, path.join(out, 'secret.jpg'));
    copyFileSync(COFFEE_JPG, path.join(store, 'x.jpg'));
    copyFileSync(COFFEE_JPG, path.join(store, 'p.jpg'));
    linkSync(path.join(store, 'x.jpg'), path.join(ws, 'x.jpg'));
    linkSync(path.join(store, 'p.jpg'), path.join(ws, 'p.jpg'));
    mkfifo(path.join(store, 'pipe'));
    const targets = [path.join(ws, 'd', 'in.jpg'), path.join(ws, 'x.jpg'), path.join(ws, 'p.jpg')];
    const cacheDir = path.join(work, 'cache-race');

    const srv = startServer();
    const flag = new Int32Array(new SharedArrayBuffer(8));
    let swapper: Worker | undefined;
    try {
      await srv.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] });
      await within(
        60_000,
        'ready',
        srv.waitStatus((s) => s.state === 'ready'),
      );
      swapper = new Worker(SWAPPER, { eval: true, workerData: { flag: flag.buffer, ws, out } });
      const swapperDone = new Promise<void>((resolve, reject) => {
        swapper!.once('error', reject);
        swapper!.once('exit', () => resolve());
      });
      const tops: number[] = [];
      const codes = new Map<string, number>();
      const note = (code: string) => codes.set(code, (codes.get(code) ?? 0) + 1);
      const deadline = performance.now() + 8_000;
      for (let round = 0; round < 40 && performance.now() < deadline; round++) {
        const force = round % 2 === 0;
        const singles = targets.map((f) =>
          srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(f), force }).then(
            (r) => tops.push(top(r)),
            (e: ResponseError<{ code: string }>) => note(e.data?.code ?? String(e)),
          ),
        );
        const batch = srv.conn.sendRequest(ClassifyBatchRequest.type, { uris: targets.map(uri), force: !force }).then((r) => {
          for (const i of r.items) {
            if (i.predictions) tops.push(i.predictions[0]!.index);
            else note(i.error!.code);
          }
        });
        await within(60_000, `round ${round}`, Promise.all([...singles, batch]));
      }
      Atomics.store(flag, 0, 1);
      await within(10_000, 'swapper', swapperDone);
      const swaps = Atomics.load(flag, 1);
      t.diagnostic(`${swaps} swaps; ${tops.length} answers; errors ${JSON.stringify([...codes])}`);
      assert.ok(swaps > 5, `the swapper ran (${swaps} swaps)`);
      assert.ok(tops.length > 0, 'some requests read the inside files');
      assert.deepEqual(
        tops.filter((t) => t !== ESPRESSO),
        [],
        `only inside (espresso) files were classified; errors: ${JSON.stringify([...codes])}`,
      );
      for (const code of codes.keys()) assert.ok(['OUTSIDE_WORKSPACE', 'FILE_NOT_FOUND', 'NOT_A_FILE'].includes(code), code);
      assert.equal(await within(20_000, 'shutdown', srv.stop()), 0, 'the process exits cleanly');
    } finally {
      Atomics.store(flag, 0, 1);
      await swapper?.terminate();
      await srv.stop();
    }

    // Nothing outside was cached under an inside file's name: a restarted server, from its cache, says espresso.
    const again = startServer();
    try {
      await again.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] });
      for (const f of targets) {
        const r = await within(60_000, f, again.conn.sendRequest(ClassifyRequest.type, { uri: uri(f) }));
        assert.equal(top(r), ESPRESSO, f);
      }
    } finally {
      assert.equal(await again.stop(), 0);
    }
  });

  test('an image rewritten in place with its size and mtime kept gets the new label, after a restart too', {
    timeout: 180_000,
  }, async () => {
    const ws = path.join(work, 'edit-image');
    mkdirSync(ws, { recursive: true });
    const photo = path.join(ws, 'photo.jpg');
    const { cat, coffee } = sameSizePhotos();
    writeFileSync(photo, cat);
    const cacheDir = path.join(work, 'cache-edit-image');
    const a = startServer();
    try {
      await a.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] });
      assert.equal(top(await within(60_000, 'cat', a.conn.sendRequest(ClassifyRequest.type, { uri: uri(photo) }))), CAT);
      rewriteKeepingStat(photo, coffee);
      const r = await within(30_000, 'espresso', a.conn.sendRequest(ClassifyRequest.type, { uri: uri(photo) }));
      assert.equal(top(r), ESPRESSO, 'the edit is seen without force');
      assert.equal(r.cached, false);
      assert.equal(await a.stop(), 0);
    } finally {
      await a.stop();
    }
    const b = startServer();
    try {
      // Pipelined behind initialize: answered while the model loads, from the cache, if at all.
      const init = b.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] });
      assert.equal(top(await within(60_000, 'after restart', b.conn.sendRequest(ClassifyRequest.type, { uri: uri(photo) }))), ESPRESSO);
      await init;
      assert.equal(await b.stop(), 0);
    } finally {
      await b.stop();
    }
    // Edited back while no server runs: the next server (its index says espresso for this size+mtime) sees the cat.
    rewriteKeepingStat(photo, cat);
    const c = startServer();
    try {
      const init = c.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] });
      assert.equal(top(await within(60_000, 'edited while down', c.conn.sendRequest(ClassifyRequest.type, { uri: uri(photo) }))), CAT);
      await init;
    } finally {
      assert.equal(await c.stop(), 0);
    }
  });

  test('a model edited in place (size, mtime, inode kept) reports its new sha256 after a reload and after a restart', {
    timeout: 180_000,
  }, async () => {
    const ws = path.join(work, 'edit-model');
    mkdirSync(ws, { recursive: true });
    const model = path.join(ws, 'model.onnx');
    copyFileSync(MOBILENET_INT8, model);
    chmodSync(model, 0o644);
    const image = path.join(ws, 'cat.jpg');
    copyFileSync(CAT_JPG, image);
    const sha = () => createHash('sha256').update(readFileSync(model)).digest('hex');
    const oldSha = sha();
    const cacheDir = path.join(work, 'cache-edit-model');
    const a = startServer();
    try {
      await a.initialize({ model, cacheDir, roots: [ws] });
      await within(
        60_000,
        'ready',
        a.waitStatus((s) => s.state === 'ready'),
      );
      assert.equal((await a.conn.sendRequest(ModelInfoRequest.type, {})).sha256, oldSha);
      assert.equal(top(await a.conn.sendRequest(ClassifyRequest.type, { uri: uri(image) })), CAT);
      // Same length, still a valid model: the producer name 'onnx.quantize' → 'onnx.quantizX'.
      const at = readFileSync(model).indexOf('onnx.quantize');
      assert.ok(at > 0);
      rewriteKeepingStat(model, Buffer.alloc(0), (fd) => writeSync(fd, Buffer.from('X'), 0, 1, at + 'onnx.quantiz'.length));
      const newSha = sha();
      assert.notEqual(newSha, oldSha);
      // A reload (another setting that needs a new session) reads the file again.
      const mark = a.statuses.length;
      await a.conn.sendNotification('workspace/didChangeConfiguration', {
        settings: { imageClassifier: { model, cacheDir, roots: [ws], preprocessing: 'fast' } },
      });
      await within(
        60_000,
        'reloaded',
        a.waitStatus((s) => s.state === 'ready' && a.statuses.indexOf(s) >= mark),
      );
      assert.equal((await a.conn.sendRequest(ModelInfoRequest.type, {})).sha256, newSha, 'after a reload');
      assert.equal(await a.stop(), 0);
    } finally {
      await a.stop();
    }
    const b = startServer();
    try {
      const init = b.initialize({ model, cacheDir, roots: [ws] });
      // Pipelined: the old model's cached result must not be served for the edited model while it loads.
      const r = await within(60_000, 'classify after restart', b.conn.sendRequest(ClassifyRequest.type, { uri: uri(image) }));
      await init;
      assert.equal(r.cached, false, 'a different model: its own results');
      assert.equal(top(r), CAT);
      assert.equal((await b.conn.sendRequest(ModelInfoRequest.type, {})).sha256, sha(), 'after a restart');
    } finally {
      assert.equal(await b.stop(), 0);
    }
  });

  test('a FIFO as the model: MODEL_LOAD_FAILED at once, requests fail fast, a good model loads after, clean exit', {
    timeout: 120_000,
  }, async () => {
    const ws = path.join(work, 'fifo-model');
    mkdirSync(ws, { recursive: true });
    const fifo = path.join(ws, 'model.onnx');
    mkfifo(fifo);
    copyFileSync(CAT_JPG, path.join(ws, 'cat.jpg'));
    const cacheDir = path.join(work, 'cache-fifo-model');
    const srv = startServer();
    try {
      await srv.initialize({ model: fifo, cacheDir, roots: [ws] });
      const failed = await within(
        10_000,
        'error status',
        srv.waitStatus((s) => s.state === 'error'),
      );
      assert.equal(failed.error!.code, 'MODEL_LOAD_FAILED');
      assert.match(failed.error!.message, /not a regular file \(a FIFO/);
      const e = await within(
        10_000,
        'classify',
        rpcError(srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(path.join(ws, 'cat.jpg')) })),
      );
      assert.equal(e.code, RpcErrorCodes.MODEL_LOAD_FAILED);
      const mark = srv.statuses.length;
      await srv.conn.sendNotification('workspace/didChangeConfiguration', {
        settings: { imageClassifier: { model: MOBILENET_INT8, cacheDir, roots: [ws] } },
      });
      await within(
        60_000,
        'ready',
        srv.waitStatus((s) => s.state === 'ready' && srv.statuses.indexOf(s) >= mark),
      );
      assert.equal(top(await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(path.join(ws, 'cat.jpg')) })), CAT);
      assert.equal(await within(20_000, 'shutdown', srv.stop()), 0);
    } finally {
      await srv.stop();
    }
  });
});

/**
 * The swapper (a worker thread, so it runs while the test awaits answers): swaps `ws/d` for a symlink to `out/d`,
 * `ws/x.jpg` for a symlink to `out/secret.jpg`, `ws/p.jpg` for a FIFO, and back, until flag[0] is set; it ends with
 * everything back in place and the number of swaps in flag[1].
 */
const SWAPPER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const flag = new Int32Array(workerData.flag);
const { ws, out } = workerData;
const put = (make, dest) => {
  const tmp = dest + '.swap';
  fs.rmSync(tmp, { force: true });
  make(tmp);
  fs.renameSync(tmp, dest);
};
let swaps = 0;
while (Atomics.load(flag, 0) === 0) {
  fs.renameSync(ws + '/d', ws + '/d.real');
  fs.symlinkSync(out + '/d', ws + '/d');
  put((t) => fs.symlinkSync(out + '/secret.jpg', t), ws + '/x.jpg');
  put((t) => fs.linkSync(ws + '/.store/pipe', t), ws + '/p.jpg');
  Atomics.wait(flag, 0, 0, 1 + (swaps % 3));
  fs.unlinkSync(ws + '/d');
  fs.renameSync(ws + '/d.real', ws + '/d');
  put((t) => fs.linkSync(ws + '/.store/x.jpg', t), ws + '/x.jpg');
  put((t) => fs.linkSync(ws + '/.store/p.jpg', t), ws + '/p.jpg');
  Atomics.wait(flag, 0, 0, 1 + (swaps % 2));
  swaps++;
}
Atomics.store(flag, 1, swaps);
`;
