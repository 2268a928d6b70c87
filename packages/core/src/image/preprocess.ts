/**
 * torchvision's ImageNet eval transform:
 * `Resize(256)` → `CenterCrop(224)` → `ToTensor()` → `Normalize(mean, std)`, float32, NCHW (or NHWC).
 *
 * - `exact`: bit-for-bit the PIL path (Pillow's antialiased bilinear, computed only inside the crop).
 * - `fast`: sharp/libvips does resize + crop in one pipeline (shrink-on-load on large JPEGs); within a few
 *   uint8 levels of `exact`. Where both are within those bounds, whichever has cost less CPU on images of the
 *   same kind in this process (fast-choice.ts): `fast` costs what the cheaper path costs (for formats other than
 *   a plain JPEG, plus libvips' header read).
 */
import type sharpType from 'sharp';
import { ClassifierError } from '../errors.js';
import {
  decodeImage,
  failingOnTruncation,
  sharp,
  DEFAULT_MAX_PIXELS,
  MIN_SIDE,
  rawToRgb,
  sniffFormat,
  type DecodedImage,
  withJpegPixelsNow,
} from './decode.js';
import { type ResizeImplementation, resizeBilinearPillow, type RgbImage, simdResizeDefault } from './resize.js';
import { normalizeSimd } from './resize-simd.js';
import { FastChooser, fastChooser } from './fast-choice.js';
import { type JpegFrame, plainJpegFrame } from './jpeg-frame.js';
import { wasmDecodable } from './jpeg-wasm.js';

import { formatIdsDecodedBy } from '@image-classifier/protocol/formats';
import type { PreprocessingMode } from '@image-classifier/protocol/settings';
export type TensorLayout = 'NCHW' | 'NHWC';

export interface PreprocessConfig {
  /** `Resize(n)`: the short side becomes n, the long side `int(n * long / short)` (truncated, as torchvision). */
  resizeShortSide: number;
  /** `CenterCrop`: [height, width]. */
  cropSize: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
  layout: TensorLayout;
}

export const IMAGENET_PREPROCESS: Readonly<PreprocessConfig> = Object.freeze({
  resizeShortSide: 256,
  cropSize: [224, 224] as [number, number],
  mean: [0.485, 0.456, 0.406] as [number, number, number],
  std: [0.229, 0.224, 0.225] as [number, number, number],
  layout: 'NCHW' as TensorLayout,
});

export function resolvePreprocessConfig(over?: Partial<PreprocessConfig>): PreprocessConfig {
  const c: PreprocessConfig = {
    resizeShortSide: over?.resizeShortSide ?? IMAGENET_PREPROCESS.resizeShortSide,
    cropSize: over?.cropSize ?? [...IMAGENET_PREPROCESS.cropSize],
    mean: over?.mean ?? [...IMAGENET_PREPROCESS.mean],
    std: over?.std ?? [...IMAGENET_PREPROCESS.std],
    layout: over?.layout ?? IMAGENET_PREPROCESS.layout,
  };
  if (!(c.resizeShortSide >= 1) || !(c.cropSize[0] >= 1) || !(c.cropSize[1] >= 1)) {
    throw new ClassifierError('INVALID_ARGUMENT', 'Preprocessing sizes must be positive integers.');
  }
  if (c.std.some((s) => !(s > 0))) throw new ClassifierError('INVALID_ARGUMENT', 'Normalization std values must be positive.');
  return c;
}

/** A stable string identifying a preprocessing (for cache keys). */
export function preprocessKey(mode: PreprocessingMode, c: PreprocessConfig): string {
  return `${mode};r${c.resizeShortSide};c${c.cropSize.join('x')};m${c.mean.join(',')};s${c.std.join(',')};${c.layout}`;
}

/** torchvision's `_compute_resized_output_size` for `Resize(int)`: returns [width, height]. */
export function resizedSize(width: number, height: number, shortSide: number): [number, number] {
  if (width <= height) {
    return [shortSide, Math.trunc((shortSide * height) / width)];
  }
  return [Math.trunc((shortSide * width) / height), shortSide];
}

/** Python's round(): half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision's `center_crop` offsets (no padding needed when the image is at least the crop size). */
export function centerCropBox(width: number, height: number, cropH: number, cropW: number): { left: number; top: number } {
  return { top: roundHalfEven((height - cropH) / 2), left: roundHalfEven((width - cropW) / 2) };
}

/** Per-channel lookup: uint8 → float32((float32(v/255) − mean) / std), torch's float32 arithmetic. */
function normalizationTables(c: PreprocessConfig): Float32Array[] {
  const tables: Float32Array[] = [];
  for (let ch = 0; ch < 3; ch++) {
    const t = new Float32Array(256);
    const m = Math.fround(c.mean[ch]!);
    const s = Math.fround(c.std[ch]!);
    for (let v = 0; v < 256; v++) {
      const x = Math.fround(v / 255);
      t[v] = Math.fround(Math.fround(x - m) / s);
    }
    tables.push(t);
  }
  return tables;
}

const tableCache = new WeakMap<PreprocessConfig, Float32Array[]>();

/**
 * Writes the normalized tensor of a `cropH×cropW` RGB image into `out` at `offset` (elements), in the
 * config's layout. Returns `out`. The pixels run through the SIMD kernel (resize-simd.ts; the same float32 values)
 * where the resize's do, four at a time, and the lookup tables otherwise and for the last n % 4.
 */
export function normalizeInto(
  img: RgbImage,
  c: PreprocessConfig,
  out: Float32Array,
  offset = 0,
  implementation: ResizeImplementation = 'auto',
): Float32Array {
  let tables = tableCache.get(c);
  if (!tables) {
    tables = normalizationTables(c);
    tableCache.set(c, tables);
  }
  const [t0, t1, t2] = tables as [Float32Array, Float32Array, Float32Array];
  const n = img.width * img.height;
  const d = img.data;
  const nchw = c.layout === 'NCHW';
  const useSimd = implementation === 'simd' || (implementation === 'auto' && simdResizeDefault());
  const first = useSimd && normalizeSimd(d, n, c.mean, c.std, nchw, out, offset, n) ? n - (n % 4) : 0;
  if (nchw) {
    const o1 = offset + n;
    const o2 = offset + 2 * n;
    for (let i = first, j = first * 3; i < n; i++, j += 3) {
      out[offset + i] = t0[d[j]!]!;
      out[o1 + i] = t1[d[j + 1]!]!;
      out[o2 + i] = t2[d[j + 2]!]!;
    }
  } else {
    for (let i = first, j = first * 3; i < n; i++, j += 3) {
      out[offset + j] = t0[d[j]!]!;
      out[offset + j + 1] = t1[d[j + 1]!]!;
      out[offset + j + 2] = t2[d[j + 2]!]!;
    }
  }
  return out;
}

/**
 * The `exact` geometric part: Pillow resize restricted to the center crop. Returns cropH×cropW RGB. `implementation`
 * picks the resize passes (resize.ts; the same bytes either way).
 */
export function resizeAndCropExact(img: RgbImage, c: PreprocessConfig, implementation: ResizeImplementation = 'auto'): RgbImage {
  const [outW, outH] = resizedSize(img.width, img.height, c.resizeShortSide);
  const [cropH, cropW] = c.cropSize;
  if (cropW > outW || cropH > outH) {
    return padCrop(resizeBilinearPillow(img, { outWidth: outW, outHeight: outH }, implementation), cropH, cropW);
  }
  const { left, top } = centerCropBox(outW, outH, cropH, cropW);
  return resizeBilinearPillow(img, { outWidth: outW, outHeight: outH, left, top, width: cropW, height: cropH }, implementation);
}

/** torchvision pads with zeros when the crop is larger than the image (only with unusual configs). */
function padCrop(img: RgbImage, cropH: number, cropW: number): RgbImage {
  const padL = Math.trunc((cropW - img.width) / 2);
  const padT = Math.trunc((cropH - img.height) / 2);
  const padded: RgbImage = { data: new Uint8Array(cropW * cropH * 3), width: cropW, height: cropH };
  for (let y = 0; y < cropH; y++) {
    const sy = y - padT;
    if (sy < 0 || sy >= img.height) continue;
    for (let x = 0; x < cropW; x++) {
      const sx = x - padL;
      if (sx < 0 || sx >= img.width) continue;
      const s = (sy * img.width + sx) * 3;
      const d = (y * cropW + x) * 3;
      padded.data[d] = img.data[s]!;
      padded.data[d + 1] = img.data[s + 1]!;
      padded.data[d + 2] = img.data[s + 2]!;
    }
  }
  return padded;
}

export interface PreprocessOptions {
  preprocessing?: PreprocessingMode;
  config?: PreprocessConfig;
  maxPixels?: number;
  /** Write into this buffer (a batch tensor) at `offset` instead of allocating. */
  out?: Float32Array;
  offset?: number;
}

export interface PreprocessResult {
  tensor: Float32Array;
  offset: number;
  /** Original size after EXIF orientation. */
  width: number;
  height: number;
  format: string;
}

export function tensorElements(c: PreprocessConfig): number {
  return 3 * c.cropSize[0] * c.cropSize[1];
}

/** Decodes and preprocesses image bytes into a normalized float32 tensor. */
export async function preprocessImage(bytes: Uint8Array, name: string, opts: PreprocessOptions = {}): Promise<PreprocessResult> {
  const c = opts.config ?? (IMAGENET_PREPROCESS as PreprocessConfig);
  const out = opts.out ?? new Float32Array(tensorElements(c));
  const offset = opts.offset ?? 0;
  const r = await preprocessToCrop(bytes, name, opts);
  normalizeInto(r.image, c, out, offset);
  return { tensor: out, offset, width: r.width, height: r.height, format: r.format };
}

/** The crop before normalization: the 8-bit RGB pixels the tensor is made of, and the image's size and format. */
export interface CropResult {
  image: RgbImage;
  width: number;
  height: number;
  format: string;
}

/**
 * Decodes, resizes and crops (everything but the normalization): a quarter of the tensor's bytes, which decoder
 * processes send back; `normalizeInto` then makes the same float32 values `preprocessImage` would.
 */
export async function preprocessToCrop(bytes: Uint8Array, name: string, opts: PreprocessOptions = {}): Promise<CropResult> {
  const c = opts.config ?? (IMAGENET_PREPROCESS as PreprocessConfig);
  if ((opts.preprocessing ?? 'exact') === 'exact') return exactCrop(bytes, name, c, opts.maxPixels ?? DEFAULT_MAX_PIXELS);
  return fastResizeCrop(bytes, name, c, opts.maxPixels ?? DEFAULT_MAX_PIXELS);
}

/** The `exact` crop: a plain JPEG decoded and cropped in one synchronous step (its pixels read in place), else decodeImage. */
async function exactCrop(bytes: Uint8Array, name: string, c: PreprocessConfig, maxPixels: number): Promise<CropResult> {
  const quick = withJpegPixelsNow(bytes, name, maxPixels, (img) => cropExact(img, c));
  if (quick) return quick;
  // withJpegPixelsNow asked the WebAssembly decoder already (and it declined, or the file is not one it takes).
  return cropExact(await decodeImage(bytes, name, { maxPixels, jpegWasm: false }), c);
}

function cropExact(img: DecodedImage, c: PreprocessConfig): CropResult {
  return { image: resizeAndCropExact(img, c), width: img.width, height: img.height, format: img.format };
}

/** Formats `fast` may hand to libvips whole (the format table's 'sharp' rows); the others take the exact path. */
const SHARP_FAST_FORMATS = formatIdsDecodedBy('sharp');

/**
 * How `fast` resizes, by the downscale ratio r = short side / target (measured against the exact path, which equals
 * torchvision, on photos at short sides 300–3000): libvips alone stays within max |Δ| 0.06 / mean 0.006 below r = 3,
 * and leaves them above (its box pre-shrink and JPEG DCT scaling differ from Pillow's triangle filter). From r = 6,
 * libvips (with JPEG shrink-on-load) reduces to 3× (from r = 12, 6×) the target and Pillow's filter does the rest: within bounds
 * at a fraction of a full decode's cost. In between, and for upscaling, alpha, CMYK and 16-bit grayscale (Pillow's
 * own conversions), the exact path.
 */
export type FastPlan = 'sharp' | 'sharp-then-exact' | 'exact';

const SHARP_MAX_RATIO = 3;
const INTERMEDIATE_MIN_RATIO = 6;

/**
 * The libvips stage of 'sharp-then-exact': reduce to k× the target (measured: k = 3 and 6 stay well within the
 * bounds, k = 2 and 4 are 3–5× further off). From r = 12, k = 6 and libvips' conservative
 * shrink-on-load (which leaves it at least a 2× reduce), else JPEG DCT scaling shows (max |Δ| 0.1–0.28 on a
 * 4000-px photo with k = 3).
 */
function intermediate(plan: FastPlan, ratio: number): { k: number; shrinkOnLoad: boolean } {
  if (plan !== 'sharp-then-exact') return { k: 1, shrinkOnLoad: true };
  return ratio >= 12 ? { k: 6, shrinkOnLoad: false } : { k: 3, shrinkOnLoad: true };
}

type PlanMeta = Partial<Pick<sharpType.Metadata, 'hasAlpha' | 'space' | 'channels' | 'depth'>>;

function fastPlan(meta: PlanMeta, width: number, height: number, c: PreprocessConfig): FastPlan {
  const ratio = Math.min(width, height) / c.resizeShortSide;
  if (ratio < 1 || meta.hasAlpha || meta.space === 'cmyk' || (meta.channels === 1 && meta.depth === 'ushort')) return 'exact';
  if (ratio < SHARP_MAX_RATIO) return 'sharp';
  return ratio >= INTERMEDIATE_MIN_RATIO ? 'sharp-then-exact' : 'exact';
}

/** `fast`'s plan for a plain JPEG (its frame header); `wasm`: whether the WebAssembly decoder takes the file. */
export function fastJpegPlan(frame: JpegFrame, c: PreprocessConfig, maxPixels: number, wasm: () => boolean): FastPlan {
  const { width, height } = frame;
  if (width < MIN_SIDE || height < MIN_SIDE || width * height > maxPixels) return 'exact'; // the precise error
  const plan = fastPlan({ channels: frame.components as 1 | 3, depth: 'uchar' }, width, height, c);
  // Below a 2× reduction libvips cannot shrink on load: it decodes every pixel, with a decoder that costs more
  // than the WebAssembly one, and resizes too, so where that one takes the file the exact path is the cheaper.
  return plan === 'sharp' && Math.min(width, height) < 2 * c.resizeShortSide && wasm() ? 'exact' : plan;
}

/** The `fast` geometric part: libvips (shrink-on-load on large JPEGs) where it matches Pillow closely enough. */
async function fastResizeCrop(bytes: Uint8Array, name: string, c: PreprocessConfig, maxPixels: number): Promise<CropResult> {
  // Validation, format sniffing and the pixel limit are shared with the exact path's header checks.
  if (bytes.length === 0) {
    throw new ClassifierError('EMPTY_FILE', `${name} is empty (0 bytes); it may still be being written or was truncated.`);
  }
  const format = sniffFormat(bytes, name);
  // Formats decoded here (BMP, ICO, Netpbm, TGA) and precise errors also take the exact path.
  const exactly = (): Promise<CropResult> => exactCrop(bytes, name, c, maxPixels);
  // SVG too: the exact path renders it at the size needed, within the SVG budgets.
  if (!SHARP_FAST_FORMATS.has(format) || format === 'svg') return exactly();
  const input = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const viaLibvips = { input, bytes, name, c, maxPixels };
  // A plain JPEG's frame header, read in JS, gives the plan and the chooser's class (both orientation-free: the short
  // side, the pixel count) without a libvips header pipeline, so the exact path costs here what it costs in `exact`;
  // the libvips path reads the metadata itself (its cost is part of what the chooser measures for it).
  const frame = format === 'jpeg' ? plainJpegFrame(bytes) : undefined;
  if (frame) {
    const plan = fastJpegPlan(frame, c, maxPixels, () => wasmDecodable(bytes, frame));
    if (plan === 'exact') return exactly();
    const { width, height } = frame;
    const key = FastChooser.key('jpeg', plan, width, height);
    if (fastChooser.choose(key) === 'exact') return fastChooser.measure(key, 'exact', exactly);
    return fastChooser.measure(key, 'planned', async () => {
      const meta = await readMetadata(input);
      return meta ? libvipsCrop(viaLibvips, meta, plan) : exactly();
    });
  }
  const meta = await readMetadata(input);
  if (!meta) return exactly(); // throws the precise error (unsupported format, corrupt file…)
  const sw = meta.width ?? 0;
  const sh = meta.height ?? 0;
  if (sw < MIN_SIDE || sh < MIN_SIDE || sw * sh > maxPixels || !SHARP_FAST_FORMATS.has(meta.format ?? '')) return exactly();
  const { width, height } = orientedSize(meta);
  const plan = fastPlan(meta, width, height, c);
  if (plan === 'exact') return exactly();
  // Both paths are within bounds here: take the one that has cost less CPU on images of this class (fast-choice.ts).
  const key = FastChooser.key(meta.format ?? format, plan, width, height);
  if (fastChooser.choose(key) === 'exact') return fastChooser.measure(key, 'exact', exactly);
  return fastChooser.measure(key, 'planned', () => libvipsCrop(viaLibvips, meta, plan));
}

/** libvips' header read, or undefined when it cannot read one. */
async function readMetadata(input: Buffer): Promise<sharpType.Metadata | undefined> {
  try {
    return await sharp(input, { limitInputPixels: false, pages: 1 }).metadata();
  } catch {
    return undefined;
  }
}

/** The size after EXIF orientation. */
function orientedSize(meta: sharpType.Metadata): { width: number; height: number } {
  const rotated = (meta.orientation ?? 1) >= 5;
  return rotated ? { width: meta.height ?? 0, height: meta.width ?? 0 } : { width: meta.width ?? 0, height: meta.height ?? 0 };
}

/** The libvips plan's crop; a libvips failure is reported with the exact decoder's precise error where it has one. */
async function libvipsCrop(
  v: { input: Buffer; bytes: Uint8Array; name: string; c: PreprocessConfig; maxPixels: number },
  meta: sharpType.Metadata,
  plan: FastPlan,
): Promise<CropResult> {
  const { width, height } = orientedSize(meta);
  const format = meta.format ?? 'jpeg';
  try {
    const image = await failingOnTruncation(format, (failOn) =>
      sharpResize(v.input, meta, { width, height, failOn }, v.c, v.maxPixels, plan),
    );
    return { image, width, height, format };
  } catch (e) {
    if (e instanceof ClassifierError) throw e;
    // Re-run the exact decoder for a precise error; if it succeeds, report the libvips failure.
    await decodeImage(v.bytes, v.name, { maxPixels: v.maxPixels });
    throw new ClassifierError('DECODE_FAILED', `${v.name} could not be resized: ${(e as Error).message}`, { cause: e });
  }
}

/** libvips resize (+ crop); or, for 'sharp-then-exact', libvips to k× the target and Pillow's filter from there. */
async function sharpResize(
  input: Buffer,
  meta: sharpType.Metadata,
  { width, height, failOn }: { width: number; height: number; failOn: 'error' | 'warning' },
  c: PreprocessConfig,
  maxPixels: number,
  plan: FastPlan,
): Promise<RgbImage> {
  const [outW, outH] = resizedSize(width, height, c.resizeShortSide);
  const [cropH, cropW] = c.cropSize;
  const { left, top } = centerCropBox(outW, outH, cropH, cropW);
  const crop = cropW <= outW && cropH <= outH ? { left, top, width: cropW, height: cropH } : null;
  const { k, shrinkOnLoad } = intermediate(plan, Math.min(width, height) / c.resizeShortSide);
  let p = sharp(input, { limitInputPixels: maxPixels, pages: 1, failOn, ignoreIcc: true }).autoOrient();
  // Shrink-on-load only for JPEG (integer DCT scaling); libwebp's arbitrary-scale decode is much further from
  // Pillow's filter.
  p = p.resize(outW * k, outH * k, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: meta.format === 'jpeg' && shrinkOnLoad });
  if (crop && k === 1) p = p.extract(crop);
  const { data, info } = await p.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const rgb = rawToRgb(data, info.width * info.height, info.channels, false);
  const image: RgbImage = { data: rgb, width: info.width, height: info.height };
  if (k !== 1) return resizeAndCropExact(image, c);
  return image.width !== cropW || image.height !== cropH ? padCrop(image, cropH, cropW) : image;
}
