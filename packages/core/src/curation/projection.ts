/**
 * Projection of embedding rows onto their top principal directions (uncentred, by subspace iteration on a row
 * sample): what the neighbour graph (ann-graph.ts) is built on, with a 4 × 4 register-tiled dot-product kernel.
 */
import { seededRandom } from './softmax-regression.js';
import { dotRows, type Matrix } from './vectors.js';

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
