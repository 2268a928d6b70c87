/**
 * The two passes of resize.ts's Pillow bilinear resize, and preprocess.ts's normalization, in WebAssembly SIMD
 * (resize-simd.wat, embedded by resize-simd.generated.ts): the same fixed-point coefficients, computed by resize.ts,
 * and the same integer sums, so the output is identical byte for byte (the normalization's f32 arithmetic gives the
 * lookup tables' float32 bits); several times less CPU than the JS loops.
 *
 * One module instance and one memory per process (per thread), reused from image to image: the memory grows when an
 * image needs more, up to SIMD_RESIZE_LIMITS.maxBytes (larger work, or a failed allocation, returns null and the
 * caller runs its JS code), and an instance whose memory has grown past SIMD_RESIZE_LIMITS.retainBytes (an image over
 * about 15 MP) is dropped after the call, so what stays allocated between images is bounded.
 */
import type { AxisCoefficients, RgbImage } from './resize.js';
import { RESIZE_SIMD_WASM_BASE64 } from './resize-simd.generated.js';

/**
 * maxBytes: the most module memory one image may use (the module could grow to 8192 pages, 512 MiB): the kernels copy
 * most of the decoded image into it, so beyond ≈ 45 MP (128 MiB) the JS passes run instead and a decoder's peak
 * stays the decoded image and its crop, not twice the image; retainBytes: an instance whose memory is larger than
 * this after an image is dropped (the next image makes a new one). Tests lower them.
 */
export const SIMD_RESIZE_LIMITS = { maxBytes: 128 * 1024 * 1024, retainBytes: 32 * 1024 * 1024 };
const PAGE = 65536;
/** Slack after every buffer: the kernels load and store up to 15 bytes past the last pixel. */
const SLACK = 16;

/** The part of the WebAssembly JS API used here (this project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
declare const WebAssembly: WasmApi | undefined;

interface Kernel {
  memory: WasmMemory;
  hpass(
    src: number,
    srcStride: number,
    rows: number,
    width: number,
    coef: number,
    coefStride: number,
    dst: number,
    dstStride: number,
  ): void;
  vpass(src: number, srcStride: number, rowBytes: number, height: number, coef: number, coefStride: number, dst: number): void;
  normalize(src: number, quads: number, dst: number, params: number, nchw: number, plane: number): void;
}

let compiled: object | null | undefined;
let kernel: Kernel | null = null;

/** Whether this runtime runs the SIMD kernels (WebAssembly with SIMD); compiles the module on first call. */
export function simdResizeAvailable(): boolean {
  if (compiled === undefined) {
    try {
      const bytes = new Uint8Array(Buffer.from(RESIZE_SIMD_WASM_BASE64, 'base64'));
      compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled !== null;
}

/** The bytes of memory the current instance holds (0 when none): for tests of the retention bound. */
export function simdResizeMemoryBytes(): number {
  return kernel ? kernel.memory.buffer.byteLength : 0;
}

/** Drops the module instance and its memory (the next image makes a new one). */
export function releaseSimdResize(): void {
  kernel = null;
}

function kernelWithMemory(bytes: number): Kernel | null {
  if (!simdResizeAvailable() || bytes > SIMD_RESIZE_LIMITS.maxBytes) return null;
  try {
    if (!kernel) {
      const exports = new WebAssembly!.Instance(compiled!).exports as Kernel;
      kernel = { memory: exports.memory, hpass: exports.hpass, vpass: exports.vpass, normalize: exports.normalize };
    }
    const have = kernel.memory.buffer.byteLength;
    if (have < bytes) kernel.memory.grow(Math.ceil((bytes - have) / PAGE));
    return kernel;
  } catch {
    kernel = null; // out of memory: the JS code works on the caller's buffers
    return null;
  }
}

/** What resize.ts has worked out for one window: coefficients (null where an axis keeps its size) and source rows. */
export interface SimdResizePlan {
  /** Horizontal coefficients for output columns [left, left + width), or null when the width is unchanged. */
  horizontal: AxisCoefficients | null;
  /** Vertical coefficients for output rows [top, top + height), or null when the height is unchanged. */
  vertical: AxisCoefficients | null;
  /** Source rows [rowFirst, rowLast) the window needs. */
  rowFirst: number;
  rowLast: number;
  left: number;
  width: number;
  height: number;
}

/** `n` bytes plus the slack, rounded up to 16 (float arithmetic: sizes over 2 GiB must compare as large, not wrap). */
const align = (n: number): number => Math.ceil((n + SLACK) / 16) * 16;

/**
 * The window's `width×height` RGB bytes, or null when the SIMD kernels are unavailable or the image needs more than
 * SIMD_RESIZE_LIMITS.maxBytes of module memory. At least one of the plan's axes must have coefficients.
 */
export function resizeWindowSimd(src: RgbImage, plan: SimdResizePlan): Uint8Array | null {
  const { horizontal: hc, vertical: vc, rowFirst, rowLast, width, height } = plan;
  // Source columns [colFirst, colLast) that the horizontal taps read (the window itself when there are none).
  let colFirst = plan.left;
  let colLast = plan.left + width;
  if (hc) {
    colFirst = src.width;
    colLast = 0;
    for (let x = 0; x < width; x++) {
      colFirst = Math.min(colFirst, hc.min[x]!);
      colLast = Math.max(colLast, hc.min[x]! + hc.count[x]!);
    }
  }
  const rows = rowLast - rowFirst;
  const regionStride = (colLast - colFirst) * 3;
  const rowBytes = width * 3;
  const hStride = hc ? 16 + Math.ceil(hc.ksize / 4) * 64 : 0;
  const vStride = vc ? (2 + vc.ksize) * 4 : 0;
  const hCoef = 0;
  const vCoef = hCoef + align(width * hStride);
  const region = vCoef + align(height * vStride);
  const tmp = region + align(rows * regionStride);
  const out = tmp + (hc && vc ? align(rows * rowBytes) : 0);
  const k = kernelWithMemory(out + align(height * rowBytes));
  if (!k) return null;
  const buffer = k.memory.buffer;
  if (hc) writeHorizontalCoefficients(new Int32Array(buffer), new Int16Array(buffer), hc, width, hStride, colFirst);
  if (vc) writeVerticalCoefficients(new Int32Array(buffer, vCoef), vc, height, vStride, rowFirst, rowBytes);
  const mem = new Uint8Array(buffer);
  const inStride = src.width * 3;
  if (regionStride === inStride) {
    mem.set(src.data.subarray(rowFirst * inStride, rowLast * inStride), region);
  } else {
    for (let r = 0; r < rows; r++) {
      const from = (rowFirst + r) * inStride + colFirst * 3;
      mem.set(src.data.subarray(from, from + regionStride), region + r * regionStride);
    }
  }
  if (hc) k.hpass(region, regionStride, rows, width, hCoef, hStride, vc ? tmp : out, rowBytes);
  if (vc) k.vpass(hc ? tmp : region, rowBytes, rowBytes, height, vCoef, vStride, out);
  const result = mem.slice(out, out + height * rowBytes);
  if (buffer.byteLength > SIMD_RESIZE_LIMITS.retainBytes) kernel = null;
  return result;
}

/**
 * Per output column: i32 byte offset of its first tap in the region's row, i32 tap quads, then per pair the
 * weights' low and high 11-bit-split halves as i16x8 [w0 w1 w0 w1 w0 w1 0 0] (see resize-simd.wat).
 */
function writeHorizontalCoefficients(
  i32: Int32Array,
  i16: Int16Array,
  hc: AxisCoefficients,
  width: number,
  stride: number,
  colFirst: number,
): void {
  const { ksize, min, count, weights } = hc;
  for (let x = 0; x < width; x++) {
    const base = x * stride;
    const n = count[x]!;
    const pairs = Math.ceil(n / 4) * 2;
    i32[base >> 2] = (min[x]! - colFirst) * 3;
    i32[(base >> 2) + 1] = pairs / 2;
    for (let j = 0; j < pairs; j++) {
      const w0 = 2 * j < n ? weights[x * ksize + 2 * j]! : 0;
      const w1 = 2 * j + 1 < n ? weights[x * ksize + 2 * j + 1]! : 0;
      const lo = (base + 16 + j * 32) >> 1;
      const hi = lo + 8;
      for (let c = 0; c < 6; c += 2) {
        i16[lo + c] = w0 & 2047;
        i16[lo + c + 1] = w1 & 2047;
        i16[hi + c] = w0 >> 11;
        i16[hi + c + 1] = w1 >> 11;
      }
      i16[lo + 6] = i16[lo + 7] = i16[hi + 6] = i16[hi + 7] = 0;
    }
  }
}

/** Per output row: i32 byte offset of its first source row, i32 taps, one i32 weight per tap. */
function writeVerticalCoefficients(
  i32: Int32Array,
  vc: AxisCoefficients,
  height: number,
  stride: number,
  rowFirst: number,
  rowBytes: number,
): void {
  const { ksize, min, count, weights } = vc;
  const words = stride >> 2;
  for (let y = 0; y < height; y++) {
    const n = count[y]!;
    i32[y * words] = (min[y]! - rowFirst) * rowBytes;
    i32[y * words + 1] = n;
    for (let t = 0; t < n; t++) i32[y * words + 2 + t] = weights[y * ksize + t]!;
  }
}

/**
 * preprocess.ts's normalizeInto for the first `pixels - pixels % 4` pixels of `rgb` (the caller does the rest):
 * float32((float32(v / 255) − mean) / std) in f32 arithmetic, the same values as its lookup tables. Writes NCHW
 * planes `planeElements` apart (or NHWC) into `out` from `offset`; false (nothing written) when the kernels are
 * unavailable.
 */
export function normalizeSimd(
  rgb: Uint8Array,
  pixels: number,
  mean: readonly number[],
  std: readonly number[],
  nchw: boolean,
  out: Float32Array,
  offset: number,
  planeElements: number,
): boolean {
  const quads = pixels >> 2;
  const src = 128;
  const dst = src + align(quads * 12);
  const k = kernelWithMemory(dst + quads * 48);
  if (!k) return false;
  const buffer = k.memory.buffer;
  const params = new Float32Array(buffer, 0, 24);
  for (let i = 0; i < 12; i++) {
    const ch = nchw ? i >> 2 : i % 3;
    params[i] = mean[ch]!;
    params[12 + i] = std[ch]!;
  }
  new Uint8Array(buffer).set(rgb.subarray(0, quads * 12), src);
  k.normalize(src, quads, dst, 0, nchw ? 1 : 0, quads * 16);
  if (nchw) {
    for (let ch = 0; ch < 3; ch++) out.set(new Float32Array(buffer, dst + ch * quads * 16, quads * 4), offset + ch * planeElements);
  } else {
    out.set(new Float32Array(buffer, dst, quads * 12), offset);
  }
  if (buffer.byteLength > SIMD_RESIZE_LIMITS.retainBytes) kernel = null;
  return true;
}
