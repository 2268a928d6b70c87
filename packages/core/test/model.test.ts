import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Classifier, type ClassifierError, ModelSession, preprocessImage } from '../src/index.js';
import { FIXTURE_IMAGES, readF32, sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';

const shared = sharedDir();
setFlagsFromString('--expose-gc');
const stemOf = (f: string) => f.replace(/\.([^.]*)$/, '_$1');

describe('ResNet50 (seed-0 torchvision export) logits against PyTorch', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let session: ModelSession;
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'ic-opt-'));
  before(async () => {
    session = await ModelSession.load(path.join(shared!, 'models', 'resnet50-torchvision-seed0.onnx'), {
      optimizedModelCacheDir: cacheDir,
    });
  });
  after(async () => session?.release());

  test('introspection reads names and shapes from the session', () => {
    const i = session.info;
    assert.equal(i.inputName, 'input');
    assert.equal(i.outputName, 'logits');
    assert.deepEqual(i.inputShape.slice(1), [3, 224, 224]);
    assert.equal(i.layout, 'NCHW');
    assert.equal(i.classes, 1000);
    assert.equal(i.dynamicBatch, true);
    assert.equal(i.activeProvider, 'cpu');
    assert.equal(i.sha256, '6ab8f5fe22bdc5a1b682074f0bb6869a598fc27a75540cac40b981117370f2eb');
    assert.ok(i.opsets.some((o) => o.domain === 'ai.onnx' && o.version === 17));
    assert.equal(i.outputIsProbabilities, false);
  });

  const images = shared ? readdirSync(path.join(shared, 'images')).sort() : [];
  test('exact preprocessing + ONNX Runtime: every image within 1e-3 of PyTorch, batched', async () => {
    const per = 3 * 224 * 224;
    const batch = new Float32Array(per * images.length);
    for (const [i, f] of images.entries()) {
      await preprocessImage(readFileSync(path.join(shared!, 'images', f)), f, { preprocessing: 'exact', out: batch, offset: i * per });
    }
    const out = await session.run(batch, images.length);
    for (const [i, f] of images.entries()) {
      const ref = readF32(readFileSync(path.join(shared!, 'reference', `${stemOf(f)}.resnet50-seed0.logits.f32`)));
      let max = 0;
      for (let k = 0; k < 1000; k++) max = Math.max(max, Math.abs(out[i * 1000 + k]! - ref[k]!));
      assert.ok(max <= 1e-3, `${f}: max |Δlogit| ${max}`);
    }
  });

  test('the ORT-optimized model is cached (ORT format, run from its bytes) and gives the same logits', async () => {
    const again = await ModelSession.load(path.join(shared!, 'models', 'resnet50-torchvision-seed0.onnx'), {
      optimizedModelCacheDir: cacheDir,
    });
    try {
      assert.equal(session.info.optimizedModelCache, 'miss');
      assert.equal(again.info.optimizedModelCache, 'hit');
      const cached = readdirSync(cacheDir).filter((f) => f.endsWith('.ort'));
      assert.equal(cached.length, 1, readdirSync(cacheDir).join(', '));
      // A flatbuffer with ONNX Runtime's file identifier, not an ONNX protobuf.
      assert.equal(readFileSync(path.join(cacheDir, cached[0]!)).subarray(4, 8).toString('latin1'), 'ORTM');
      const x = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i) * 2);
      const a = await session.run(x.slice(), 1);
      // The hit's session uses the bytes it was created from in place: they must outlive collections.
      const gc = runInNewContext('gc') as () => void;
      for (let i = 0; i < 3; i++) {
        new Array(50).fill(0).map(() => new Float32Array(1 << 18));
        gc();
      }
      const b = await again.run(x.slice(), 1);
      assert.deepEqual(Array.from(b), Array.from(a), 'the same logits, bit for bit');
    } finally {
      await again.release();
    }
  });
});

describe('the optimized-model cache', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  test("a miss removes this model's entries of the earlier protobuf form (*.ort.onnx), and only those", async () => {
    const model = path.join(shared!, 'models', 'mobilenetv2-12-int8.onnx');
    const sha = createHash('sha256').update(readFileSync(model)).digest('hex').slice(0, 16);
    const dir = mkdtempSync(path.join(tmpdir(), 'ic-cache-old-'));
    try {
      writeFileSync(path.join(dir, `${sha}-0123456789abcdef01234567.ort.onnx`), 'old entry');
      writeFileSync(path.join(dir, 'ffffffffffffffff-0123456789abcdef01234567.ort.onnx'), 'another model');
      const s = await ModelSession.load(model, { optimizedModelCacheDir: dir });
      await s.release();
      assert.equal(s.info.optimizedModelCache, 'miss');
      const left = readdirSync(dir).sort();
      assert.ok(!left.some((n) => n.startsWith(sha) && n.endsWith('.ort.onnx')), left.join(', '));
      assert.ok(left.includes('ffffffffffffffff-0123456789abcdef01234567.ort.onnx'), "another model's entry stays");
      assert.equal(left.filter((n) => n.startsWith(sha) && n.endsWith('.ort')).length, 1, left.join(', '));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('MobileNetV2 int8 (real ImageNet weights) gives the manifest top-1', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let classifier: Classifier;
  before(async () => {
    classifier = await Classifier.create({ modelPath: path.join(shared!, 'models', 'mobilenetv2-12-int8.onnx'), preprocessing: 'exact' });
  });
  after(async () => classifier?.close());
  const manifest = shared ? JSON.parse(readFileSync(path.join(shared, 'reference', 'manifest.json'), 'utf8')) : { images: {} };
  for (const [file, entry] of Object.entries<{ mobilenetv2_int8_top5: number[]; mobilenetv2_int8_top5_prob: number[] }>(manifest.images)) {
    test(`${file} → ${entry.mobilenetv2_int8_top5[0]}`, async () => {
      const r = await classifier.classifyFile(path.join(shared!, 'images', file), { topK: 5 });
      assert.equal(r.predictions[0]!.index, entry.mobilenetv2_int8_top5[0]);
      assert.ok(Math.abs(r.predictions[0]!.probability - entry.mobilenetv2_int8_top5_prob[0]!) < 1e-3);
      if (file.includes('chelsea')) assert.ok(r.predictions[0]!.index >= 281 && r.predictions[0]!.index <= 285, 'a cat class');
      if (file.includes('coffee')) assert.equal(r.predictions[0]!.label, 'espresso');
    });
  }
  // The format variants (BMP, PPM/PGM, TGA, ICO, 16-bit gray, small and palette images) against their own manifest.
  const formats = shared ? path.join(shared, 'formats') : undefined;
  const formatsManifest =
    formats && existsSync(path.join(formats, 'reference', 'manifest.json'))
      ? JSON.parse(readFileSync(path.join(formats, 'reference', 'manifest.json'), 'utf8'))
      : { images: {} };
  for (const [file, entry] of Object.entries<{ mobilenetv2_int8_top5: number[]; mobilenetv2_int8_top5_prob: number[] }>(
    formatsManifest.images,
  )) {
    test(`formats/${file} → ${entry.mobilenetv2_int8_top5[0]}`, async () => {
      const r = await classifier.classifyFile(path.join(formats!, 'images', file), { topK: 5 });
      assert.equal(r.predictions[0]!.index, entry.mobilenetv2_int8_top5[0]);
      assert.ok(Math.abs(r.predictions[0]!.probability - entry.mobilenetv2_int8_top5_prob[0]!) < 1e-3);
    });
  }
  test('concurrent requests are batched and each gets its own answer', async () => {
    const cat = path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg');
    const coffee = path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg');
    const files = Array.from({ length: 20 }, (_, i) => (i % 2 ? coffee : cat));
    const rs = await Promise.all(files.map((f) => classifier.classifyFile(f)));
    rs.forEach((r, i) => {
      assert.equal(r.predictions[0]!.index, i % 2 ? 967 : 285);
    });
    assert.ok(
      rs.some((r) => r.timings.batchSize > 1),
      'some requests shared a batch',
    );
  });
  test('reused tensor and batch buffers: concurrent rounds with failures mixed in give exactly the one-at-a-time answers', async () => {
    const names = ['skimage_chelsea_cat.jpg', 'skimage_coffee.jpg', 'skimage_rocket.jpg', 'skimage_astronaut.png'];
    const files = names.map((n) => path.join(shared!, 'images', n));
    const alone = [];
    for (const f of files) alone.push(await classifier.classifyFile(f, { logits: true }));
    const bad = path.join(FIXTURE_IMAGES, '..', 'does-not-exist.jpg');
    for (let round = 0; round < 3; round++) {
      const order = Array.from({ length: 24 }, (_, i) => (i * 7 + round) % (files.length + 1));
      const rs = await Promise.allSettled(order.map((k) => classifier.classifyFile(k < files.length ? files[k]! : bad, { logits: true })));
      rs.forEach((r, i) => {
        const k = order[i]!;
        if (k === files.length) {
          assert.equal(r.status, 'rejected');
          return;
        }
        assert.equal(r.status, 'fulfilled');
        const got = (r as PromiseFulfilledResult<Awaited<ReturnType<Classifier['classifyFile']>>>).value;
        assert.deepEqual(Array.from(got.logits!), Array.from(alone[k]!.logits!), `${names[k]} in round ${round}`);
      });
    }
  });
  test('an execution provider that is not available falls back to CPU and says why', async () => {
    const s = await ModelSession.load(path.join(shared!, 'models', 'mobilenetv2-12-int8.onnx'), { executionProviders: ['cuda', 'cpu'] });
    try {
      assert.equal(s.info.activeProvider, 'cpu');
      assert.equal(s.info.providerFallbacks[0]?.provider, 'cuda');
      assert.ok(s.info.providerFallbacks[0]!.reason.length > 0);
    } finally {
      await s.release();
    }
  });
  test('a labels file with the wrong count is refused', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ic-labels-'));
    writeFileSync(path.join(dir, 'ten.txt'), Array.from({ length: 10 }, (_, i) => `c${i}`).join('\n'));
    const { loadLabelsFile } = await import('../src/index.js');
    const labels = await loadLabelsFile(path.join(dir, 'ten.txt'));
    await assert.rejects(
      Classifier.create({ modelPath: path.join(shared!, 'models', 'mobilenetv2-12-int8.onnx'), labels, worker: false }),
      (e: ClassifierError) => e.code === 'LABELS_MISMATCH',
    );
  });
});

describe('model loading errors', () => {
  test('a missing model file is MODEL_NOT_FOUND', async () => {
    await assert.rejects(ModelSession.load('/nonexistent/model.onnx'), (e: ClassifierError) => e.code === 'MODEL_NOT_FOUND');
  });
  test('a file that is not ONNX is MODEL_LOAD_FAILED with a sentence', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ic-bad-'));
    const f = path.join(dir, 'bad.onnx');
    writeFileSync(f, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n');
    await assert.rejects(
      ModelSession.load(f),
      (e: ClassifierError) => e.code === 'MODEL_LOAD_FAILED' && /not a valid ONNX model/.test(e.message),
    );
  });
});
