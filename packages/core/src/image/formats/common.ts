/**
 * Shared pieces of the built-in decoders (BMP/DIB, ICO/CUR, Netpbm, TGA): bounds-checked little-endian reads,
 * a decode error that decode.ts turns into DECODE_FAILED, and Pillow's palette conventions.
 */
import type { RgbImage } from '../resize.js';

/** A malformed or truncated file. decode.ts reports it as DECODE_FAILED with this message. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

/**
 * Called once the header is parsed and before any pixel buffer is allocated: throws IMAGE_TOO_LARGE /
 * IMAGE_TOO_SMALL. Decoders must call it before allocating width × height anything.
 */
export type SizeCheck = (width: number, height: number) => void;

/** Throws a FormatError unless `b` holds bytes up to `end` (exclusive). */
export function need(b: Uint8Array, end: number, what: string): void {
  if (!(end <= b.length)) throw new FormatError(`truncated: ${what} ends at byte ${end}, the file has ${b.length}`);
}

export function u16le(b: Uint8Array, o: number): number {
  need(b, o + 2, 'header field');
  return b[o]! | (b[o + 1]! << 8);
}

export function u32le(b: Uint8Array, o: number): number {
  need(b, o + 4, 'header field');
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}

/**
 * A 256-entry RGB palette as Pillow initialises one: a gray ramp (entry i = i,i,i), overwritten by the entries the
 * file provides. `entrySize` bytes per entry in B,G,R(,X) order; entries past the end of the file keep the ramp.
 */
export function bgrPalette(b: Uint8Array, start: number, count: number, entrySize: number): Uint8Array {
  const pal = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) pal.fill(i, i * 3, i * 3 + 3);
  const n = Math.min(count, 256);
  for (let i = 0; i < n; i++) {
    const o = start + i * entrySize;
    if (o + 3 > b.length) break;
    pal[i * 3] = b[o + 2]!;
    pal[i * 3 + 1] = b[o + 1]!;
    pal[i * 3 + 2] = b[o]!;
  }
  return pal;
}

/** Palette indices → RGB. */
export function applyPalette(indices: Uint8Array, pal: Uint8Array, width: number, height: number): RgbImage {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const p = indices[i]! * 3;
    data[o] = pal[p]!;
    data[o + 1] = pal[p + 1]!;
    data[o + 2] = pal[p + 2]!;
  }
  return { data, width, height };
}

/** Pillow's `BGR;15` unpacker (5-5-5, little-endian, `v * 255 / 31` truncated): writes R,G,B at `out[o]`. */
export function unpack555(out: Uint8Array, o: number, lo: number, hi: number): void {
  const p = lo | (hi << 8);
  out[o] = Math.trunc((((p >> 10) & 31) * 255) / 31);
  out[o + 1] = Math.trunc((((p >> 5) & 31) * 255) / 31);
  out[o + 2] = Math.trunc(((p & 31) * 255) / 31);
}

/** Pillow's `BGR;16` unpacker (5-6-5). */
export function unpack565(out: Uint8Array, o: number, lo: number, hi: number): void {
  const p = lo | (hi << 8);
  out[o] = Math.trunc((((p >> 11) & 31) * 255) / 31);
  out[o + 1] = Math.trunc((((p >> 5) & 63) * 255) / 63);
  out[o + 2] = Math.trunc(((p & 31) * 255) / 31);
}

/** Mirrors image rows in place (horizontal flip). */
export function flipHorizontal(img: RgbImage): void {
  const { data, width, height } = img;
  for (let y = 0; y < height; y++) {
    let l = y * width * 3;
    let r = l + (width - 1) * 3;
    for (; l < r; l += 3, r -= 3) {
      for (let c = 0; c < 3; c++) {
        const t = data[l + c]!;
        data[l + c] = data[r + c]!;
        data[r + c] = t;
      }
    }
  }
}
