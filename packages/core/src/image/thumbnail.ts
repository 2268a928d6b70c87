/**
 * Small WebP previews for the curation board, made inside a decoder process (see PreprocessPool.thumbnail) with the
 * same guards as classification: the format sniffed from the bytes, the pixel limit checked on the header before any
 * pixel is allocated, SVGs checked for complexity and rendered at a bounded size, truncated JPEGs refused, and
 * BMP/ICO/CUR/Netpbm/TGA read by the engine's own decoders. Unlike classification, alpha is kept (a transparent
 * icon stays transparent on the board) and colour is managed by libvips as for any display.
 */
import type sharpType from 'sharp';
import { DEFAULT_MAX_PIXELS, decodeError, decodeImage, failingOnTruncation, probeImage, sharp } from './decode.js';

export interface ThumbnailOptions {
  /** Longest side in pixels (an image smaller than this is not enlarged). */
  size: number;
  maxPixels?: number;
}

export interface Thumbnail {
  webp: Uint8Array;
  width: number;
  height: number;
  /** The source's format, as sniffed. */
  format: string;
}

const WEBP = { quality: 72, effort: 2 } as const;

async function encode(pipeline: sharpType.Sharp, size: number, format: string): Promise<Thumbnail> {
  const { data, info } = await pipeline
    .resize(size, size, { fit: 'inside', withoutEnlargement: true })
    .webp(WEBP)
    .toBuffer({ resolveWithObject: true });
  return { webp: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, format };
}

/** BMP/DIB, ICO/CUR, Netpbm, TGA: the engine's decoders (pixel limit checked on their headers), then sharp on raw RGB. */
async function builtinThumbnail(bytes: Uint8Array, name: string, format: string, o: ThumbnailOptions): Promise<Thumbnail> {
  const img = await decodeImage(bytes, name, o.maxPixels !== undefined ? { maxPixels: o.maxPixels } : {});
  const raw = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return encode(sharp(raw, { raw: { width: img.width, height: img.height, channels: 3 } }), o.size, format);
}

/** Decodes `bytes` (a file called `name`) and encodes a WebP whose longest side is at most `size`. */
export async function makeThumbnail(bytes: Uint8Array, name: string, o: ThumbnailOptions): Promise<Thumbnail> {
  const maxPixels = o.maxPixels ?? DEFAULT_MAX_PIXELS;
  // The header checks of a decode: pixel limit, SVG complexity and render density (IMAGE_TOO_COMPLEX).
  const probe = await probeImage(bytes, name, maxPixels);
  if (probe.builtin) return builtinThumbnail(bytes, name, probe.format, o);
  const { format, input, density } = probe;
  try {
    return await failingOnTruncation(format, (failOn) =>
      encode(
        sharp(input, {
          limitInputPixels: maxPixels,
          pages: 1,
          failOn,
          sequentialRead: true,
          ...(density !== undefined ? { density } : {}),
        }).autoOrient(),
        o.size,
        format,
      ),
    );
  } catch (e) {
    throw decodeError(format, name, e);
  }
}

/**
 * The size of a WebP from its first 30 bytes (lossy `VP8 `, lossless `VP8L`, extended `VP8X`), or undefined when
 * the bytes are not a WebP this understands. Lets a cached thumbnail be described without decoding it.
 */
export function webpSize(b: Uint8Array): { width: number; height: number } | undefined {
  if (b.length < 30) return undefined;
  const tag = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (tag(0, 4) !== 'RIFF' || tag(8, 12) !== 'WEBP') return undefined;
  const u16 = (i: number) => b[i]! | (b[i + 1]! << 8);
  const u24 = (i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
  switch (tag(12, 16)) {
    case 'VP8 ':
      return { width: u16(26) & 0x3fff, height: u16(28) & 0x3fff };
    case 'VP8L': {
      const bits = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    case 'VP8X':
      return { width: u24(24) + 1, height: u24(27) + 1 };
    default:
      return undefined;
  }
}
