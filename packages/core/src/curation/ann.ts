/**
 * Nearest-neighbour search that scales: exact blocked search up to EXACT_MAX_ROWS rows; above, an HNSW graph
 * (usearch, Node-API, prebuilt binaries) over the rows projected onto their top principal directions (PCA to 128
 * dims: HNSW on 1280-d vectors builds ~10× slower), whose candidates are re-ranked by the exact cosine of the full
 * vectors. Where usearch cannot load (a platform without its prebuild), the search stays exact (O(N²·d)).
 */
import { type GraphOrigin, GraphIndex } from './ann-graph.js';

export { principalBasis, project } from './projection.js';
import { allNeighbours, type Matrix, type Neighbours, queryNeighbours } from './vectors.js';

/** Rows up to which every search is exact. */
export const EXACT_MAX_ROWS = 5000;

export const ANN_DEFAULTS = {
  /** Dimensions the vectors are projected to for the graph. */
  dims: 128,
  connectivity: 16,
  /**
   * How the graph stores the projected vectors: half floats search about a third faster than f32 here (SIMD
   * kernels) with the same recall after the exact re-ranking, in half the memory.
   */
  quantization: 'f16' as 'f16' | 'f32',
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

export interface UsearchMatches {
  keys: BigUint64Array;
  distances: Float32Array;
}
export interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(vectors: Float32Array, k: number, threads: number): UsearchMatches;
  remove(keys: BigUint64Array): unknown;
  save(path: string): void;
  load(path: string): void;
  size(): number;
}
export type UsearchCtor = new (config: Record<string, unknown>) => UsearchIndex;

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

/** k nearest rows of `m` by cosine; `exact` says which search answered. */
export interface AnnIndex {
  readonly exact: boolean;
  readonly buildMs: number;
  /** The k rows most similar to the unit vector `q`, most similar first (`skip`: a row to leave out). */
  query(q: Float32Array, k: number, skip?: number): Array<{ index: number; sim: number }>;
  /** Every row's k nearest other rows. */
  all(k: number): Neighbours;
  /** How it came to be: exact (nothing built), or a graph built, updated from a saved one, or loaded. */
  readonly origin: { kind: 'exact' } | GraphOrigin;
  /**
   * Writes the graph to `file` so that another thread or a later run can load it instead of building it again
   * (loadAnnIndex); undefined for an exact index (nothing to keep).
   */
  save(file: string): AnnSnapshot | undefined;
}

/**
 * A saved graph index: the usearch file, the projection and options it was built with, and per graph key the content
 * id and projected vector of the row it holds (so a later run can update it: ann-graph.ts).
 */
export interface AnnSnapshot {
  file: string;
  /** Rows when saved; rowKeys[row] is each one's key. */
  rows: number;
  rowKeys: Int32Array;
  dims: number;
  basis: Float32Array;
  options: AnnOptions;
  /** Per key: the content id of its row ('' for a removed key). */
  ids: string[];
  /** Per key: the projected vector (keys × dims). */
  reduced: Float32Array;
  /** The graph file's SHA-256 and size as saved (ann-store.ts), to verify it again before a later load. */
  sha256?: string;
  graphBytes?: number;
}

class ExactIndex implements AnnIndex {
  readonly exact = true;
  readonly origin = { kind: 'exact' } as const;
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

/**
 * Exact search for small matrices (or without usearch), the projected HNSW graph above EXACT_MAX_ROWS rows. With the
 * rows' content `ids` and the `previous` run's saved graph, that graph is updated rather than built again.
 */
export function buildAnnIndex(
  m: Matrix,
  o: Partial<AnnOptions> & { exactMaxRows?: number } = {},
  ids?: string[],
  previous?: AnnSnapshot,
): AnnIndex {
  const Ctor = m.n > (o.exactMaxRows ?? EXACT_MAX_ROWS) && m.d >= 8 ? loadUsearch() : null;
  if (!Ctor) return new ExactIndex(m);
  const updated = ids && previous ? tryUpdate(m, Ctor, previous, ids) : undefined;
  return updated ?? GraphIndex.build(m, Ctor, { ...ANN_DEFAULTS, ...o }, ids);
}

function tryUpdate(m: Matrix, Ctor: UsearchCtor, previous: AnnSnapshot, ids: string[]): GraphIndex | undefined {
  try {
    return GraphIndex.update(m, Ctor, previous, ids);
  } catch {
    return undefined;
  }
}

/**
 * The graph `snapshot` saved over the same rows of `m` (same order), or undefined where it cannot be loaded (usearch
 * missing, file gone or not matching): the caller builds a new index then.
 */
export function loadAnnIndex(m: Matrix, snapshot: AnnSnapshot): AnnIndex | undefined {
  const Ctor = loadUsearch();
  if (!Ctor || snapshot.rows !== m.n || snapshot.basis.length !== snapshot.dims * m.d) return undefined;
  try {
    return GraphIndex.load(m, Ctor, snapshot);
  } catch {
    return undefined;
  }
}

/** Every row's k nearest other rows (exact up to EXACT_MAX_ROWS rows). */
export function nearestNeighbours(m: Matrix, k: number, o: Partial<AnnOptions> & { exactMaxRows?: number } = {}): Neighbours {
  return buildAnnIndex(m, o).all(k);
}
