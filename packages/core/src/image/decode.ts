/**
 * Decoding to 8-bit RGB the way torchvision's PIL pipeline sees an image:
 * `ImageOps.exif_transpose(img).convert('RGB')` — EXIF orientation applied, grayscale replicated to three
 * channels, alpha dropped (not composited), CMYK converted with Pillow's naive formula, no ICC colour
 * management, 16-bit colour samples truncated to their high byte, 16-bit grayscale (Pillow's mode `I`) clipped
 * to 0–255. BMP/DIB, ICO/CUR, Netpbm and TGA, which libvips does not read, go through the built-in decoders in
 * ./formats; HEIC (HEVC) is refused with UNSUPPORTED_FORMAT.
 */
import { endianness } from 'node:os';
import type sharpType from 'sharp';
import { classifiableFormatNames, formatById, formatIdsDecodedBy } from '@image-classifier/protocol/formats';
import { ClassifierError } from '../errors.js';
import { BUILTIN_FORMATS, decodeBuiltin, heifKind, sniffBuiltin } from './formats/index.js';
import { type DecodePlan, plainJpegPlan } from './jpeg-frame.js';
import { decodeJpegNow } from './jpeg-wasm.js';
import { checkSvgComplexity, SVG_RENDER_MAX_PIXELS, SVG_RENDER_SIDE, svgRenderDensity } from './svg.js';
import type { RgbImage } from './resize.js';

/** Default decompression-bomb limit: 100 megapixels (a 10000×10000 image), before any pixel is allocated. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Images with a side shorter than this are refused: upscaled to 256 they carry no usable content. */
export const MIN_SIDE = 8;

export interface DecodeOptions {
  /** Refuse images with more pixels than this (width × height), checked from the header. */
  maxPixels?: number;
  /** false: libvips decodes JPEGs the WebAssembly decoder would take (a caller that saw it decline this one). */
  jpegWasm?: boolean;
}

export interface DecodedImage extends RgbImage {
  /** Container format as detected from the bytes (jpeg, png, webp, gif, tiff, heif, svg…). */
  format: string;
  /** Size as stored, before EXIF orientation. */
  storedWidth: number;
  storedHeight: number;
}

let sharpModule: typeof sharpType | undefined;

/**
 * sharp, loaded on first use (loading libvips takes ~90 ms: a server answers `initialize` and starts loading the
 * model first). `preloadSharp()` loads it at a moment of the caller's choosing.
 */
export function sharp(...args: Parameters<typeof sharpType>): ReturnType<typeof sharpType> {
  return preloadSharp()(...args);
}

export function preloadSharp(): typeof sharpType {
  if (!sharpModule) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sharpModule = require('sharp') as typeof sharpType;
    sharpModule.cache(false);
  }
  return sharpModule;
}

const SIGNATURES: Array<[string, (b: Uint8Array) => boolean]> = [
  ['jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['png', (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47],
  ['gif', (b) => b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38],
  ['webp', (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP'],
  ['tiff', (b) => (b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a) || (b[0] === 0x4d && b[1] === 0x4d && b[3] === 0x2a)],
  ['bmp', (b) => b[0] === 0x42 && b[1] === 0x4d],
  ['ico', (b) => b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0],
  ['psd', (b) => ascii(b, 0, 4) === '8BPS'],
  ['jxl', (b) => (b[0] === 0xff && b[1] === 0x0a) || ascii(b, 4, 8) === 'JXL '],
  ['jp2', (b) => ascii(b, 4, 8) === 'jP  '],
  ['pdf', (b) => ascii(b, 0, 5) === '%PDF-'],
  ['zip', (b) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4],
];

function ascii(b: Uint8Array, from: number, to: number): string {
  if (b.length < to) return '';
  return String.fromCharCode(...b.subarray(from, to));
}

function looksLikeSvg(b: Uint8Array): boolean {
  const head = Buffer.from(b.subarray(0, 1024)).toString('utf8').trimStart().toLowerCase();
  return head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg')) || head.includes('<svg');
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 512);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 9 || c === 10 || c === 13) continue;
    if (c < 32 || c === 127) return false;
  }
  return true;
}

/**
 * A name for the format of these bytes, for error messages and records. `name` (a file name or path) helps only
 * where the bytes cannot: TGA has no magic number.
 */
export function sniffFormat(b: Uint8Array, name?: string): string {
  if (ascii(b, 4, 8) === 'ftyp') return heifKind(b);
  for (const [id, test] of SIGNATURES) if (test(b)) return id;
  const builtin = sniffBuiltin(b, name);
  if (builtin) return builtin;
  if (looksLikeSvg(b)) return 'svg';
  if (looksLikeText(b)) return 'text';
  return 'unknown';
}

/** What libvips decodes for us (the format table's 'sharp' rows). */
const SHARP_READABLE = formatIdsDecodedBy('sharp');

const SUPPORTED_LIST = classifiableFormatNames();

/** Pillow's `cmyk2rgb` (Convert.c): nk = 255-K; out = nk - C*nk/255, with Pillow's rounding MULDIV255. */
function cmykToRgbPillow(src: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0, j = 0, o = 0; i < pixels; i++, j += 4, o += 3) {
    const nk = 255 - src[j + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = src[j + c]! * nk + 128;
      const v = nk - (((t >> 8) + t) >> 8);
      out[o + c] = v < 0 ? 0 : Math.min(v, 255);
    }
  }
  return out;
}

export function decodeError(format: string, name: string, e: unknown): ClassifierError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/pixel limit/i.test(msg)) {
    return new ClassifierError('IMAGE_TOO_LARGE', `${name} is larger than the pixel limit; raise maxImagePixels if you trust this file.`, {
      cause: e,
    });
  }
  if (/unsupported image format/i.test(msg)) {
    return new ClassifierError(
      'UNSUPPORTED_FORMAT',
      `${name} is not an image format this tool can read (detected: ${format}). Supported: ${SUPPORTED_LIST}.`,
      { cause: e },
    );
  }
  return new ClassifierError(
    'DECODE_FAILED',
    `${name} could not be decoded as ${format.toUpperCase()} (${msg.split('\n')[0]}); the file may be truncated or corrupt.`,
    { cause: e },
  );
}

/** Refuses decompression bombs and tiny images from the header's size, before any pixel is allocated. */
export function checkImageSize(name: string, width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new ClassifierError(
      'IMAGE_TOO_LARGE',
      `${name} is ${width}×${height} (${((width * height) / 1e6).toFixed(1)} megapixels), over the limit of ${(maxPixels / 1e6).toFixed(1)} megapixels. Raise the pixel limit (--max-pixels / imageClassifier.maxImagePixels) if you trust this file.`,
      { details: { width, height, maxPixels } },
    );
  }
  if (width < MIN_SIDE || height < MIN_SIDE) {
    throw new ClassifierError(
      'IMAGE_TOO_SMALL',
      `${name} is only ${width}×${height} pixels; images smaller than ${MIN_SIDE}×${MIN_SIDE} carry too little content to classify.`,
      { details: { width, height } },
    );
  }
}

/** Formats sniffed from the bytes that no decoder here reads: UNSUPPORTED_FORMAT saying why and what to do. */
function unsupported(format: string, name: string): ClassifierError {
  const reason = formatById(format)?.unsupportedReason;
  if (reason) return new ClassifierError('UNSUPPORTED_FORMAT', `${name}: ${reason}`, { details: { format } });
  const what = format === 'text' ? 'a text file' : format === 'unknown' ? 'not a recognised image format' : `${format.toUpperCase()}`;
  return new ClassifierError('UNSUPPORTED_FORMAT', `${name} is ${what}, which cannot be classified. Supported: ${SUPPORTED_LIST}.`, {
    details: { format },
  });
}

/** A sharp-readable image whose header passed the checks (see probeImage). */
export interface ProbedImage {
  builtin: false;
  format: string;
  input: Buffer;
  meta: sharpType.Metadata;
  storedWidth: number;
  storedHeight: number;
  /** An SVG's render density (its canvas bounded by the SVG pixel budget). */
  density?: number;
}

/**
 * What every decode checks before a pixel is allocated: not empty, the format sniffed from the bytes (a built-in
 * format is only named: its decoder checks its own header), a format we read, an SVG within the complexity limits
 * and rendered at a bounded density, otherwise the header's size within `maxPixels` (and not tiny).
 */
export async function probeImage(
  bytes: Uint8Array,
  name: string,
  maxPixels: number,
): Promise<{ builtin: true; format: string } | ProbedImage> {
  if (bytes.length === 0) {
    throw new ClassifierError('EMPTY_FILE', `${name} is empty (0 bytes); it may still be being written or was truncated.`);
  }
  const format = sniffFormat(bytes, name);
  if (BUILTIN_FORMATS.has(format)) return { builtin: true, format };
  if (!SHARP_READABLE.has(format)) throw unsupported(format, name);
  if (format === 'svg') checkSvgComplexity(bytes, name);
  const input = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let meta: sharpType.Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false, pages: 1 }).metadata();
  } catch (e) {
    throw decodeError(format, name, e);
  }
  const storedWidth = meta.width ?? 0;
  const storedHeight = meta.height ?? 0;
  if (!storedWidth || !storedHeight) {
    throw new ClassifierError('DECODE_FAILED', `${name} has no readable image size; the file may be corrupt.`);
  }
  // An SVG is rendered at the size the model needs, not at its declared canvas.
  const density = format === 'svg' ? await svgDensity(input, name, storedWidth, storedHeight) : undefined;
  if (density === undefined) checkImageSize(name, storedWidth, storedHeight, maxPixels);
  return { builtin: false, format, input, meta, storedWidth, storedHeight, ...(density !== undefined ? { density } : {}) };
}

/**
 * Decodes image bytes to 8-bit interleaved RGB with EXIF orientation applied.
 * `name` is used in error messages, and its extension to recognise TGA (which has no magic number).
 */
export async function decodeImage(bytes: Uint8Array, name = 'image', opts: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  // Header first: refuse decompression bombs before a pixel is allocated.
  let plan: DecodePlan | undefined = jpegPlan(bytes, name, maxPixels);
  const quick = plan && opts.jpegWasm !== false && decodeJpegNow(plan, false);
  if (quick) return quick;
  if (!plan) {
    const probe = await probeImage(bytes, name, maxPixels);
    if (probe.builtin) return decodeWithBuiltin(bytes, probe.format, name, opts);
    const { meta, input, storedWidth, storedHeight, density } = probe;
    const isCmyk = meta.space === 'cmyk';
    // Pillow opens 16-bit grayscale (PNG, TIFF) as mode I / I;16, and convert('RGB') clips it to 0–255.
    const gray16 = !isCmyk && meta.channels === 1 && meta.depth === 'ushort';
    plan = { sniffed: probe.format, format: meta.format ?? probe.format, input, storedWidth, storedHeight, density, isCmyk, gray16 };
  }
  const { sniffed: format, input, storedWidth, storedHeight, density, isCmyk, gray16 } = plan;
  const run = async (failOn: 'error' | 'warning') => {
    let pipeline = sharp(input, {
      limitInputPixels: maxPixels,
      pages: 1,
      failOn,
      ignoreIcc: true,
      sequentialRead: true,
      ...(density !== undefined ? { density } : {}),
    }).autoOrient();
    if (isCmyk) {
      // Keep the decoder's CMYK samples (libvips would otherwise convert through a CMYK profile);
      // Pillow converts them with its naive formula below.
      pipeline = pipeline.pipelineColourspace('cmyk').toColourspace('cmyk');
    }
    // Without an explicit grey16 target libvips rescales 16-bit gray to 0–255 and makes it sRGB.
    if (gray16) pipeline = pipeline.toColourspace('grey16');
    return pipeline.raw({ depth: gray16 ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
  };
  try {
    const { data, info } = await failingOnTruncation(format, run);
    const pixels = info.width * info.height;
    const rgb = gray16 && info.channels === 1 ? gray16ToRgb(data, pixels) : rawToRgb(data, pixels, info.channels, isCmyk);
    return { data: rgb, width: info.width, height: info.height, format: plan.format, storedWidth, storedHeight };
  } catch (e) {
    throw decodeError(format, name, e);
  }
}

/** A plain JPEG's plan (its header checked: size limits), or undefined for any other file. */
function jpegPlan(bytes: Uint8Array, name: string, maxPixels: number): DecodePlan | undefined {
  return sniffFormat(bytes, name) === 'jpeg' ? plainJpegPlan(bytes, (w, h) => checkImageSize(name, w, h, maxPixels)) : undefined;
}

/**
 * Decodes a JPEG the WebAssembly decoder takes, synchronously, and hands its pixels to `use` before anything else
 * can decode in this thread (they are a view on the decoder's memory); undefined for any other file, or where the
 * decoder declines, and the caller decodes it with decodeImage. Throws decodeImage's header errors (size limits).
 */
export function withJpegPixelsNow<T>(bytes: Uint8Array, name: string, maxPixels: number, use: (img: DecodedImage) => T): T | undefined {
  const plan = jpegPlan(bytes, name, maxPixels);
  const img = plan && decodeJpegNow(plan, true);
  return img ? use(img) : undefined;
}

/** libjpeg reports data that ends early (a header claiming more rows than the file holds) as a warning. */
const JPEG_TRUNCATED = /premature end|truncated|insufficient data/i;

/**
 * A JPEG whose data ends before its last row is refused, as Pillow refuses it ("image file is truncated"; libvips
 * would pad it with grey). Other libjpeg warnings (extraneous bytes…) are harmless: decoded again, tolerating them.
 */
export async function failingOnTruncation<T>(format: string, run: (failOn: 'error' | 'warning') => Promise<T>): Promise<T> {
  if (format !== 'jpeg') return run('error');
  try {
    return await run('warning');
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (JPEG_TRUNCATED.test(msg) || /pixel limit/i.test(msg)) throw e;
    return run('error');
  }
}

/**
 * The density an SVG declared at `width`×`height` (at 72 DPI) renders at, checked with the header at that density
 * (librsvg scales physical units such as mm with the DPI twice over: then the exponent is measured and corrected).
 * IMAGE_TOO_COMPLEX when no density gives a size within the SVG pixel budget.
 */
async function svgDensity(input: Buffer, name: string, width: number, height: number): Promise<number> {
  const sizeAt = async (density: number) => {
    const m = await sharp(input, { limitInputPixels: false, density }).metadata();
    return [m.width ?? 0, m.height ?? 0] as const;
  };
  let density = svgRenderDensity(width, height);
  let [w, h] = await sizeAt(density);
  const short0 = Math.min(width, height);
  const short = Math.min(w, h);
  if (density !== 72 && short > 0 && Math.abs(short / (short0 * (density / 72)) - 1) > 0.02) {
    const k = Math.log(short / short0) / Math.log(density / 72);
    if (Number.isFinite(k) && k > 0) {
      const target = Math.min(SVG_RENDER_SIDE, Math.sqrt(SVG_RENDER_MAX_PIXELS * (short0 / Math.max(width, height))));
      density = Math.min(100_000, Math.max(1, 72 * (target / short0) ** (1 / k)));
      [w, h] = await sizeAt(density);
    }
  }
  if (w * h > SVG_RENDER_MAX_PIXELS * 1.05 || !w || !h) {
    throw new ClassifierError(
      'IMAGE_TOO_COMPLEX',
      `${name} declares a ${width}×${height} canvas that cannot be rendered at a usable size.`,
      {
        details: { width, height },
      },
    );
  }
  return density;
}

/** BMP/DIB, ICO/CUR, Netpbm, TGA: the decoders in ./formats (no EXIF in these formats). */
async function decodeWithBuiltin(bytes: Uint8Array, format: string, name: string, opts: DecodeOptions): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  let frame: ReturnType<typeof decodeBuiltin>;
  try {
    frame = decodeBuiltin(format, bytes, (w, h) => checkImageSize(name, w, h, maxPixels));
  } catch (e) {
    if (e instanceof ClassifierError) throw e;
    throw decodeError(format, name, e);
  }
  if ('png' in frame) {
    // An ICO frame stored as PNG: sharp decodes it (Pillow's PngImagePlugin, then convert('RGB')).
    const img = await decodeImage(frame.png, name, opts);
    return { ...img, format };
  }
  const { data, width, height } = frame.rgb;
  return { data, width, height, format, storedWidth: width, storedHeight: height };
}

/** 16-bit grayscale samples (host byte order) → RGB, clipped to 255 as Pillow's `I` → `RGB`. */
function gray16ToRgb(data: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  const le = endianness() === 'LE';
  for (let i = 0, o = 0; i < pixels; i++, o += 3) {
    const v = le ? data[2 * i]! | (data[2 * i + 1]! << 8) : (data[2 * i]! << 8) | data[2 * i + 1]!;
    out.fill(Math.min(v, 255), o, o + 3);
  }
  return out;
}

/** Raw libvips output (1–4 channels, or CMYK) → interleaved RGB, as Pillow's `convert('RGB')`. */
export function rawToRgb(data: Uint8Array, pixels: number, channels: number, isCmyk: boolean): Uint8Array {
  if (isCmyk && channels === 4) return cmykToRgbPillow(data, pixels);
  if (channels === 3) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return toRgb(data, pixels, channels);
}

/** Grayscale → replicated, gray+alpha → replicated without alpha, RGBA → RGB without compositing. */
function toRgb(src: Uint8Array, pixels: number, channels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  if (channels === 1 || channels === 2) {
    for (let i = 0, j = 0, o = 0; i < pixels; i++, j += channels, o += 3) {
      const g = src[j]!;
      out[o] = g;
      out[o + 1] = g;
      out[o + 2] = g;
    }
  } else {
    for (let i = 0, j = 0, o = 0; i < pixels; i++, j += channels, o += 3) {
      out[o] = src[j]!;
      out[o + 1] = src[j + 1]!;
      out[o + 2] = src[j + 2]!;
    }
  }
  return out;
}
