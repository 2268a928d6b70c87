import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CurationFile, CurationReport } from '@image-classifier/protocol';
import { FIND_TOP } from '../src/curation/shared/messages';
import { OwnFileEvents } from '../src/curation/shared/ownEvents';
import { PathTracker, currentReport, labelOfPath } from '../src/curation/shared/tracker';
import { BoardModel } from '../src/webview/model';
import { closeMatchParts } from '../src/webview/close-matches';
import { type KeyPress, type KeyTarget, handleKey } from '../src/webview/keys';
import { mapPoints } from '../src/webview/map-points';
import { analysedLine, classCounts, summaryLine } from '../src/webview/overview-counts';
import { unreadableHeading, unreadableRows } from '../src/webview/unreadable';

function report(): CurationReport {
  const files = ['fish/a.jpg', 'tool/b.jpg', 'tool/c.jpg', 'train/fish/d.jpg', 'val/fish/e.jpg'];
  return {
    version: 1,
    root: '/ds',
    createdAt: '',
    model: { name: 'm', embeddingDims: 4 },
    checks: ['label', 'duplicates'],
    layout: { splits: ['train', 'val'], classes: 2, flat: false },
    counts: { files: 5, analysed: 5, unreadable: 0, skipped: 0, labelIssues: 1, duplicateGroups: 1, outliers: 0, quality: 0 },
    files: files.map((file, i) => ({
      file,
      label: labelOfPath(file),
      split: file.startsWith('train/') ? 'train' : file.startsWith('val/') ? 'val' : undefined,
      width: 100 + i,
      height: 100,
      issues: [],
    })),
    labelIssues: [{ file: 'tool/b.jpg', label: 'tool', suggestedLabel: 'fish', score: 0.02 }],
    duplicateGroups: [
      { kind: 'near', files: ['fish/a.jpg', 'train/fish/d.jpg', 'val/fish/e.jpg'], conflictingLabels: false, crossSplit: true },
    ],
    outliers: [],
    quality: [],
    classes: [
      { name: 'fish', files: 3, labelIssues: 0, relativeSize: 1 },
      { name: 'tool', files: 2, labelIssues: 1, relativeSize: 0.67 },
    ],
    skipped: [],
    warnings: [],
    settings: {},
    timingsMs: { scan: 0, extract: 0, analyse: 0, total: 0 },
  };
}

test('labelOfPath: the class folder as the scan reads it (first folder, second under a split)', () => {
  assert.equal(labelOfPath('train/cat/a.jpg'), 'cat');
  assert.equal(labelOfPath('cat/a.jpg'), 'cat');
  assert.equal(labelOfPath('a.jpg'), undefined);
  // A file in a folder nested in its class folder belongs to the class, not to the nested folder (issue 18).
  assert.equal(labelOfPath('a<script>alert(2)</script>b/x.jpg'), 'a<script>alert(2)<');
  assert.equal(labelOfPath('train/cat/sub/a.jpg', ['train', 'val']), 'cat');
  assert.equal(labelOfPath('test/a.jpg', []), 'test', 'a class named like a split, in a dataset without splits');
  assert.equal(labelOfPath('train/a.jpg', ['train']), undefined);
});

test('PathTracker: the undo of a move that came before the report (a reload) gives back the class folder, nested or not', () => {
  // The report after the reload has the moved file in its new class; the journal's undo brings it back.
  const t = new PathTracker(['fish/b.jpg', 'a<script>alert(2)</script>b/c.jpg']);
  t.apply([{ from: 'fish/b.jpg', to: 'a<script>alert(2)</script>b/b.jpg' }]);
  assert.equal(t.labelOf({ file: 'fish/b.jpg', label: 'fish' } as CurationFile), 'a<script>alert(2)<');
});

test('PathTracker follows a move, its undo, a trash and its restore from wherever the trash kept it', () => {
  const t = new PathTracker(['tool/b.jpg', 'fish/a.jpg']);
  assert.deepEqual(t.apply([{ from: 'tool/b.jpg', to: 'fish/b (1).jpg' }]), ['tool/b.jpg']);
  assert.equal(t.currentOf('tool/b.jpg'), 'fish/b (1).jpg');
  assert.equal(t.reportPathOf('fish/b (1).jpg'), 'tool/b.jpg');
  assert.ok(t.changed('tool/b.jpg'));
  t.apply([{ from: 'fish/b (1).jpg', to: 'tool/b.jpg' }]);
  assert.equal(t.currentOf('tool/b.jpg'), 'tool/b.jpg');
  assert.ok(!t.changed('tool/b.jpg'));
  t.apply([{ from: 'fish/a.jpg' }]);
  assert.equal(t.currentOf('fish/a.jpg'), null);
  t.apply([{ from: '.trash/fish/a.jpg', to: 'fish/a.jpg' }]);
  assert.equal(t.currentOf('fish/a.jpg'), 'fish/a.jpg');
  assert.deepEqual(t.apply([{ from: 'unknown.jpg', to: 'x/unknown.jpg' }]), []);
});

test('currentReport: moved files get their new path and label, trashed ones leave every list', () => {
  const r = report();
  const t = new PathTracker(r.files.map((f) => f.file));
  t.apply([{ from: 'tool/b.jpg', to: 'fish/b.jpg' }, { from: 'val/fish/e.jpg' }]);
  const c = currentReport(r, t);
  assert.deepEqual(
    c.files.map((f) => [f.file, f.label]),
    [
      ['fish/a.jpg', 'fish'],
      ['fish/b.jpg', 'fish'],
      ['tool/c.jpg', 'tool'],
      ['train/fish/d.jpg', 'fish'],
    ],
  );
  assert.deepEqual(c.labelIssues, [], 'the moved file’s label issue is resolved');
  assert.deepEqual(c.duplicateGroups[0]!.files, ['fish/a.jpg', 'train/fish/d.jpg']);
});

test('BoardModel: label-issue cards vanish when kept or moved and come back on undo; keep rules pick the copy', () => {
  const m = new BoardModel();
  m.setReport({
    type: 'report',
    rootUri: 'file:///ds',
    report: report(),
    facts: {
      'fish/a.jpg': { bytes: 900, mtimeMs: 3 },
      'train/fish/d.jpg': { bytes: 10, mtimeMs: 1 },
      'val/fish/e.jpg': { bytes: 5, mtimeMs: 2 },
    },
    kept: [],
    changes: [],
    canUndo: false,
    canRedo: false,
  });
  assert.deepEqual(
    m.cards('labels').map((c) => [c.key, c.detail]),
    [['tool/b.jpg', 'tool → fish']],
  );
  m.apply({ ok: true, message: '', changes: [{ from: 'tool/b.jpg', to: 'fish/b.jpg' }], decisions: [] });
  assert.equal(m.cards('labels').length, 0);
  assert.equal(m.labelOf('tool/b.jpg'), 'fish');
  m.apply({ ok: true, message: '', changes: [{ from: 'fish/b.jpg', to: 'tool/b.jpg' }], decisions: [] });
  assert.equal(m.cards('labels').length, 1);
  m.apply({ ok: true, message: '', changes: [], decisions: [{ file: 'tool/b.jpg', keep: true }] });
  assert.equal(m.cards('labels').length, 0, 'a kept file stops appearing');
  const g = ['fish/a.jpg', 'train/fish/d.jpg', 'val/fish/e.jpg'];
  assert.equal(m.keeperByRule(g, 'largest'), 'val/fish/e.jpg', 'most pixels');
  assert.equal(m.keeperByRule(g, 'oldest'), 'train/fish/d.jpg');
  assert.equal(m.keeperByRule(g, 'train'), 'train/fish/d.jpg');
  m.apply({ ok: true, message: '', changes: [{ from: 'val/fish/e.jpg' }, { from: 'fish/a.jpg' }], decisions: [] });
  assert.equal(m.groups('largest').length, 0, 'a group with one copy left is resolved');
});

test('OwnFileEvents: the board’s own renames do not re-query; a change made elsewhere meanwhile does', () => {
  const e = new OwnFileEvents();
  e.begin();
  assert.equal(e.isForeign('/ds/tool/b.jpg', 0), false, 'held while the action runs');
  assert.equal(e.end(['/ds/tool/b.jpg', '/ds/fish/b.jpg'], 0), false, 'only its own paths');
  assert.equal(e.isForeign('/ds/fish/b.jpg', 1000), false, 'a late event of its own');
  assert.equal(e.isForeign('/ds/fish', 1000), false, 'its folder');
  assert.equal(e.isForeign('/ds/fish/new.jpg', 1000), true, 'a file added elsewhere');
  assert.equal(e.isForeign('/ds/fish/b.jpg', 60_000), true, 'its path, much later');
  e.begin();
  e.isForeign('/ds/other.jpg', 0);
  assert.equal(e.end(['/ds/x.jpg'], 0), true, 'an event held during the action that was not its own');
});

test('mapPoints: the report’s map points follow its files; files without an embedding have none', () => {
  const r = report() as CurationReport & { map?: unknown };
  assert.deepEqual(mapPoints(r), [], 'no map, no points');
  r.map = { method: 'pca', points: [[0, 1], null, [0.5, 0.5], [1, 0], [0.2, 0.3]] };
  assert.deepEqual(
    mapPoints(r).map((p) => [p.key, p.x, p.y]),
    [
      ['fish/a.jpg', 0, 1],
      ['tool/c.jpg', 0.5, 0.5],
      ['train/fish/d.jpg', 1, 0],
      ['val/fish/e.jpg', 0.2, 0.3],
    ],
  );
});

test('handleKey: the board’s keys and what they do', () => {
  const calls: string[] = [];
  const t: KeyTarget = {
    move: (d, extend) => calls.push(`move ${d}${extend ? ' +' : ''}`),
    cols: () => 6,
    rowsPerPage: () => 3,
    open: () => calls.push('open'),
    keep: () => calls.push('keep'),
    moveToSuggested: () => calls.push('suggested'),
    moveToClass: (i) => calls.push(`class ${i}`),
    trash: () => calls.push('trash'),
    similar: () => calls.push('similar'),
    undo: () => calls.push('undo'),
    redo: () => calls.push('redo'),
    selectAll: () => calls.push('all'),
  };
  const press = (key: string, mods: Partial<KeyPress> = {}) =>
    handleKey({ key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods }, t);
  for (const k of ['ArrowRight', 'ArrowLeft', 'ArrowDown', 'ArrowUp', 'PageDown', 'Home', 'End', 'Enter', 'k', 'm', '3', 'Delete', 's'])
    assert.ok(press(k), k);
  assert.ok(press('ArrowDown', { shiftKey: true }));
  assert.ok(press('z', { ctrlKey: true }));
  assert.ok(press('Z', { ctrlKey: true, shiftKey: true }));
  assert.ok(press('y', { ctrlKey: true }));
  assert.ok(press('a', { metaKey: true }));
  assert.equal(press('x'), false, 'other keys are left to VS Code');
  assert.equal(press('0'), false);
  assert.equal(press('k', { altKey: true }), false);
  assert.equal(press('c', { ctrlKey: true }), false, 'copy is not taken');
  assert.deepEqual(calls, [
    'move 1',
    'move -1',
    'move 6',
    'move -6',
    'move 18',
    'move home',
    'move end',
    'open',
    'keep',
    'suggested',
    'class 2',
    'trash',
    'similar',
    'move 6 +',
    'undo',
    'redo',
    'redo',
    'all',
  ]);
});

test('BoardModel: the Label issues tab shows the likely errors (confident learning estimate) first, all on demand; scores say what they are', () => {
  const r = report();
  r.labelIssues = [
    { file: 'tool/b.jpg', label: 'tool', suggestedLabel: 'fish', score: 0.004 },
    { file: 'tool/c.jpg', label: 'tool', suggestedLabel: 'fish', score: 0.2 },
    { file: 'fish/a.jpg', label: 'fish', suggestedLabel: 'tool', score: 0.31 },
  ];
  r.counts = { ...r.counts, labelIssues: 3, estimatedLabelErrors: 1 };
  const m = new BoardModel();
  m.setReport({ type: 'report', rootUri: 'file:///ds', report: r, facts: {}, kept: [], changes: [], canUndo: false, canRedo: false });
  assert.deepEqual(
    m.cards('labels').map((c) => c.key),
    ['tool/b.jpg'],
  );
  assert.equal(m.cards('labels')[0]!.scoreText, '0.4% tool');
  assert.deepEqual(m.likelyLabelErrors()?.estimate, 1);
  m.setAllLabelIssues(true);
  assert.deepEqual(
    m.cards('labels').map((c) => c.key),
    ['tool/b.jpg', 'tool/c.jpg', 'fish/a.jpg'],
  );
  // An estimate at or above the flagged count filters nothing.
  r.counts = { ...r.counts, estimatedLabelErrors: 5 };
  m.setAllLabelIssues(false);
  assert.equal(m.likelyLabelErrors(), undefined);
  assert.equal(m.cards('labels').length, 3);
  // A map selection has no similarity to show; a similar search shows it once, with its meaning.
  m.setRegion('2 images selected on the map', ['fish/a.jpg', 'tool/b.jpg']);
  assert.deepEqual(
    m.cards('similar').map((c) => [c.detail, c.scoreText]),
    [
      ['fish', ''],
      ['tool', ''],
    ],
  );
  m.setSimilar('Images nearest to a.jpg', [{ file: 'fish/a.jpg', similarity: 1 }]);
  assert.deepEqual(
    m.cards('similar').map((c) => [c.detail, c.scoreText]),
    [['fish', '1.00 similar']],
  );
});

test('unreadableRows: the Overview lists every unreadable file with its code and why, hostile names as given', () => {
  const r = report();
  assert.deepEqual(unreadableRows(r), []);
  r.files[1]!.issues.push({
    type: 'unreadable',
    code: 'DECODE_FAILED',
    detail: 'DECODE_FAILED: /ds/tool/b.jpg could not be decoded as JPEG (VipsJpeg: premature end of JPEG image).',
  });
  r.files.push({
    file: 'fish/<img src=x onerror=alert(1)>.jpg',
    label: 'fish',
    issues: [{ type: 'unreadable', code: 'EMPTY_FILE', detail: 'The file is empty.' }],
  });
  r.files[0]!.issues.push({ type: 'outlier', score: 0.9 });
  assert.deepEqual(unreadableRows(r), [
    { file: 'tool/b.jpg', code: 'DECODE_FAILED', message: 'The file could not be decoded as JPEG (premature end of JPEG image).' },
    { file: 'fish/<img src=x onerror=alert(1)>.jpg', code: 'EMPTY_FILE', message: 'The file is empty.' },
  ]);
  assert.equal(unreadableHeading(1), '1 file could not be read');
  assert.equal(unreadableHeading(3), '3 files could not be read');
});

test('unreadableRows: the file is named once, by the row, not again in the reason', () => {
  const r = report();
  r.files[2]!.issues.push({ type: 'unreadable', code: 'DECODE_FAILED', detail: 'DECODE_FAILED: c.jpg: Input file is truncated.' });
  r.files[1]!.issues.push({
    type: 'unreadable',
    code: 'UNSUPPORTED_FORMAT',
    detail: 'UNSUPPORTED_FORMAT: /ds/tool/b.jpg is not an image format this tool can read (detected: heif).',
  });
  const rows = unreadableRows(r);
  assert.deepEqual(
    rows.map((x) => x.message),
    ['The file is not an image format this tool can read (detected: heif).', 'Input file is truncated.'],
  );
  for (const row of rows) assert.ok(!row.message.includes('b.jpg') && !row.message.includes('c.jpg'), row.message);
});

test('Overview: the class bars count the images analysed, as the summary line does, and the unreadable apart', () => {
  const r = report();
  r.files[2]!.issues.push({ type: 'unreadable', code: 'DECODE_FAILED', detail: 'DECODE_FAILED: truncated' });
  r.counts = { ...r.counts, analysed: 4, unreadable: 1 };
  const m = new BoardModel();
  m.setReport({ type: 'report', rootUri: 'file:///ds', report: r, facts: {}, kept: [], changes: [], canUndo: false, canRedo: false });
  assert.deepEqual(classCounts(m), [
    { name: 'fish', analysed: 3, labelIssues: 0, unreadable: 0 },
    { name: 'tool', analysed: 1, labelIssues: 1, unreadable: 1 },
  ]);
  const analysed = classCounts(m).reduce((n, c) => n + c.analysed, 0);
  assert.equal(analysed, r.counts.analysed, 'the bars add up to the images analysed');
  assert.match(summaryLine(r.counts), /^4 images analysed · 1 unreadable · 1 label issue · /);
  assert.equal(analysedLine(r.counts), '4 images analysed · 1 unreadable', 'the status line after the report says the same');
  assert.doesNotMatch(summaryLine({ ...r.counts, analysed: 5, unreadable: 0 }), /unreadable/);
});

test('BoardModel.setFound: a search shows the images with ≥ 1 % under the concept, highest first, counted as shown; a cleared search puts the Similar tab back', () => {
  const m = new BoardModel();
  m.setReport({
    type: 'report',
    rootUri: 'file:///ds',
    report: report(),
    facts: {},
    kept: [],
    changes: [],
    canUndo: false,
    canRedo: false,
  });
  m.setSimilar('Images nearest to a.jpg', [{ file: 'fish/a.jpg', similarity: 1 }]);
  const before = m.similar;
  // A file moved since the report is found under its new path and shown as its report card.
  m.apply({ ok: true, message: '', changes: [{ from: 'tool/c.jpg', to: 'fish/c.jpg' }], decisions: [] });
  const fish = { synset: 'n02512053', name: 'fish', imagenetClasses: 16 };
  m.setFound({
    type: 'found',
    seq: 1,
    noun: 'fishes',
    concept: fish,
    otherSenses: [],
    items: [
      { file: 'fish/a.jpg', mass: 0.9994 },
      { file: 'fish/c.jpg', mass: 0.055 },
      { file: 'tool/b.jpg', mass: 0.0099 },
      { file: 'train/fish/d.jpg', mass: 0 },
    ],
    searched: 5,
  });
  assert.equal(m.similar.title, "'fishes' → fish (n02512053, 16 ImageNet classes): 2 of 5 images, most probable first");
  assert.equal(m.similar.concept?.count, 2);
  assert.equal(m.similar.concept?.capped, false);
  assert.deepEqual(
    m.cards('similar').map((c) => [c.key, c.detail, c.scoreText]),
    [
      ['fish/a.jpg', 'fish', '100% fish'],
      ['tool/c.jpg', 'fish', '5.5% fish'],
    ],
  );
  assert.match(m.cards('similar')[0]!.scoreTitle ?? '', /probability under fish \(n02512053\)/);
  m.setFound({
    type: 'found',
    seq: 2,
    noun: 'instrument',
    concept: { synset: 'n03800933', name: 'musical instrument', imagenetClasses: 26 },
    otherSenses: [{ synset: 'n03574816', name: 'instrument', imagenetClasses: 60 }],
    items: [],
    searched: 1,
  });
  assert.equal(
    m.similar.title,
    "'instrument' → musical instrument (n03800933, 26 ImageNet classes) (other sense: instrument n03574816): 0 of 1 image, most probable first",
  );
  assert.deepEqual(m.cards('similar'), []);
  // As many images as the host asks for, all above the floor: the toolbar does not say that is all there is.
  const many = Array.from({ length: FIND_TOP }, (_, i) => ({ file: `fish/x${i}.jpg`, mass: 0.9 }));
  m.setFound({ type: 'found', seq: 3, noun: 'fish', concept: fish, otherSenses: [], items: many, searched: 5000 });
  assert.match(m.similar.title, new RegExp(`: the first ${FIND_TOP} of 5000 images, most probable first$`));
  assert.equal(m.similar.concept?.capped, true);
  m.restoreSimilar(before);
  assert.deepEqual(
    m.cards('similar').map((c) => [c.key, c.scoreText]),
    [['fish/a.jpg', '1.00 similar']],
  );
});

test('closeMatchParts: the server’s sentence cut around its close matches (each shown as a link)', () => {
  assert.deepEqual(closeMatchParts("'fsh' is not a noun with ImageNet classes below it in WordNet; close matches: fish, dish, sea bird."), {
    before: "'fsh' is not a noun with ImageNet classes below it in WordNet; close matches: ",
    matches: ['fish', 'dish', 'sea bird'],
    after: '.',
  });
  const plain = 'Give a noun to find, for example fish, fruit or vehicle.';
  assert.deepEqual(closeMatchParts(plain), { before: plain, matches: [], after: '' });
});
