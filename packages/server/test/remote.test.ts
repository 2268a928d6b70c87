/**
 * The remote backend against a real NVIDIA Triton (PyTriton, from PyPI) on 127.0.0.1: the same top-5 and
 * embeddings as the local model on the shared photos, through the CLI and the JSON-RPC server; `model info` and
 * `modelInfo` name the remote model, its version and the server; remote and local results never share a cache key.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FallbackBackend, loadBackend, preprocessImage, RemoteBackend, remoteOptions } from '@image-classifier/core';
import { ClassifyBatchRequest, ModelInfoRequest, type ServerSettings } from '@image-classifier/protocol';
import { REPO_ROOT, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';
import { faultProxy, remotePython, SKIP_NO_REMOTE } from '../../../test-fixtures/remote-server.js';
import {
  AUTH_ENV,
  assertSameResult,
  cli,
  jsonl,
  MOBILENET,
  PHOTOS,
  type Rec,
  type RemoteFixture,
  SEED0,
  shared,
  startFixture,
} from './remote-helpers.js';
import { startServer, uri } from './server-client.js';

const skip = !shared ? SKIP_NO_SHARED : !remotePython() ? SKIP_NO_REMOTE : false;

/** Images Triton's model has inferred so far (its statistics endpoint). */
async function inferred(url: string, model: string): Promise<number> {
  const r = (await (await fetch(`${url}/v2/models/${model}/stats`)).json()) as { model_stats: Array<{ inference_count: number }> };
  return Number(r.model_stats[0]!.inference_count);
}

describe('remote inference on a real Triton server', { skip }, () => {
  let fx: RemoteFixture;
  const local: Record<string, Rec[]> = {};
  before(async () => {
    fx = (await startFixture())!;
    // The local backend's answers, the reference.
    for (const [name, model] of [
      ['resnet50', SEED0],
      ['mobilenet', MOBILENET],
    ] as const) {
      const r = await cli(['classify', '--model', model, '--format', 'jsonl', '--embedding', ...PHOTOS]);
      assert.equal(r.code, 0, r.stderr);
      local[name] = jsonl(r.stdout);
    }
  });
  after(async () => {
    await fx?.triton.stop();
  });

  for (const [name, protocol] of [
    ['resnet50', 'auto'],
    ['mobilenet', 'auto'],
    ['resnet50', 'json'],
  ] as const) {
    test(`CLI: ${name} on Triton (${protocol === 'auto' ? 'binary tensors' : 'JSON tensors'}) equals the local model on ${PHOTOS.length} photos`, async () => {
      const args = ['classify', '--remote', fx.triton.url, '--remote-model', name, '--remote-protocol', protocol, '--batch', '4'];
      const before = await inferred(fx.triton.url, name);
      const r = await cli([...args, '--format', 'jsonl', '--embedding', ...PHOTOS], AUTH_ENV);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await inferred(fx.triton.url, name)) - before, PHOTOS.length, 'Triton inferred every photo');
      const recs = jsonl(r.stdout);
      assert.equal(recs.length, PHOTOS.length);
      let worst = { prob: 0, emb: 0 };
      recs.forEach((rec, i) => {
        assert.equal(rec.file, local[name]![i]!.file);
        assert.equal(rec.answeredBy, undefined, 'no fallback: the server answered');
        const d = assertSameResult(rec as never, local[name]![i] as never, `${name} ${path.basename(rec.file)}`);
        worst = { prob: Math.max(worst.prob, d.prob), emb: Math.max(worst.emb, d.emb) };
      });
      console.log(`# ${name} (${protocol}): max |Δp| ${worst.prob.toExponential(2)}, max |Δembedding| ${worst.emb.toExponential(2)}`);
    });
  }

  test('MobileNetV2 on Triton still sees the cat and the espresso (real labels)', async () => {
    const cat = PHOTOS.find((p) => p.endsWith('skimage_chelsea_cat.jpg'))!;
    const coffee = PHOTOS.find((p) => p.endsWith('skimage_coffee.jpg'))!;
    const r = await cli(['classify', '--remote', fx.triton.url, '--remote-model', 'mobilenet', '--format', 'jsonl', cat, coffee], AUTH_ENV);
    assert.equal(r.code, 0, r.stderr);
    const [a, b] = jsonl(r.stdout);
    assert.match(a!.predictions[0].label, /cat/);
    assert.match(b!.predictions[0].label, /espresso/);
  });

  test('model info names the remote model, its version, the server and the tensor encoding', async () => {
    const r = await cli(['model', 'info', '--remote', fx.triton.url, '--remote-model', 'resnet50', '--format', 'jsonl'], AUTH_ENV);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as Rec;
    assert.equal(info.remote.model, 'resnet50');
    assert.equal(info.remote.version, '1');
    assert.equal(info.remote.server.name, 'triton');
    assert.equal(info.remote.protocol, 'binary');
    assert.equal(info.remote.maxBatchSize, 32);
    assert.deepEqual(info.inputShape, [-1, 3, 224, 224]);
    assert.equal(info.embedding.outputName, 'embedding');
    assert.equal(info.embedding.dims, 2048);
    const text = await cli(['model', 'info', '--remote', fx.triton.url, '--remote-model', 'resnet50', '--format', 'text'], AUTH_ENV);
    assert.match(text.stdout, /remote model\s+resnet50 version 1/);
    assert.match(text.stdout, /remote server\s+http:\/\/127\.0\.0\.1:\d+ \(triton 2\.\d+/);
  });

  test('the fallback hands back to the server once it answers again (after its retry pause)', async () => {
    const proxy = await faultProxy(fx.triton.url);
    const switches: string[] = [];
    const remote = await RemoteBackend.connect(remoteOptions({ url: proxy.url, model: 'resnet50', retries: 1 }, AUTH_ENV));
    // The local model loaded beforehand, so that its load does not eat the pause.
    const local = await loadBackend(SEED0, {}, { worker: false });
    const fb = new FallbackBackend(
      remote,
      async () => local,
      (who) => switches.push(who),
      3_000,
    );
    try {
      const input = (await preprocessImage(readFileSync(PHOTOS[0]!), PHOTOS[0]!)).tensor;
      const first = await fb.run(input, 1, undefined, true);
      assert.equal(first.answeredBy, 'remote');
      proxy.plan = { status: 503 };
      const during = await fb.run(input, 1, undefined, true);
      assert.equal(during.answeredBy, 'local');
      assert.deepEqual(Array.from(during.logits), Array.from(first.logits), 'the local model gives the same logits');
      proxy.plan = {};
      const soon = await fb.run(input, 1, undefined, true);
      assert.equal(soon.answeredBy, 'local', 'within the pause the local model keeps answering');
      await new Promise((r) => setTimeout(r, 3_100));
      const back = await fb.run(input, 1, undefined, true);
      assert.equal(back.answeredBy, 'remote');
      assert.deepEqual(switches, ['local', 'remote']);
    } finally {
      await fb.release();
      await proxy.close();
    }
  });

  test('the committed deploy/triton config.pbtxt is what model export-triton writes for ResNet50', () => {
    const committed = readFileSync(path.join(REPO_ROOT, 'deploy', 'triton', 'model_repository', 'resnet50', 'config.pbtxt'), 'utf8');
    assert.equal(readFileSync(path.join(fx.repo, 'resnet50', 'config.pbtxt'), 'utf8'), committed);
  });

  test('JSON-RPC server: remote results equal local ones, modelInfo names the server, and local and remote never share cache entries', async () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'ic-remote-srv-'));
    const remote: ServerSettings = { backend: 'remote', remoteUrl: fx.triton.url, remoteModel: 'resnet50', cacheDir, roots: [shared!] };
    const srv = startServer(AUTH_ENV);
    try {
      await srv.initialize(remote);
      const ready = await srv.waitStatus((s) => s.state === 'ready' || s.state === 'error');
      assert.equal(ready.state, 'ready', JSON.stringify(ready));
      assert.equal(ready.provider, 'remote');
      assert.equal(ready.model, 'resnet50 v1');
      const info = await srv.conn.sendRequest(ModelInfoRequest.type);
      assert.equal(info.remote?.model, 'resnet50');
      assert.equal(info.remote?.version, '1');
      assert.equal(info.remote?.server.name, 'triton');
      assert.equal(info.answeredBy, 'remote');
      const uris = PHOTOS.map(uri);
      const first = await srv.conn.sendRequest(ClassifyBatchRequest.type, { uris, embedding: true });
      assert.equal(first.items.length, PHOTOS.length);
      first.items.forEach((item, i) => {
        assert.equal(item.error, undefined, JSON.stringify(item.error));
        assert.equal(item.cached, false);
        assertSameResult(item as never, local.resnet50![i] as never, `server ${path.basename(PHOTOS[i]!)}`);
      });
      // The same files with the local model (same ONNX): not the remote's cache entries.
      srv.conn.sendNotification('workspace/didChangeConfiguration', {
        settings: { imageClassifier: { ...remote, backend: 'local', model: SEED0 } },
      });
      await srv.waitStatus((s) => s.state === 'ready' && s.provider !== 'remote');
      const localRun = await srv.conn.sendRequest(ClassifyBatchRequest.type, { uris: uris.slice(0, 3) });
      assert.deepEqual(
        localRun.items.map((i) => i.cached),
        [false, false, false],
        'the local model does not answer from the remote model results',
      );
      // Back to the remote model: its own entries answer.
      srv.statuses.length = 0;
      srv.conn.sendNotification('workspace/didChangeConfiguration', { settings: { imageClassifier: remote } });
      await srv.waitStatus((s) => s.state === 'ready' && s.provider === 'remote');
      const again = await srv.conn.sendRequest(ClassifyBatchRequest.type, { uris, embedding: true });
      assert.ok(
        again.items.every((i) => i.cached === true),
        'the remote model finds its own results',
      );
    } finally {
      await srv.stop();
    }
  });
});
