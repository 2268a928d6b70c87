/**
 * A 64-bit DCT perceptual hash (the `imagehash.phash` construction): 2-D DCT-II of a 32×32 grayscale thumbnail, its
 * 8×8 lowest frequencies, each bit = coefficient above their median. Robust to re-encoding, resizing and uniform
 * brightness changes; weak against crops (which shift every frequency), so curation combines it with embeddings.
 */

const N = 32;
const H = 8;
let basis: Float64Array | undefined;

/** cos((2x+1)uπ / 2N) for u < 8, x < 32. */
function dctBasis(): Float64Array {
  if (basis) return basis;
  basis = new Float64Array(H * N);
  for (let u = 0; u < H; u++) for (let x = 0; x < N; x++) basis[u * N + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N));
  return basis;
}

/** pHash of 32×32 grayscale pixels (row-major) as 16 hex digits. */
export function perceptualHash(gray: Uint8Array): string {
  const b = dctBasis();
  // Rows first: tmp[y][u] = Σx g[y][x]·b[u][x]; then columns: low[v][u] = Σy tmp[y][u]·b[v][y].
  const tmp = new Float64Array(N * H);
  for (let y = 0; y < N; y++) {
    for (let u = 0; u < H; u++) {
      let s = 0;
      for (let x = 0; x < N; x++) s += gray[y * N + x]! * b[u * N + x]!;
      tmp[y * H + u] = s;
    }
  }
  const low = new Float64Array(H * H);
  for (let v = 0; v < H; v++) {
    for (let u = 0; u < H; u++) {
      let s = 0;
      for (let y = 0; y < N; y++) s += tmp[y * H + u]! * b[v * N + y]!;
      low[v * H + u] = s;
    }
  }
  const sorted = Float64Array.from(low).sort();
  const median = (sorted[31]! + sorted[32]!) / 2;
  let hex = '';
  for (let nib = 0; nib < 16; nib++) {
    let v = 0;
    for (let bit = 0; bit < 4; bit++) v = (v << 1) | (low[nib * 4 + bit]! > median ? 1 : 0);
    hex += v.toString(16);
  }
  return hex;
}

const POPCOUNT4 = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];

/** Hamming distance between two hex hashes of equal length (0..64 for pHash). */
export function hammingDistance(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += POPCOUNT4[Number.parseInt(a[i]!, 16) ^ Number.parseInt(b[i]!, 16)]!;
  return d;
}
