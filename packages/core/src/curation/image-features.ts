/**
 * What curation needs from the pixels, from one decode through the format table's decoders (decode.ts's probe: the
 * format sniffed from the bytes, the pixel limit and SVG checks on the header; libvips for its formats with EXIF
 * orientation applied and truncated JPEGs refused, the built-in decoders for BMP/ICO/CUR/Netpbm/TGA), so every
 * image classify reads is curated and a refused one gets classify's error code: the SHA-256 of
 * the file bytes and of the decoded pixels (exact duplicates), a 64-bit DCT perceptual hash of a 32×32 grayscale
 * thumbnail (near duplicates) and cleanvision's image properties computed from small thumbnails (quality).
 */
import { createHash } from 'node:crypto';
import { formatIdsDecodedBy } from '@image-classifier/protocol/formats';
import { DEFAULT_MAX_PIXELS, decodeError, decodeImage, failingOnTruncation, probeImage, sharp, sniffFormat } from '../image/decode.js';
import { perceptualHash } from './phash.js';
import { type ImageProperties, imageProperties } from './quality.js';

export interface ImageFeatures {
  bytesSha256: string;
  pixelsSha256: string;
  /** 64-bit pHash as 16 hex digits. */
  phash: string;
  width: number;
  height: number;
  properties: ImageProperties;
}

async function thumbnail(raw: Buffer, w: number, h: number, c: number, size: number, fit: 'fill' | 'inside', gray: boolean) {
  let p = sharp(raw, { raw: { width: w, height: h, channels: c as 1 | 2 | 3 | 4 } }).resize(size, size, {
    fit,
    kernel: 'lanczos3',
    withoutEnlargement: fit === 'inside',
  });
  p = gray ? p.grayscale() : p.removeAlpha().toColourspace('srgb');
  const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
    channels: info.channels,
  };
}

/** True when every pixel has equal colour channels (or the image has one). */
function isGrayscale(raw: Buffer, pixels: number, channels: number): boolean {
  if (channels < 3) return true;
  for (let i = 0, o = 0; i < pixels; i++, o += channels) {
    if (raw[o] !== raw[o + 1] || raw[o] !== raw[o + 2]) return false;
  }
  return true;
}

/** Formats libvips decodes whose header needs no check before the decode (`limitInputPixels` refuses bombs). */
const SHARP_DIRECT = new Set([...formatIdsDecodedBy('sharp')].filter((f) => f !== 'svg'));

/** The decoded pixels features are computed on: 8-bit samples, 1–4 channels, EXIF orientation applied. */
async function decodePixels(bytes: Buffer, maxPixels: number, name: string) {
  let format = bytes.length ? sniffFormat(bytes, name) : 'empty';
  let input = bytes;
  let density: number | undefined;
  if (!SHARP_DIRECT.has(format)) {
    // Empty, unknown and unsupported files, SVG (complexity, render density) and the built-in formats: decode.ts's
    // probe, with classify's errors.
    const probe = await probeImage(bytes, name, maxPixels);
    if (probe.builtin) {
      // BMP/ICO/CUR/Netpbm/TGA: the engine's decoders (RGB).
      const img = await decodeImage(bytes, name, { maxPixels });
      const raw = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
      return { data: raw, info: { width: img.width, height: img.height, channels: 3 } };
    }
    ({ format, input, density } = probe);
  }
  try {
    return await failingOnTruncation(format, (failOn) =>
      sharp(input, { limitInputPixels: maxPixels, pages: 1, failOn, ...(density !== undefined ? { density } : {}) })
        .autoOrient()
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true }),
    );
  } catch (e) {
    throw decodeError(format, name, e);
  }
}

/**
 * Decodes `bytes` (a file called `name`) once and computes the hashes and properties; throws the decoders' typed
 * errors (EMPTY_FILE, UNSUPPORTED_FORMAT, DECODE_FAILED, IMAGE_TOO_LARGE…) for an unreadable image.
 */
export async function imageFeatures(bytes: Buffer, maxPixels = DEFAULT_MAX_PIXELS, name = 'image'): Promise<ImageFeatures> {
  const bytesSha256 = createHash('sha256').update(bytes).digest('hex');
  const { data: raw, info } = await decodePixels(bytes, maxPixels, name);
  const { width, height, channels } = info;
  const pixelsSha256 = createHash('sha256').update(`${width}x${height}x${channels};`).update(raw).digest('hex');
  const [hashThumb, colour, blur] = await Promise.all([
    thumbnail(raw, width, height, channels, 32, 'fill', true),
    thumbnail(raw, width, height, channels, 256, 'inside', false),
    thumbnail(raw, width, height, channels, 64, 'inside', true),
  ]);
  const properties = imageProperties(colour, blur, width, height, isGrayscale(raw, width * height, channels));
  return { bytesSha256, pixelsSha256, phash: perceptualHash(hashThumb.data), width, height, properties };
}
