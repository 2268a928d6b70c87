/** The Explorer's curation badges (issue-badges.ts, no vscode): report → per-file badge, tooltip and colour. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CURATION_REPORT_VERSION, type CurationFile, type CurationReport, ThumbnailsRequest } from '@image-classifier/protocol';
import { curationBadges } from '../src/curation/shared/issue-badges';
import { requestThumbnails, THUMBNAIL_SIZES } from '../src/curation/host/thumbnails';

function report(files: CurationFile[], extra: Partial<CurationReport> = {}): CurationReport {
  return {
    version: CURATION_REPORT_VERSION,
    root: '/ds',
    createdAt: '2026-12-01T00:00:00Z',
    model: { name: 'm', embeddingDims: 4 },
    checks: ['label', 'duplicates', 'outliers', 'quality', 'leakage'],
    layout: { splits: [], classes: 2, flat: false },
    counts: {
      files: files.length,
      analysed: files.length,
      unreadable: 0,
      skipped: 0,
      labelIssues: 0,
      duplicateGroups: 0,
      outliers: 0,
      quality: 0,
    },
    files,
    labelIssues: [],
    duplicateGroups: [],
    outliers: [],
    quality: [],
    classes: [],
    skipped: [],
    warnings: [],
    settings: {},
    timingsMs: { scan: 0, extract: 0, analyse: 0, total: 0 },
    ...extra,
  };
}

const files: CurationFile[] = [
  {
    file: 'cats/c1.jpg',
    label: 'cats',
    suggestedLabel: 'dogs',
    labelQuality: 0.031,
    issues: [{ type: 'label', score: 0.031, detail: 'suggested label: dogs' }],
  },
  { file: 'cats/clean.jpg', label: 'cats', issues: [] },
  {
    file: 'cats/c2.jpg',
    label: 'cats',
    suggestedLabel: 'dogs',
    labelQuality: 0.2,
    issues: [
      { type: 'label', score: 0.2 },
      { type: 'exact_duplicate', detail: 'same image as dogs/d2.jpg' },
      { type: 'leakage', detail: 'a duplicate sits in another split' },
    ],
  },
  { file: 'dogs/d2.jpg', label: 'dogs', issues: [{ type: 'exact_duplicate' }, { type: 'leakage' }] },
  {
    file: 'dogs/odd.jpg',
    label: 'dogs',
    issues: [
      { type: 'outlier', score: 0.456 },
      { type: 'dark', score: 0.05 },
      { type: 'blurry', score: 12.5 },
    ],
  },
  { file: 'dogs/dim.jpg', label: 'dogs', issues: [{ type: 'dark', score: 0.08 }] },
  { file: 'dogs/broken.jpg', label: 'dogs', issues: [{ type: 'unreadable', detail: 'DECODE_FAILED: truncated' }] },
  { file: 'dogs/moving.jpg', label: 'dogs', issues: [{ type: 'changed' }] },
];
const r = report(files, {
  duplicateGroups: [{ kind: 'exact', files: ['cats/c2.jpg', 'dogs/d2.jpg'], conflictingLabels: true, crossSplit: true }],
});

test('a label issue: badge L, the tooltip says the folder, the suggestion and the score, in the error colour', () => {
  const b = curationBadges(r).get('cats/c1.jpg');
  assert.deepEqual(b, {
    badge: 'L',
    tooltip: 'Label issue: folder cats, looks like dogs (score 0.03)',
    letters: ['L'],
    color: 'list.errorForeground',
  });
});

test('files without issues, or only "changed", get no badge', () => {
  const m = curationBadges(r);
  assert.equal(m.has('cats/clean.jpg'), false);
  assert.equal(m.has('dogs/moving.jpg'), false);
  assert.deepEqual([...m.keys()].sort(), ['cats/c1.jpg', 'cats/c2.jpg', 'dogs/broken.jpg', 'dogs/d2.jpg', 'dogs/dim.jpg', 'dogs/odd.jpg']);
});

test('combined issues: two letters, most urgent first, one tooltip line each; the duplicate names its twin and the leakage', () => {
  const m = curationBadges(r);
  const c2 = m.get('cats/c2.jpg')!;
  assert.equal(c2.badge, 'LD');
  assert.deepEqual(c2.letters, ['L', 'D']);
  assert.equal(
    c2.tooltip,
    'Label issue: folder cats, looks like dogs (score 0.20)\nExact duplicate of dogs/d2.jpg — in another class folder, across splits (leakage)',
  );
  const d2 = m.get('dogs/d2.jpg')!;
  assert.equal(d2.badge, 'D');
  assert.equal(d2.color, 'list.warningForeground');
  assert.match(d2.tooltip, /^Exact duplicate of cats\/c2\.jpg/);
  const odd = m.get('dogs/odd.jpg')!;
  assert.equal(odd.badge, 'OQ');
  assert.equal(odd.tooltip, 'Outlier: far from every other image (score 0.46)\nQuality: dark (score 0.05), blurry (score 12.50)');
  const dim = m.get('dogs/dim.jpg')!;
  assert.deepEqual([dim.badge, dim.color], ['Q', 'editorInfo.foreground']);
  for (const b of m.values()) assert.ok(b.badge.length >= 1 && b.badge.length <= 2, b.badge);
});

test('an unreadable file shows "!" alone, with the reason', () => {
  const b = curationBadges(r).get('dogs/broken.jpg')!;
  assert.deepEqual([b.badge, b.tooltip, b.color], ['!', 'Unreadable: DECODE_FAILED: truncated', 'list.errorForeground']);
});

test('a kept label closes the label issue only: the duplicate stays', () => {
  const m = curationBadges(r, new Set(['cats/c1.jpg', 'cats/c2.jpg']));
  assert.equal(m.has('cats/c1.jpg'), false);
  const c2 = m.get('cats/c2.jpg')!;
  assert.equal(c2.badge, 'D');
  assert.doesNotMatch(c2.tooltip, /Label issue/);
});

test('long duplicate groups are summarised', () => {
  const many = Array.from({ length: 6 }, (_, i) => `x/${i}.jpg`);
  const big = report(
    many.map((file) => ({ file, issues: [{ type: 'near_duplicate' as const }] })),
    { duplicateGroups: [{ kind: 'near', files: many, conflictingLabels: false, crossSplit: false }] },
  );
  assert.equal(curationBadges(big).get('x/0.jpg')!.tooltip, 'Near duplicate of x/1.jpg, x/2.jpg, x/3.jpg and 2 more');
});

test("requestThumbnails' size bounds match the protocol's", () => {
  assert.deepEqual(THUMBNAIL_SIZES, {
    min: ThumbnailsRequest.minSize,
    max: ThumbnailsRequest.maxSize,
    default: ThumbnailsRequest.defaultSize,
  });
});

test('requestThumbnails: the URIs as given, the size rounded and clamped to the bounds', async () => {
  const calls: Array<[string[], number]> = [];
  const client = {
    sendRequest: async <P, R>(type: { method: string }, params: P): Promise<R> => {
      assert.equal(type.method, ThumbnailsRequest.method);
      const p = params as { uris: string[]; size: number };
      calls.push([p.uris, p.size]);
      return { dir: '/cache/thumbnails', items: [], cancelled: false, made: 0, durationMs: 0 } as R;
    },
  };
  const r = await requestThumbnails(client, ['file:///ws/a.jpg'], 100.4);
  assert.equal(r.dir, '/cache/thumbnails');
  await requestThumbnails(client, [], 4000);
  await requestThumbnails(client, [], 2);
  await requestThumbnails(client, [], Number.NaN);
  assert.deepEqual(calls, [
    [['file:///ws/a.jpg'], 100],
    [[], 512],
    [[], 16],
    [[], 192],
  ]);
});

test('reasons and out of vocabulary: the label tooltip says why; an out-of-vocabulary file is an O with its reason', () => {
  const m = curationBadges(
    report([
      {
        file: 'vegetable/s.jpg',
        label: 'vegetable',
        labelQuality: 0.01,
        suggestedLabel: 'fruit',
        reasons: ['the model sees strawberry (a fruit) at 99 %', '9 of its 10 nearest images are in fruit/', 'more'],
        issues: [{ type: 'label', score: 0.01 }],
      },
      {
        file: 'fruit/car.jpg',
        label: 'fruit',
        issues: [{ type: 'out_of_vocabulary', score: 0.97, detail: 'the model sees sports car at 90 %: …' }],
      },
    ]),
  );
  assert.equal(
    m.get('vegetable/s.jpg')!.tooltip,
    'Label issue: folder vegetable, looks like fruit (score 0.01)\n  the model sees strawberry (a fruit) at 99 %; 9 of its 10 nearest images are in fruit/',
  );
  const car = m.get('fruit/car.jpg')!;
  assert.equal(car.badge, 'O');
  assert.equal(car.tooltip, 'Out of vocabulary: the model sees sports car at 90 %: …');
});
