/**
 * The approximate neighbour index above EXACT_MAX_ROWS rows: an HNSW graph (usearch) over the rows projected onto
 * their top principal directions, candidates re-ranked by the exact cosine of the full vectors.
 *
 * Graph keys are not row numbers: each key holds one row's content id (the file's content hash), so that a later
 * run over a changed dataset updates the saved graph instead of building it again: rows whose content is unchanged
 * keep their key and projected vector (a moved file too), new content is projected and added, content that is gone
 * is removed. Over half the rows new, or over half the keys dead, and the graph is built afresh.
 */
import { availableParallelism } from 'node:os';
import type { AnnIndex, AnnOptions, AnnSnapshot, UsearchCtor, UsearchIndex } from './ann.js';
import { principalBasis, project } from './projection.js';
import { dotRows, type Matrix, type Neighbours } from './vectors.js';

/** Keeps the best k (by exact full-dimension cosine) of candidate rows for row `qRow` of m, or unit query `q`. */
function rerank(m: Matrix, q: Float32Array, qRow: number, rows: ArrayLike<number>, k: number, skip: number) {
  const hits: Array<{ index: number; sim: number }> = [];
  const seen = new Set<number>();
  for (let p = 0; p < rows.length; p++) {
    const j = rows[p]!;
    if (j < 0 || j === skip || j >= m.n || seen.has(j)) continue;
    seen.add(j);
    hits.push({ index: j, sim: qRow >= 0 ? dotRows(m.data, qRow, m.data, j, m.d) : dotRows(m.data, j, q, 0, m.d) });
  }
  hits.sort((a, b) => b.sim - a.sim || a.index - b.index);
  return hits.slice(0, k);
}

/**
 * How a GraphIndex came to be: built (`rebuilt`: why the saved graph was not used), updated from a saved graph (rows
 * reused), or loaded as saved.
 */
export type GraphOrigin =
  | { kind: 'built'; rebuilt?: string }
  | { kind: 'updated'; reused: number; added: number; removed: number }
  | { kind: 'loaded' };

export class GraphIndex implements AnnIndex {
  readonly exact = false;
  buildMs = 0;
  origin: GraphOrigin = { kind: 'built' };
  private graph!: UsearchIndex;
  private basis!: Float32Array;
  private r = 0;
  /** Per key: its projected vector (keys × r) and its content id ('' once removed). */
  private reduced!: Float32Array;
  private ids!: string[];
  /** key → row of m (-1: not a current row), row → key. */
  private rowOfKey!: Int32Array;
  private keyOfRow!: Int32Array;
  /**
   * Threads for usearch's inserts and searches. IMAGE_CLASSIFIER_ANN_THREADS=1 builds the same graph every time
   * (parallel inserts may break near-ties between neighbours differently from one build to the next).
   */
  private readonly threads = Math.max(1, Number(process.env['IMAGE_CLASSIFIER_ANN_THREADS']) || availableParallelism());

  private constructor(
    private readonly m: Matrix,
    private readonly Ctor: UsearchCtor,
    private readonly o: AnnOptions,
  ) {}

  private newGraph(): UsearchIndex {
    return new this.Ctor({
      dimensions: this.r,
      metric: 'cos',
      quantization: this.o.quantization ?? 'f32',
      connectivity: this.o.connectivity,
      expansion_add: this.o.expansionAdd,
      expansion_search: this.o.expansionSearch,
    });
  }

  private addKeys(first: number, count: number): void {
    if (!count) return;
    const keys = BigUint64Array.from({ length: count }, (_, i) => BigInt(first + i));
    this.graph.add(keys, this.reduced.subarray(first * this.r, (first + count) * this.r), this.threads);
  }

  /** A new graph over every row of m; `ids`: the rows' content ids (default: none, no later update). */
  static build(m: Matrix, Ctor: UsearchCtor, o: AnnOptions, ids?: string[]): GraphIndex {
    const t0 = performance.now();
    const g = new GraphIndex(m, Ctor, o);
    g.r = Math.min(o.dims, Math.floor(m.d / 4) * 4);
    g.basis = principalBasis(m, g.r, o.sample);
    g.reduced = project(m, g.basis, g.r);
    g.ids = ids ? [...ids] : Array.from({ length: m.n }, () => '');
    g.keyOfRow = Int32Array.from({ length: m.n }, (_, i) => i);
    g.rowOfKey = Int32Array.from({ length: m.n }, (_, i) => i);
    g.graph = g.newGraph();
    g.addKeys(0, m.n);
    g.buildMs = performance.now() - t0;
    return g;
  }

  /** The graph `snap` saved, brought up to date with the rows of m (content `ids`); undefined: build instead. */
  static update(m: Matrix, Ctor: UsearchCtor, snap: AnnSnapshot, ids: string[]): GraphIndex | undefined {
    const t0 = performance.now();
    if (snap.basis.length !== snap.dims * m.d || snap.ids.length * snap.dims !== snap.reduced.length) return undefined;
    const free = new Map<string, number[]>();
    snap.ids.forEach((id, key) => {
      if (id) free.set(id, [...(free.get(id) ?? []), key]);
    });
    const keyOfRow = new Int32Array(m.n).fill(-1);
    let reused = 0;
    ids.forEach((id, row) => {
      const key = free.get(id)?.pop();
      if (key !== undefined) {
        keyOfRow[row] = key;
        reused++;
      }
    });
    const dead = snap.ids.length - reused;
    if (reused * 2 < m.n || dead * 2 > snap.ids.length + m.n - reused) return undefined;
    const g = new GraphIndex(m, Ctor, snap.options);
    g.r = snap.dims;
    g.basis = snap.basis;
    g.graph = g.newGraph();
    g.graph.load(snap.file);
    const newRows = [...keyOfRow.keys()].filter((row) => keyOfRow[row]! < 0);
    const first = snap.ids.length;
    g.reduced = new Float32Array((first + newRows.length) * g.r);
    g.reduced.set(snap.reduced);
    g.reduced.set(project(m, g.basis, g.r, newRows), first * g.r);
    g.ids = [...snap.ids, ...newRows.map((row) => ids[row]!)];
    newRows.forEach((row, p) => {
      keyOfRow[row] = first + p;
    });
    g.keyOfRow = keyOfRow;
    g.rowOfKey = new Int32Array(g.ids.length).fill(-1);
    keyOfRow.forEach((key, row) => {
      g.rowOfKey[key] = row;
    });
    const gone = [...g.rowOfKey.keys()].filter((key) => key < first && g.rowOfKey[key]! < 0 && g.ids[key]);
    for (const key of gone) g.ids[key] = '';
    if (gone.length) g.graph.remove(BigUint64Array.from(gone, (k) => BigInt(k)));
    g.addKeys(first, newRows.length);
    g.origin = { kind: 'updated', reused, added: newRows.length, removed: gone.length };
    g.buildMs = performance.now() - t0;
    return g;
  }

  /** The graph `snap` saved over exactly these rows (snap.rowKeys), for queries. */
  static load(m: Matrix, Ctor: UsearchCtor, snap: AnnSnapshot): GraphIndex {
    const t0 = performance.now();
    if (snap.rowKeys.length !== m.n || snap.basis.length !== snap.dims * m.d) throw new Error('the saved index does not match');
    const g = new GraphIndex(m, Ctor, snap.options);
    g.r = snap.dims;
    g.basis = snap.basis;
    g.graph = g.newGraph();
    g.graph.load(snap.file);
    g.reduced = snap.reduced;
    g.ids = snap.ids;
    g.keyOfRow = snap.rowKeys;
    g.rowOfKey = new Int32Array(snap.ids.length).fill(-1);
    snap.rowKeys.forEach((key, row) => {
      g.rowOfKey[key] = row;
    });
    g.origin = { kind: 'loaded' };
    g.buildMs = performance.now() - t0;
    return g;
  }

  save(file: string): AnnSnapshot {
    this.graph.save(file);
    return {
      file,
      rows: this.m.n,
      dims: this.r,
      basis: this.basis,
      options: this.o,
      ids: this.ids,
      reduced: this.reduced,
      rowKeys: this.keyOfRow,
    };
  }

  private rows(keys: BigUint64Array): Int32Array {
    const len = this.rowOfKey.length;
    const out = new Int32Array(keys.length);
    for (let p = 0; p < keys.length; p++) {
      const j = Number(keys[p]!);
      out[p] = j < len ? this.rowOfKey[j]! : -1;
    }
    return out;
  }

  query(q: Float32Array, k: number, skip = -1) {
    const one = project({ data: q, n: 1, d: this.m.d }, this.basis, this.r);
    const c = Math.min(this.m.n, Math.max(this.o.candidates, 2 * k + 1));
    return rerank(this.m, q, -1, this.rows(this.graph.search(one, c, 1).keys), k, skip);
  }

  all(k: number): Neighbours {
    const n = this.m.n;
    const r = this.r;
    const kk = Math.max(1, Math.min(k, n - 1));
    const c = Math.min(n, Math.max(this.o.allCandidates, 2 * kk + 1));
    const index = new Int32Array(n * kk).fill(-1);
    const sim = new Float32Array(n * kk).fill(-Infinity);
    const batch = 8192;
    for (let b0 = 0; b0 < n; b0 += batch) {
      const b1 = Math.min(n, b0 + batch);
      const queries = new Float32Array((b1 - b0) * r);
      for (let i = b0; i < b1; i++) {
        const key = this.keyOfRow[i]!;
        queries.set(this.reduced.subarray(key * r, (key + 1) * r), (i - b0) * r);
      }
      const rows = this.rows(this.graph.search(queries, c, this.threads).keys);
      for (let i = b0; i < b1; i++) {
        const hits = rerank(this.m, this.m.data, i, rows.subarray((i - b0) * c, (i - b0 + 1) * c), kk, i);
        hits.forEach((h, p) => {
          index[i * kk + p] = h.index;
          sim[i * kk + p] = h.sim;
        });
      }
    }
    return { k: kk, index, sim };
  }
}
