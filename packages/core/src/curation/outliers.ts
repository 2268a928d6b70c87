/**
 * Outliers as cleanlab's Datalab finds them from features: each image's mean cosine distance to its k nearest
 * neighbours; an image is an outlier when that distance lies above Q3 + 1.5 × IQR of all images' distances
 * (Tukey's rule).
 */
import type { OutlierEntry } from '@image-classifier/protocol';
import { type Neighbours, quantile } from './vectors.js';

export const OUTLIER_IQR_FACTOR = 1.5;

/** Mean cosine distance to the neighbours of every row. */
export function meanNeighbourDistance(nb: Neighbours, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    let c = 0;
    for (let r = 0; r < nb.k; r++) {
      if (nb.index[i * nb.k + r]! < 0) continue;
      s += 1 - nb.sim[i * nb.k + r]!;
      c++;
    }
    out[i] = c ? s / c : 0;
  }
  return out;
}

/** Outliers, most isolated first, and the cut-off used. */
export function findOutliers(nb: Neighbours, files: string[], factor = OUTLIER_IQR_FACTOR): { outliers: OutlierEntry[]; cutoff: number } {
  const dist = meanNeighbourDistance(nb, files.length);
  if (files.length < 4) return { outliers: [], cutoff: Number.POSITIVE_INFINITY };
  const q1 = quantile(dist, 0.25);
  const q3 = quantile(dist, 0.75);
  const cutoff = q3 + factor * (q3 - q1);
  const outliers: OutlierEntry[] = [];
  dist.forEach((d, i) => {
    if (d > cutoff) outliers.push({ file: files[i]!, score: Math.round(d * 1e4) / 1e4 });
  });
  outliers.sort((a, b) => b.score - a.score);
  return { outliers, cutoff };
}
