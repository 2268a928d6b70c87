/**
 * The curate command's text summary renders every report section of protocol's ISSUE_SECTIONS (its heading, its
 * entries) and names every issue kind by its ISSUE_KINDS words: a new row shows up here without a change to the
 * format.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  type CurationReport,
  type FileIssueType,
  ISSUE_KINDS,
  ISSUE_SECTIONS,
  type IssueKind,
  QUALITY_ISSUE_TYPES,
} from '@image-classifier/protocol';
import { curateCsv, curateText } from '../src/cli/curate-format.js';

const kinds = ISSUE_KINDS as readonly IssueKind[];

function report(): CurationReport {
  const files = kinds.map((k) => ({
    file: `x/${k.id}.png`,
    label: 'x',
    issues: [{ type: k.id as FileIssueType, score: 0.5, detail: `why ${k.id}` }],
  }));
  return {
    version: 1,
    root: '/data',
    createdAt: '2026-01-01T00:00:00Z',
    model: { name: 'm', embeddingDims: 4 },
    checks: ['label', 'duplicates', 'outliers', 'quality', 'leakage'],
    layout: { splits: [], classes: 1, flat: false },
    counts: {
      files: files.length,
      analysed: files.length,
      unreadable: 1,
      skipped: 0,
      labelIssues: 1,
      duplicateGroups: 1,
      outliers: 2,
      quality: 8,
    },
    files,
    labelIssues: [{ file: 'x/label.png', label: 'x', suggestedLabel: 'y', score: 0.1 }],
    duplicateGroups: [
      { kind: 'exact', files: ['x/exact_duplicate.png', 'x/near_duplicate.png'], conflictingLabels: false, crossSplit: true },
    ],
    outliers: [
      { file: 'x/outlier.png', score: 0.4 },
      { file: 'x/out_of_vocabulary.png', score: 0.9, kind: 'out_of_vocabulary', reason: 'the model sees a car' },
    ],
    quality: QUALITY_ISSUE_TYPES.map((type) => ({ file: `x/${type}.png`, type, score: 0.5, threshold: 1 })),
    classes: [],
    skipped: [],
    warnings: [],
    settings: {},
    timingsMs: { scan: 0, extract: 0, analyse: 0, total: 0 },
  };
}

test('the text summary has a heading per ISSUE_SECTIONS row with its count, and counts every kind in its words', () => {
  const r = report();
  const text = curateText(r, 20);
  for (const s of ISSUE_SECTIONS) {
    const n = r.counts[s.field];
    assert.match(text, new RegExp(`^${s.many[0]!.toUpperCase()}${s.many.slice(1)} \\(${n}[,)]`, 'm'), s.id);
  }
  const perIssue = text.split('\n').find((l) => l.startsWith('Files per issue: '))!;
  for (const k of kinds) assert.ok(perIssue.includes(`1 ${k.one}`), `${k.id}: "1 ${k.one}" in ${perIssue}`);
  // Quality entries and out-of-vocabulary outliers by their kind's title.
  assert.match(text, /x\/light\.png {2}too light \(score 0\.5, threshold 1\)/);
  assert.match(text, /x\/out_of_vocabulary\.png {2}out of vocabulary: the model sees a car/);
});

test('CSV keeps the kind ids (machine-readable), one row per file and issue', () => {
  const csv = curateCsv(report());
  for (const k of kinds) assert.match(csv, new RegExp(`,${k.id},0\\.5,why ${k.id}\\n`), k.id);
});
