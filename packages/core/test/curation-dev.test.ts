/**
 * Curation quality on ../shared/datasets/curation-dev (104 real photos, 10 mislabelled files, 8 near and 3 exact
 * duplicate groups) with MobileNetV2-12 int8: the figures README "Dataset curation" reports. Scores are computed as
 * the set's evaluate.py does (and evaluate.py itself is run on the report when python3 + numpy are here).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CurationReport } from '@image-classifier/protocol';
import { suspectRanking } from '../../../scripts/lib/suspect-ranking.mjs';
import { pythonWithNumpy, SKIP_NO_SHARED, sharedDir } from '../../../test-fixtures/fixtures.js';
import { Classifier, curateDataset } from '../src/index.js';
import { key, pairs } from './dev-set-scores.js';

const shared = sharedDir();
const DEV = shared ? path.join(shared, 'datasets', 'curation-dev') : '';

interface Truth {
  label_noise: Array<{ file: string }>;
  near_duplicate_groups: Array<{ members: string[] }>;
  exact_duplicate_groups: Array<{ members: string[] }>;
}

function averagePrecision(ranked: string[], positives: Set<string>): number {
  let hits = 0;
  let s = 0;
  ranked.forEach((f, i) => {
    if (positives.has(f)) {
      hits++;
      s += hits / (i + 1);
    }
  });
  return s / positives.size;
}

describe('curation on the curation-dev set (MobileNetV2 int8)', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let classifier: Classifier;
  let report: CurationReport;
  let truth: Truth;
  let ms = 0;

  before(async () => {
    truth = JSON.parse(readFileSync(path.join(DEV, 'truth.json'), 'utf8'));
    classifier = await Classifier.create({ modelPath: path.join(shared!, 'models', 'mobilenetv2-12-int8.onnx') });
    const t0 = performance.now();
    report = await curateDataset(path.join(DEV, 'dataset'), classifier);
    ms = performance.now() - t0;
    console.log(`curate: ${ms.toFixed(0)} ms end to end, timings ${JSON.stringify(report.timingsMs)}`);
  });
  after(() => classifier?.close());

  test('label issues: AP ≥ 0.97, P@10 ≥ 0.9, all 10 mislabelled files in the top 15', () => {
    const noise = new Set(truth.label_noise.map((n) => n.file));
    const ranked = suspectRanking(report).map(key);
    const ap = averagePrecision(ranked, noise);
    const p10 = ranked.slice(0, 10).filter((f) => noise.has(f)).length / 10;
    const top15 = ranked.slice(0, 15).filter((f) => noise.has(f)).length;
    const flaggedTp = report.labelIssues.filter((l) => noise.has(key(l.file))).length;
    console.log(`label issues: AP=${ap.toFixed(3)} P@10=${p10} top15=${top15}/10 flagged=${report.labelIssues.length} (tp ${flaggedTp})`);
    assert.ok(ap >= 0.97, `AP ${ap}`);
    assert.ok(p10 >= 0.9, `P@10 ${p10}`);
    assert.equal(top15, 10);
    assert.equal(report.files.length, 104);
    for (const f of report.files) assert.equal(typeof f.labelQuality, 'number', f.file);
  });

  test('folders matched to WordNet synsets (windmill has none, monument few), reasons on every flagged file', () => {
    const c = Object.fromEntries(report.classes.map((k) => [k.name, k.concept]));
    assert.equal(c.fish?.synset, 'n02512053');
    assert.equal(c.instrument?.name, 'musical instrument', 'the sense holding the folder’s predictions');
    assert.equal(c.monument?.imagenetClasses, 3);
    assert.equal(c.windmill?.synset, undefined);
    assert.equal(c.windmill?.imagenetClasses, 0);
    // No file of this set lies outside every folder's vocabulary (none was planted).
    assert.deepEqual(
      report.outliers.filter((o) => o.kind === 'out_of_vocabulary'),
      [],
    );
    for (const l of report.labelIssues) {
      assert.ok(
        l.reasons?.some((r) => r.startsWith('the model sees ')),
        `${l.file}: ${l.reasons}`,
      );
      assert.ok(
        l.reasons?.some((r) => / of its \d+ nearest images are in /.test(r)),
        `${l.file}: ${l.reasons}`,
      );
      assert.deepEqual(report.files.find((f) => f.file === l.file)?.reasons?.slice(0, l.reasons!.length), l.reasons);
    }
  });

  test('duplicates: pair precision and recall ≥ 0.97, every exact duplicate found', () => {
    const truePairs = pairs([...truth.near_duplicate_groups, ...truth.exact_duplicate_groups].map((g) => g.members));
    const exactPairs = pairs(truth.exact_duplicate_groups.map((g) => g.members));
    const predicted = pairs(report.duplicateGroups.map((g) => g.files));
    const tp = [...predicted].filter((p) => truePairs.has(p)).length;
    const precision = tp / Math.max(1, predicted.size);
    const recall = tp / truePairs.size;
    const exactFound = [...exactPairs].filter((p) => predicted.has(p)).length;
    console.log(
      `duplicates: ${predicted.size} pairs, P=${precision.toFixed(3)} R=${recall.toFixed(3)} exact ${exactFound}/${exactPairs.size}`,
    );
    assert.ok(precision >= 0.97, `precision ${precision}`);
    assert.ok(recall >= 0.97, `recall ${recall}`);
    assert.equal(exactFound, exactPairs.size);
    const exactGroups = report.duplicateGroups.filter((g) => g.kind === 'exact').map((g) => g.files.map(key).sort().join(' '));
    for (const g of truth.exact_duplicate_groups)
      assert.ok(exactGroups.includes([...g.members].sort().join(' ')), `exact group ${g.members}`);
    assert.ok(
      report.duplicateGroups.some((g) => g.conflictingLabels),
      'a copy in another class folder is flagged conflictingLabels',
    );
  });

  test('the report is version 1 and evaluate.py scores it (when python3 + numpy are available)', (t) => {
    assert.equal(report.version, 1);
    const dir = mkdtempSync(path.join(tmpdir(), 'curate-eval-'));
    writeFileSync(path.join(dir, 'ranked.txt'), `${suspectRanking(report).join('\n')}\n`);
    writeFileSync(path.join(dir, 'groups.json'), JSON.stringify(report.duplicateGroups.map((g) => g.files)));
    let out: string;
    try {
      out = execFileSync(
        pythonWithNumpy(),
        [
          path.join(DEV, 'evaluate.py'),
          '--suspects',
          path.join(dir, 'ranked.txt'),
          '--duplicates',
          path.join(dir, 'groups.json'),
          '--json',
        ],
        {
          encoding: 'utf8',
        },
      );
    } catch (e) {
      t.skip(`evaluate.py did not run: ${(e as Error).message.split('\n')[0]}`);
      return;
    }
    const r = JSON.parse(out);
    console.log(
      `evaluate.py: suspects AP=${r.suspects.average_precision} @10=${JSON.stringify(r.suspects.at['10'])}; duplicates ${JSON.stringify(r.duplicates)}`,
    );
    assert.ok(r.suspects.average_precision >= 0.95);
    assert.ok(r.duplicates.precision >= 0.97 && r.duplicates.recall >= 0.97);
  });
});
