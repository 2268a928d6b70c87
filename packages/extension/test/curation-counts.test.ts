/**
 * The Image Labels view's curation counts (issue-counts.ts, no vscode): a report as the dataset is now → one count
 * per board tab, and the summary line; moves, trashes and kept labels change them as they change the board.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CURATION_REPORT_VERSION, type CurationReport } from '@image-classifier/protocol';
import { curationIssueCounts, issueSummary } from '../src/curation/shared/issue-counts';
import { PathTracker, currentReport } from '../src/curation/shared/tracker';

const files = ['cats/c1.jpg', 'cats/c2.jpg', 'cats/c3.jpg', 'dogs/d1.jpg', 'dogs/d2.jpg', 'dogs/d3.jpg', 'dogs/odd.jpg'];

const report: CurationReport = {
  version: CURATION_REPORT_VERSION,
  root: '/ds',
  createdAt: '2026-12-01T00:00:00Z',
  model: { name: 'm', embeddingDims: 4 },
  checks: ['label', 'duplicates', 'outliers', 'quality', 'leakage'],
  layout: { splits: [], classes: 2, flat: false },
  counts: { files: 7, analysed: 7, unreadable: 0, skipped: 0, labelIssues: 2, duplicateGroups: 2, outliers: 1, quality: 2 },
  files: files.map((file) => ({ file, label: file.split('/')[0], issues: [] })),
  labelIssues: [
    { file: 'cats/c1.jpg', label: 'cats', suggestedLabel: 'dogs', score: 0.03 },
    { file: 'cats/c2.jpg', label: 'cats', suggestedLabel: 'dogs', score: 0.2 },
  ],
  duplicateGroups: [
    { kind: 'exact', files: ['cats/c3.jpg', 'dogs/d1.jpg'], conflictingLabels: true, crossSplit: false },
    { kind: 'near', files: ['dogs/d2.jpg', 'dogs/d3.jpg'], conflictingLabels: false, crossSplit: false },
  ],
  outliers: [{ file: 'dogs/odd.jpg', score: 0.5 }],
  quality: [
    { file: 'dogs/odd.jpg', type: 'dark', score: 0.05, threshold: 0.1 },
    { file: 'dogs/d3.jpg', type: 'blurry', score: 12, threshold: 50 },
  ],
  classes: [],
  skipped: [],
  warnings: [],
  settings: {},
  timingsMs: { scan: 0, extract: 0, analyse: 0, total: 0 },
};

const byTab = (r: CurationReport, kept?: Set<string>) => Object.fromEntries(curationIssueCounts(r, kept).map((c) => [c.tab, c.count]));

test('a fresh report: one count per board tab, in the board order, with singular and plural words', () => {
  const counts = curationIssueCounts(report);
  assert.deepEqual(
    counts.map((c) => [c.tab, c.count, c.text]),
    [
      ['labels', 2, '2 label issues'],
      ['duplicates', 2, '2 duplicate groups'],
      ['outliers', 1, '1 outlier'],
      ['quality', 2, '2 quality issues'],
    ],
  );
  assert.equal(issueSummary(counts), '2 label issues · 2 duplicate groups · 1 outlier · 2 quality issues');
});

test('a kept label closes its label issue; the other counts stay', () => {
  assert.deepEqual(byTab(report, new Set(['cats/c1.jpg'])), { labels: 1, duplicates: 2, outliers: 1, quality: 2 });
});

test('moved and trashed files update the counts as the board shows them (currentReport)', () => {
  const tracker = new PathTracker(files);
  // c2 moved to dogs (its label issue is resolved); d1 trashed (its group is down to one file); odd trashed.
  tracker.apply([{ from: 'cats/c2.jpg', to: 'dogs/c2.jpg' }, { from: 'dogs/d1.jpg' }, { from: 'dogs/odd.jpg' }]);
  const now = currentReport(report, tracker);
  assert.deepEqual(byTab(now), { labels: 1, duplicates: 1, outliers: 0, quality: 1 });
  assert.equal(issueSummary(curationIssueCounts(now)), '1 label issue · 1 duplicate group · 1 quality issue');
});

test('nothing open: the summary says so', () => {
  const clean = { ...report, labelIssues: [], duplicateGroups: [], outliers: [], quality: [] };
  assert.equal(issueSummary(curationIssueCounts(clean)), 'no open issues');
});
