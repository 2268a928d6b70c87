/**
 * Dense vector helpers for curation: row-major Float32Array matrices (n × d), L2 normalisation and exact
 * (brute-force) cosine k-nearest-neighbour search with a blocked dot product.
 */

/** n row vectors of d floats, row-major. */
export interface Matrix {
  data: Float32Array;
  n: number;
  d: number;
}

/** Copies `rows` into one matrix, each row scaled to unit L2 norm (a zero row stays zero). */
export function normalizedMatrix(rows: ArrayLike<number>[], d: number): Matrix {
  const data = new Float32Array(rows.length * d);
  rows.forEach((r, i) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += r[j]! * r[j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) data[i * d + j] = r[j]! * inv;
  });
  return { data, n: rows.length, d };
}

export function dotRows(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const oa = ai * d;
  const ob = bi * d;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    s0 += a[oa + j]! * b[ob + j]!;
    s1 += a[oa + j + 1]! * b[ob + j + 1]!;
    s2 += a[oa + j + 2]! * b[ob + j + 2]!;
    s3 += a[oa + j + 3]! * b[ob + j + 3]!;
  }
  for (; j < d; j++) s0 += a[oa + j]! * b[ob + j]!;
  return s0 + s1 + s2 + s3;
}

/** Each row's k nearest other rows by cosine (self excluded), most similar first. */
export interface Neighbours {
  k: number;
  /** n × k indices (-1 where fewer than k others exist). */
  index: Int32Array;
  /** n × k cosine similarities. */
  sim: Float32Array;
}

/** Keeps the k largest (sim, index) pairs in descending order in `sims`/`idx` at `off`. */
function insertTop(sims: Float32Array, idx: Int32Array, off: number, k: number, s: number, j: number): void {
  if (s <= sims[off + k - 1]!) return;
  let p = k - 1;
  while (p > 0 && sims[off + p - 1]! < s) {
    sims[off + p] = sims[off + p - 1]!;
    idx[off + p] = idx[off + p - 1]!;
    p--;
  }
  sims[off + p] = s;
  idx[off + p] = j;
}

/** Dot products of rows i..i+3 with row j, into `out` (the column row is loaded once for the four). */
function dot4(a: Float32Array, i: number, j: number, d: number, out: Float64Array): void {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const o0 = i * d;
  const o1 = o0 + d;
  const o2 = o1 + d;
  const o3 = o2 + d;
  const ob = j * d;
  for (let t = 0; t < d; t++) {
    const b = a[ob + t]!;
    s0 += a[o0 + t]! * b;
    s1 += a[o1 + t]! * b;
    s2 += a[o2 + t]! * b;
    s3 += a[o3 + t]! * b;
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

/**
 * Exact k-nearest neighbours of every row among the rows of `m` (cosine = dot on unit rows). Blocks of rows are
 * compared with blocks of columns so that both stay in cache, four rows at a time against each column; each pair
 * is computed once (for i < j).
 */
export function allNeighbours(m: Matrix, k: number, block = 64): Neighbours {
  const kk = Math.max(1, Math.min(k, m.n - 1));
  const index = new Int32Array(m.n * kk).fill(-1);
  const sim = new Float32Array(m.n * kk).fill(-Infinity);
  const four = new Float64Array(4);
  const pair = (i: number, j: number, s: number) => {
    insertTop(sim, index, i * kk, kk, s, j);
    insertTop(sim, index, j * kk, kk, s, i);
  };
  for (let i0 = 0; i0 < m.n; i0 += block) {
    const i1 = Math.min(m.n, i0 + block);
    for (let j0 = i0; j0 < m.n; j0 += block) {
      const j1 = Math.min(m.n, j0 + block);
      let i = i0;
      for (; i + 3 < i1; i += 4) {
        for (let j = Math.max(j0, i + 1); j < j1; j++) {
          dot4(m.data, i, j, m.d, four);
          for (let r = 0; r < 4; r++) if (i + r < j) pair(i + r, j, four[r]!);
        }
      }
      for (; i < i1; i++) for (let j = Math.max(j0, i + 1); j < j1; j++) pair(i, j, dotRows(m.data, i, m.data, j, m.d));
    }
  }
  return { k: kk, index, sim };
}

/** The k rows of `m` most similar to the unit vector `q`, most similar first (`skip`: a row to leave out). */
export function queryNeighbours(m: Matrix, q: Float32Array, k: number, skip = -1): Array<{ index: number; sim: number }> {
  const kk = Math.max(0, Math.min(k, m.n - (skip >= 0 ? 1 : 0)));
  if (kk === 0) return [];
  const sims = new Float32Array(kk).fill(-Infinity);
  const idx = new Int32Array(kk).fill(-1);
  for (let i = 0; i < m.n; i++) {
    if (i !== skip) insertTop(sims, idx, 0, kk, dotRows(m.data, i, q, 0, m.d), i);
  }
  return Array.from(idx, (index, p) => ({ index, sim: sims[p]! }));
}

/** Cosine of rows i and j of a unit-row matrix. */
export function cosine(m: Matrix, i: number, j: number): number {
  return dotRows(m.data, i, m.data, j, m.d);
}

/** Linear-interpolated quantile (numpy's default) of unsorted values. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}
