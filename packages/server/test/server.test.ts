/**
 * The inference server end to end: the real `image-classifier serve --stdio` child process, a real JSON-RPC client
 * (vscode-jsonrpc), the real MobileNetV2 int8 model from ../shared (real ImageNet weights).
 */
import { strict as assert } from 'node:assert';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { CancellationTokenSource, type ResponseError, StreamMessageReader, type Message } from 'vscode-jsonrpc/node';
import {
  ClassifyBatchRequest,
  ClassifyRequest,
  ClearCacheRequest,
  ModelInfoRequest,
  RpcErrorCodes,
  type BatchItem,
  type ClassifyResult,
} from '@image-classifier/protocol';
import {
  FIXTURE_IMAGES,
  sharedDir,
  SKIP_NO_SHARED,
  tinyPoolingModel,
  writeBadInputs,
  type BadInputs,
} from '../../../test-fixtures/fixtures.js';
import { startServer, type ServerHandle, rpcError, MOBILENET_INT8, CAT, ESPRESSO, uri, startReadyServer } from './server-client.js';

const shared = sharedDir();

/** Distinct ImageNet-sized JPEGs made from the two fixture photos (crops, flips); `cat` tells the source. */
async function makeImages(dir: string, count: number, prefix = 'img'): Promise<Array<{ file: string; cat: boolean }>> {
  mkdirSync(dir, { recursive: true });
  const sources = [
    { file: path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'), cat: true },
    { file: path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'), cat: false },
  ];
  const out: Array<{ file: string; cat: boolean }> = [];
  for (let i = 0; i < count; i++) {
    const src = sources[i % 2]!;
    const m = await sharp(src.file).metadata();
    const cw = Math.floor(m.width! * (0.9 + (i % 5) * 0.02));
    const ch = Math.floor(m.height! * (0.9 + (i % 3) * 0.03));
    const left = (i * 7) % (m.width! - cw + 1);
    const top = (i * 3) % (m.height! - ch + 1);
    let p = sharp(src.file).extract({ left, top, width: cw, height: ch });
    if (i % 4 >= 2) p = p.flop();
    const file = path.join(dir, `${prefix}${String(i).padStart(4, '0')}.jpg`);
    await p.jpeg({ quality: 85 + (i % 10) }).toFile(file);
    out.push({ file, cat: src.cat });
  }
  return out;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

describe('inference server over JSON-RPC', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let work: string;
  let ws: string;
  let outside: string;
  let cacheDir: string;
  let bad: BadInputs;
  let cat: string;
  let coffee: string;
  let srv: ServerHandle;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ic-server-'));
    ws = path.join(work, 'workspace');
    outside = path.join(work, 'outside');
    cacheDir = path.join(work, 'cache');
    mkdirSync(ws, { recursive: true });
    mkdirSync(outside, { recursive: true });
    cat = path.join(ws, 'cat.jpg');
    coffee = path.join(ws, 'coffee.jpg');
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'), cat);
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'), coffee);
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'), path.join(outside, 'secret.jpg'));
    symlinkSync(path.join(outside, 'secret.jpg'), path.join(ws, 'link-to-secret.jpg'));
    symlinkSync(outside, path.join(ws, 'linked-folder'));
    bad = await writeBadInputs(path.join(ws, 'bad'));
    srv = startServer({ IMAGE_CLASSIFIER_CACHE_DIR: path.join(work, 'env-cache') });
    const init = (await srv.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] })) as { serverInfo: { name: string } };
    assert.equal(init.serverInfo.name, 'image-classifier');
  });

  after(async () => {
    await srv?.stop();
  });

  test('status notifications: loading, then ready; modelInfo describes the model', async () => {
    const ready = await srv.waitStatus((s) => s.state === 'ready');
    assert.equal(ready.model, 'mobilenetv2-12-int8');
    assert.equal(srv.statuses[0]!.state, 'loading');
    const info = await srv.conn.sendRequest(ModelInfoRequest.type, {});
    assert.equal(info.state, 'ready');
    assert.equal(info.name, 'mobilenetv2-12-int8');
    assert.equal(info.sha256, 'cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f');
    assert.equal(info.classes, 1000);
    assert.equal(info.inputName, 'input');
    assert.equal(info.activeProvider, 'cpu');
    assert.equal(info.preprocessing, 'exact');
    assert.equal(info.labels, 'imagenet-1k');
  });

  test('classify: real labels, then the same answer from the cache', async () => {
    const first = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat), topK: 3 });
    assert.equal(first.uri, uri(cat));
    assert.equal(first.cached, false);
    assert.equal(first.model, 'mobilenetv2-12-int8');
    assert.equal(first.predictions.length, 3);
    assert.equal(first.predictions[0]!.index, CAT);
    assert.equal(first.predictions[0]!.label, 'Egyptian cat');
    assert.ok(Math.abs(first.predictions[0]!.probability - 0.7075) < 0.01);
    assert.equal(first.width, 451);
    assert.equal(first.height, 300);
    const again = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat), topK: 3 });
    assert.equal(again.cached, true);
    assert.deepEqual(again.predictions, first.predictions);
    // A plain absolute path works too; topK defaults to 5.
    const byPath = await srv.conn.sendRequest(ClassifyRequest.type, { uri: coffee });
    assert.equal(byPath.predictions.length, 5);
    assert.equal(byPath.predictions[0]!.index, ESPRESSO);
    assert.equal(byPath.predictions[0]!.label, 'espresso');
  });

  test('a changed file is classified again (content hash), an identical copy is a cache hit', async () => {
    const f = path.join(ws, 'changing.jpg');
    cpSync(cat, f);
    const a = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(f) });
    assert.equal(a.cached, true, 'same bytes as cat.jpg, already classified');
    assert.equal(a.predictions[0]!.index, CAT);
    cpSync(coffee, f);
    const b = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(f) });
    assert.equal(b.predictions[0]!.index, ESPRESSO, 'the new content, not the stale cache entry');
    writeFileSync(f, await sharp(cat).flop().jpeg({ quality: 91 }).toBuffer());
    const c = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(f) });
    assert.equal(c.cached, false);
    assert.equal(c.predictions[0]!.index, CAT);
  });

  test('every error has its code and string code; the server keeps serving', async () => {
    const cases: Array<[string, unknown, number, string]> = [
      ['missing file', { uri: uri(bad.files.missing) }, RpcErrorCodes.FILE_NOT_FOUND, 'FILE_NOT_FOUND'],
      ['a folder', { uri: uri(path.join(ws, 'bad')) }, RpcErrorCodes.FILE_NOT_FOUND, 'NOT_A_FILE'],
      ['text file', { uri: uri(bad.files.text) }, RpcErrorCodes.UNSUPPORTED_FORMAT, 'UNSUPPORTED_FORMAT'],
      ['random bytes', { uri: uri(bad.files.randomPng) }, RpcErrorCodes.UNSUPPORTED_FORMAT, 'UNSUPPORTED_FORMAT'],
      ['1×1 image', { uri: uri(bad.files.tiny) }, RpcErrorCodes.UNSUPPORTED_FORMAT, 'IMAGE_TOO_SMALL'],
      ['decompression bomb', { uri: uri(bad.files.bomb) }, RpcErrorCodes.IMAGE_TOO_LARGE, 'IMAGE_TOO_LARGE'],
      ['truncated JPEG', { uri: uri(bad.files.truncatedJpeg) }, RpcErrorCodes.DECODE_FAILED, 'DECODE_FAILED'],
      ['empty file', { uri: uri(bad.files.empty) }, RpcErrorCodes.DECODE_FAILED, 'EMPTY_FILE'],
      ['outside the roots', { uri: uri(path.join(outside, 'secret.jpg')) }, RpcErrorCodes.OUTSIDE_WORKSPACE, 'OUTSIDE_WORKSPACE'],
      ['.. out of the root', { uri: `${uri(ws)}/../outside/secret.jpg` }, RpcErrorCodes.OUTSIDE_WORKSPACE, 'OUTSIDE_WORKSPACE'],
      ['.. in a plain path', { uri: `${ws}/bad/../../outside/secret.jpg` }, RpcErrorCodes.OUTSIDE_WORKSPACE, 'OUTSIDE_WORKSPACE'],
      [
        'symlinked file pointing outside',
        { uri: uri(path.join(ws, 'link-to-secret.jpg')) },
        RpcErrorCodes.OUTSIDE_WORKSPACE,
        'OUTSIDE_WORKSPACE',
      ],
      [
        'symlinked folder pointing outside',
        { uri: uri(path.join(ws, 'linked-folder', 'secret.jpg')) },
        RpcErrorCodes.OUTSIDE_WORKSPACE,
        'OUTSIDE_WORKSPACE',
      ],
      ['missing file outside the roots', { uri: uri('/nonexistent/x.jpg') }, RpcErrorCodes.OUTSIDE_WORKSPACE, 'OUTSIDE_WORKSPACE'],
      ['relative path', { uri: 'cat.jpg' }, RpcErrorCodes.INVALID_ARGUMENT, 'INVALID_ARGUMENT'],
      ['http URI', { uri: 'https://example.com/cat.jpg' }, RpcErrorCodes.INVALID_ARGUMENT, 'INVALID_ARGUMENT'],
      ['bad topK', { uri: uri(cat), topK: -1 }, RpcErrorCodes.INVALID_ARGUMENT, 'INVALID_ARGUMENT'],
      ['no params', null, RpcErrorCodes.INVALID_ARGUMENT, 'INVALID_ARGUMENT'],
    ];
    for (const [what, params, code, str] of cases) {
      const e = await rpcError(srv.conn.sendRequest(ClassifyRequest.method, params));
      assert.equal(e.code, code, `${what}: ${e.message}`);
      assert.equal(e.data?.code, str, what);
      assert.ok(e.message.length > 20 && !/\n\s+at /.test(e.message), `${what}: a sentence, not a stack`);
      assert.ok(!(e.code >= -32899 && e.code <= -32000), `${what}: outside the reserved ranges`);
    }
    // Outside-the-roots errors do not reveal whether the file exists.
    const missing = await rpcError(srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(path.join(outside, 'nope.jpg')) }));
    assert.equal(missing.code, RpcErrorCodes.OUTSIDE_WORKSPACE);
    // An unknown method: a JSON-RPC error answer, and the server goes on.
    const unknown = await rpcError(srv.conn.sendRequest('imageClassifier/noSuchMethod', {}));
    assert.equal(unknown.code, -32601);
    const ok = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
    assert.equal(ok.predictions[0]!.index, CAT);
  });

  test('classifyBatch cachedOnly: cached images answer from the cache; the others come back unlabelled, unclassified', async () => {
    await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat), topK: 3 });
    // An image no request has seen (its own size, so its content is new).
    const fresh = path.join(ws, 'cached-only-fresh.jpg');
    await sharp(cat).resize(301, 233).jpeg({ quality: 91 }).toFile(fresh);
    const r = await srv.conn.sendRequest(ClassifyBatchRequest.type, {
      uris: [uri(cat), uri(fresh), uri(bad.files.missing)],
      topK: 2,
      cachedOnly: true,
    });
    const byUri = new Map(r.items.map((i) => [i.uri, i]));
    const hit = byUri.get(uri(cat))!;
    assert.equal(hit.cached, true);
    assert.equal(hit.predictions?.length, 2);
    assert.equal(hit.predictions[0]!.index, CAT);
    assert.deepEqual(byUri.get(uri(fresh)), { uri: uri(fresh), cached: false }, 'not in the cache: neither labels nor error');
    assert.equal(byUri.get(uri(bad.files.missing))!.error!.code, 'FILE_NOT_FOUND');
    // The model did not run on it: the first real request classifies it.
    const after = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(fresh), topK: 1 });
    assert.equal(after.cached, false);
  });

  test('classifyBatch: work-done progress, partial results, per-item errors', async () => {
    const imgs = await makeImages(path.join(ws, 'batch'), 24);
    const uris = [
      ...imgs.map((x) => uri(x.file)),
      uri(bad.files.text),
      uri(path.join(outside, 'secret.jpg')),
      uri(bad.files.missing),
      uri(cat),
    ];
    const r = await srv.conn.sendRequest(ClassifyBatchRequest.type, { uris, topK: 2, workDoneToken: 'wd-1', partialResultToken: 'pr-1' });
    assert.equal(r.cancelled, false);
    assert.equal(r.model, 'mobilenetv2-12-int8');
    assert.equal(r.items.length, uris.length);
    assert.deepEqual(
      r.items.map((i) => i.uri),
      uris,
      'items in request order',
    );
    const byUri = new Map(r.items.map((i) => [i.uri, i]));
    for (const img of imgs) {
      const it = byUri.get(uri(img.file))!;
      assert.ok(it.predictions, `${img.file}: ${JSON.stringify(it.error)}`);
      assert.equal(it.predictions.length, 2);
      assert.equal(it.predictions[0]!.index, img.cat ? CAT : ESPRESSO, img.file);
    }
    assert.equal(byUri.get(uri(bad.files.text))!.error!.code, 'UNSUPPORTED_FORMAT');
    assert.equal(byUri.get(uri(path.join(outside, 'secret.jpg')))!.error!.code, 'OUTSIDE_WORKSPACE');
    assert.equal(byUri.get(uri(bad.files.missing))!.error!.code, 'FILE_NOT_FOUND');
    assert.equal(byUri.get(uri(cat))!.cached, true);

    const wd = srv.progress('wd-1') as Array<{ kind: string; percentage?: number; message?: string; title?: string }>;
    // The end notification follows the response on the same stream; wait for it to be dispatched.
    while (!wd.some((v) => v.kind === 'end')) await new Promise((r) => setImmediate(r));
    assert.equal(wd[0]!.kind, 'begin');
    assert.equal(wd[wd.length - 1]!.kind, 'end');
    assert.match(wd[wd.length - 1]!.message!, /^28\/28 · [\d.]+ img\/s$/);
    for (const v of wd.filter((x) => x.kind === 'report')) {
      assert.match(v.message!, /^\d+\/28 · [\d.]+ img\/s$/);
      assert.ok(v.percentage! >= 0 && v.percentage! <= 100);
    }
    const partials = srv.progress('pr-1') as BatchItem[][];
    const partialItems = partials.flat();
    assert.equal(partialItems.length, uris.length, 'every item came as a partial result too');
    assert.deepEqual(new Set(partialItems.map((i) => i.uri)), new Set(uris));
  });

  test('a cached hover is answered while a folder runs; cancel stops the folder and keeps its results', async () => {
    const imgs = await makeImages(path.join(ws, 'folder'), 80, 'f');
    const uris = imgs.map((x) => uri(x.file));
    const cts = new CancellationTokenSource();
    let batchDone = false;
    const batch = srv.conn
      .sendRequest(ClassifyBatchRequest.type, { uris, partialResultToken: 'pr-cancel', workDoneToken: 'wd-cancel' }, cts.token)
      .then((r) => {
        batchDone = true;
        return r;
      });
    const partials = srv.progress('pr-cancel') as BatchItem[][];
    while (partials.length === 0) await new Promise((r) => setImmediate(r));
    // The folder is running: a hover on a cached file is answered now, not after the folder.
    const t0 = performance.now();
    const hover = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
    const hoverMs = performance.now() - t0;
    assert.equal(hover.cached, true);
    assert.equal(batchDone, false, 'the hover did not wait for the folder');
    assert.ok(hoverMs < 500, `cached hover took ${hoverMs.toFixed(1)} ms during the folder run`);
    // An uncached hover jumps the bulk queue.
    const fresh = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(coffee), force: true });
    assert.equal(fresh.cached, false);
    assert.equal(fresh.predictions[0]!.index, ESPRESSO);
    assert.equal(batchDone, false, 'the uncached hover did not wait for the folder either');
    cts.cancel();
    const r = await batch;
    assert.equal(r.cancelled, true);
    assert.ok(r.items.length > 0 && r.items.length < uris.length, `${r.items.length} of ${uris.length} finished before the cancel`);
    const expected = new Map(imgs.map((x) => [uri(x.file), x.cat ? CAT : ESPRESSO]));
    for (const it of r.items) {
      assert.ok(it.predictions, JSON.stringify(it.error));
      assert.equal(it.predictions[0]!.index, expected.get(it.uri));
    }
    // The rest of the folder can be classified afterwards, and what finished is cached.
    const rest = await srv.conn.sendRequest(ClassifyBatchRequest.type, { uris });
    assert.equal(rest.cancelled, false);
    assert.equal(rest.items.length, uris.length);
    assert.ok(rest.items.filter((i) => i.cached).length >= r.items.length);
    for (const it of rest.items) assert.equal(it.predictions![0]!.index, expected.get(it.uri));
  });

  test('1,000 concurrent classify requests on one connection: all answered, correctly, in bounded memory', async () => {
    const imgs = await makeImages(path.join(ws, 'many'), 100, 'm');
    const expected = new Map(imgs.map((x) => [uri(x.file), x.cat ? CAT : ESPRESSO]));
    const rssBefore = peakRssMb(srv.child.pid!);
    const reqs: Array<Promise<ClassifyResult>> = [];
    for (let i = 0; i < 1000; i++)
      reqs.push(srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(imgs[i % imgs.length]!.file), topK: 1 }));
    const results = await Promise.all(reqs);
    assert.equal(results.length, 1000);
    const byUri = new Map<string, ClassifyResult[]>();
    for (const r of results) {
      assert.equal(r.predictions.length, 1);
      assert.equal(r.predictions[0]!.index, expected.get(r.uri), r.uri);
      byUri.set(r.uri, [...(byUri.get(r.uri) ?? []), r]);
    }
    for (const [u, rs] of byUri) {
      assert.equal(rs.length, 10);
      for (const r of rs) assert.ok(Math.abs(r.predictions[0]!.probability - rs[0]!.predictions[0]!.probability) < 1e-3, u);
    }
    const peak = peakRssMb(srv.child.pid!);
    assert.ok(peak < 800, `server peak RSS ${peak.toFixed(0)} MB (before: ${rssBefore.toFixed(0)} MB)`);
  });

  test('QUEUE_FULL when more requests wait than maxQueue; the queue limit is a live setting', async () => {
    await srv.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { imageClassifier: { model: MOBILENET_INT8, cacheDir, roots: [ws], maxQueue: 3 } },
    });
    const imgs = await makeImages(path.join(ws, 'queue'), 12, 'q');
    // force: these images' contents are already cached (earlier tests made the same crops), and a cache hit can
    // finish before the next request is even read: forced, each one waits for the engine.
    const settled = await Promise.allSettled(
      imgs.map((x) => srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(x.file), force: true })),
    );
    const full = settled
      .filter((s) => s.status === 'rejected')
      .map((s) => (s as PromiseRejectedResult).reason as ResponseError<{ code: string }>);
    const ok = settled.filter((s) => s.status === 'fulfilled');
    assert.ok(ok.length >= 3, `${ok.length} answered`);
    assert.ok(full.length > 0, 'some were refused');
    for (const e of full) {
      assert.equal(e.code, RpcErrorCodes.QUEUE_FULL);
      assert.equal(e.data?.code, 'QUEUE_FULL');
    }
    assert.equal(srv.statuses.filter((s) => s.state === 'loading').length, 1, 'no model reload for a queue setting');
    await srv.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { imageClassifier: { model: MOBILENET_INT8, cacheDir, roots: [ws] } },
    });
  });

  test('configuration change reloads the model without restarting; a bad model is MODEL_LOAD_FAILED', async () => {
    const pid = srv.child.pid;
    const before = srv.statuses.length;
    await srv.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { imageClassifier: { model: MOBILENET_INT8, cacheDir, roots: [ws], preprocessing: 'fast' } },
    });
    await srv.waitStatus((s) => s.state === 'ready' && srv.statuses.indexOf(s) > before);
    assert.equal(srv.statuses[before]!.state, 'loading');
    const info = await srv.conn.sendRequest(ModelInfoRequest.type, {});
    assert.equal(info.preprocessing, 'fast');
    const r = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
    assert.equal(r.cached, false, 'a different preprocessing is a different cache key');
    assert.equal(r.predictions[0]!.index, CAT);

    const mark = srv.statuses.length;
    await srv.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { imageClassifier: { model: path.join(work, 'missing.onnx'), cacheDir, roots: [ws] } },
    });
    const failed = await srv.waitStatus((s) => s.state === 'error' && srv.statuses.indexOf(s) >= mark);
    assert.equal(failed.error!.code, 'MODEL_NOT_FOUND');
    const e = await rpcError(srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) }));
    assert.equal(e.code, RpcErrorCodes.MODEL_LOAD_FAILED);
    assert.equal((await srv.conn.sendRequest(ModelInfoRequest.type, {})).state, 'error');

    const notOnnx = path.join(ws, 'bad', 'notes.txt');
    const mark2 = srv.statuses.length;
    await srv.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { imageClassifier: { model: notOnnx, cacheDir, roots: [ws] } },
    });
    const failed2 = await srv.waitStatus((s) => s.state === 'error' && srv.statuses.indexOf(s) >= mark2);
    assert.equal(failed2.error!.code, 'MODEL_LOAD_FAILED');

    const mark3 = srv.statuses.length;
    await srv.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { imageClassifier: { model: MOBILENET_INT8, cacheDir, roots: [ws] } },
    });
    await srv.waitStatus((s) => s.state === 'ready' && srv.statuses.indexOf(s) >= mark3);
    const back = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
    assert.equal(back.cached, true, 'back to the first settings: their cached results are used again');
    assert.equal(srv.child.pid, pid);
    assert.equal(srv.child.exitCode, null);
  });

  test('clearCache forgets the results', async () => {
    const r = await srv.conn.sendRequest(ClearCacheRequest.type, {});
    assert.ok(r.removed > 100, `removed ${r.removed}`);
    const again = await srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
    assert.equal(again.cached, false);
  });

  test('shutdown and exit end the process cleanly (exit code 0)', async () => {
    const code = await srv.stop();
    assert.equal(code, 0);
  });
});

describe('inference server: persistence, crashes, downloads, malformed messages', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let work: string;
  let ws: string;

  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'ic-server2-'));
    ws = path.join(work, 'ws');
    mkdirSync(ws, { recursive: true });
  });

  test('results survive a restart: the second server answers from the cache', async () => {
    const cacheDir = path.join(work, 'cache-restart');
    const cat = path.join(ws, 'cat.jpg');
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'), cat);
    const a = startServer();
    await a.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] });
    const first = await a.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
    assert.equal(first.cached, false);
    assert.equal(await a.stop(), 0);
    const b = startServer();
    try {
      // Pipelined: the classify request goes out right behind initialize, before its answer.
      const init = b.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] });
      const second = await b.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
      await init;
      assert.equal(second.cached, true);
      assert.deepEqual(second.predictions, first.predictions);
    } finally {
      await b.stop();
    }
  });

  test('embeddings: fresh, then from the cache after a restart (float16), in batches; NO_EMBEDDING for a model without one', async () => {
    const cacheDir = path.join(work, 'cache-embedding');
    const dir = path.join(ws, 'emb');
    mkdirSync(dir, { recursive: true });
    const cat = path.join(dir, 'cat.jpg');
    const coffee = path.join(dir, 'coffee.jpg');
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'), cat);
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'), coffee);
    const a = await startReadyServer({ cacheDir, roots: [ws] });
    let fresh: ClassifyResult;
    try {
      const info = await a.conn.sendRequest(ModelInfoRequest.type, {});
      assert.deepEqual(info.embedding, { outputName: '472_quantized__embedding', dims: 1280 });
      const plain = await a.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
      assert.equal(plain.embedding, undefined);
      // The result is cached, its embedding is not yet: classified again, now with it.
      fresh = await a.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat), embedding: true });
      assert.equal(fresh.cached, false);
      assert.equal(fresh.embedding?.length, 1280);
      assert.deepEqual(fresh.predictions, plain.predictions);
      const batch = await a.conn.sendRequest(ClassifyBatchRequest.type, { uris: [uri(cat), uri(coffee)], embedding: true });
      assert.equal(batch.items.length, 2);
      assert.equal(batch.items[0]!.cached, true);
      assert.equal(batch.items[1]!.embedding?.length, 1280);
      assert.equal(batch.items[1]!.predictions?.[0]?.index, ESPRESSO);
    } finally {
      await a.stop();
    }
    const b = startServer();
    try {
      await b.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] });
      const again = await b.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat), embedding: true });
      assert.equal(again.cached, true);
      assert.equal(again.embedding?.length, 1280);
      let max = 0;
      for (let i = 0; i < 1280; i++)
        max = Math.max(max, Math.abs(again.embedding![i]! - fresh.embedding![i]!) / Math.max(1e-3, Math.abs(fresh.embedding![i]!)));
      assert.ok(max <= 2 ** -11 + 1e-6, `float16 storage: max relative error ${max}`);
      // A model without an embedding: a clear error, and the server keeps serving.
      const tiny = path.join(work, 'tiny-pooling.onnx');
      writeFileSync(tiny, tinyPoolingModel());
      await b.conn.sendNotification('workspace/didChangeConfiguration', {
        settings: { imageClassifier: { model: tiny, cacheDir, roots: [ws] } },
      });
      await b.waitStatus((s) => s.state === 'ready' && s.model === 'tiny-pooling');
      await assert.rejects(
        b.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat), embedding: true }),
        (e: ResponseError<{ code: string }>) => {
          assert.equal(e.code, RpcErrorCodes.NO_EMBEDDING);
          assert.equal(e.data?.code, 'NO_EMBEDDING');
          assert.match(e.message, /tiny-pooling has no recognisable feature layer/);
          return true;
        },
      );
      const scores = await b.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat), topK: 3 });
      assert.equal(scores.predictions.length, 3);
      assert.equal(scores.predictions[0]!.label, `class ${scores.predictions[0]!.index}`);
    } finally {
      await b.stop();
    }
    // clearCache removes the embeddings too, without reading them first when they were never opened.
    const log = path.join(cacheDir, 'results', 'embeddings-v1.log');
    assert.ok(existsSync(log));
    const c = startServer();
    try {
      await c.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] });
      await c.conn.sendRequest(ClearCacheRequest.type, {});
      assert.equal(existsSync(log), false);
      const fresh2 = await c.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat), embedding: true });
      assert.equal(fresh2.cached, false);
      assert.deepEqual(fresh2.embedding, fresh.embedding);
    } finally {
      await c.stop();
    }
  });

  test('SIGKILL in the middle of a batch that writes the cache: the restarted server answers correctly', async () => {
    const cacheDir = path.join(work, 'cache-kill');
    const imgs = await makeImages(path.join(ws, 'kill'), 60, 'k');
    const uris = imgs.map((x) => uri(x.file));
    const expected = new Map(imgs.map((x) => [uri(x.file), x.cat ? CAT : ESPRESSO]));
    const a = startServer();
    await a.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] });
    const batch = a.conn.sendRequest(ClassifyBatchRequest.type, { uris, partialResultToken: 'p' }).catch(() => undefined);
    const partials = a.progress('p') as BatchItem[][];
    while (partials.flat().length < 12) await new Promise((r) => setImmediate(r));
    a.child.kill('SIGKILL');
    const ex = await a.exited;
    assert.equal(ex.signal, 'SIGKILL');
    a.conn.dispose(); // rejects the batch request that will never be answered
    await batch;
    const seen = new Map(partials.flat().map((i) => [i.uri, i]));

    // Make the damage certain whatever the kill hit: a torn record at the end and a flipped byte in a record.
    const log = path.join(cacheDir, 'results', 'results-v1.log');
    const text = readFileSync(log);
    const lines = text.toString('utf8').split('\n');
    const victim = lines.findIndex((l, i) => i > 0 && l.includes('"t":"r"'));
    assert.ok(victim > 0, 'the killed server had written results');
    const corrupted = lines[victim]!.replace(/"index":(\d)/, (_m, d: string) => `"index":${(Number(d) + 1) % 10}`);
    lines[victim] = corrupted;
    writeFileSync(log, lines.join('\n'));
    appendFileSync(log, '1234abcd {"t":"r","k":"torn');

    const b = startServer();
    try {
      await b.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] });
      const r = await b.conn.sendRequest(ClassifyBatchRequest.type, { uris });
      assert.equal(r.cancelled, false);
      assert.equal(r.items.length, uris.length);
      let cached = 0;
      for (const it of r.items) {
        assert.ok(it.predictions, JSON.stringify(it.error));
        assert.equal(it.predictions[0]!.index, expected.get(it.uri), it.uri);
        if (it.cached) {
          cached++;
          const before = seen.get(it.uri);
          if (before?.predictions) assert.deepEqual(it.predictions, before.predictions);
        }
      }
      assert.ok(cached > 0, 'results written before the kill were reused');
      assert.match(b.stderr(), /dropped 1 corrupt record|cut \d+ bytes/);
    } finally {
      await b.stop();
    }
    // The repaired log loads cleanly.
    const c = startServer();
    try {
      await c.initialize({ model: MOBILENET_INT8, cacheDir, roots: [ws] });
      const r = await c.conn.sendRequest(ClassifyBatchRequest.type, { uris });
      assert.ok(r.items.every((i) => i.cached && i.predictions![0]!.index === expected.get(i.uri)));
      assert.doesNotMatch(c.stderr(), /dropped|cut \d+ bytes/);
    } finally {
      await c.stop();
    }
  });

  test('a URL model: downloading status with percent, MODEL_NOT_READY meanwhile, then ready; a failed download is MODEL_DOWNLOAD_FAILED', async () => {
    const bytes = readFileSync(MOBILENET_INT8);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let firstHalfSent!: () => void;
    const halfway = new Promise<void>((r) => (firstHalfSent = r));
    const server = http.createServer((req, res) => {
      if (req.url !== '/m.onnx') {
        res.writeHead(404).end('not here');
        return;
      }
      res.writeHead(200, { 'content-length': bytes.length, 'content-type': 'application/octet-stream' });
      const half = Math.floor(bytes.length / 2);
      res.write(bytes.subarray(0, half), () => firstHalfSent());
      void released.then(() => res.end(bytes.subarray(half)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const cacheDir = path.join(work, 'cache-dl');
    const cat = path.join(ws, 'cat-dl.jpg');
    cpSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'), cat);
    const s = startServer();
    try {
      await s.initialize({ model: `http://127.0.0.1:${port}/m.onnx`, cacheDir, roots: [ws] });
      await halfway;
      // Progress is throttled (one report per 100 ms of transfer), so the first report may still say 0%.
      const dl = await s.waitStatus((x) => x.state === 'downloading');
      assert.ok(dl.percent! >= 0 && dl.percent! < 100, `percent ${dl.percent}`);
      const e = await rpcError(s.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) }));
      assert.equal(e.code, RpcErrorCodes.MODEL_NOT_READY);
      assert.equal(e.data?.code, 'MODEL_NOT_READY');
      release();
      await s.waitStatus((x) => x.state === 'ready');
      const states = s.statuses.map((x) => x.state);
      assert.deepEqual([...new Set(states)], ['loading', 'downloading', 'ready']);
      const percents = s.statuses.filter((x) => x.state === 'downloading').map((x) => x.percent!);
      assert.equal(percents[percents.length - 1], 100);
      assert.deepEqual(
        percents,
        [...percents].sort((a, b) => a - b),
        'percent only grows',
      );
      const r = await s.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) });
      assert.equal(r.predictions[0]!.index, CAT);
      // A URL that fails: error status and MODEL_DOWNLOAD_FAILED answers.
      const mark = s.statuses.length;
      await s.conn.sendNotification('workspace/didChangeConfiguration', {
        settings: { imageClassifier: { model: `http://127.0.0.1:${port}/missing.onnx`, cacheDir, roots: [ws] } },
      });
      const err = await s.waitStatus((x) => x.state === 'error' && s.statuses.indexOf(x) >= mark);
      assert.equal(err.error!.code, 'MODEL_DOWNLOAD_FAILED');
      const e2 = await rpcError(s.conn.sendRequest(ClassifyRequest.type, { uri: uri(cat) }));
      assert.equal(e2.code, RpcErrorCodes.MODEL_DOWNLOAD_FAILED);
    } finally {
      await s.stop();
      server.close();
    }
  });

  test('malformed JSON-RPC gets an error answer and the server keeps serving', async () => {
    // Raw framing on the child's pipes (the helper's client connection is not listening).
    const s = startServer({}, ['--stdio'], { listen: false });
    const received: Message[] = [];
    const reader = new StreamMessageReader(s.child.stdout!);
    const waiters: Array<() => void> = [];
    reader.listen((m) => {
      received.push(m);
      for (const w of waiters.splice(0)) w();
    });
    const until = async (pred: () => boolean) => {
      while (!pred()) await new Promise<void>((r) => waiters.push(r));
    };
    const send = (body: string) => {
      const b = Buffer.from(body, 'utf8');
      s.child.stdin!.write(`Content-Length: ${b.length}\r\n\r\n`);
      s.child.stdin!.write(b);
    };
    try {
      send(
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{},"initializationOptions":{"model":' +
          JSON.stringify(MOBILENET_INT8) +
          ',"cacheDir":' +
          JSON.stringify(path.join(work, 'cache-raw')) +
          '}}}',
      );
      await until(() => received.some((m) => (m as { id?: unknown }).id === 1));
      send('{this is not json');
      await until(() => received.some((m) => (m as { error?: { code: number } }).error?.code === -32700));
      const parse = received.find((m) => (m as { error?: { code: number } }).error?.code === -32700) as {
        id: unknown;
        error: { message: string };
      };
      assert.equal(parse.id, null);
      assert.match(parse.error.message, /not valid JSON/);
      send('{"jsonrpc":"2.0","id":7,"method":42}');
      await until(() => received.some((m) => (m as { id?: unknown }).id === 7));
      const invalid = received.find((m) => (m as { id?: unknown }).id === 7) as { error: { code: number } };
      assert.equal(invalid.error.code, -32600);
      send('[1,2,3]');
      await until(() => received.filter((m) => (m as { error?: { code: number } }).error?.code === -32600).length === 2);
      send('{"jsonrpc":"2.0","id":8,"method":"imageClassifier/nope","params":{}}');
      await until(() => received.some((m) => (m as { id?: unknown }).id === 8));
      assert.equal((received.find((m) => (m as { id?: unknown }).id === 8) as { error: { code: number } }).error.code, -32601);
      send(
        `{"jsonrpc":"2.0","id":9,"method":"imageClassifier/classify","params":{"uri":${JSON.stringify(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'))}}}`,
      );
      await until(() => received.some((m) => (m as { id?: unknown }).id === 9));
      const ok = received.find((m) => (m as { id?: unknown }).id === 9) as { result: ClassifyResult };
      assert.equal(ok.result.predictions[0]!.index, ESPRESSO, JSON.stringify(ok));
      send('{"jsonrpc":"2.0","id":10,"method":"shutdown"}');
      await until(() => received.some((m) => (m as { id?: unknown }).id === 10));
      send('{"jsonrpc":"2.0","method":"exit"}');
      assert.equal((await s.exited).code, 0);
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  });
});
