import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Classifier,
  decodeFloat16,
  encodeFloat16,
  inspectOnnx,
  ModelSession,
  preprocessImage,
  readInitializer,
  toFloat16Bits,
  withEmbeddingOutput,
} from '../src/index.js';
import { sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';

const shared = sharedDir();
const model = (f: string) => path.join(shared!, 'models', f);
const image = (f: string) => path.join(shared!, 'images', f);

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('embeddings: the penultimate layer as a second output', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  test('the graph tails are recognised: ResNet50 pooled features, MobileNetV2 int8 dequantized features', () => {
    const r = inspectOnnx(readFileSync(model('resnet50-torchvision-seed0.onnx')));
    assert.deepEqual(r.outputs, ['logits']);
    assert.deepEqual(r.embedding, { name: '/Flatten_output_0', producer: 'Flatten' });
    const m = inspectOnnx(readFileSync(model('mobilenetv2-12-int8.onnx')));
    assert.equal(m.embedding?.producer, 'DequantizeLinear');
    assert.deepEqual(m.embedding?.dequantize, { input: '472_quantized', scale: '464_scale', zeroPoint: '464_zero_point' });
    const patched = inspectOnnx(withEmbeddingOutput(readFileSync(model('mobilenetv2-12-int8.onnx')), m.embedding!));
    assert.deepEqual(patched.outputs, ['output', m.embedding!.name]);
    assert.equal(patched.nodeCount, m.nodeCount + 1);
  });

  describe('ResNet50', () => {
    let session: ModelSession;
    let plain: ModelSession;
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'ic-emb-'));
    before(async () => {
      session = await ModelSession.load(model('resnet50-torchvision-seed0.onnx'), { optimizedModelCacheDir: cacheDir });
      plain = await ModelSession.load(model('resnet50-torchvision-seed0.onnx'), { optimizedModelCacheDir: cacheDir, embeddings: false });
    });
    after(async () => {
      await session?.release();
      await plain?.release();
    });

    test('the embedding is what the fc layer reads: logits = fc.weight · e + fc.bias (within 1e-3)', async () => {
      assert.deepEqual(session.info.embedding, { outputName: '/Flatten_output_0', dims: 2048, producer: 'Flatten' });
      const bytes = readFileSync(model('resnet50-torchvision-seed0.onnx'));
      const w = readInitializer(bytes, 'fc.weight');
      const b = readInitializer(bytes, 'fc.bias');
      assert.deepEqual(w?.dims, [1000, 2048]);
      assert.deepEqual(b?.dims, [1000]);
      const files = ['skimage_chelsea_cat.jpg', 'skimage_coffee.png'];
      const per = 3 * 224 * 224;
      const x = new Float32Array(per * files.length);
      for (const [i, f] of files.entries()) await preprocessImage(readFileSync(image(f)), f, { out: x, offset: i * per });
      const out = await session.runOutputs(x, files.length);
      assert.equal(out.embeddings?.length, 2048 * files.length);
      for (let i = 0; i < files.length; i++) {
        const e = out.embeddings!.subarray(i * 2048, (i + 1) * 2048);
        assert.ok(
          e.every((v) => v >= 0),
          'pooled ReLU features are non-negative',
        );
        let max = 0;
        for (let k = 0; k < 1000; k++) {
          let z = b!.data[k]!;
          for (let d = 0; d < 2048; d++) z += w!.data[k * 2048 + d]! * e[d]!;
          max = Math.max(max, Math.abs(z - out.logits[i * 1000 + k]!));
        }
        assert.ok(max < 1e-3, `${files[i]}: max |Δ| ${max}`);
      }
    });

    test('adding the output changes no logit, from the optimized-model cache too', async () => {
      const again = await ModelSession.load(model('resnet50-torchvision-seed0.onnx'), { optimizedModelCacheDir: cacheDir });
      try {
        assert.equal(again.info.optimizedModelCache, 'hit');
        assert.equal(again.info.embedding?.dims, 2048);
        assert.equal(plain.info.embedding, undefined);
        const x = new Float32Array(2 * 3 * 224 * 224).map((_, i) => Math.sin(i));
        const a = await session.runOutputs(x, 2);
        const c = await again.runOutputs(x, 2);
        const p = await plain.runOutputs(x, 2);
        assert.equal(p.embeddings, undefined);
        assert.deepEqual(Array.from(a.logits), Array.from(p.logits));
        assert.deepEqual(Array.from(c.logits), Array.from(a.logits));
        assert.deepEqual(Array.from(c.embeddings!), Array.from(a.embeddings!));
      } finally {
        await again.release();
      }
    });
  });

  describe('MobileNetV2 int8 through the engine (worker thread, batching)', () => {
    let classifier: Classifier;
    before(async () => {
      classifier = await Classifier.create({ modelPath: model('mobilenetv2-12-int8.onnx'), maxBatch: 4 });
    });
    after(async () => classifier?.close());

    test('the same photo in other formats embeds close; a different photo does not', async () => {
      assert.equal(classifier.info.embedding?.dims, 1280);
      const files = [
        'skimage_chelsea_cat.jpg',
        'skimage_chelsea_cat.png',
        'derived_chelsea.webp',
        'skimage_coffee.jpg',
        'skimage_rocket.jpg',
      ];
      const rs = await Promise.all(files.map((f) => classifier.classifyFile(image(f), { embedding: true })));
      const [jpg, png, webp, coffee, rocket] = rs.map((r) => r.embedding!);
      assert.equal(jpg!.length, 1280);
      const same = Math.min(cosine(jpg!, png!), cosine(jpg!, webp!));
      const other = Math.max(cosine(jpg!, coffee!), cosine(jpg!, rocket!));
      assert.ok(same > 0.9, `same photo: cosine ${same}`);
      assert.ok(other < same - 0.2, `different photos: cosine ${other} vs ${same}`);
      // Batched and alone give the same vector.
      const alone = await classifier.classifyFile(image('skimage_coffee.jpg'), { embedding: true });
      assert.deepEqual(Array.from(alone.embedding!), Array.from(coffee!));
      const none = await classifier.classifyFile(image('skimage_coffee.jpg'));
      assert.equal(none.embedding, undefined);
    });
  });
});

describe('float16 storage of embeddings', () => {
  test('round trip within half precision; rounding, subnormals, infinities as numpy does', () => {
    // numpy: np.float16(x).view(np.uint16)
    const cases: Array<[number, number]> = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65520, 0x7c00],
      [1e-8, 0x0000],
      [6.1035156e-5, 0x0400],
      [5.9604645e-8, 0x0001],
      [0.1, 0x2e66],
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
    ];
    for (const [x, bits] of cases) assert.equal(toFloat16Bits(x), bits, `${x}`);
    assert.ok(Number.isNaN(decodeFloat16(encodeFloat16([NaN]))[0]));
    const v = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i) * 10 ** ((i % 9) - 4));
    const back = decodeFloat16(encodeFloat16(v));
    for (let i = 0; i < v.length; i++) {
      if (Math.abs(v[i]!) < 6.2e-5) assert.ok(Math.abs(back[i]! - v[i]!) <= 2 ** -25, `${v[i]}`);
      else assert.ok(Math.abs(back[i]! - v[i]!) <= Math.abs(v[i]!) * 2 ** -11, `${v[i]} → ${back[i]}`);
    }
  });
});
