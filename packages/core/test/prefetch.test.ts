/**
 * Images named before the model is loaded (`ClassifierOptions.prefetch`, the CLI's files and folder walk) are
 * decoded while the session is created; classifying them gives what the ordinary path gives, errors included.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Classifier, type ClassifierError } from '../src/index.js';
import { sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';

const shared = sharedDir();

describe('decoding while the model loads', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  const model = shared ? path.join(shared, 'models', 'mobilenetv2-12-int8.onnx') : '';
  const img = (f: string) => (shared ? path.join(shared, 'images', f) : f);
  const files = [img('skimage_chelsea_cat.jpg'), img('skimage_coffee.jpg'), img('derived_chelsea_orient6.jpg')];
  let plain: Classifier;
  before(async () => {
    plain = await Classifier.create({ modelPath: model, preprocessing: 'exact', preprocessWorkers: 0 });
  });
  after(async () => plain?.close());

  for (const workers of [0, 2]) {
    test(`the same predictions and tensors as without (${workers ? 'decoder processes' : 'this thread'}), a missing file's error too`, async () => {
      const missing = img('no-such-photo.jpg');
      // The list arrives as a promise, as the CLI's folder walk does.
      const c = await Classifier.create({
        modelPath: model,
        preprocessing: 'exact',
        preprocessWorkers: workers,
        prefetch: Promise.resolve([...files, missing]),
      });
      try {
        for (const f of files) {
          const [a, b] = await Promise.all([c.classifyFile(f, { keepTensor: true }), plain.classifyFile(f, { keepTensor: true })]);
          assert.deepEqual(a.predictions, b.predictions, f);
          assert.deepEqual(Buffer.from(a.tensor!.buffer), Buffer.from(b.tensor!.buffer), `${f}: identical tensors`);
          assert.deepEqual([a.width, a.height, a.format], [b.width, b.height, b.format]);
        }
        await assert.rejects(c.classifyFile(missing), (e: ClassifierError) => e.code === 'FILE_NOT_FOUND');
        // The first decodes (one per decoder) start before the model can be ready; the rest, if the model was
        // quicker, take the ordinary path.
        assert.ok(c.stats.prefetched >= (workers ? 2 : 1), `requests answered from the prefetch: ${c.stats.prefetched}`);
        // Asked again (no longer prefetched): the ordinary path answers the same.
        const again = await c.classifyFile(files[0]!);
        assert.equal(again.predictions[0]!.index, (await plain.classifyFile(files[0]!)).predictions[0]!.index);
      } finally {
        await c.close();
      }
    });
  }

  test('a cancelled request for a prefetched image is CANCELLED, and the classifier goes on', async () => {
    const c = await Classifier.create({ modelPath: model, preprocessing: 'exact', preprocessWorkers: 0, prefetch: files });
    try {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(c.classifyFile(files[0]!, { signal: ac.signal }), (e: ClassifierError) => e.code === 'CANCELLED');
      const r = await c.classifyFile(files[1]!);
      assert.equal(r.predictions[0]!.label, 'espresso');
    } finally {
      await c.close();
    }
  });
});
