/**
 * Netpbm P1–P6, read as Pillow 9.4's PpmImagePlugin reads them, then `convert('RGB')`:
 * - P1/P4 bitmaps: 1 is black, 0 is white.
 * - P2/P5 graymaps: maxval 255 as is; maxval < 255 scaled to 0–255 (`round(v / maxval * 255)`); maxval > 255 becomes
 *   mode `I` (maxval 65535 read as is, others scaled to 0–65535), and `convert('RGB')` CLIPS `I` to 0–255.
 * - P3/P6 pixmaps: maxval 255 as is, any other maxval scaled to 0–255.
 * Plain (ASCII) files follow Pillow's PpmPlainDecoder: a comment is cut out with its line end (joining the text
 * around it), tokens above maxval are errors, too few samples is an error.
 */
import type { RgbImage } from '../resize.js';
import { FormatError, need, type SizeCheck } from './common.js';

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

/** True for the bytes of a P1–P6 file: `P`, a digit 1–6, whitespace. */
export function isPnm(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0x50 && b[1]! >= 0x31 && b[1]! <= 0x36 && WHITESPACE.has(b[2]!);
}

/** Python's round() for non-negative values: half to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Pillow's `_read_token`: skips leading whitespace and `#` comments; consumes the one whitespace that ends it. */
function readToken(b: Uint8Array, pos: { p: number }): number {
  let token = '';
  while (token.length <= 10) {
    if (pos.p >= b.length) break;
    const c = b[pos.p++]!;
    if (WHITESPACE.has(c)) {
      if (!token) continue;
      break;
    }
    if (c === 0x23) {
      while (pos.p < b.length) {
        const d = b[pos.p++]!;
        if (d === 0x0a || d === 0x0d) break;
      }
      continue;
    }
    token += String.fromCharCode(c);
  }
  if (!token) throw new FormatError('reached the end of the file while reading the Netpbm header');
  if (token.length > 10 || !/^\d+$/.test(token)) throw new FormatError(`invalid Netpbm header token "${token.slice(0, 12)}"`);
  return Number(token);
}

export function decodePnm(b: Uint8Array, check: SizeCheck): RgbImage {
  if (!isPnm(b)) throw new FormatError('not a Netpbm file');
  const kind = b[1]! - 0x30;
  const pos = { p: 3 };
  const width = readToken(b, pos);
  const height = readToken(b, pos);
  const bitmap = kind === 1 || kind === 4;
  const maxval = bitmap ? 1 : readToken(b, pos);
  if (!(maxval > 0 && maxval < 65536)) throw new FormatError('maxval must be greater than 0 and less than 65536');
  if (width <= 0 || height <= 0) throw new FormatError(`invalid Netpbm size ${width}×${height}`);
  check(width, height);
  const bands = kind === 3 || kind === 6 ? 3 : 1;
  const n = width * height;
  let samples: Uint8Array;
  if (kind === 4) samples = readRawBitmap(b, pos.p, width, height);
  else if (kind === 1) samples = readPlainBitmap(b, pos.p, n);
  else {
    // Mode I (a graymap with maxval > 255) scales to 0–65535, then convert('RGB') clips to 255.
    const outMax = bands === 1 && maxval > 255 ? 65535 : 255;
    const scale = (v: number) => {
      if (maxval === outMax) return v;
      return Math.min(outMax, roundHalfEven((v / maxval) * outMax));
    };
    const values = kind <= 3 ? readPlainSamples(b, pos.p, n * bands, maxval) : readRawSamples(b, pos.p, n * bands, maxval);
    samples = new Uint8Array(n * bands);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.min(255, scale(values[i]!));
  }
  if (bands === 3) return { data: samples, width, height };
  const data = new Uint8Array(n * 3);
  for (let i = 0, o = 0; i < n; i++, o += 3) data.fill(samples[i]!, o, o + 3);
  return { data, width, height };
}

function readRawBitmap(b: Uint8Array, at: number, w: number, h: number): Uint8Array {
  const rowBytes = Math.ceil(w / 8);
  need(b, at + rowBytes * h, 'PBM pixel data');
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = at + y * rowBytes;
    for (let x = 0; x < w; x++) out[y * w + x] = (b[row + (x >> 3)]! >> (7 - (x & 7))) & 1 ? 0 : 255;
  }
  return out;
}

function readRawSamples(b: Uint8Array, at: number, count: number, maxval: number): Uint16Array | Uint8Array {
  if (maxval < 256) {
    need(b, at + count, 'Netpbm pixel data');
    return b.subarray(at, at + count);
  }
  need(b, at + count * 2, 'Netpbm pixel data');
  const out = new Uint16Array(count);
  for (let i = 0, p = at; i < count; i++, p += 2) out[i] = (b[p]! << 8) | b[p + 1]!;
  return out;
}

/** The plain formats' text with comments cut out the way PpmPlainDecoder cuts them (with their line end). */
function plainText(b: Uint8Array, at: number): string {
  const text = Buffer.from(b.buffer, b.byteOffset + at, b.byteLength - at).toString('latin1');
  return text.replace(/#[^\n\r]*(\r\n?|\n)?/g, (m) => (m.endsWith('\r\n') ? '\n' : ''));
}

function readPlainBitmap(b: Uint8Array, at: number, count: number): Uint8Array {
  const digits = plainText(b, at).replace(/[ \t\n\v\f\r]+/g, '');
  const out = new Uint8Array(count);
  const n = Math.min(count, digits.length);
  for (let i = 0; i < n; i++) {
    const c = digits.charCodeAt(i);
    if (c !== 0x30 && c !== 0x31) throw new FormatError(`invalid token for a plain PBM: "${digits[i]}"`);
    out[i] = c === 0x31 ? 0 : 255;
  }
  if (n < count) throw new FormatError(`truncated: ${n} of ${count} PBM samples`);
  return out;
}

function readPlainSamples(b: Uint8Array, at: number, count: number, maxval: number): Uint16Array {
  const out = new Uint16Array(count);
  let n = 0;
  for (const token of plainText(b, at).split(/[ \t\n\v\f\r]+/)) {
    if (n === count) break;
    if (!token) continue;
    if (token.length > 10 || !/^\d+$/.test(token)) throw new FormatError(`invalid token in a plain Netpbm file: "${token.slice(0, 12)}"`);
    const v = Number(token);
    if (v > maxval) throw new FormatError(`sample value ${v} is above maxval ${maxval}`);
    out[n++] = v;
  }
  if (n < count) throw new FormatError(`truncated: ${n} of ${count} Netpbm samples`);
  return out;
}
