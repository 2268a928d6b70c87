/**
 * ICO and CUR: the frame Pillow 9.4 picks, then its pixels. ICO (IcoImagePlugin): the largest frame by
 * width × height, ties broken by colour depth, then by the later entry. CUR (CurImagePlugin): the first entry,
 * replaced by any later one that is both wider and taller. A frame is a PNG (returned for sharp to decode) or a DIB
 * whose stored height counts the AND mask too (halved); the AND mask and 32-bit alpha are dropped by convert('RGB').
 * (Pillow's CUR reader cannot open PNG frames; here they decode like ICO's.)
 */
import type { RgbImage } from '../resize.js';
import { decodeDib, parseDibHeader } from './bmp.js';
import { FormatError, need, type SizeCheck, u16le, u32le } from './common.js';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

interface IcoEntry {
  width: number;
  height: number;
  rawWidth: number;
  rawHeight: number;
  colorDepth: number;
  offset: number;
  size: number;
}

/** True for a CUR header (type 2) with at least one entry (a TGA can also start 00 00 02 00, with a zero count). */
export function isCur(b: Uint8Array): boolean {
  return b.length >= 6 && b[0] === 0 && b[1] === 0 && b[2] === 2 && b[3] === 0 && (b[4] !== 0 || b[5] !== 0);
}

function readEntries(b: Uint8Array): IcoEntry[] {
  const count = u16le(b, 4);
  if (count === 0) throw new FormatError('the icon file holds no images');
  need(b, 6 + 16 * count, 'icon directory');
  const entries: IcoEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e = 6 + 16 * i;
    const [w, h, nbColor] = [b[e]!, b[e + 1]!, b[e + 2]!];
    const bpp = u16le(b, e + 6);
    entries.push({
      width: w || 256,
      height: h || 256,
      rawWidth: w,
      rawHeight: h,
      colorDepth: bpp || (nbColor !== 0 ? Math.ceil(Math.log2(nbColor)) : 0) || 256,
      size: u32le(b, e + 8),
      offset: u32le(b, e + 12),
    });
  }
  return entries;
}

/** Pillow's choice: stable sort by colour depth, then by area, reversed; its first entry. */
function pickIco(entries: IcoEntry[]): IcoEntry {
  const sorted = [...entries].sort((a, c) => a.colorDepth - c.colorDepth);
  sorted.sort((a, c) => a.width * a.height - c.width * c.height);
  return sorted[sorted.length - 1]!;
}

/** CurImagePlugin's choice: compares the raw directory bytes, so a 0 (= 256) width never wins. */
function pickCur(entries: IcoEntry[]): IcoEntry {
  let m = entries[0]!;
  for (const e of entries.slice(1)) if (e.rawWidth > m.rawWidth && e.rawHeight > m.rawHeight) m = e;
  return m;
}

export type IcoFrame = { png: Uint8Array } | { rgb: RgbImage };

/** The chosen frame of an ICO (`cur` false) or CUR file. */
export function decodeIco(b: Uint8Array, cur: boolean, check: SizeCheck): IcoFrame {
  const entries = readEntries(b);
  const entry = cur ? pickCur(entries) : pickIco(entries);
  const at = entry.offset;
  need(b, at + 8, 'icon image');
  if (PNG_MAGIC.every((v, i) => b[at + i] === v)) {
    const end = entry.size > 0 && at + entry.size <= b.length ? at + entry.size : b.length;
    return { png: b.subarray(at, end) };
  }
  const hdr = parseDibHeader(b, at);
  const dib = { ...hdr, height: Math.trunc(hdr.height / 2) };
  if (dib.height <= 0) throw new FormatError(`invalid icon bitmap height ${hdr.height}`);
  return { rgb: decodeDib(b, dib, 0, check) };
}
