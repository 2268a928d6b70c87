/**
 * The built-in decoders for formats Pillow reads and libvips does not (BMP/DIB, ICO/CUR, Netpbm, TGA), and the
 * byte-level detection that names them and tells HEIC (HEVC) from AVIF.
 */
import { extensionOf } from '@image-classifier/protocol/formats';
import type { RgbImage } from '../resize.js';
import { decodeBmp } from './bmp.js';
import { FormatError, type SizeCheck } from './common.js';
import { decodeIco, type IcoFrame, isCur } from './ico.js';
import { decodePnm, isPnm } from './pnm.js';
import { decodeTga, looksLikeTga, TGA_EXTENSIONS } from './tga.js';

export { FormatError, type SizeCheck } from './common.js';
export type { IcoFrame } from './ico.js';

/** Format ids decoded here rather than by sharp. */
export const BUILTIN_FORMATS: ReadonlySet<string> = new Set(['bmp', 'ico', 'cur', 'pnm', 'tga']);

/** Detection for the built-in formats that other signatures do not cover: CUR and Netpbm by bytes, TGA by header. */
export function sniffBuiltin(b: Uint8Array, name?: string): string | undefined {
  if (isCur(b)) return 'cur';
  if (isPnm(b)) return 'pnm';
  if (looksLikeTga(b) || (name !== undefined && TGA_EXTENSIONS.includes(extensionOf(name)) && b.length >= 18)) return 'tga';
  return undefined;
}

/** Decodes a built-in format to RGB (or, for an ICO whose chosen frame is a PNG, hands back those bytes). */
export function decodeBuiltin(format: string, b: Uint8Array, check: SizeCheck): IcoFrame {
  const rgb = (img: RgbImage): IcoFrame => ({ rgb: img });
  switch (format) {
    case 'bmp':
      return rgb(decodeBmp(b, check));
    case 'pnm':
      return rgb(decodePnm(b, check));
    case 'tga':
      return rgb(decodeTga(b, check));
    case 'ico':
    case 'cur':
      return decodeIco(b, format === 'cur', check);
    default:
      throw new FormatError(`no built-in decoder for ${format}`);
  }
}

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEVC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

function contains(b: Uint8Array, needle: string, limit: number): boolean {
  const n = Buffer.from(needle, 'latin1');
  return Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, limit)).includes(n);
}

/**
 * For a file with an ISO-BMFF `ftyp` box: 'heic' when its pictures are HEVC (brands heic/heix/hevc/heim/heis/hevm…,
 * or the generic mif1/msf1 with an `hvcC` configuration and no `av1C`), 'heif' otherwise (AVIF, which sharp reads).
 */
export function heifKind(b: Uint8Array): 'heic' | 'heif' {
  const boxSize = (b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!;
  const end = Math.min(b.length, Math.max(boxSize, 16));
  const brands = [fourcc(b, 8)];
  for (let p = 16; p + 4 <= end; p += 4) brands.push(fourcc(b, p));
  if (brands.some((x) => AVIF_BRANDS.has(x))) return 'heif';
  if (brands.some((x) => HEVC_BRANDS.has(x))) return 'heic';
  if (brands.includes('mif1') || brands.includes('msf1')) {
    const limit = 1 << 16;
    if (contains(b, 'hvcC', limit) && !contains(b, 'av1C', limit)) return 'heic';
  }
  return 'heif';
}
