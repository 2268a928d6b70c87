/**
 * Which issues are still open after the board's actions is decided once (curation/shared/open-issues.ts): these tests
 * exercise it, replay action sequences through both the host's path (currentReport → curationIssueCounts, the
 * Explorer badges, Export's clean list) and the webview's (BoardModel's tabs) and see them agree at every step, and
 * check that each of those modules takes its answer from open-issues.ts rather than deciding again.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { CurationReport } from '@image-classifier/protocol';
import { ISSUE_SECTIONS } from '@image-classifier/protocol/issue-kinds';
import { cleanFileList } from '../src/curation/model/export';
import { curationBadges } from '../src/curation/shared/issue-badges';
import { curationIssueCounts } from '../src/curation/shared/issue-counts';
import { fileIssueOpener, openCounts, openIssues, UNMOVED } from '../src/curation/shared/open-issues';
import { PathTracker, currentReport } from '../src/curation/shared/tracker';
import type { ActionOutcome } from '../src/curation/shared/types';
import { BoardModel } from '../src/webview/model';
import { TABS } from '../src/webview/tabs';

function report(): CurationReport {
  const files = ['cats/a.jpg', 'cats/b.jpg', 'dogs/c.jpg', 'dogs/d.jpg', 'dogs/e.jpg', 'cats/f.jpg'];
  return {
    version: 1,
    root: '/ds',
    createdAt: '',
    model: { name: 'm', embeddingDims: 4 },
    checks: ['label', 'duplicates', 'outliers', 'quality', 'leakage'],
    layout: { splits: [], classes: 2, flat: false },
    counts: { files: 6, analysed: 6, unreadable: 0, skipped: 0, labelIssues: 2, duplicateGroups: 1, outliers: 2, quality: 1 },
    files: files.map((file) => ({
      file,
      label: file.split('/')[0],
      issues: [
        ...(file === 'cats/a.jpg' || file === 'dogs/c.jpg' ? [{ type: 'label' as const, score: 0.1 }] : []),
        ...(file === 'cats/b.jpg' || file === 'dogs/d.jpg' ? [{ type: 'exact_duplicate' as const }] : []),
        ...(file === 'dogs/e.jpg' ? [{ type: 'outlier' as const, score: 0.5 }] : []),
        ...(file === 'cats/f.jpg'
          ? [
              { type: 'out_of_vocabulary' as const, score: 0.9, detail: 'a car' },
              { type: 'light' as const, score: 0.01 },
            ]
          : []),
      ],
    })),
    labelIssues: [
      { file: 'cats/a.jpg', label: 'cats', suggestedLabel: 'dogs', score: 0.1 },
      { file: 'dogs/c.jpg', label: 'dogs', suggestedLabel: 'cats', score: 0.2 },
    ],
    duplicateGroups: [{ kind: 'exact', files: ['cats/b.jpg', 'dogs/d.jpg'], conflictingLabels: true, crossSplit: false }],
    outliers: [
      { file: 'dogs/e.jpg', score: 0.5 },
      { file: 'cats/f.jpg', score: 0.9, kind: 'out_of_vocabulary', reason: 'a car' },
    ],
    quality: [{ file: 'cats/f.jpg', type: 'light', score: 0.01, threshold: 0.05 }],
    classes: [],
    skipped: [],
    warnings: [],
    settings: {},
    timingsMs: { scan: 0, extract: 0, analyse: 0, total: 0 },
  };
}

const outcome = (changes: ActionOutcome['changes'], decisions: ActionOutcome['decisions'] = []): ActionOutcome =>
  ({ ok: true, message: '', changes, decisions }) as ActionOutcome;

test("openIssues: a move or a kept label closes a label issue, a trash closes the file's issues, a group needs two files", () => {
  const r = report();
  const t = new PathTracker(r.files.map((f) => f.file));
  assert.deepEqual(openCounts(openIssues(r, t)), { labels: 2, duplicates: 1, outliers: 2, quality: 1 });
  assert.deepEqual(openCounts(openIssues(r, t, new Set(['cats/a.jpg']))), { labels: 1, duplicates: 1, outliers: 2, quality: 1 });
  t.apply([{ from: 'dogs/c.jpg', to: 'cats/c.jpg' }, { from: 'dogs/d.jpg' }, { from: 'cats/f.jpg' }]);
  const open = openIssues(r, t);
  assert.deepEqual(
    open.labelIssues.map((i) => i.file),
    ['cats/a.jpg'],
  );
  assert.deepEqual(open.duplicateGroups, [], 'one copy left: the group is closed');
  assert.deepEqual(
    open.outliers.map((o) => o.file),
    ['dogs/e.jpg'],
  );
  assert.deepEqual(open.quality, []);
  // Per file: the same rules.
  const isOpen = fileIssueOpener(r, t);
  assert.equal(isOpen('cats/a.jpg', { type: 'label' }), true);
  assert.equal(isOpen('dogs/c.jpg', { type: 'label' }), false, 'moved');
  assert.equal(isOpen('cats/b.jpg', { type: 'exact_duplicate' }), false, 'its twin is trashed');
  assert.equal(isOpen('dogs/e.jpg', { type: 'outlier' }), true);
  assert.equal(isOpen('dogs/e.jpg', { type: 'unreadable' }), true, 'a kind no section lists: open while the file is there');
  // Undo of the trash: the group and the trashed file's issues are open again.
  t.apply([{ from: '.trash/d.jpg', to: 'dogs/d.jpg' }]);
  t.apply([{ from: '.trash/f.jpg', to: 'cats/f.jpg' }]);
  assert.equal(openIssues(r, UNMOVED).duplicateGroups[0]!.id, 0);
});

/** Host and webview, replaying the same actions: the counts per tab agree at every step. */
test('the host (currentReport → counts, badges, clean list) and the board (BoardModel) agree after every action', () => {
  const r = report();
  const m = new BoardModel();
  m.setReport({ type: 'report', rootUri: 'file:///ds', report: r, facts: {}, kept: [], changes: [], canUndo: false, canRedo: false });
  m.setAllLabelIssues(true);
  const host = new PathTracker(r.files.map((f) => f.file));
  const kept = new Set<string>();
  const steps: ActionOutcome[] = [
    outcome([], [{ file: 'cats/a.jpg', keep: true }]),
    outcome([{ from: 'dogs/c.jpg', to: 'cats/c.jpg' }]),
    outcome([{ from: 'dogs/d.jpg' }]),
    outcome([{ from: 'cats/f.jpg' }]),
    outcome([], [{ file: 'cats/a.jpg', keep: false }]),
    outcome([{ from: 'cats/c.jpg', to: 'dogs/c.jpg' }]),
  ];
  const board = () => ({
    labels: m.cards('labels').length,
    duplicates: m.groups('largest').length,
    outliers: m.cards('outliers').length,
    quality: m.cards('quality').length,
  });
  const hostCounts = () => Object.fromEntries(curationIssueCounts(currentReport(r, host), kept).map((c) => [c.tab, c.count]));
  assert.deepEqual(hostCounts(), board());
  for (const [i, step] of steps.entries()) {
    m.apply(step);
    host.apply(step.changes);
    for (const d of step.decisions) d.keep ? kept.add(d.file) : kept.delete(d.file);
    assert.deepEqual(hostCounts(), board(), `after step ${i + 1}`);
    // The badges and the clean list follow the same rule: a file is badged iff it has an open issue, and clean iff not.
    const now = currentReport(r, host);
    const badged = new Set(curationBadges(now, kept).keys());
    const locations = new Map(r.files.map((f) => [f.file, host.currentOf(f.file)]));
    const clean = new Set(cleanFileList(r, { locations, kept, now: new Date() }).split('\n').filter(Boolean));
    for (const f of now.files) assert.equal(badged.has(f.file), !clean.has(f.file), `after step ${i + 1}: ${f.file}`);
  }
});

test("the board has a tab per ISSUE_SECTIONS row, and its model lists each section's open entries", () => {
  for (const s of ISSUE_SECTIONS)
    assert.ok(
      TABS.some((t) => t.id === s.id && t.title === s.title),
      s.id,
    );
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
  m.setAllLabelIssues(true);
  for (const s of ISSUE_SECTIONS) {
    const n = s.closedBy === 'group' ? m.groups('largest').length : m.cards(s.id).length;
    assert.equal(n, report().counts[s.field], s.id);
  }
  const ood = m.cards('outliers').find((c) => c.key === 'cats/f.jpg')!;
  assert.deepEqual([ood.scoreText, ood.detail], ['90% outside', 'cats · out of vocabulary']);
  assert.equal(m.cards('quality')[0]!.detail, 'too light', "the kind's title, as the Explorer says it");
});

test('host and webview both take "open" from open-issues.ts (import graph), and none decides it again', () => {
  const src = path.join(__dirname, '..', 'src');
  const users = [
    'webview/model.ts',
    'curation/shared/tracker.ts',
    'curation/shared/issue-counts.ts',
    'curation/shared/issue-badges.ts',
    'curation/model/export.ts',
  ];
  for (const file of users) {
    const text = readFileSync(path.join(src, file), 'utf8');
    assert.match(text, /from '(\.\.\/curation\/shared|\.\.\/shared|\.)\/open-issues'/, `${file} imports open-issues`);
    assert.doesNotMatch(
      text,
      /tracker\.changed\(|(report|r)\.labelIssues\.filter|(report|r)\.duplicateGroups\s*\.(filter|map|forEach)|length >= 2/,
      `${file} decides openness itself`,
    );
  }
});
