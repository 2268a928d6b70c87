/**
 * The dataset's 2-D map for the curation board's overview: the L2-normalised embeddings projected onto their top
 * two principal components (centred PCA), each axis scaled to [0, 1]. The components come from a row sample by block
 * power iteration (a few passes over at most MAP_SAMPLE rows), then every row is projected once: about n·d·2
 * multiply-adds in all, a fraction of a second at 100,000 images.
 */
import type { CurationMap } from '@image-classifier/protocol';
import type { Extracted } from './extract.js';
import { seededRandom } from './softmax-regression.js';
import type { Matrix } from './vectors.js';

/** Rows the components are estimated from (evenly spaced). */
export const MAP_SAMPLE = 2000;
/** Rounds of block power iteration. */
export const MAP_ITERATIONS = 10;

function rowFinite(m: Matrix, i: number): boolean {
  let s = 0;
  for (let j = 0; j < m.d; j++) s += m.data[i * m.d + j]!;
  return Number.isFinite(s);
}

/** Gram-Schmidt on two rows of length d; a vanishing second row is replaced by a fresh direction. */
function orthonormalise2(v: Float32Array, d: number): void {
  const dot = (a: number, b: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += v[a * d + j]! * v[b * d + j]!;
    return s;
  };
  const n0 = Math.sqrt(dot(0, 0)) || 1;
  for (let j = 0; j < d; j++) v[j] = v[j]! / n0;
  const p = dot(1, 0);
  for (let j = 0; j < d; j++) v[d + j] = v[d + j]! - p * v[j]!;
  const n1 = Math.sqrt(dot(1, 1));
  if (n1 >= 1e-12) {
    for (let j = 0; j < d; j++) v[d + j] = v[d + j]! / n1;
    return;
  }
  // The unit vector along the first row's smallest coordinate, made orthogonal to it (zero when d < 2).
  v.fill(0, d, 2 * d);
  if (d < 2) return;
  let k = 0;
  for (let j = 1; j < d; j++) if (Math.abs(v[j]!) < Math.abs(v[k]!)) k = j;
  const q = v[k]!;
  for (let j = 0; j < d; j++) v[d + j] = (j === k ? 1 : 0) - q * v[j]!;
  const n2 = Math.sqrt(dot(1, 1)) || 1;
  for (let j = 0; j < d; j++) v[d + j] = v[d + j]! / n2;
}

/** (x_i − mean) · v_c for c = 0, 1 (`mv` = mean · v_c); two accumulators per component. */
function centredDots(m: Matrix, i: number, v: Float32Array, mv: [number, number]): [number, number] {
  const d = m.d;
  const x = m.data;
  const o = i * d;
  let a0 = 0;
  let a1 = 0;
  let b0 = 0;
  let b1 = 0;
  let j = 0;
  for (; j + 1 < d; j += 2) {
    const x0 = x[o + j]!;
    const x1 = x[o + j + 1]!;
    a0 += x0 * v[j]!;
    a1 += x1 * v[j + 1]!;
    b0 += x0 * v[d + j]!;
    b1 += x1 * v[d + j + 1]!;
  }
  if (j < d) {
    a0 += x[o + j]! * v[j]!;
    b0 += x[o + j]! * v[d + j]!;
  }
  return [a0 + a1 - mv[0], b0 + b1 - mv[1]];
}

/** The top two principal directions (2 × d) of the sampled rows, and their mean. */
function principalPlane(m: Matrix, rows: number[]): { v: Float32Array; mean: Float32Array } {
  const d = m.d;
  const mean = new Float32Array(d);
  for (const i of rows) for (let j = 0; j < d; j++) mean[j] = mean[j]! + m.data[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / Math.max(1, rows.length);
  const rand = seededRandom(7);
  let v = new Float32Array(2 * d).map(() => rand() - 0.5);
  orthonormalise2(v, d);
  for (let round = 0; round < MAP_ITERATIONS; round++) {
    const mv: [number, number] = [0, 0];
    for (let j = 0; j < d; j++) {
      mv[0] += mean[j]! * v[j]!;
      mv[1] += mean[j]! * v[d + j]!;
    }
    // next = (X − 1·meanᵀ)ᵀ (X − 1·meanᵀ) v, accumulated row by row.
    const next = new Float32Array(2 * d);
    let s0 = 0;
    let s1 = 0;
    for (const i of rows) {
      const [y0, y1] = centredDots(m, i, v, mv);
      s0 += y0;
      s1 += y1;
      const o = i * d;
      for (let j = 0; j < d; j++) {
        const x = m.data[o + j]!;
        next[j] = next[j]! + y0 * x;
        next[d + j] = next[d + j]! + y1 * x;
      }
    }
    for (let j = 0; j < d; j++) {
      next[j] = next[j]! - s0 * mean[j]!;
      next[d + j] = next[d + j]! - s1 * mean[j]!;
    }
    orthonormalise2(next, d);
    v = next;
  }
  return { v, mean };
}

/** Scales column c of the n × 2 `xy` to [0, 1] (a constant column becomes 0.5); non-finite values become 0.5. */
function scaleColumn(xy: Float32Array, n: number, c: number): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xy[i * 2 + c]!;
    if (Number.isFinite(x)) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
  }
  const span = hi - lo;
  for (let i = 0; i < n; i++) {
    const x = xy[i * 2 + c]!;
    xy[i * 2 + c] = Number.isFinite(x) && span > 0 ? (x - lo) / span : 0.5;
  }
}

/**
 * Each row of `m` (unit vectors) → its (x, y) on the first two principal components, each axis scaled to [0, 1]:
 * an n × 2 array, rows in `m`'s order. Deterministic (seeded start, evenly spaced sample).
 */
export function embeddingMap(m: Matrix, sample = MAP_SAMPLE): Float32Array {
  const xy = new Float32Array(m.n * 2);
  if (m.n === 0 || m.d === 0) return xy;
  const step = Math.max(1, Math.floor(m.n / sample));
  const rows: number[] = [];
  for (let i = 0; i < m.n; i += step) if (rowFinite(m, i)) rows.push(i);
  const { v, mean } = principalPlane(m, rows);
  const mv: [number, number] = [0, 0];
  for (let j = 0; j < m.d; j++) {
    mv[0] += mean[j]! * v[j]!;
    mv[1] += mean[j]! * v[m.d + j]!;
  }
  for (let i = 0; i < m.n; i++) {
    const [a, b] = centredDots(m, i, v, mv);
    xy[i * 2] = a;
    xy[i * 2 + 1] = b;
  }
  scaleColumn(xy, m.n, 0);
  scaleColumn(xy, m.n, 1);
  return xy;
}

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

/**
 * The report's map: one entry per extracted file (the report's `files`, same order), `null` for a file that was not
 * analysed (unreadable: no embedding). `xy` holds the analysed items' points, in `items` order.
 */
export function mapOfFiles(extracted: Extracted[], analysedFiles: string[], xy: Float32Array | undefined): CurationMap | undefined {
  if (!xy || xy.length !== analysedFiles.length * 2) return undefined;
  const at = new Map(analysedFiles.map((f, i) => [f, i]));
  const points = extracted.map((x): [number, number] | null => {
    const i = at.get(x.entry.file);
    return i === undefined ? null : [r4(xy[i * 2]!), r4(xy[i * 2 + 1]!)];
  });
  return { method: 'pca', points };
}
