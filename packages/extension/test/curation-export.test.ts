import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { CurationReport } from '@image-classifier/protocol';
import { buildExport, cleanFileList, exportRows, issuesCsv } from '../src/curation/model/export';
import { locationsSince } from '../src/curation/model/export-files';
import { makeDataset, openCore, write } from './curation-helpers';

function report(): CurationReport {
  return {
    version: 1,
    root: '/data/pets',
    createdAt: '2026-12-01T09:00:00.000Z',
    model: { name: 'mobilenetv2-12-int8', embeddingDims: 1280 },
    checks: ['label', 'duplicates', 'quality'],
    layout: { splits: ['train', 'val'], classes: 2, flat: false },
    counts: { files: 5, analysed: 5, unreadable: 0, skipped: 0, labelIssues: 1, duplicateGroups: 1, outliers: 0, quality: 1 },
    files: [
      { file: 'train/cats/a.jpg', label: 'cats', split: 'train', labelQuality: 0.9, issues: [] },
      { file: 'train/cats/b.jpg', label: 'cats', split: 'train', labelQuality: 0.8, issues: [{ type: 'dark', score: 0.12345678 }] },
      {
        file: 'train/dogs/a.jpg',
        label: 'dogs',
        split: 'train',
        labelQuality: 0.0412345,
        suggestedLabel: 'cats',
        issues: [
          { type: 'label', score: 0.0412345 },
          { type: 'exact_duplicate', detail: 'same bytes as val/cats/d, "x".jpg' },
        ],
      },
      { file: 'train/dogs/c.jpg', label: 'dogs', split: 'train', labelQuality: 0.7, issues: [] },
      { file: 'val/cats/d, "x".jpg', label: 'cats', split: 'val', labelQuality: 0.95, issues: [{ type: 'exact_duplicate' }] },
    ],
    labelIssues: [{ file: 'train/dogs/a.jpg', label: 'dogs', suggestedLabel: 'cats', score: 0.0412345 }],
    duplicateGroups: [{ kind: 'exact', files: ['train/dogs/a.jpg', 'val/cats/d, "x".jpg'], conflictingLabels: true, crossSplit: true }],
    outliers: [],
    quality: [{ file: 'train/cats/b.jpg', type: 'dark', score: 0.12345678, threshold: 0.2 }],
    classes: [],
    skipped: [],
    warnings: [],
    settings: {},
    timingsMs: { scan: 1, extract: 1, analyse: 1, total: 3 },
  };
}

const input = {
  kept: new Set(['train/dogs/c.jpg']),
  locations: new Map<string, string | null>([
    ['train/dogs/a.jpg', 'train/cats/a (1).jpg'],
    ['val/cats/d, "x".jpg', null],
  ]),
  now: new Date('2026-12-01T12:00:00.000Z'),
};

test('curation export CSV: one row per file with an issue, a decision or an action; escaped; scores rounded', () => {
  assert.equal(
    issuesCsv(exportRows(report(), input)),
    [
      'file,current_file,split,folder_label,current_label,suggested_label,issue_types,label_quality,scores,decision',
      'train/cats/b.jpg,train/cats/b.jpg,train,cats,cats,,dark,0.8,dark=0.1235,',
      'train/dogs/a.jpg,train/cats/a (1).jpg,train,dogs,cats,cats,label;exact_duplicate,0.0412,label=0.0412,moved',
      'train/dogs/c.jpg,train/dogs/c.jpg,train,dogs,dogs,,,0.7,,keep',
      '"val/cats/d, ""x"".jpg",,val,cats,,,exact_duplicate,0.95,,trashed',
      '',
    ].join('\n'),
  );
});

test('curation export JSON: the same rows with issue details, the report identity and duplicate groups', () => {
  const [, json] = buildExport(report(), input);
  assert.equal(json!.name, 'curation-issues.json');
  const o = JSON.parse(json!.text);
  assert.equal(o.version, 1);
  assert.equal(o.exportedAt, '2026-12-01T12:00:00.000Z');
  assert.deepEqual(o.report, {
    root: '/data/pets',
    createdAt: '2026-12-01T09:00:00.000Z',
    model: 'mobilenetv2-12-int8',
    checks: ['label', 'duplicates', 'quality'],
  });
  assert.deepEqual(
    o.files.map((f: { file: string; decision: string }) => [f.file, f.decision]),
    [
      ['train/cats/b.jpg', ''],
      ['train/dogs/a.jpg', 'moved'],
      ['train/dogs/c.jpg', 'keep'],
      ['val/cats/d, "x".jpg', 'trashed'],
    ],
  );
  assert.deepEqual(o.files[1].issues[1], { type: 'exact_duplicate', detail: 'same bytes as val/cats/d, "x".jpg' });
  assert.equal(o.duplicateGroups.length, 1);
});

test('curation export clean list: the files with no open issue, one path per line, no header; trashed ones left out', () => {
  // b.jpg is dark (open); dogs/a.jpg was moved (label closed) and its duplicate trashed (group closed); d was trashed.
  assert.equal(cleanFileList(report(), input), ['train/cats/a (1).jpg', 'train/cats/a.jpg', 'train/dogs/c.jpg', ''].join('\n'));
  const unchanged = cleanFileList(report(), { ...input, kept: new Set(), locations: new Map() });
  assert.equal(unchanged, 'train/cats/a.jpg\ntrain/dogs/c.jpg\n', 'an open label issue, duplicate or quality issue keeps a file out');
  assert.doesNotMatch(unchanged, /^path,label$/m, 'no CSV header');
  // Keeping the label closes the label issue, but the duplicate group (both files left) is still open.
  const kept = cleanFileList(report(), { ...input, kept: new Set(['train/dogs/a.jpg']), locations: new Map() });
  assert.doesNotMatch(kept, /train\/dogs\/a\.jpg/);
  // Trashing one copy closes the group: the other copy, its label kept, is clean.
  const one = new Map<string, string | null>([['val/cats/d, "x".jpg', null]]);
  assert.match(cleanFileList(report(), { ...input, kept: new Set(['train/dogs/a.jpg']), locations: one }), /^train\/dogs\/a\.jpg$/m);
  // A name with a line break cannot be one line: left out.
  const r = report();
  r.files.push({ file: 'train/cats/two\nlines.jpg', label: 'cats', split: 'train', issues: [] });
  assert.doesNotMatch(cleanFileList(r, input), /two/);
});

test('curation export locations: only journal entries made after the report count; undo cancels a move', () => {
  const entry = (at: string, ops: unknown[]) => ({
    v: 1 as const,
    id: at,
    at,
    kind: 'move' as const,
    ops: ops as never,
    files: [],
    message: '',
  });
  const loc = locationsSince(
    [
      entry('2026-12-01T08:00:00.000Z', [{ op: 'rename', from: 'train/cats/b.jpg', to: 'train/dogs/b.jpg' }]),
      entry('2026-12-01T09:30:00.000Z', [{ op: 'rename', from: 'train/dogs/a.jpg', to: 'train/cats/a (1).jpg' }]),
      entry('2026-12-01T09:31:00.000Z', [{ op: 'trash', from: 'val/cats/x.jpg', copy: '.curation/trash/1/val/cats/x.jpg' }]),
      entry('2026-12-01T09:32:00.000Z', [{ op: 'rename', from: 'train/dogs/c.jpg', to: 'train/cats/c.jpg' }]),
      entry('2026-12-01T09:33:00.000Z', [{ op: 'rename', from: 'train/cats/c.jpg', to: 'train/dogs/c.jpg' }]),
    ],
    '2026-12-01T09:00:00.000Z',
  );
  assert.deepEqual([...loc].sort(), [
    ['train/dogs/a.jpg', 'train/cats/a (1).jpg'],
    ['val/cats/x.jpg', null],
  ]);
});

test('curation exportReport: writes the three files, never over an existing one', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const out = path.join(ds.root, '..', 'out');
  write(out, 'curation-issues.csv', 'mine');
  const core = await openCore(ds);
  const r = { ...report(), createdAt: '2000-01-01T00:00:00.000Z' };
  await core.move(['train/dogs/a.jpg'], 'cats');
  await core.keepLabel(['train/dogs/c.jpg']);
  const written = await core.exportReport(r, out);
  assert.deepEqual(
    written.map((p) => path.basename(p)),
    ['curation-issues (1).csv', 'curation-issues.json', 'clean-files.txt'],
  );
  assert.equal(readFileSync(path.join(out, 'curation-issues.csv'), 'utf8'), 'mine');
  const csv = readFileSync(written[0]!, 'utf8');
  assert.match(
    csv,
    /^train\/dogs\/a\.jpg,train\/cats\/a \(1\)\.jpg,train,dogs,cats,cats,label;exact_duplicate,0\.0412,label=0\.0412,moved$/m,
  );
  assert.match(csv, /^train\/dogs\/c\.jpg,train\/dogs\/c\.jpg,train,dogs,dogs,,,0\.7,,keep$/m);
});
