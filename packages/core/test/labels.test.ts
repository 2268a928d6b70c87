import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  checkLabelsFit,
  type ClassifierError,
  IMAGENET_LABELS,
  loadLabelsFile,
  parseLabels,
  predict,
  softmax,
  topK,
} from '../src/index.js';

describe('labels', () => {
  test('ImageNet-1k labels are bundled in index order with the synset wording', () => {
    assert.equal(IMAGENET_LABELS.labels.length, 1000);
    assert.equal(IMAGENET_LABELS.labels[0], 'tench, Tinca tinca');
    assert.equal(IMAGENET_LABELS.labels[281], 'tabby, tabby cat');
    assert.equal(IMAGENET_LABELS.labels[285], 'Egyptian cat');
    assert.equal(IMAGENET_LABELS.labels[967], 'espresso');
    assert.equal(IMAGENET_LABELS.ids?.[281], 'n02123045');
  });
  test('a labels file: one per line, synset lines split, JSON arrays accepted', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'labels-'));
    const f = path.join(dir, 'l.txt');
    writeFileSync(f, 'cat\ndog\r\nbird\n\n');
    assert.deepEqual((await loadLabelsFile(f)).labels, ['cat', 'dog', 'bird']);
    assert.deepEqual(parseLabels('n01 x\n', 's').labels, ['n01 x']);
    const syn = parseLabels('n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n', 's');
    assert.deepEqual(syn.labels, ['tench, Tinca tinca', 'goldfish, Carassius auratus']);
    assert.deepEqual(syn.ids, ['n01440764', 'n01443537']);
    assert.deepEqual(parseLabels('["a","b"]', 's').labels, ['a', 'b']);
    await assert.rejects(loadLabelsFile(path.join(dir, 'nope.txt')), (e: ClassifierError) => e.code === 'LABELS_INVALID');
    assert.throws(
      () => parseLabels('[1,2]', 's'),
      (e: ClassifierError) => e.code === 'LABELS_INVALID',
    );
  });
  test('a label count that does not match the model is a clear error', () => {
    assert.throws(
      () => checkLabelsFit({ source: 'my.txt', labels: ['a', 'b'] }, 1000),
      (e: ClassifierError) => e.code === 'LABELS_MISMATCH' && /2 entries.*1000 classes/.test(e.message),
    );
  });
});

describe('softmax and top-k', () => {
  test('softmax is numerically stable for large logits', () => {
    const p = softmax([1000, 1001, 1002]);
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const s = e[0]! + e[1]! + e[2]!;
    p.forEach((v, i) => {
      assert.ok(Math.abs(v - e[i]! / s) < 1e-15);
    });
    const q = softmax([-1e30, 0]);
    assert.deepEqual(Array.from(q), [0, 1]);
    assert.ok(softmax(new Float32Array(1000).fill(3)).every((v) => Math.abs(v - 0.001) < 1e-15));
  });
  test('top-k equals a full sort, ties keep the lower index', () => {
    let x = 12345;
    const v = Array.from({ length: 1000 }, () => ((x = (x * 1103515245 + 12345) % 2 ** 31) % 97) / 7);
    const expected = v
      .map((value, index) => ({ value, index }))
      .sort((a, b) => b.value - a.value || a.index - b.index)
      .slice(0, 10)
      .map((e) => e.index);
    assert.deepEqual(topK(v, 10), expected);
    assert.deepEqual(topK([1, 3, 3, 2], 3), [1, 2, 3]);
    assert.deepEqual(topK([1, 2], 5), [1, 0]);
    assert.deepEqual(topK([1, 2], 0), []);
  });
  test('predict labels the top classes with probabilities', () => {
    const logits = new Float32Array(1000);
    logits[281] = 10;
    logits[282] = 8;
    const p = predict(logits, IMAGENET_LABELS, 2);
    assert.equal(p[0]!.label, 'tabby, tabby cat');
    assert.equal(p[1]!.index, 282);
    assert.ok(p[0]!.probability > 0.8 && p[0]!.probability < 1);
  });
});
