// The scoring of scripts/bench-curation-methods.mjs on small hand-made cases: AP / P@n / R@2n of a ranking, the
// flagged-then-rest ranking, duplicate pairs from groups and from Datalab's near_duplicate_sets, and pair
// precision / recall against a truth's near- and exact-duplicate groups.
//   node --test scripts/test/bench-curation-scoring.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pairScore, pairsOf, ranking, score, setsToGroups, truthPairs } from '../bench-curation-methods.mjs';

test('score: AP, P@n and R@2n of a ranking against the true files', () => {
  // Hits at ranks 1 and 3 of n = 2: AP = (1/1 + 2/3) / 2.
  const r = score(['a', 'x', 'b', 'y'], new Set(['a', 'b']));
  assert.equal(r.n, 2);
  assert.ok(Math.abs(r.ap - (1 + 2 / 3) / 2) < 1e-12, `AP ${r.ap}`);
  assert.equal(r.pAtN, 0.5);
  assert.equal(r.rAt2N, 1);
  // A true file missing from the ranking counts as never found.
  const miss = score(['x', 'a'], new Set(['a', 'b']));
  assert.equal(miss.ap, 0.25);
  assert.equal(miss.pAtN, 0.5);
  assert.equal(miss.rAt2N, 0.5);
});

test('ranking: the flagged rows in their order, then the rest by ascending score', () => {
  assert.deepEqual(ranking([2, 0], Float64Array.from([0.5, 0.9, 0.1, 0.3])), [2, 0, 3, 1]);
  // Ties among the rest go by row.
  assert.deepEqual(ranking([], Float64Array.from([0.2, 0.1, 0.2])), [1, 0, 2]);
});

test('pairsOf: every unordered pair inside each group, once', () => {
  assert.deepEqual(
    [
      ...pairsOf([
        ['b', 'a'],
        ['c', 'd', 'e'],
        ['a', 'b'],
      ]),
    ].sort(),
    ['a\tb', 'c\td', 'c\te', 'd\te'],
  );
  assert.equal(pairsOf([['a'], []]).size, 0);
});

test("setsToGroups: Datalab's per-row near_duplicate_sets as pairs (each pair once after pairsOf)", () => {
  const groups = setsToGroups([[1], [0], [], [0, 1]]);
  assert.deepEqual(groups, [
    [0, 1],
    [1, 0],
    [3, 0],
    [3, 1],
  ]);
  const names = ['p', 'q', 'r', 's'];
  assert.deepEqual([...pairsOf(groups.map((g) => g.map((i) => names[i])))].sort(), ['p\tq', 'p\ts', 'q\ts']);
});

test("pairScore: precision and recall against the truth's near and exact groups", () => {
  const truth = truthPairs({
    near_duplicate_groups: [{ original: 'f/a', members: ['f/a', 'f/b'] }],
    exact_duplicate_groups: [{ members: ['f/c', 'f/d', 'g/e'] }],
  });
  assert.equal(truth.all.size, 4);
  assert.equal(truth.exact.size, 3);
  const r = pairScore(
    pairsOf([
      ['f/b', 'f/a'],
      ['f/c', 'f/d'],
      ['x/1', 'x/2'],
    ]),
    truth,
  );
  assert.equal(r.pairs, 3);
  assert.equal(r.tp, 2);
  assert.equal(r.precision, 2 / 3);
  assert.equal(r.recall, 0.5);
  assert.equal(r.exact, '1/3');
  assert.equal(r.near, '1/1');
  // Nothing predicted: precision 0 (not NaN), recall 0.
  const none = pairScore(new Set(), truth);
  assert.equal(none.precision, 0);
  assert.equal(none.recall, 0);
  assert.equal(none.exact, '0/3');
});
