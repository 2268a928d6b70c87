/**
 * What curation needs from the pixels, from one decode with sharp (libvips; EXIF orientation applied): the SHA-256 of
 * the file bytes and of the decoded pixels (exact duplicates), a 64-bit DCT perceptual hash of a 32×32 grayscale
 * thumbnail (near duplicates) and cleanvision's image properties computed from small thumbnails (quality).
 */
import { createHash } from 'node:crypto';
import { DEFAULT_MAX_PIXELS, sharp } from '../image/decode.js';
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

/** Decodes `bytes` once and computes the hashes and properties; throws sharp's error for an unreadable image. */
export async function imageFeatures(bytes: Buffer, maxPixels = DEFAULT_MAX_PIXELS): Promise<ImageFeatures> {
  const bytesSha256 = createHash('sha256').update(bytes).digest('hex');
  const { data: raw, info } = await sharp(bytes, { limitInputPixels: maxPixels, pages: 1, failOn: 'error' })
    .autoOrient()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
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
