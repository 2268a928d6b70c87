/**
 * BMP and DIB (also the bitmap frames of ICO/CUR), read as Pillow 9.4's BmpImagePlugin reads them, then
 * `convert('RGB')`: 1/4/8-bit palette (a gray ramp past the file's entries), RLE4/RLE8 (Pillow's BmpRleDecoder,
 * quirks included), 16-bit 5-5-5 (BI_RGB) or 5-6-5/5-5-5 (BI_BITFIELDS), 24-bit BGR, 32-bit BGRX (BI_RGB: the fourth
 * byte ignored) and the byte-aligned BI_BITFIELDS layouts Pillow accepts (alpha dropped), bottom-up or top-down.
 * Headers of 12, 40, 64, 108 and 124 bytes as Pillow, plus the rare 52/56-byte (v2/v3) ones it refuses.
 * Not mirrored: Pillow's mode-"1"/"L" shortcut for gray palettes, which only differs from the palette lookup done
 * here when the palette size disagrees with the bit depth.
 */
import type { RgbImage } from '../resize.js';
import { applyPalette, bgrPalette, FormatError, need, type SizeCheck, u16le, u32le, unpack555, unpack565 } from './common.js';

const RAW = 0;
const RLE8 = 1;
const RLE4 = 2;
const BITFIELDS = 3;

export interface DibHeader {
  width: number;
  height: number;
  bits: number;
  compression: number;
  /** +1 top-down, -1 bottom-up (Pillow's `direction`). */
  direction: 1 | -1;
  colors: number;
  /** Bytes per palette entry: 3 (OS/2 v1) or 4. */
  paletteEntry: number;
  masks?: [number, number, number, number];
  /** Where the palette (or, without one, the pixels) starts: after the header and any separate bitfield masks. */
  afterHeader: number;
}

/** Parses the DIB header (BITMAPCOREHEADER / BITMAPINFOHEADER and its v2–v5 extensions) at `at`. */
export function parseDibHeader(b: Uint8Array, at: number): DibHeader {
  const size = u32le(b, at);
  const h = at + 4;
  need(b, at + size, 'BMP header');
  let afterHeader = at + size;
  if (size === 12) {
    const bits = u16le(b, h + 6);
    return {
      width: u16le(b, h),
      height: u16le(b, h + 2),
      bits,
      compression: RAW,
      direction: -1,
      colors: 1 << bits,
      paletteEntry: 3,
      afterHeader,
    };
  }
  if (![40, 52, 56, 64, 108, 124].includes(size)) throw new FormatError(`unsupported BMP header type (${size})`);
  const yFlip = b[h + 7] === 0xff;
  const rawHeight = u32le(b, h + 4);
  const bits = u16le(b, h + 10);
  const compression = u32le(b, h + 12);
  const colorsField = u32le(b, h + 28);
  let masks: DibHeader['masks'];
  if (compression === BITFIELDS) {
    if (size - 4 >= 52) {
      masks = [u32le(b, h + 36), u32le(b, h + 40), u32le(b, h + 44), u32le(b, h + 48)];
    } else {
      masks = [u32le(b, afterHeader), u32le(b, afterHeader + 4), u32le(b, afterHeader + 8), 0];
      afterHeader += 12;
    }
  }
  return {
    width: u32le(b, h),
    height: yFlip ? 2 ** 32 - rawHeight : rawHeight,
    bits,
    compression,
    direction: yFlip ? 1 : -1,
    colors: colorsField || 2 ** bits,
    paletteEntry: 4,
    masks,
    afterHeader,
  };
}

/** A whole .bmp file: the 14-byte file header, then a DIB whose pixels start at the file header's offset. */
export function decodeBmp(b: Uint8Array, check: SizeCheck): RgbImage {
  if (b[0] !== 0x42 || b[1] !== 0x4d) throw new FormatError('not a BMP file');
  let offset = u32le(b, 10);
  const hdr = parseDibHeader(b, 14);
  if (offset === 14 + u32le(b, 14) && hdr.bits <= 8) offset += 4 * hdr.colors;
  return decodeDib(b, hdr, offset, check);
}

type Layout = { kind: 'palette' } | { kind: '555' | '565' } | { kind: 'bytes'; r: number; g: number; b: number };

const MASK_LAYOUTS: Record<string, Layout> = {
  '32:ff0000,ff00,ff,0': { kind: 'bytes', r: 2, g: 1, b: 0 },
  '32:ff000000,ff0000,ff00,0': { kind: 'bytes', r: 3, g: 2, b: 1 },
  '32:ff000000,ff0000,ff00,ff': { kind: 'bytes', r: 3, g: 2, b: 1 },
  '32:ff,ff00,ff0000,ff000000': { kind: 'bytes', r: 0, g: 1, b: 2 },
  '32:ff0000,ff00,ff,ff000000': { kind: 'bytes', r: 2, g: 1, b: 0 },
  '32:0,0,0,0': { kind: 'bytes', r: 2, g: 1, b: 0 },
  '24:ff0000,ff00,ff': { kind: 'bytes', r: 2, g: 1, b: 0 },
  '16:f800,7e0,1f': { kind: '565' },
  '16:7c00,3e0,1f': { kind: '555' },
};

function layoutOf(hdr: DibHeader): Layout {
  const { bits, compression, masks } = hdr;
  if (![1, 4, 8, 16, 24, 32].includes(bits)) throw new FormatError(`unsupported BMP pixel depth (${bits})`);
  if (compression === BITFIELDS) {
    const m = masks!.map((v) => v.toString(16));
    const key = bits === 32 ? `32:${m.join(',')}` : `${bits}:${m.slice(0, 3).join(',')}`;
    const layout = MASK_LAYOUTS[key];
    if (!layout) throw new FormatError(`unsupported BMP bitfields layout (${bits}-bit, masks ${m.join(',')})`);
    return layout;
  }
  if (compression === RLE8 || compression === RLE4) {
    if (bits > 8) throw new FormatError(`RLE compression with ${bits}-bit pixels`);
    return { kind: 'palette' };
  }
  if (compression !== RAW) throw new FormatError(`unsupported BMP compression (${compression})`);
  if (bits <= 8) return { kind: 'palette' };
  if (bits === 16) return { kind: '555' };
  return { kind: 'bytes', r: 2, g: 1, b: 0 }; // BGR, BGRX
}

/**
 * Decodes the pixels of a parsed DIB. `pixelOffset` 0 means "right after the palette" (DIB in ICO/CUR).
 * `height` may be overridden by the caller (ICO/CUR store twice the height: XOR bitmap + AND mask).
 */
export function decodeDib(b: Uint8Array, hdr: DibHeader, pixelOffset: number, check: SizeCheck): RgbImage {
  const { width, height, bits } = hdr;
  if (width <= 0 || height <= 0) throw new FormatError(`invalid BMP size ${width}×${height}`);
  check(width, height);
  const layout = layoutOf(hdr);
  let pal: Uint8Array | undefined;
  let offset = pixelOffset;
  if (layout.kind === 'palette') {
    if (!(hdr.colors > 0 && hdr.colors <= 65536)) throw new FormatError(`unsupported BMP palette size (${hdr.colors})`);
    pal = bgrPalette(b, hdr.afterHeader, hdr.colors, hdr.paletteEntry);
    offset ||= hdr.afterHeader + hdr.colors * hdr.paletteEntry;
  } else {
    offset ||= hdr.afterHeader;
  }
  if (hdr.compression === RLE8 || hdr.compression === RLE4) {
    const indices = decodeRle(b, offset, width, height, hdr.compression === RLE4, hdr.direction);
    return applyPalette(indices, pal!, width, height);
  }
  const stride = Math.floor((width * bits + 31) / 32) * 4;
  need(b, offset + stride * (height - 1) + Math.ceil((width * bits) / 8), 'BMP pixel data');
  if (pal) return applyPalette(unpackIndices(b, offset, stride, width, height, bits, hdr.direction), pal, width, height);
  return unpackDirect(b, offset, stride, hdr, layout);
}

function unpackIndices(b: Uint8Array, offset: number, stride: number, w: number, h: number, bits: number, dir: 1 | -1): Uint8Array {
  const out = new Uint8Array(w * h);
  const mask = (1 << bits) - 1;
  const perByte = 8 / bits;
  for (let y = 0; y < h; y++) {
    const row = offset + y * stride;
    const o = (dir === 1 ? y : h - 1 - y) * w;
    if (bits === 8) {
      out.set(b.subarray(row, row + w), o);
      continue;
    }
    for (let x = 0; x < w; x++) {
      const byte = b[row + Math.floor(x / perByte)]!;
      out[o + x] = (byte >> (8 - bits - (x % perByte) * bits)) & mask;
    }
  }
  return out;
}

function unpackDirect(b: Uint8Array, offset: number, stride: number, hdr: DibHeader, layout: Layout): RgbImage {
  const { width: w, height: h, direction } = hdr;
  const data = new Uint8Array(w * h * 3);
  const bpp = hdr.bits / 8;
  for (let y = 0; y < h; y++) {
    let s = offset + y * stride;
    let o = (direction === 1 ? y : h - 1 - y) * w * 3;
    if (layout.kind === 'bytes') {
      const { r, g, b: bl } = layout;
      for (let x = 0; x < w; x++, s += bpp, o += 3) {
        data[o] = b[s + r]!;
        data[o + 1] = b[s + g]!;
        data[o + 2] = b[s + bl]!;
      }
    } else {
      const unpack = layout.kind === '565' ? unpack565 : unpack555;
      for (let x = 0; x < w; x++, s += 2, o += 3) unpack(data, o, b[s]!, b[s + 1]!);
    }
  }
  return { data, width: w, height: h };
}

/**
 * Pillow 9.4's BmpRleDecoder, byte for byte: encoded runs clipped to the row, absolute runs not; RLE4 absolute runs
 * of odd length lose their last pixel; a delta skips four bytes (two of them ignored); alignment to the file's even
 * offsets; fewer pixels than the image holds is an error ("not enough image data").
 */
function decodeRle(b: Uint8Array, start: number, w: number, h: number, rle4: boolean, dir: 1 | -1): Uint8Array {
  const total = w * h;
  const data = new Uint8Array(total);
  let n = 0; // pixels produced (may pass `total`: extra ones are dropped)
  const put = (v: number) => {
    if (n < total) data[n] = v;
    n++;
  };
  let p = start;
  let x = 0;
  while (n < total) {
    if (p + 2 > b.length) break;
    const count = b[p]!;
    const byte = b[p + 1]!;
    p += 2;
    if (count) {
      const run = x + count > w ? Math.max(0, w - x) : count;
      if (rle4) for (let i = 0; i < run; i++) put(i % 2 === 0 ? byte >> 4 : byte & 15);
      else for (let i = 0; i < run; i++) put(byte);
      x += run;
    } else if (byte === 0) {
      if (n % w !== 0) n += w - (n % w);
      x = 0;
    } else if (byte === 1) {
      break;
    } else if (byte === 2) {
      if (p + 4 > b.length) break;
      n = Math.min(n + b[p + 2]! + b[p + 3]! * w, total);
      p += 4;
      x = n % w;
    } else {
      const byteCount = rle4 ? byte >> 1 : byte;
      const avail = Math.min(byteCount, b.length - p);
      for (let i = 0; i < avail; i++) {
        const v = b[p + i]!;
        if (rle4) {
          put(v >> 4);
          put(v & 15);
        } else put(v);
      }
      p += avail;
      if (avail < byteCount) break;
      x += byte;
      if (p % 2 !== 0) p++;
    }
  }
  if (n < total) throw new FormatError(`truncated: the RLE data holds ${n} of ${total} pixels`);
  if (dir === 1) return data;
  const flipped = new Uint8Array(total);
  for (let y = 0; y < h; y++) flipped.set(data.subarray(y * w, (y + 1) * w), (h - 1 - y) * w);
  return flipped;
}
