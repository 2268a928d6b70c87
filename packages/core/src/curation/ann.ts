/**
 * Nearest-neighbour search that scales: exact blocked search up to EXACT_MAX_ROWS rows; above, an HNSW graph
 * (usearch, Node-API, prebuilt binaries) over the rows projected onto their top principal directions (PCA to 128
 * dims: HNSW on 1280-d vectors builds ~10× slower), whose candidates are re-ranked by the exact cosine of the full
 * vectors. Where usearch cannot load (a platform without its prebuild), the search stays exact (O(N²·d)).
 */
import { availableParallelism } from 'node:os';
import { seededRandom } from './softmax-regression.js';
import { allNeighbours, dotRows, type Matrix, type Neighbours, queryNeighbours } from './vectors.js';

/** Rows up to which every search is exact. */
export const EXACT_MAX_ROWS = 5000;

export const ANN_DEFAULTS = {
  /** Dimensions the vectors are projected to for the graph. */
  dims: 128,
  connectivity: 16,
  expansionAdd: 48,
  /**
   * The graph search's beam width (usearch widens it to the number of results asked for): the all-rows search of
   * the analysis asks for `allCandidates` per row, a find-similar query for `candidates`. 64 cost the 100k analysis
   * twice the search time for the same label ranking.
   */
  expansionSearch: 24,
  /** Candidates fetched from the graph per find-similar query, re-ranked exactly (128: recall@10 ≈ 0.95, 256: 0.97). */
  candidates: 256,
  /** Candidates per row for the all-rows search of the analysis (at least 2k + 1). */
  allCandidates: 24,
  /** Rows sampled to find the principal directions. */
  sample: 1024,
};
export type AnnOptions = typeof ANN_DEFAULTS;

interface UsearchMatches {
  keys: BigUint64Array;
  distances: Float32Array;
}
interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(vectors: Float32Array, k: number, threads: number): UsearchMatches;
  save(path: string): void;
  load(path: string): void;
  size(): number;
}
type UsearchCtor = new (config: Record<string, unknown>) => UsearchIndex;

let usearchCtor: UsearchCtor | null | undefined;
/** usearch's Index class, or null where its native binding does not load. */
export function loadUsearch(): UsearchCtor | null {
  if (usearchCtor === undefined) {
    try {
      usearchCtor = (require('usearch') as { Index: UsearchCtor }).Index;
    } catch {
      usearchCtor = null;
    }
  }
  return usearchCtor;
}

/** Orthonormalises the r rows (length d) of `q` in place (modified Gram-Schmidt). */
function orthonormalise(q: Float32Array, r: number, d: number): void {
  for (let a = 0; a < r; a++) {
    for (let b = 0; b < a; b++) {
      const p = dotRows(q, a, q, b, d);
      for (let j = 0; j < d; j++) q[a * d + j] = q[a * d + j]! - p * q[b * d + j]!;
    }
    const n = Math.sqrt(dotRows(q, a, q, a, d)) || 1;
    for (let j = 0; j < d; j++) q[a * d + j] = q[a * d + j]! / n;
  }
}

/** Dot products of data rows a..a+3 (offsets) with basis rows c..c+3 into y (a 4 × 4 register tile). */
function tile(x: Float32Array, o: number[], b: Float32Array, c: number, d: number, y: Float32Array, yo: number[], r: number): void {
  let s00 = 0,
    s01 = 0,
    s02 = 0,
    s03 = 0,
    s10 = 0,
    s11 = 0,
    s12 = 0,
    s13 = 0;
  let s20 = 0,
    s21 = 0,
    s22 = 0,
    s23 = 0,
    s30 = 0,
    s31 = 0,
    s32 = 0,
    s33 = 0;
  const [o0, o1, o2, o3] = o as [number, number, number, number];
  const b0 = c * d;
  for (let j = 0; j < d; j++) {
    const w0 = b[b0 + j]!,
      w1 = b[b0 + d + j]!,
      w2 = b[b0 + 2 * d + j]!,
      w3 = b[b0 + 3 * d + j]!;
    const v0 = x[o0 + j]!,
      v1 = x[o1 + j]!,
      v2 = x[o2 + j]!,
      v3 = x[o3 + j]!;
    s00 += v0 * w0;
    s01 += v0 * w1;
    s02 += v0 * w2;
    s03 += v0 * w3;
    s10 += v1 * w0;
    s11 += v1 * w1;
    s12 += v1 * w2;
    s13 += v1 * w3;
    s20 += v2 * w0;
    s21 += v2 * w1;
    s22 += v2 * w2;
    s23 += v2 * w3;
    s30 += v3 * w0;
    s31 += v3 * w1;
    s32 += v3 * w2;
    s33 += v3 * w3;
  }
  const t = [s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33];
  for (let a = 0; a < 4; a++) if (yo[a]! >= 0) for (let e = 0; e < 4; e++) y[yo[a]! * r + c + e] = t[a * 4 + e]!;
}

/** y (rows × r) = rows of m · basisᵀ, the basis r × d with r a multiple of 4 (4 × 4 tiles). */
export function project(m: Matrix, basis: Float32Array, r: number, rows?: ArrayLike<number>): Float32Array {
  const count = rows ? rows.length : m.n;
  const y = new Float32Array(count * r);
  const row = (p: number) => (rows ? rows[p]! : p);
  for (let p = 0; p < count; p += 4) {
    const o = [0, 1, 2, 3].map((a) => row(Math.min(count - 1, p + a)) * m.d);
    const yo = [0, 1, 2, 3].map((a) => (p + a < count ? p + a : -1));
    for (let c = 0; c < r; c += 4) tile(m.data, o, basis, c, m.d, y, yo, r);
  }
  return y;
}

/**
 * The top-r right singular directions of a row sample of `m` (uncentred: dot products are what must survive), by
 * two rounds of subspace iteration from a seeded random start. r must be a multiple of 4.
 */
export function principalBasis(m: Matrix, r: number, sample: number, seed = 0): Float32Array {
  const rand = seededRandom(seed);
  const d = m.d;
  const step = Math.max(1, Math.floor(m.n / sample));
  const rows = Array.from({ length: Math.ceil(m.n / step) }, (_, i) => i * step);
  const q = new Float32Array(r * d).map(() => rand() - 0.5);
  orthonormalise(q, r, d);
  for (let round = 0; round < 2; round++) {
    const y = project(m, q, r, rows); // s × r
    q.fill(0);
    for (let c = 0; c < r; c++) {
      const qc = q.subarray(c * d, (c + 1) * d);
      for (const [p, i] of rows.entries()) {
        const w = y[p * r + c]!;
        const off = i * d;
        for (let j = 0; j < d; j++) qc[j] = qc[j]! + w * m.data[off + j]!;
      }
    }
    orthonormalise(q, r, d);
  }
  return q;
}

/** k nearest rows of `m` by cosine; `exact` says which search answered. */
export interface AnnIndex {
  readonly exact: boolean;
  readonly buildMs: number;
  /** The k rows most similar to the unit vector `q`, most similar first (`skip`: a row to leave out). */
  query(q: Float32Array, k: number, skip?: number): Array<{ index: number; sim: number }>;
  /** Every row's k nearest other rows. */
  all(k: number): Neighbours;
  /**
   * Writes the graph to `file` so that another thread or a later run can load it instead of building it again
   * (loadAnnIndex); undefined for an exact index (nothing to keep).
   */
  save(file: string): AnnSnapshot | undefined;
}

/** A saved graph index: the usearch file, the projection and the options it was built with. */
export interface AnnSnapshot {
  file: string;
  rows: number;
  dims: number;
  basis: Float32Array;
  options: AnnOptions;
}

class ExactIndex implements AnnIndex {
  readonly exact = true;
  readonly buildMs = 0;
  constructor(private readonly m: Matrix) {}
  query(q: Float32Array, k: number, skip = -1) {
    return queryNeighbours(this.m, q, k, skip);
  }
  all(k: number): Neighbours {
    return allNeighbours(this.m, k);
  }
  save(): undefined {
    return undefined;
  }
}

/** Keeps the best k (by exact full-dimension cosine) of candidate rows `cand` for unit query `q`. */
function rerank(m: Matrix, q: Float32Array, qRow: number, cand: ArrayLike<bigint>, k: number, skip: number) {
  const hits: Array<{ index: number; sim: number }> = [];
  const seen = new Set<number>();
  for (const key of Array.from(cand)) {
    const j = Number(key);
    if (j === skip || j >= m.n || seen.has(j)) continue;
    seen.add(j);
    hits.push({ index: j, sim: qRow >= 0 ? dotRows(m.data, qRow, m.data, j, m.d) : dotRows(m.data, j, q, 0, m.d) });
  }
  hits.sort((a, b) => b.sim - a.sim || a.index - b.index);
  return hits.slice(0, k);
}

class GraphIndex implements AnnIndex {
  readonly exact = false;
  readonly buildMs: number;
  private readonly graph: UsearchIndex;
  private readonly basis: Float32Array;
  private readonly reduced: Float32Array;
  private readonly threads = Math.max(1, availableParallelism());

  /** Builds the graph, or (with `snapshot`) loads the one a GraphIndex over the same rows saved. */
  constructor(
    private readonly m: Matrix,
    Ctor: UsearchCtor,
    private readonly o: AnnOptions,
    snapshot?: AnnSnapshot,
  ) {
    const t0 = performance.now();
    const r = snapshot?.dims ?? Math.min(o.dims, Math.floor(m.d / 4) * 4);
    this.basis = snapshot?.basis ?? principalBasis(m, r, o.sample);
    this.graph = new Ctor({
      dimensions: r,
      metric: 'cos',
      quantization: 'f32',
      connectivity: o.connectivity,
      expansion_add: o.expansionAdd,
      expansion_search: o.expansionSearch,
    });
    if (snapshot) {
      this.graph.load(snapshot.file);
      if (this.graph.size() !== m.n) throw new Error(`the saved index has ${this.graph.size()} rows, not ${m.n}`);
      this.reduced = new Float32Array(0);
    } else {
      this.reduced = project(m, this.basis, r);
      this.graph.add(
        BigUint64Array.from({ length: m.n }, (_, i) => BigInt(i)),
        this.reduced,
        this.threads,
      );
    }
    this.buildMs = performance.now() - t0;
  }

  save(file: string): AnnSnapshot {
    this.graph.save(file);
    return { file, rows: this.m.n, dims: this.basis.length / this.m.d, basis: this.basis, options: this.o };
  }

  query(q: Float32Array, k: number, skip = -1) {
    const one = project({ data: q, n: 1, d: this.m.d }, this.basis, this.basis.length / this.m.d);
    const c = Math.min(this.m.n, Math.max(this.o.candidates, 2 * k + 1));
    return rerank(this.m, q, -1, this.graph.search(one, c, 1).keys, k, skip);
  }

  all(k: number): Neighbours {
    const n = this.m.n;
    const kk = Math.max(1, Math.min(k, n - 1));
    const c = Math.min(n, Math.max(this.o.allCandidates, 2 * kk + 1));
    const index = new Int32Array(n * kk).fill(-1);
    const sim = new Float32Array(n * kk).fill(-Infinity);
    const r = this.basis.length / this.m.d;
    if (this.reduced.length !== n * r) throw new Error('a loaded index answers queries, not the all-rows search');
    const batch = 8192;
    for (let b0 = 0; b0 < n; b0 += batch) {
      const b1 = Math.min(n, b0 + batch);
      const res = this.graph.search(this.reduced.subarray(b0 * r, b1 * r), c, this.threads);
      for (let i = b0; i < b1; i++) {
        const hits = rerank(this.m, this.m.data, i, res.keys.subarray((i - b0) * c, (i - b0 + 1) * c), kk, i);
        hits.forEach((h, p) => {
          index[i * kk + p] = h.index;
          sim[i * kk + p] = h.sim;
        });
      }
    }
    return { k: kk, index, sim };
  }
}

/** Exact search for small matrices (or without usearch), the projected HNSW graph above EXACT_MAX_ROWS rows. */
export function buildAnnIndex(m: Matrix, o: Partial<AnnOptions> & { exactMaxRows?: number } = {}): AnnIndex {
  const Ctor = m.n > (o.exactMaxRows ?? EXACT_MAX_ROWS) && m.d >= 8 ? loadUsearch() : null;
  return Ctor ? new GraphIndex(m, Ctor, { ...ANN_DEFAULTS, ...o }) : new ExactIndex(m);
}

/**
 * The graph `snapshot` saved over the same rows of `m` (same order), or undefined where it cannot be loaded (usearch
 * missing, file gone or not matching): the caller builds a new index then.
 */
export function loadAnnIndex(m: Matrix, snapshot: AnnSnapshot): AnnIndex | undefined {
  const Ctor = loadUsearch();
  if (!Ctor || snapshot.rows !== m.n || snapshot.basis.length !== snapshot.dims * m.d) return undefined;
  try {
    return new GraphIndex(m, Ctor, snapshot.options, snapshot);
  } catch {
    return undefined;
  }
}

/** Every row's k nearest other rows (exact up to EXACT_MAX_ROWS rows). */
export function nearestNeighbours(m: Matrix, k: number, o: Partial<AnnOptions> & { exactMaxRows?: number } = {}): Neighbours {
  return buildAnnIndex(m, o).all(k);
}
