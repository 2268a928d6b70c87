/**
 * The remote backend's inputs that need no server: credentials from the environment (never from settings), the
 * settings' normalization (a URL with a password in it is refused without echoing it), and a model signature the
 * client cannot feed.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { normalizeSettings } from '@image-classifier/protocol';
import { remoteHeadersFromEnv, remoteOptions } from '../src/remote/options.js';
import { remoteModelInfo, type RemoteModelInfo } from '../src/remote/metadata.js';

test('headers come from IMAGE_CLASSIFIER_REMOTE_HEADERS (JSON) and IMAGE_CLASSIFIER_REMOTE_TOKEN (bearer)', () => {
  assert.deepEqual(remoteHeadersFromEnv({ IMAGE_CLASSIFIER_REMOTE_HEADERS: '{"triton-access-token":"t1"}' }), {
    'triton-access-token': 't1',
  });
  assert.deepEqual(remoteHeadersFromEnv({ IMAGE_CLASSIFIER_REMOTE_TOKEN: 'abc' }), { Authorization: 'Bearer abc' });
  assert.deepEqual(remoteHeadersFromEnv({}), {});
  assert.throws(() => remoteHeadersFromEnv({ IMAGE_CLASSIFIER_REMOTE_HEADERS: 'Authorization: x' }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => remoteHeadersFromEnv({ IMAGE_CLASSIFIER_REMOTE_HEADERS: '{"X-A":"a\\r\\nInjected: 1"}' }), {
    code: 'INVALID_ARGUMENT',
  });
  assert.throws(() => remoteOptions({ url: 'http://h:8000', model: '../etc' }, {}), { code: 'INVALID_ARGUMENT' });
  const o = remoteOptions({ url: 'http://h:8000', model: 'resnet50' }, { IMAGE_CLASSIFIER_REMOTE_TOKEN: 'k' });
  assert.equal(o.headers.Authorization, 'Bearer k');
  assert.equal(o.inflight, 4);
});

test('settings: backend and remote keys are checked; a URL with credentials is refused and not echoed', () => {
  const ok = normalizeSettings({
    backend: 'remote',
    remoteUrl: 'http://t:8000',
    remoteModel: 'r',
    remoteInflight: 8,
    fallbackToLocal: true,
  });
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.settings.backend, 'remote');
  assert.equal(ok.settings.remoteInflight, 8);
  const bad = normalizeSettings({
    backend: 'gpu',
    remoteUrl: 'https://alice:s3cret@t:8000',
    remoteInflight: 0,
    fallbackToLocal: 'yes',
    remoteProtocol: 'grpc',
  });
  assert.deepEqual(bad.refused.sort(), ['backend', 'fallbackToLocal', 'remoteInflight', 'remoteProtocol', 'remoteUrl']);
  assert.equal(bad.settings.remoteUrl, undefined);
  assert.ok(!bad.problems.join(' ').includes('s3cret'), 'the password is not logged');
});

const remote: RemoteModelInfo = {
  url: 'http://t:8000',
  model: 'm',
  version: '1',
  versions: ['1'],
  server: {},
  protocol: 'binary',
  inflight: 4,
  timeoutMs: 1000,
};

test('metadata: NCHW and NHWC FP32 images are accepted, the embedding output found; other signatures are REMOTE_MODEL_MISMATCH', () => {
  const nchw = remoteModelInfo(
    {
      name: 'm',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 224, 224] }],
      outputs: [
        { name: 'embedding', datatype: 'FP32', shape: [-1, 2048] },
        { name: 'logits', datatype: 'FP32', shape: [-1, 1000] },
      ],
    },
    remote,
    5,
  );
  assert.equal(nchw.layout, 'NCHW');
  assert.deepEqual(nchw.inputSize, [224, 224]);
  assert.equal(nchw.outputName, 'logits');
  assert.equal(nchw.embedding?.outputName, 'embedding');
  assert.equal(nchw.dynamicBatch, true);
  const nhwc = remoteModelInfo(
    {
      name: 'm',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [8, 160, 128, 3] }],
      outputs: [{ name: 'out', datatype: 'FP32', shape: [8, 10] }],
    },
    remote,
    5,
  );
  assert.equal(nhwc.layout, 'NHWC');
  assert.deepEqual(nhwc.inputSize, [160, 128]);
  assert.equal(nhwc.maxBatch, 8);
  assert.equal(nhwc.embedding, undefined);
  for (const [inputs, outputs, why] of [
    [[{ name: 'x', datatype: 'UINT8', shape: [-1, 224, 224, 3] }], [{ name: 'o', datatype: 'FP32', shape: [-1, 1000] }], /UINT8/],
    [[{ name: 'x', datatype: 'BYTES', shape: [-1] }], [{ name: 'o', datatype: 'FP32', shape: [-1, 1000] }], /BYTES/],
    [[{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }], [{ name: 'o', datatype: 'FP32', shape: [-1, 1000] }], /fixed size/],
    [[{ name: 'x', datatype: 'FP32', shape: [-1, 3, 224, 224] }], [{ name: 'o', datatype: 'FP16', shape: [-1, 1000] }], /no FP32 output/],
    [[], [], /has 0 inputs/],
  ] as const) {
    assert.throws(
      () => remoteModelInfo({ name: 'm', inputs: inputs as never, outputs: outputs as never }, remote, 5),
      (e: { code: string; message: string }) => e.code === 'REMOTE_MODEL_MISMATCH' && why.test(e.message),
    );
  }
});
