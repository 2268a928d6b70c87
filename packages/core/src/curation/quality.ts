/**
 * Image-quality properties after cleanvision (its issue types and default thresholds), computed from small
 * thumbnails rather than full images:
 * - dark: 99th percentile of perceived brightness √(.241R²+.691G²+.068B²)/255 < 0.37
 * - light: 1 − 5th percentile of brightness < 0.05
 * - low_information: 0.1 × entropy (bits) of the RGB histogram < 0.3
 * - blurry: 1 − exp(−0.01 × std of the FIND_EDGES response) of a ≤64 px grayscale thumbnail < 0.29, unless the image
 *   is low_information (a uniform image is not a blurred one; cleanvision uses a histogram-std guard for this)
 * - odd_aspect_ratio: min(w/h, h/w) < 0.5
 * - odd_size: √(w·h) more than 10× above or below the dataset's median
 * - grayscale: every pixel has equal R, G, B
 * - tiny (not in cleanvision): the short side is under 32 px
 */
import type { QualityEntry, QualityIssueType } from '@image-classifier/protocol';
import { quantile } from './vectors.js';

export const QUALITY_THRESHOLDS = {
  dark: 0.37,
  light: 0.05,
  low_information: 0.3,
  blurry: 0.29,
  odd_aspect_ratio: 0.5,
  odd_size: 10,
  tinySide: 32,
} as const;

export interface ImageProperties {
  /** 99th and 5th percentiles of perceived brightness, 0..1. */
  brightness99: number;
  brightness5: number;
  entropy: number;
  /** cleanvision's blurriness score (low = blurry). */
  blurScore: number;
  grayscale: boolean;
}

interface Thumb {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

function brightnessPercentiles(t: Thumb): [number, number] {
  const n = t.width * t.height;
  const v = new Float64Array(n);
  for (let i = 0, o = 0; i < n; i++, o += t.channels) {
    const r = t.data[o]!;
    const g = t.channels >= 3 ? t.data[o + 1]! : r;
    const b = t.channels >= 3 ? t.data[o + 2]! : r;
    v[i] = Math.sqrt(0.241 * r * r + 0.691 * g * g + 0.068 * b * b) / 255;
  }
  return [quantile(v, 0.99), quantile(v, 0.05)];
}

/** Shannon entropy (bits) of the concatenated per-channel histograms, as PIL's `Image.entropy()`. */
function histogramEntropy(t: Thumb): number {
  const c = Math.min(3, t.channels);
  const hist = new Float64Array(256 * c);
  const n = t.width * t.height;
  for (let i = 0, o = 0; i < n; i++, o += t.channels) for (let k = 0; k < c; k++) hist[k * 256 + t.data[o + k]!]! += 1;
  let e = 0;
  const total = n * c;
  for (const h of hist) if (h > 0) e -= (h / total) * Math.log2(h / total);
  return e;
}

function std(values: ArrayLike<number>): number {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < values.length; i++) {
    s += values[i]!;
    s2 += values[i]! * values[i]!;
  }
  const m = s / Math.max(1, values.length);
  return Math.sqrt(Math.max(0, s2 / Math.max(1, values.length) - m * m));
}

/** PIL's FIND_EDGES (3×3, 8 at the centre, −1 around, clipped to 0..255) over the interior; std of the response. */
function edgeStd(g: Thumb): number {
  const { width: w, height: h, data } = g;
  if (w < 3 || h < 3) return 0;
  const out = new Float64Array((w - 2) * (h - 2));
  let p = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      let s = 8 * data[y * w + x]!;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if (dx || dy) s -= data[(y + dy) * w + x + dx]!;
      out[p++] = Math.max(0, Math.min(255, s));
    }
  }
  return std(out);
}

export function imageProperties(colour: Thumb, gray: Thumb, _w: number, _h: number, grayscale: boolean): ImageProperties {
  const [brightness99, brightness5] = brightnessPercentiles(colour);
  return {
    brightness99,
    brightness5,
    entropy: histogramEntropy(colour),
    blurScore: 1 - Math.exp(-0.01 * edgeStd(gray)),
    grayscale,
  };
}

interface Sized {
  file: string;
  width: number;
  height: number;
  properties: ImageProperties;
}

/** The quality issues of each image; `odd_size` is relative to the median size of `images`. */
export function qualityIssues(images: Sized[], t = QUALITY_THRESHOLDS): QualityEntry[] {
  const sizes = images.map((im) => Math.sqrt(im.width * im.height));
  const median = quantile(sizes, 0.5);
  const out: QualityEntry[] = [];
  images.forEach((im, i) => {
    const p = im.properties;
    const add = (type: QualityIssueType, score: number, threshold: number) => {
      if (score < threshold) out.push({ file: im.file, type, score: round(score), threshold });
    };
    add('dark', p.brightness99, t.dark);
    add('light', 1 - p.brightness5, t.light);
    const info = Math.min(1, 0.1 * p.entropy);
    add('low_information', info, t.low_information);
    if (info >= t.low_information) add('blurry', p.blurScore, t.blurry);
    add('odd_aspect_ratio', Math.min(im.width / im.height, im.height / im.width), t.odd_aspect_ratio);
    const ratio = Math.min(sizes[i]! / median, median / sizes[i]!);
    add('odd_size', ratio, 1 / t.odd_size);
    if (p.grayscale) out.push({ file: im.file, type: 'grayscale', score: 0, threshold: 1 });
    add('tiny', Math.min(im.width, im.height), t.tinySide);
  });
  return out;
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
