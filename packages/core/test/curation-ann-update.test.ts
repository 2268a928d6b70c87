/**
 * The neighbour graph kept between curation runs (ann-graph.ts, ann-store.ts): saved with its sidecars, read back,
 * updated for the rows whose content changed (moved rows keep their key), refused when torn; answers stay exact-
 * like after the update. The exact threshold is lowered so the test stays small.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  allNeighbours,
  buildAnnIndex,
  GraphIndex,
  loadAnnIndex,
  loadUsearch,
  type Matrix,
  normalizedMatrix,
  persistAnnIndex,
  queryNeighbours,
  readAnnSnapshot,
  seededRandom,
} from '../src/index.js';

const D = 64;
const opts = { exactMaxRows: 100, dims: 32 };

/** Clustered unit rows with a content id each. */
function rows(n: number, seed: number): { vecs: Float32Array[]; ids: string[] } {
  const rand = seededRandom(seed);
  const g = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  // 12 class centroids + a shared 8-d within-class latent + a little noise: rank ≤ 20 plus noise, like embeddings.
  const cent = Array.from({ length: 12 }, () => Array.from({ length: D }, g));
  const lat = Array.from({ length: D }, () => Array.from({ length: 8 }, () => 0.4 * g()));
  const vecs = Array.from({ length: n }, (_, i) => {
    const z = Array.from({ length: 8 }, g);
    return Float32Array.from(cent[i % 12]!, (v, j) => v + 0.05 * g() + lat[j]!.reduce((s, w, l) => s + w * z[l]!, 0));
  });
  return { vecs, ids: vecs.map((_, i) => `s${seed}-${i}`) };
}

function recall(m: Matrix, nb: { k: number; index: Int32Array }): number {
  const exact = allNeighbours(m, nb.k);
  let hit = 0;
  for (let i = 0; i < m.n; i++) {
    const want = new Set(exact.index.subarray(i * nb.k, (i + 1) * nb.k));
    for (let r = 0; r < nb.k; r++) if (want.has(nb.index[i * nb.k + r]!)) hit++;
  }
  return hit / (m.n * nb.k);
}

describe('curation: the neighbour graph kept between runs', { skip: loadUsearch() === null && 'usearch does not load here' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ann-update-'));
  const file = path.join(dir, 'g.usearch');
  const a = rows(1500, 1);
  const m1 = normalizedMatrix(a.vecs, D);

  test('saved with its sidecars and read back: the same answers', () => {
    const built = buildAnnIndex(m1, opts, a.ids);
    assert.ok(built instanceof GraphIndex && built.origin.kind === 'built');
    const snap = persistAnnIndex(built, file, D);
    assert.ok(snap);
    for (const f of [file, `${file}.f32`, `${file}.json`]) assert.ok(fs.statSync(f).size > 0, f);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes('.tmp')),
      [],
    );
    const read = readAnnSnapshot(file, D);
    assert.ok(read);
    assert.deepEqual(read.ids, a.ids);
    const loaded = loadAnnIndex(m1, read);
    assert.ok(loaded);
    for (let i = 0; i < 30; i++) {
      const q = m1.data.subarray(i * 7 * D, (i * 7 + 1) * D);
      assert.deepEqual(loaded.query(q, 10, i * 7), built.query(q, 10, i * 7));
    }
    assert.equal(readAnnSnapshot(file, D + 1), undefined, 'another embedding width');
  });

  test('a changed dataset updates the graph: moved rows reused, new content added, gone content never returned', () => {
    const snap = readAnnSnapshot(file, D)!;
    // 5 % new content, 3 % gone, the rest reordered (files moved between folders change the order, not the content).
    const b = rows(75, 2);
    const keep = a.vecs.map((_, i) => i).filter((i) => i % 33 !== 0);
    const order = [...keep].reverse();
    const vecs = [...order.map((i) => a.vecs[i]!), ...b.vecs];
    const ids = [...order.map((i) => a.ids[i]!), ...b.ids];
    const m2 = normalizedMatrix(vecs, D);
    const up = buildAnnIndex(m2, opts, ids, snap);
    assert.ok(up instanceof GraphIndex);
    assert.deepEqual(up.origin, { kind: 'updated', reused: keep.length, added: 75, removed: a.vecs.length - keep.length });
    const nb = up.all(10);
    assert.ok(recall(m2, nb) >= 0.95, `all-kNN recall ${recall(m2, nb)}`);
    for (let i = 0; i < m2.n; i++) for (let r = 0; r < 10; r++) assert.ok(nb.index[i * 10 + r]! < m2.n);
    let hit = 0;
    for (let i = 0; i < 50; i++) {
      const row = m2.n - 1 - i * 3;
      const q = m2.data.subarray(row * D, (row + 1) * D);
      const want = new Set(queryNeighbours(m2, q, 10, row).map((h) => h.index));
      for (const h of up.query(q, 10, row)) if (want.has(h.index)) hit++;
    }
    assert.ok(hit / 500 >= 0.95, `query recall ${hit / 500}`);
    // Saved again and loaded for queries over the new row order.
    const snap2 = persistAnnIndex(up, file, D)!;
    const loaded = loadAnnIndex(m2, readAnnSnapshot(file, D)!)!;
    const q = m2.data.subarray(5 * D, 6 * D);
    assert.deepEqual(loaded.query(q, 10, 5), up.query(q, 10, 5));
    assert.equal(snap2.ids.filter((x) => x === '').length, a.vecs.length - keep.length);
  });

  test('mostly new content: built afresh; a torn sidecar reads as absent', () => {
    const c = rows(1500, 3);
    const m3 = normalizedMatrix(c.vecs, D);
    const fresh = buildAnnIndex(m3, opts, c.ids, readAnnSnapshot(file, D)!);
    assert.ok(fresh instanceof GraphIndex && fresh.origin.kind === 'built');
    const f32 = fs.readFileSync(`${file}.f32`);
    fs.writeFileSync(`${file}.f32`, f32.subarray(0, f32.length - 10));
    assert.equal(readAnnSnapshot(file, D), undefined);
    fs.writeFileSync(`${file}.json`, '{"version":1,');
    assert.equal(readAnnSnapshot(file, D), undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(readAnnSnapshot(file, D), undefined);
  });
});
