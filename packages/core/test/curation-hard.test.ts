/**
 * Curation quality on the harder dev set that scripts/build-curation-hard.mjs builds from Debian gcompris-qt-data
 * photographs into .cache/curation-hard (confusable classes bird/mammal/fish, monument/painting; painting has no
 * ImageNet class below its synset; plausible, random and out-of-vocabulary label noise; near and exact duplicates),
 * with MobileNetV2-12 int8. Skips loudly when ../shared or the Debian package cannot be had.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CurationReport } from '@image-classifier/protocol';
import { suspectRanking } from '../../../scripts/lib/suspect-ranking.mjs';
import { REPO_ROOT, SKIP_NO_SHARED, sharedDir } from '../../../test-fixtures/fixtures.js';
import { Classifier, curateDataset } from '../src/index.js';
import { key, pairs } from './dev-set-scores.js';

const shared = sharedDir();

interface HardTruth {
  label_noise: Array<{ file: string; kind: string; choice?: string }>;
  out_of_vocabulary: string[];
  near_duplicate_groups: Array<{ members: string[] }>;
  exact_duplicate_groups: Array<{ members: string[] }>;
}

describe('curation on the harder dev set (MobileNetV2 int8)', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let classifier: Classifier | undefined;
  let report: CurationReport;
  let truth: HardTruth;
  let skip: string | undefined;

  before(async () => {
    const builder = path.join(REPO_ROOT, 'scripts', 'build-curation-hard.mjs');
    const set = (await import(builder)).ensureHardSet() as Promise<{ root?: string; truth?: HardTruth; skip?: string }>;
    const r = await set;
    if (r.skip) {
      skip = r.skip;
      console.warn(`!!! SKIPPED: ${r.skip}`);
      return;
    }
    truth = r.truth!;
    classifier = await Classifier.create({ modelPath: path.join(shared!, 'models', 'mobilenetv2-12-int8.onnx') });
    report = await curateDataset(r.root!, classifier);
  });
  after(() => classifier?.close());

  test('label issues: AP ≥ 0.90; painting has no synset, mammal its own', (t) => {
    if (skip) return t.skip(skip);
    const noise = new Set(truth.label_noise.map((n) => n.file));
    const ranked = suspectRanking(report).map(key);
    let hits = 0;
    let ap = 0;
    ranked.forEach((f, i) => {
      if (noise.has(f)) ap += ++hits / (i + 1);
    });
    ap /= noise.size;
    const top = ranked.slice(0, noise.size).filter((f) => noise.has(f)).length;
    console.log(`harder set: AP=${ap.toFixed(3)} top${noise.size}=${top}/${noise.size} flagged=${report.labelIssues.length}`);
    assert.ok(ap >= 0.9, `AP ${ap}`);
    const c = Object.fromEntries(report.classes.map((k) => [k.name, k.concept]));
    assert.equal(c.painting?.imagenetClasses, 0, 'painting has no ImageNet class below it');
    assert.equal(c.mammal?.synset, 'n01861778');
  });

  test('out-of-vocabulary files are outliers with the reason', (t) => {
    if (skip) return t.skip(skip);
    const oov = report.outliers.filter((o) => o.kind === 'out_of_vocabulary');
    for (const f of truth.out_of_vocabulary) {
      const o = oov.find((x) => key(x.file) === f);
      assert.ok(o, `${f} is not an out-of-vocabulary outlier (${JSON.stringify(oov)})`);
      assert.match(o.reason!, /which no class folder covers/);
      const file = report.files.find((x) => key(x.file) === f)!;
      assert.ok(file.issues.some((i) => i.type === 'out_of_vocabulary'));
      assert.ok(file.reasons?.includes(o.reason!));
    }
    assert.ok(oov.length <= truth.out_of_vocabulary.length + 2, `${oov.length} out-of-vocabulary outliers`);
  });

  test('duplicates: pair precision and recall ≥ 0.97, every exact duplicate found', (t) => {
    if (skip) return t.skip(skip);
    const truePairs = pairs([...truth.near_duplicate_groups, ...truth.exact_duplicate_groups].map((g) => g.members));
    const exactPairs = pairs(truth.exact_duplicate_groups.map((g) => g.members));
    const predicted = pairs(report.duplicateGroups.map((g) => g.files));
    const tp = [...predicted].filter((p) => truePairs.has(p)).length;
    const precision = tp / Math.max(1, predicted.size);
    const recall = tp / truePairs.size;
    console.log(`harder set duplicates: ${predicted.size} pairs, P=${precision.toFixed(3)} R=${recall.toFixed(3)}`);
    assert.ok(precision >= 0.97, `precision ${precision}`);
    assert.ok(recall >= 0.97, `recall ${recall}`);
    for (const p of exactPairs) assert.ok(predicted.has(p), `exact pair ${p}`);
  });
});
