/**
 * Curation's neighbour search at scale (ann.ts): the projected HNSW graph (usearch) against exact search on
 * synthetic clustered embeddings, with the exact threshold lowered so that the test stays small.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  allNeighbours,
  buildAnnIndex,
  dotRows,
  loadAnnIndex,
  loadUsearch,
  type Matrix,
  nearestNeighbours,
  normalizedMatrix,
  principalBasis,
  queryNeighbours,
  seededRandom,
} from '../src/index.js';

/** n unit rows: per-class centroids, a shared 8-d within-class latent and noise (cosine structure like embeddings). */
function clustered(n: number, d: number, classes: number, seed = 1): Matrix {
  const rand = seededRandom(seed);
  const g = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const cent = Array.from({ length: classes }, () => Array.from({ length: d }, g));
  const a = Array.from({ length: d }, () => Array.from({ length: 8 }, () => 0.35 * g()));
  const rows = Array.from({ length: n }, (_, i) => {
    const z = Array.from({ length: 8 }, g);
    const c = cent[i % classes]!;
    return c.map((v, j) => v + 0.3 * g() + a[j]!.reduce((s, w, l) => s + w * z[l]!, 0));
  });
  return normalizedMatrix(rows, d);
}

const usearch = loadUsearch() !== null;

describe('curation at scale: approximate neighbours', () => {
  const m = clustered(2000, 128, 40);

  test('small matrices are searched exactly', () => {
    const ann = buildAnnIndex(m);
    assert.equal(ann.exact, true);
    const a = ann.all(5);
    const b = allNeighbours(m, 5);
    assert.deepEqual(a.index, b.index);
  });

  test('the principal basis is orthonormal', () => {
    const r = 16;
    const q = principalBasis(m, r, 500);
    for (let i = 0; i < r; i++) {
      for (let j = 0; j <= i; j++) assert.ok(Math.abs(dotRows(q, i, q, j, m.d) - (i === j ? 1 : 0)) < 1e-4);
    }
  });

  test('all-kNN through the graph: recall@10 ≥ 0.95 against exact, similarities exact', {
    skip: !usearch && 'usearch does not load here',
  }, () => {
    const exact = allNeighbours(m, 10);
    const ann = buildAnnIndex(m, { exactMaxRows: 100, dims: 32 });
    assert.equal(ann.exact, false);
    const nb = ann.all(10);
    let hit = 0;
    for (let i = 0; i < m.n; i++) {
      const want = new Set(exact.index.subarray(i * 10, i * 10 + 10));
      for (let r = 0; r < 10; r++) {
        const j = nb.index[i * 10 + r]!;
        assert.notEqual(j, i);
        if (want.has(j)) hit++;
        if (j >= 0) assert.ok(Math.abs(nb.sim[i * 10 + r]! - dotRows(m.data, i, m.data, j, m.d)) < 1e-5);
      }
    }
    assert.ok(hit / (m.n * 10) >= 0.95, `recall@10 ${hit / (m.n * 10)}`);
    assert.equal(nearestNeighbours(m, 3, { exactMaxRows: 100, dims: 32 }).k, 3);
  });

  test('find-similar queries through the graph: recall@10 ≥ 0.95, the skipped row left out', {
    skip: !usearch && 'usearch does not load here',
  }, () => {
    const ann = buildAnnIndex(m, { exactMaxRows: 100, dims: 32 });
    let hit = 0;
    for (let i = 0; i < 100; i++) {
      const q = m.data.subarray(i * 17 * m.d, (i * 17 + 1) * m.d);
      const want = new Set(queryNeighbours(m, q, 10, i * 17).map((h) => h.index));
      const got = ann.query(q, 10, i * 17);
      assert.ok(got.every((h) => h.index !== i * 17));
      for (const h of got) if (want.has(h.index)) hit++;
    }
    assert.ok(hit / 1000 >= 0.95, `recall@10 ${hit / 1000}`);
  });

  test('a saved graph loads over the same rows and answers like the one built (find-similar reuses the analysis)', {
    skip: !usearch && 'usearch does not load here',
  }, () => {
    const built = buildAnnIndex(m, { exactMaxRows: 100, dims: 32 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ann-'));
    try {
      const snap = built.save(path.join(dir, 'g.usearch'));
      assert.ok(snap && fs.statSync(snap.file).size > 0);
      assert.equal(snap.rows, m.n);
      const loaded = loadAnnIndex(m, snap);
      assert.ok(loaded && !loaded.exact);
      for (let i = 0; i < 50; i++) {
        const q = m.data.subarray(i * 31 * m.d, (i * 31 + 1) * m.d);
        assert.deepEqual(loaded.query(q, 10, i * 31), built.query(q, 10, i * 31));
      }
      // Rows that do not match the saved graph are refused (the caller builds a new one).
      assert.equal(loadAnnIndex({ data: m.data.subarray(0, 10 * m.d), n: 10, d: m.d }, snap), undefined);
      assert.equal(loadAnnIndex(m, { ...snap, file: path.join(dir, 'missing') }), undefined);
      assert.equal(buildAnnIndex(m).save(path.join(dir, 'exact')), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
