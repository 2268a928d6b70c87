/**
 * Pillow's antialiased bilinear resize (Pillow 9.x `Image.resize(size, BILINEAR)`, libImaging/Resample.c),
 * reproduced bit for bit: the same double-precision coefficients, the same 22-bit fixed-point rounding,
 * the same horizontal-then-vertical order with an 8-bit intermediate.
 *
 * Unlike Pillow, it computes only an output window (the center crop torchvision takes next), which is exact
 * because every output pixel depends only on its own coefficients: a 256×341 resize followed by a 224×224 crop
 * costs a 224×224 resize.
 *
 * The passes run as WebAssembly SIMD kernels (resize-simd.ts; identical bytes, several times less CPU) where the
 * runtime has them, and as the JS loops below otherwise, or when `implementation: 'js'` or the environment variable
 * IMAGE_CLASSIFIER_RESIZE=js asks for them.
 */
import { resizeWindowSimd, simdResizeAvailable } from './resize-simd.js';

const PRECISION_BITS = 32 - 8 - 2;
const ROUND_HALF = 1 << (PRECISION_BITS - 1);
const MAX_VALUE = (1 << PRECISION_BITS) * 256; // 1 << PRECISION_BITS << 8

/** Fixed-point coefficients for one axis, for output positions [outStart, outStart + outCount). */
export interface AxisCoefficients {
  /** Kernel size (max taps per output). */
  ksize: number;
  /** Per output: first input index. */
  min: Int32Array;
  /** Per output: number of taps. */
  count: Int32Array;
  /** Per output: ksize fixed-point weights. */
  weights: Int32Array;
}

function bilinearFilter(x: number): number {
  if (x < 0) x = -x;
  if (x < 1) return 1 - x;
  return 0;
}

/** `precompute_coeffs` + `normalize_coeffs_8bpc` of Pillow's Resample.c, for a window of outputs. */
export function precomputeCoefficients(inSize: number, outSize: number, outStart = 0, outCount = outSize): AxisCoefficients {
  const support0 = 1.0; // bilinear
  const in0 = 0;
  const in1 = inSize;
  const scale = (in1 - in0) / outSize;
  let filterscale = scale;
  if (filterscale < 1.0) filterscale = 1.0;
  const support = support0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const min = new Int32Array(outCount);
  const count = new Int32Array(outCount);
  const weights = new Int32Array(outCount * ksize);
  const k = new Float64Array(ksize);
  const ss = 1.0 / filterscale;
  const fixedOne = 1 << PRECISION_BITS;
  for (let i = 0; i < outCount; i++) {
    const xx = outStart + i;
    const center = in0 + (xx + 0.5) * scale;
    let ww = 0.0;
    // C's (int) cast truncates toward zero.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    for (let x = 0; x < xmax; x++) {
      const w = bilinearFilter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      if (ww !== 0.0) k[x] = k[x]! / ww;
    }
    const base = i * ksize;
    for (let x = 0; x < ksize; x++) {
      const v = x < xmax ? k[x]! : 0;
      weights[base + x] = v < 0 ? Math.trunc(-0.5 + v * fixedOne) : Math.trunc(0.5 + v * fixedOne);
    }
    min[i] = xmin;
    count[i] = xmax;
  }
  return { ksize, min, count, weights };
}

function clip8(v: number): number {
  if (v >= MAX_VALUE) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

export interface RgbImage {
  /** Interleaved 8-bit RGB, row-major, width*height*3 bytes. */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface ResizeWindow {
  /** Full resize target size, as Pillow would produce it. */
  outWidth: number;
  outHeight: number;
  /** The part of that output to compute (e.g. the center crop). Defaults to all of it. */
  left?: number;
  top?: number;
  width?: number;
  height?: number;
}

/**
 * Which passes run: 'auto' (the default) the SIMD kernels where available, unless IMAGE_CLASSIFIER_RESIZE=js;
 * 'js' the JS loops; 'simd' the SIMD kernels or a thrown Error when this runtime lacks them (for tests).
 */
export type ResizeImplementation = 'auto' | 'js' | 'simd';

/** Whether 'auto' picks the SIMD kernels in this process. */
export function simdResizeDefault(): boolean {
  return process.env.IMAGE_CLASSIFIER_RESIZE !== 'js' && simdResizeAvailable();
}

/**
 * Resizes interleaved RGB to `outWidth×outHeight` with Pillow's BILINEAR filter and returns the window
 * `[left, left+width) × [top, top+height)` of the result as interleaved RGB.
 */
export function resizeBilinearPillow(src: RgbImage, win: ResizeWindow, implementation: ResizeImplementation = 'auto'): RgbImage {
  const { outWidth, outHeight } = win;
  const left = win.left ?? 0;
  const top = win.top ?? 0;
  const width = win.width ?? outWidth;
  const height = win.height ?? outHeight;
  if (left < 0 || top < 0 || left + width > outWidth || top + height > outHeight) {
    throw new RangeError(`resize window ${left},${top} ${width}x${height} outside ${outWidth}x${outHeight}`);
  }
  const inW = src.width;
  const inH = src.height;
  const needHorizontal = outWidth !== inW;
  const needVertical = outHeight !== inH;

  const vert = needVertical ? precomputeCoefficients(inH, outHeight, top, height) : null;
  // Source rows needed by the vertical pass (or the window rows if there is none).
  let rowFirst: number;
  let rowLast: number;
  if (vert) {
    rowFirst = vert.min[0]!;
    rowLast = vert.min[height - 1]! + vert.count[height - 1]!;
    for (let i = 0; i < height; i++) {
      rowFirst = Math.min(rowFirst, vert.min[i]!);
      rowLast = Math.max(rowLast, vert.min[i]! + vert.count[i]!);
    }
  } else {
    rowFirst = top;
    rowLast = top + height;
  }
  const tmpRows = rowLast - rowFirst;
  const hc = needHorizontal ? precomputeCoefficients(inW, outWidth, left, width) : null;

  if (implementation === 'simd' && !simdResizeAvailable()) throw new Error('WebAssembly SIMD is not available in this runtime');
  if ((hc || vert) && (implementation === 'simd' || (implementation === 'auto' && simdResizeDefault()))) {
    const data = resizeWindowSimd(src, { horizontal: hc, vertical: vert, rowFirst, rowLast, left, width, height });
    if (data) return { data, width, height };
  }

  // Horizontal pass: rows [rowFirst, rowLast) of the source, output columns [left, left+width).
  const horizontal = hc
    ? horizontalPass(src, hc, rowFirst, tmpRows, width)
    : { tmp: src.data.subarray(rowFirst * inW * 3, rowLast * inW * 3), tmpStride: inW * 3, tmpColOffset: left };
  const { tmp, tmpStride, tmpColOffset } = horizontal;

  if (!vert) {
    if (tmpColOffset === 0 && tmpStride === width * 3) {
      return { data: tmp.slice(), width, height };
    }
    const out = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      const from = y * tmpStride + tmpColOffset * 3;
      out.set(tmp.subarray(from, from + width * 3), y * width * 3);
    }
    return { data: out, width, height };
  }

  return { data: verticalPass(tmp, tmpStride, tmpColOffset, vert, rowFirst, width, height), width, height };
}

/** Pillow's horizontal pass over `rows` source rows from `rowFirst`, output columns of `hc`: 8-bit RGB, `width` wide. */
function horizontalPass(
  src: RgbImage,
  hc: AxisCoefficients,
  rowFirst: number,
  rows: number,
  width: number,
): { tmp: Uint8Array; tmpStride: number; tmpColOffset: number } {
  const tmpStride = width * 3;
  const tmp = new Uint8Array(rows * tmpStride);
  const { ksize, min, count, weights } = hc;
  const s = src.data;
  const inStride = src.width * 3;
  for (let yy = 0; yy < rows; yy++) {
    const rowBase = (yy + rowFirst) * inStride;
    let o = yy * tmpStride;
    for (let xx = 0; xx < width; xx++) {
      const xmin = min[xx]!;
      const n = count[xx]!;
      const kb = xx * ksize;
      let ss0 = ROUND_HALF;
      let ss1 = ROUND_HALF;
      let ss2 = ROUND_HALF;
      let p = rowBase + xmin * 3;
      for (let x = 0; x < n; x++) {
        const w = weights[kb + x]!;
        ss0 += s[p]! * w;
        ss1 += s[p + 1]! * w;
        ss2 += s[p + 2]! * w;
        p += 3;
      }
      tmp[o] = clip8(ss0);
      tmp[o + 1] = clip8(ss1);
      tmp[o + 2] = clip8(ss2);
      o += 3;
    }
  }
  return { tmp, tmpStride, tmpColOffset: 0 };
}

/** Pillow's vertical pass over the window: `height` output rows of `width` RGB pixels from the horizontal pass's rows. */
function verticalPass(
  tmp: Uint8Array,
  tmpStride: number,
  tmpColOffset: number,
  vert: AxisCoefficients,
  rowFirst: number,
  width: number,
  height: number,
): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const { ksize, min, count, weights } = vert;
  const rowBytes = width * 3;
  const acc = new Int32Array(rowBytes);
  for (let yy = 0; yy < height; yy++) {
    const ymin = min[yy]! - rowFirst;
    const n = count[yy]!;
    const kb = yy * ksize;
    acc.fill(ROUND_HALF);
    // Row-wise accumulation: same sums as Pillow's per-pixel loop (integer addition is exact),
    // but streams through memory.
    for (let y = 0; y < n; y++) {
      const w = weights[kb + y]!;
      if (w === 0) continue;
      const rb = (ymin + y) * tmpStride + tmpColOffset * 3;
      for (let i = 0; i < rowBytes; i++) acc[i] += tmp[rb + i]! * w;
    }
    const o = yy * rowBytes;
    for (let i = 0; i < rowBytes; i++) out[o + i] = clip8(acc[i]!);
  }
  return out;
}
