/**
 * Faults of a remote inference server, against the real Triton (PyTriton) with a fault proxy on 127.0.0.1 where the
 * fault is the network's: no server, a wrong model name, a model with other input shapes, missing credentials,
 * 503s, a slow server, and a server killed in the middle of a folder. Each is a typed error with a sentence, within
 * bounded time, and with the local fallback on the local model answers instead — and is not cached as the remote's.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ClassifyBatchRequest, ClassifyRequest, RpcErrorCodes, type ServerSettings } from '@image-classifier/protocol';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';
import { faultProxy, freePort, remotePython, SKIP_NO_REMOTE, startTriton } from '../../../test-fixtures/remote-server.js';
import {
  AUTH_ENV,
  assertSameResult,
  cli,
  cliStreaming,
  jsonl,
  PHOTOS,
  type Rec,
  type RemoteFixture,
  SEED0,
  shared,
  startFixture,
} from './remote-helpers.js';
import { rpcError, startServer, uri } from './server-client.js';

const skip = !shared ? SKIP_NO_SHARED : !remotePython() ? SKIP_NO_REMOTE : false;

const remoteArgs = (url: string, model = 'resnet50') => ['classify', '--remote', url, '--remote-model', model, '--format', 'jsonl'];

describe('remote inference: faults against a real Triton server', { skip }, () => {
  let fx: RemoteFixture;
  let local: Rec[];
  before(async () => {
    fx = (await startFixture())!;
    const r = await cli(['classify', '--model', SEED0, '--format', 'jsonl', ...PHOTOS.slice(0, 4)]);
    assert.equal(r.code, 0, r.stderr);
    local = jsonl(r.stdout);
  });
  after(async () => {
    await fx?.triton.stop();
  });

  test('no server: REMOTE_UNAVAILABLE with a sentence, after bounded retries (CLI and JSON-RPC)', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const r = await cli([...remoteArgs(dead), PHOTOS[0]!]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /REMOTE_UNAVAILABLE: Nothing answers at http:\/\/127\.0\.0\.1:\d+ \(connection refused\), also after 3 retries\. Check that the inference server is running/,
    );
    assert.ok(r.ms < 20_000, `gave up after ${r.ms} ms`);
    const srv = startServer();
    try {
      await srv.initialize({
        backend: 'remote',
        remoteUrl: dead,
        remoteModel: 'resnet50',
        cacheDir: mkdtempSync(path.join(tmpdir(), 'ic-rf-')),
      });
      const s = await srv.waitStatus((x) => x.state === 'error' || x.state === 'ready');
      assert.equal(s.state, 'error');
      assert.equal(s.error?.code, 'REMOTE_UNAVAILABLE');
      const e = await rpcError(srv.conn.sendRequest(ClassifyRequest.type, { uri: uri(PHOTOS[0]!) }));
      assert.equal(e.code, RpcErrorCodes.REMOTE_UNAVAILABLE);
      assert.equal(e.data?.code, 'REMOTE_UNAVAILABLE');
    } finally {
      await srv.stop();
    }
  });

  test('a wrong model name: REMOTE_MODEL_NOT_FOUND', async () => {
    const r = await cli([...remoteArgs(fx.triton.url, 'resnet51'), PHOTOS[0]!], AUTH_ENV);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /REMOTE_MODEL_NOT_FOUND: The server at http:\/\/127\.0\.0\.1:\d+ has no model 'resnet51' .*Check imageClassifier\.remote\.model/,
    );
    const v = await cli([...remoteArgs(fx.triton.url), '--remote-version', '7', PHOTOS[0]!], AUTH_ENV);
    assert.equal(v.code, 2);
    assert.match(v.stderr, /REMOTE_MODEL_NOT_FOUND: .*'resnet50' version 7/);
  });

  test('a model with other input shapes: REMOTE_MODEL_MISMATCH naming the shape', async () => {
    const r = await cli([...remoteArgs(fx.triton.url, 'gray64'), PHOTOS[0]!], AUTH_ENV);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /REMOTE_MODEL_MISMATCH: The model 'gray64' \(version 1\) .* takes input FP32 \[-1, 1, 64, 64\]; this client sends 3-channel images/,
    );
  });

  test('no credentials: REMOTE_AUTH_FAILED; a bearer token in the wrong header is refused the same way', async () => {
    const r = await cli([...remoteArgs(fx.triton.url), PHOTOS[0]!]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /REMOTE_AUTH_FAILED: The server at .* refused the request to \/v2\/models\/resnet50 \(HTTP 40[13]/);
    assert.match(r.stderr, /IMAGE_CLASSIFIER_REMOTE_HEADERS/);
    const t = await cli([...remoteArgs(fx.triton.url), PHOTOS[0]!], { IMAGE_CLASSIFIER_REMOTE_TOKEN: 'not-it' });
    assert.equal(t.code, 2);
    assert.match(t.stderr, /REMOTE_AUTH_FAILED/);
  });

  test('503s are retried with backoff and the results are the server’s; 503s that do not stop are REMOTE_UNAVAILABLE per image', async () => {
    const proxy = await faultProxy(fx.triton.url, { fail503: 2 });
    try {
      const files = PHOTOS.slice(0, 4);
      const r = await cli([...remoteArgs(proxy.url), '--batch', '2', ...files], AUTH_ENV);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(proxy.stats.injected503, 2);
      jsonl(r.stdout).forEach((rec, i) => {
        assertSameResult(rec as never, local[i] as never, `after 503s ${path.basename(files[i]!)}`);
      });
      proxy.plan = { fail503: 1_000 };
      const down = await cli([...remoteArgs(proxy.url), '--batch', '2', ...files], AUTH_ENV);
      assert.equal(down.code, 1, 'every image failed, the run finished');
      for (const rec of jsonl(down.stdout)) {
        assert.equal(rec.error?.code, 'REMOTE_UNAVAILABLE');
        assert.match(rec.error.message, /answered \/v2\/models\/resnet50\/versions\/1\/infer with HTTP 503 .*also after 3 retries/);
      }
    } finally {
      await proxy.close();
    }
  });

  test('a slow server: REMOTE_TIMEOUT per image within the timeout, and with the fallback on the local model answers', async () => {
    const proxy = await faultProxy(fx.triton.url, { delayMs: 4_000 });
    try {
      const files = PHOTOS.slice(0, 4);
      const r = await cli([...remoteArgs(proxy.url), '--remote-timeout', '500', '--batch', '2', ...files], AUTH_ENV);
      assert.equal(r.code, 1);
      const recs = jsonl(r.stdout);
      assert.equal(recs.length, 4);
      for (const rec of recs) {
        assert.equal(rec.error?.code, 'REMOTE_TIMEOUT');
        assert.match(
          rec.error.message,
          /did not answer POST \/v2\/models\/resnet50\/versions\/1\/infer within 500 ms\. The server may be overloaded/,
        );
      }
      assert.ok(r.ms < 15_000, `the run took ${r.ms} ms`);
      const fb = await cli(
        [...remoteArgs(proxy.url), '--remote-timeout', '500', '--fallback-to-local', '--model', SEED0, '--batch', '2', ...files],
        AUTH_ENV,
      );
      assert.equal(fb.code, 0, fb.stderr);
      assert.match(fb.stderr, /the local model answers instead of the server: The server at .* did not answer/);
      jsonl(fb.stdout).forEach((rec, i) => {
        assert.equal(rec.answeredBy, 'local');
        assertSameResult(rec as never, local[i] as never, `fallback ${path.basename(files[i]!)}`);
      });
    } finally {
      await proxy.close();
    }
  });

  test('cancelling a folder aborts its requests in flight: the answer comes at once, not after the slow server', async () => {
    const proxy = await faultProxy(fx.triton.url, { delayMs: 6_000 });
    const srv = startServer(AUTH_ENV);
    try {
      await srv.initialize({
        backend: 'remote',
        remoteUrl: proxy.url,
        remoteModel: 'resnet50',
        maxBatch: 2,
        cacheDir: mkdtempSync(path.join(tmpdir(), 'ic-rf-cancel-')),
        roots: [shared!],
      });
      assert.equal((await srv.waitStatus((s) => s.state === 'ready' || s.state === 'error')).state, 'ready');
      const cts = new CancellationTokenSource();
      const t0 = performance.now();
      const run = srv.conn.sendRequest(ClassifyBatchRequest.type, { uris: PHOTOS.map(uri) }, cts.token);
      while (proxy.stats.infer < 2) await new Promise((r) => setTimeout(r, 20));
      cts.cancel();
      const r = await run;
      const ms = performance.now() - t0;
      assert.equal(r.cancelled, true);
      assert.ok(ms < 5_000, `answered after ${Math.round(ms)} ms (the server would have taken 6 s)`);
      await new Promise((res) => setTimeout(res, 200));
      assert.ok(proxy.stats.abandoned >= 1, `the requests in flight were aborted (${JSON.stringify(proxy.stats)})`);
    } finally {
      await srv.stop();
      await proxy.close();
    }
  });

  test('the server killed in the middle of a folder: the rest fail with REMOTE_UNAVAILABLE, no hang', async () => {
    const own = await startTriton(remotePython()!, { resnet50: fx.files.resnet50! }, { accessToken: 'remote-tests-7f3a' });
    const files = [...PHOTOS, ...PHOTOS, ...PHOTOS, ...PHOTOS];
    let killed: Promise<void> | undefined;
    const r = await cliStreaming([...remoteArgs(own.url), '--batch', '2', '--remote-inflight', '2', ...files], AUTH_ENV, () => {
      killed ??= own.kill();
    });
    await killed;
    const recs = jsonl(r.stdout);
    assert.equal(recs.length, files.length, 'one record per image');
    const failed = recs.filter((x) => x.error);
    assert.ok(recs[0]!.predictions, 'the first image was classified');
    assert.ok(failed.length > 0, 'images after the kill failed');
    for (const f of failed) assert.equal(f.error.code, 'REMOTE_UNAVAILABLE', JSON.stringify(f.error));
    assert.equal(r.code, 1);
    console.log(`# killed mid-run: ${recs.length - failed.length} classified, ${failed.length} REMOTE_UNAVAILABLE, ${Math.round(r.ms)} ms`);
  });

  test('JSON-RPC with the fallback on: the server killed mid-batch, the local model answers the rest, and only the remote answers are cached', async () => {
    const port = await freePort();
    let own = await startTriton(remotePython()!, { resnet50: fx.files.resnet50! }, { accessToken: 'remote-tests-7f3a', port });
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'ic-rf-fb-'));
    const settings: ServerSettings = {
      backend: 'remote',
      remoteUrl: own.url,
      remoteModel: 'resnet50',
      fallbackToLocal: true,
      model: SEED0,
      maxBatch: 2,
      cacheDir,
      roots: [shared!],
    };
    const uris = PHOTOS.map(uri);
    let srv = startServer(AUTH_ENV);
    try {
      await srv.initialize(settings);
      assert.equal((await srv.waitStatus((s) => s.state === 'ready' || s.state === 'error')).provider, 'remote');
      let killed: Promise<void> | undefined;
      srv.conn.onNotification('$/progress', () => {
        killed ??= own.kill();
      });
      const run = await srv.conn.sendRequest(ClassifyBatchRequest.type, { uris, partialResultToken: 'fb' });
      await killed;
      assert.equal(run.items.filter((i) => i.error).length, 0, JSON.stringify(run.items.find((i) => i.error)));
      const byLocal = run.items.filter((i) => i.answeredBy === 'local').length;
      assert.ok(byLocal > 0, 'the local model answered after the kill');
      const fallback = await srv.waitStatus((s) => s.provider === 'local fallback');
      assert.match(fallback.message ?? '', /local model answers/);
      // A fresh server process with the remote back: the remote answers were cached, the local ones were not.
      await srv.stop();
      own = await startTriton(remotePython()!, { resnet50: fx.files.resnet50! }, { accessToken: 'remote-tests-7f3a', port });
      srv = startServer(AUTH_ENV);
      await srv.initialize(settings);
      assert.equal((await srv.waitStatus((s) => s.state === 'ready' || s.state === 'error')).provider, 'remote');
      const again = await srv.conn.sendRequest(ClassifyBatchRequest.type, { uris });
      const fresh = again.items.filter((i) => !i.cached).length;
      assert.equal(fresh, byLocal, 'exactly the local answers were left out of the cache');
      assert.ok(again.items.every((i) => !i.error && i.answeredBy !== 'local'));
      console.log(`# fallback: ${byLocal} of ${run.items.length} answered locally after the kill; ${fresh} recomputed by the server`);
    } finally {
      await srv.stop();
      await own.stop();
    }
  });
});
