/**
 * The check registry and the issue-kind table agree: every kind names a check of CHECKS and a report section, and has
 * its title, words, codicon and badge; every check's issues are kinds of its own rows, and every row of a check is
 * one its issues can be. The report's settings are what ran: a run with overrides prints them, and they equal the
 * options the analysis got.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  CURATION_CHECKS,
  type FileIssue,
  ISSUE_KINDS,
  ISSUE_LETTERS,
  ISSUE_SECTIONS,
  type IssueKind,
  QUALITY_ISSUE_TYPES,
} from '@image-classifier/protocol';
import sharp from 'sharp';
import {
  type Analysable,
  type AnalyseOptions,
  type Analysis,
  analyse,
  CHECKS,
  curateDataset,
  enabledChecks,
  LABEL_DEFAULTS,
  NEAR_DUPLICATE_DEFAULTS,
} from '../src/index.js';
import { thumbnailEngine } from './fake-engine.js';

const kinds = ISSUE_KINDS as readonly IssueKind[];

test("every issue kind has a check in CHECKS (or is the read's own), a section, a title, words, a codicon and a badge", () => {
  const checkIds = new Set(CHECKS.map((c) => c.id));
  const sections = new Set(ISSUE_SECTIONS.map((s) => s.id));
  for (const k of kinds) {
    assert.ok(k.title && k.one && k.many && k.icon, `${k.id}: title, words and icon`);
    assert.ok(/^[a-z-]+$/.test(k.icon), `${k.id}: a codicon id`);
    if (!k.check) {
      assert.ok(['unreadable', 'changed'].includes(k.id), `${k.id}: only the read's kinds have no check`);
      continue;
    }
    assert.ok(checkIds.has(k.check), `${k.id}: its check ${k.check} is in CHECKS`);
    assert.ok(k.section && sections.has(k.section), `${k.id}: a report section`);
    assert.equal(k.section, CHECKS.find((c) => c.id === k.check)!.section, `${k.id}: its check's section`);
    assert.ok(k.badge && ISSUE_LETTERS.includes(k.badge) && k.color, `${k.id}: a badge letter and colour`);
  }
  assert.equal(new Set(kinds.map((k) => k.id)).size, kinds.length, 'one row per kind');
  for (const q of QUALITY_ISSUE_TYPES) assert.equal(kinds.find((k) => k.id === q)?.check, 'quality', q);
});

test("every check has a section, named defaults and settings; every run check id is some check's", () => {
  for (const c of CHECKS) {
    assert.ok(
      ISSUE_SECTIONS.some((s) => s.id === c.section && s.check === c.id),
      `${c.id}: its section row`,
    );
    assert.ok(Object.keys(c.defaults).length > 0, `${c.id}: defaults`);
    assert.ok(Object.keys(c.settings({}, undefined)).length > 0, `${c.id}: settings`);
    assert.ok(
      kinds.some((k) => k.check === c.id),
      `${c.id}: kinds in the table`,
    );
  }
  for (const id of CURATION_CHECKS) assert.equal(enabledChecks(new Set([id])).length, 1, id);
  assert.deepEqual(
    ISSUE_SECTIONS.map((s) => s.id),
    CHECKS.map((c) => c.section),
    'sections in the checks order',
  );
});

/** An analysis with one finding of every sort: a label issue, exact and near groups across splits, both outliers, every quality type. */
function everyFinding(): { a: Analysis; items: Analysable[] } {
  const items = ['a/1.png', 'b/2.png', 'a/3.png'].map(
    (file) => ({ entry: { file, label: file[0] }, features: {}, embedding: new Float32Array(1) }) as unknown as Analysable,
  );
  const a = {
    label: {
      classes: ['a', 'b'],
      rows: [0, 1, 2],
      analysis: { quality: Float64Array.from([0.1, 0.9, 0.9]), issues: [0], suggested: new Map([[0, 1]]), probs: new Float32Array(6) },
      estimatedErrors: 1,
      reasons: new Map([[0, ['looks like b']]]),
      vocabulary: [],
      ran: {},
    },
    duplicates: [
      { kind: 'exact', files: ['a/1.png', 'b/2.png'], conflictingLabels: true, crossSplit: true },
      { kind: 'near', files: ['a/3.png', 'b/2.png'], conflictingLabels: true, crossSplit: false },
    ],
    outliers: [
      { file: 'a/1.png', score: 0.5 },
      { file: 'a/3.png', score: 0.9, kind: 'out_of_vocabulary', reason: 'the model sees a car' },
    ],
    quality: QUALITY_ISSUE_TYPES.map((type) => ({ file: 'a/1.png', type, score: 0, threshold: 1 })),
  } as unknown as Analysis;
  return { a, items };
}

test("every check's issues are kinds of its rows, and every row of a check is one of its issues", () => {
  const { a, items } = everyFinding();
  for (const c of CHECKS) {
    const found = new Set<string>();
    c.fileIssues(a, items, (_file: string, issue: FileIssue) => found.add(issue.type));
    const rows = new Set(kinds.filter((k) => k.check === c.id).map((k) => k.id));
    assert.deepEqual([...found].sort(), [...rows].sort(), c.id);
    const part = c.report(a, items);
    assert.ok(Object.keys(part.counts).length > 0, `${c.id}: counts`);
  }
});

test('each check runs only when the run asks for it (leakage runs the duplicate check for the groups across splits)', () => {
  assert.deepEqual(
    enabledChecks(new Set(['leakage'])).map((c) => c.id),
    ['duplicates'],
  );
  assert.deepEqual(
    enabledChecks(new Set(CURATION_CHECKS)).map((c) => c.id),
    CHECKS.map((c) => c.id),
  );
});

const fake = thumbnailEngine;

async function dataset(): Promise<string> {
  const root = mkdtempSync(path.join(tmpdir(), 'curate-checks-'));
  const colours: Record<string, number[]> = { red: [200, 40, 40], blue: [40, 40, 200] };
  for (const [name, rgb] of Object.entries(colours))
    for (let i = 0; i < 6; i++) {
      mkdirSync(path.join(root, name), { recursive: true });
      const px = Buffer.alloc(16 * 16 * 3, 0).map((_, j) => rgb[j % 3]! + ((i * 7 + j * 13) % 30));
      writeFileSync(
        path.join(root, name, `${i}.png`),
        await sharp(px, { raw: { width: 16, height: 16, channels: 3 } })
          .png()
          .toBuffer(),
      );
    }
  return root;
}

test("the report's settings are what ran: the defaults, a run's overrides, the same options the analysis got", async () => {
  const root = await dataset();
  const plain = await curateDataset(root, fake);
  for (const [key, v] of Object.entries(LABEL_DEFAULTS)) assert.equal(plain.settings[key], v, key);
  for (const [key, v] of Object.entries(NEAR_DUPLICATE_DEFAULTS)) assert.equal(plain.settings[`near.${key}`], v, key);
  assert.equal(plain.settings.neighbours, 10);

  let got: AnalyseOptions | undefined;
  const r = await curateDataset(root, fake, {
    neighbours: 4,
    label: { folds: 3, l2: 0.01, iterations: 40, regressionWeight: 0.25, minClassSize: 3 },
    nearDuplicates: { hashTight: 4 },
    analyse: async (items, labels, o) => {
      got = o;
      return analyse(items, labels, o);
    },
  });
  const s = r.settings;
  assert.deepEqual(
    [s.neighbours, s.folds, s.l2, s.iterations, s.regressionWeight, s.minClassSize, s['near.hashTight']],
    [4, 3, 0.01, 40, 0.25, 3, 4],
  );
  assert.equal(s.seed, LABEL_DEFAULTS.seed, 'what was not overridden prints its default');
  assert.ok(got);
  for (const key of ['folds', 'l2', 'iterations', 'regressionWeight', 'minClassSize'] as const)
    assert.equal(s[key], got[key], `${key}: printed = ran`);
  assert.equal(s.neighbours, got.neighbours);
  assert.equal(s['near.hashTight'], got.nearDuplicates?.hashTight);
  // Every check's settings are in the report, under its keys.
  for (const c of CHECKS) for (const key of Object.keys(c.settings({}, undefined))) assert.ok(key in s, `${c.id}: ${key}`);
});
