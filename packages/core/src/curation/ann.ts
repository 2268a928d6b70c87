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
  expansionAdd: 64,
  expansionSearch: 96,
  /** Candidates fetched from the graph per query, re-ranked exactly. */
  candidates: 40,
  /** Rows sampled to find the principal directions. */
  sample: 4096,
};
export type AnnOptions = typeof ANN_DEFAULTS;

interface UsearchMatches {
  keys: BigUint64Array;
  distances: Float32Array;
}
interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(vectors: Float32Array, k: number, threads: number): UsearchMatches;
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

/** y (rows × r) = rows of m · basisᵀ, the basis r × d (four basis rows per pass over a data row). */
export function project(m: Matrix, basis: Float32Array, r: number, rows?: ArrayLike<number>): Float32Array {
  const d = m.d;
  const count = rows ? rows.length : m.n;
  const y = new Float32Array(count * r);
  for (let p = 0; p < count; p++) {
    const off = (rows ? rows[p]! : p) * d;
    for (let c = 0; c < r; c += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      const b0 = c * d;
      for (let j = 0; j < d; j++) {
        const v = m.data[off + j]!;
        s0 += v * basis[b0 + j]!;
        s1 += v * basis[b0 + d + j]!;
        s2 += v * basis[b0 + 2 * d + j]!;
        s3 += v * basis[b0 + 3 * d + j]!;
      }
      y[p * r + c] = s0;
      y[p * r + c + 1] = s1;
      y[p * r + c + 2] = s2;
      y[p * r + c + 3] = s3;
    }
  }
  return y;
}

/**
 * The top-r right singular directions of a row sample of `m` (uncentred: dot products are what must survive), by
 * three rounds of subspace iteration from a seeded random start. r must be a multiple of 4.
 */
export function principalBasis(m: Matrix, r: number, sample: number, seed = 0): Float32Array {
  const rand = seededRandom(seed);
  const d = m.d;
  const step = Math.max(1, Math.floor(m.n / sample));
  const rows = Array.from({ length: Math.ceil(m.n / step) }, (_, i) => i * step);
  const q = new Float32Array(r * d).map(() => rand() - 0.5);
  orthonormalise(q, r, d);
  for (let round = 0; round < 3; round++) {
    const y = project(m, q, r, rows); // s × r
    q.fill(0);
    for (const [p, i] of rows.entries()) {
      for (let c = 0; c < r; c++) {
        const w = y[p * r + c]!;
        for (let j = 0; j < d; j++) q[c * d + j] = q[c * d + j]! + w * m.data[i * d + j]!;
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

  constructor(
    private readonly m: Matrix,
    Ctor: UsearchCtor,
    private readonly o: AnnOptions,
  ) {
    const t0 = performance.now();
    const r = Math.min(o.dims, Math.floor(m.d / 4) * 4);
    this.basis = principalBasis(m, r, o.sample);
    this.reduced = project(m, this.basis, r);
    this.graph = new Ctor({
      dimensions: r,
      metric: 'cos',
      quantization: 'f32',
      connectivity: o.connectivity,
      expansion_add: o.expansionAdd,
      expansion_search: o.expansionSearch,
    });
    this.graph.add(
      BigUint64Array.from({ length: m.n }, (_, i) => BigInt(i)),
      this.reduced,
      this.threads,
    );
    this.buildMs = performance.now() - t0;
  }

  query(q: Float32Array, k: number, skip = -1) {
    const one = project({ data: q, n: 1, d: this.m.d }, this.basis, this.reduced.length / this.m.n);
    const c = Math.min(this.m.n, Math.max(this.o.candidates, 2 * k + 1));
    return rerank(this.m, q, -1, this.graph.search(one, c, 1).keys, k, skip);
  }

  all(k: number): Neighbours {
    const n = this.m.n;
    const kk = Math.max(1, Math.min(k, n - 1));
    const c = Math.min(n, Math.max(this.o.candidates, 2 * kk + 1));
    const index = new Int32Array(n * kk).fill(-1);
    const sim = new Float32Array(n * kk).fill(-Infinity);
    const r = this.reduced.length / n;
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

/** Every row's k nearest other rows (exact up to EXACT_MAX_ROWS rows). */
export function nearestNeighbours(m: Matrix, k: number, o: Partial<AnnOptions> & { exactMaxRows?: number } = {}): Neighbours {
  return buildAnnIndex(m, o).all(k);
}
