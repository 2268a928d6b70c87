/**
 * Truevision TGA, read as Pillow 9.4's TgaImagePlugin reads it, then `convert('RGB')`: color-mapped (8-bit indices,
 * 16/24/32-bit palettes), true-color 16-bit (5-5-5), 24-bit BGR, 32-bit BGRA (alpha dropped), grayscale 8-bit and
 * 16-bit (gray + alpha), 1-bit; uncompressed or RLE; bottom-up (the default) or top-down, and mirrored when the
 * right-to-left bit is set. One deliberate leniency: Pillow's TgaRleDecode lets literal packets cross rows but
 * refuses a run packet that does (IMAGING_CODEC_OVERRUN); here both may, as the TGA specification and most readers
 * allow, so such files decode instead of failing (PyTorch has no reference for them).
 */
import type { RgbImage } from '../resize.js';
import { applyPalette, FormatError, flipHorizontal, need, type SizeCheck, u16le, unpack555 } from './common.js';

/** File extensions Pillow registers for TGA. */
export const TGA_EXTENSIONS = ['.tga', '.icb', '.vda', '.vst'];

const DEPTHS: Record<string, number[]> = { '1': [8], '2': [16, 24, 32], '3': [1, 8, 16] };

/**
 * TGA has no magic number. Pillow tries it last, on its header fields; this asks for the fields Pillow checks plus
 * a decodable type/depth pair and a sane colour-map spec, which random bytes and text never pass in practice.
 */
export function looksLikeTga(b: Uint8Array): boolean {
  if (b.length < 18) return false;
  const [cmapType, type, depth, flags] = [b[1]!, b[2]!, b[16]!, b[17]!];
  if (cmapType > 1 || !DEPTHS[String(type & 7)]?.includes(depth) || ![1, 2, 3, 9, 10, 11].includes(type)) return false;
  if (u16le(b, 12) === 0 || u16le(b, 14) === 0 || flags & 0xc0) return false;
  if (cmapType === 1) return [16, 24, 32].includes(b[7]!);
  return (type & 7) !== 1 && b[3] === 0 && b[4] === 0 && b[5] === 0 && b[6] === 0 && b[7] === 0;
}

interface TgaHeader {
  width: number;
  height: number;
  type: number;
  depth: number;
  flags: number;
  palette?: Uint8Array;
  dataStart: number;
}

function readHeader(b: Uint8Array): TgaHeader {
  need(b, 18, 'TGA header');
  const [idLen, cmapType, type, depth, flags] = [b[0]!, b[1]!, b[2]!, b[16]!, b[17]!];
  const width = u16le(b, 12);
  const height = u16le(b, 14);
  if (cmapType > 1 || width <= 0 || height <= 0 || ![1, 8, 16, 24, 32].includes(depth)) throw new FormatError('not a TGA file');
  if (![1, 2, 3, 9, 10, 11].includes(type)) throw new FormatError(`unknown TGA image type ${type}`);
  if (!DEPTHS[String(type & 7)]!.includes(depth)) throw new FormatError(`unsupported TGA depth ${depth} for image type ${type}`);
  let p = 18 + idLen;
  let palette: Uint8Array | undefined;
  if (cmapType) {
    const [start, size, mapDepth] = [u16le(b, 3), u16le(b, 5), b[7]!];
    if ([16, 24, 32].includes(mapDepth)) {
      const entry = mapDepth / 8;
      palette = tgaPalette(b, p, start, size, mapDepth);
      p += entry * size;
    }
  }
  if ((type & 7) === 1 && !palette) throw new FormatError('a color-mapped TGA without a color map');
  return { width, height, type, depth, flags, palette, dataStart: p };
}

/** Pillow's `ImagePalette.raw('BGR;15' | 'BGR' | 'BGRA', b'\0' * start * entry + entries)` over a gray ramp. */
function tgaPalette(b: Uint8Array, at: number, start: number, size: number, mapDepth: number): Uint8Array {
  const pal = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) pal.fill(i, i * 3, i * 3 + 3);
  const entry = mapDepth / 8;
  for (let i = 0; i < Math.min(start, 256); i++) pal.fill(0, i * 3, i * 3 + 3);
  for (let i = 0; i < size && start + i < 256; i++) {
    const o = at + i * entry;
    if (o + entry > b.length) break;
    const d = (start + i) * 3;
    if (mapDepth === 16) unpack555(pal, d, b[o]!, b[o + 1]!);
    else [pal[d], pal[d + 1], pal[d + 2]] = [b[o + 2]!, b[o + 1]!, b[o]!];
  }
  return pal;
}

export function decodeTga(b: Uint8Array, check: SizeCheck): RgbImage {
  const h = readHeader(b);
  check(h.width, h.height);
  const bytesPerPixel = Math.max(1, h.depth >> 3);
  const pixels = h.width * h.height;
  const stream =
    h.type & 8
      ? rleExpand(b, h.dataStart, pixels, bytesPerPixel)
      : b.subarray(h.dataStart, h.dataStart + Math.ceil((pixels * h.depth) / 8));
  if (!(h.type & 8)) need(b, h.dataStart + rowBytes(h) * h.height, 'TGA pixel data');
  // Rows are stored bottom-up unless bit 5 of the descriptor is set.
  const topDown = (h.flags & 0x20) !== 0;
  const img = toRgb(stream, h, topDown);
  if (h.flags & 0x10) flipHorizontal(img);
  return img;
}

function rowBytes(h: TgaHeader): number {
  return h.depth === 1 ? Math.ceil(h.width / 8) : h.width * (h.depth >> 3);
}

/** TGA RLE: a packet header (bit 7: run, else literal; low 7 bits: count − 1), pixels flowing across rows. */
function rleExpand(b: Uint8Array, at: number, pixels: number, bpp: number): Uint8Array {
  const out = new Uint8Array(pixels * bpp);
  const total = out.length;
  let o = 0;
  let p = at;
  while (o < total) {
    if (p >= b.length) throw new FormatError(`truncated: the RLE data ends after ${o / bpp} of ${pixels} pixels`);
    const head = b[p++]!;
    const count = (head & 0x7f) + 1;
    const n = Math.min(count * bpp, total - o);
    if (head & 0x80) {
      need(b, p + bpp, 'TGA RLE packet');
      for (let i = 0; i < n; i++) out[o + i] = b[p + (i % bpp)]!;
      p += bpp;
    } else {
      need(b, p + count * bpp, 'TGA RLE packet');
      out.set(b.subarray(p, p + n), o);
      p += count * bpp;
    }
    o += n;
  }
  return out;
}

function toRgb(s: Uint8Array, h: TgaHeader, topDown: boolean): RgbImage {
  const { width: w, height: ht, depth } = h;
  const kind = h.type & 7;
  const stride = depth === 1 ? Math.ceil(w / 8) : w * (depth >> 3);
  if (kind === 1) {
    const idx = new Uint8Array(w * ht);
    for (let y = 0; y < ht; y++) idx.set(s.subarray(y * stride, y * stride + w), (topDown ? y : ht - 1 - y) * w);
    return applyPalette(idx, h.palette!, w, ht);
  }
  const data = new Uint8Array(w * ht * 3);
  for (let y = 0; y < ht; y++) {
    const row = y * stride;
    let o = (topDown ? y : ht - 1 - y) * w * 3;
    for (let x = 0; x < w; x++, o += 3) {
      if (kind === 2 && depth === 16) unpack555(data, o, s[row + 2 * x]!, s[row + 2 * x + 1]!);
      else if (kind === 2) {
        const q = row + x * (depth >> 3);
        data[o] = s[q + 2]!;
        data[o + 1] = s[q + 1]!;
        data[o + 2] = s[q]!;
      } else {
        const g = depth === 1 ? ((s[row + (x >> 3)]! >> (7 - (x & 7))) & 1) * 255 : s[row + x * (depth >> 3)]!;
        data.fill(g, o, o + 3);
      }
    }
  }
  return { data, width: w, height: ht };
}
