/**
 * Encoders for the formats the engine decodes itself (BMP/DIB, ICO/CUR, Netpbm, TGA), written from the format
 * specifications so tests can build every variant and know the pixels they hold. Kept simple and explicit: these
 * are test inputs, not a product encoder.
 */

export interface Rgb {
  width: number;
  height: number;
  /** Interleaved RGB, top row first. */
  data: Uint8Array;
}

/** A deterministic pattern with gradients and edges, every channel different. */
export function pattern(width: number, height: number, seed = 0): Rgb {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = (x * 37 + y * 11 + seed) & 0xff;
      data[o + 1] = (y * 29 + (x ^ y) * 7 + seed * 3) & 0xff;
      data[o + 2] = ((x + y) % 3 === 0 ? 240 : x * y * 5 + seed) & 0xff;
    }
  }
  return { width, height, data };
}

/** Palette indices with runs (for RLE) and variety: index < `colors`. */
export function indexPattern(width: number, height: number, colors: number): Uint8Array {
  const idx = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) idx[y * width + x] = (x < width / 3 ? y : Math.floor(x / 2) + y * 3) % colors;
  }
  return idx;
}

/** `count` distinct colours, as [r, g, b]. */
export function makePalette(count: number): Array<[number, number, number]> {
  return Array.from({ length: count }, (_, i) => [(i * 67 + 13) & 0xff, (i * 151 + 90) & 0xff, (255 - i * 29) & 0xff]);
}

export function expandPalette(idx: Uint8Array, pal: Array<[number, number, number]>, width: number, height: number): Rgb {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < idx.length; i++) data.set(pal[idx[i]!]!, i * 3);
  return { width, height, data };
}

const le16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

// ---- BMP ------------------------------------------------------------------------------------------------------

export interface BmpOptions {
  topDown?: boolean;
  /** BI_BITFIELDS masks (r, g, b[, a]); with `v5` they go in a 124-byte header, otherwise after a 40-byte one. */
  masks?: number[];
  v5?: boolean;
  /** BITMAPCOREHEADER (OS/2 v1, 12 bytes, 3-byte palette entries). */
  core?: boolean;
  compression?: 'rle8' | 'rle4';
}

/** A DIB (header + palette + pixels, no file header): what ICO frames hold. `heightFactor` 2 for ICO. */
export function dib(
  width: number,
  height: number,
  bits: number,
  rows: Uint8Array[],
  palette: Array<[number, number, number]> | undefined,
  opts: BmpOptions = {},
  heightFactor = 1,
): Uint8Array {
  const compression = opts.compression === 'rle8' ? 1 : opts.compression === 'rle4' ? 2 : opts.masks ? 3 : 0;
  const storedRows = opts.topDown ? rows : [...rows].reverse();
  const pixels = opts.compression ? rle(storedRows, opts.compression === 'rle4') : concatRows(storedRows, bits, width);
  let header: number[];
  if (opts.core) {
    header = [...le32(12), ...le16(width), ...le16(height * heightFactor), ...le16(1), ...le16(bits)];
  } else {
    const size = opts.v5 ? 124 : 40;
    const h = opts.topDown ? (-height * heightFactor) >>> 0 : height * heightFactor;
    header = [...le32(size), ...le32(width), ...le32(h), ...le16(1), ...le16(bits), ...le32(compression)];
    header.push(...le32(pixels.length), ...le32(2835), ...le32(2835), ...le32(palette?.length ?? 0), ...le32(0));
    if (opts.v5) {
      const m = opts.masks ?? [0, 0, 0, 0];
      header.push(...le32(m[0]!), ...le32(m[1]!), ...le32(m[2]!), ...le32(m[3] ?? 0));
      while (header.length < 124) header.push(0);
    } else if (opts.masks) {
      header.push(...le32(opts.masks[0]!), ...le32(opts.masks[1]!), ...le32(opts.masks[2]!));
    }
  }
  const pal = (palette ?? []).flatMap(([r, g, b]) => (opts.core ? [b, g, r] : [b, g, r, 0]));
  return Uint8Array.from([...header, ...pal, ...pixels]);
}

/** A .bmp file: the 14-byte file header, then the DIB; the pixel offset points past header and palette. */
export function bmp(
  width: number,
  height: number,
  bits: number,
  rows: Uint8Array[],
  palette?: Array<[number, number, number]>,
  opts: BmpOptions = {},
): Uint8Array {
  const body = dib(width, height, bits, rows, palette, opts);
  const pixelsAt = body.length - pixelBytes(width, bits, rows, opts);
  return Uint8Array.from([0x42, 0x4d, ...le32(14 + body.length), 0, 0, 0, 0, ...le32(14 + pixelsAt), ...body]);
}

function pixelBytes(width: number, bits: number, rows: Uint8Array[], opts: BmpOptions): number {
  const stored = opts.topDown ? rows : [...rows].reverse();
  return opts.compression ? rle(stored, opts.compression === 'rle4').length : concatRows(stored, bits, width).length;
}

/** Rows of raw samples (one byte per index for ≤ 8 bits, or packed bytes for > 8) → padded BMP rows. */
function concatRows(rows: Uint8Array[], bits: number, width: number): number[] {
  const stride = Math.floor((width * bits + 31) / 32) * 4;
  const out: number[] = [];
  for (const r of rows) {
    const row = new Array<number>(stride).fill(0);
    if (bits >= 8) for (let i = 0; i < r.length; i++) row[i] = r[i]!;
    else for (let x = 0; x < width; x++) row[(x * bits) >> 3]! |= r[x]! << (8 - bits - ((x * bits) & 7));
    out.push(...row);
  }
  return out;
}

/** RLE8/RLE4 as Windows writes it: runs of equal pixels, absolute runs of ≥ 3 varied ones (word-aligned), EOL, EOB. */
function rle(rows: Uint8Array[], rle4: boolean): number[] {
  const out: number[] = [];
  for (const r of rows) {
    let x = 0;
    while (x < r.length) {
      let run = 1;
      while (x + run < r.length && r[x + run] === r[x] && run < 255) run++;
      if (run >= 2 || r.length - x < 4) {
        out.push(run, rle4 ? (r[x]! << 4) | r[x]! : r[x]!);
        x += run;
        continue;
      }
      // absolute mode: an even count for RLE4 (Pillow drops the last pixel of an odd one)
      let n = 3;
      while (x + n < r.length && n < 254 && r[x + n] !== r[x + n - 1]) n++;
      if (rle4 && n % 2) n--;
      if (n < 3) {
        out.push(1, rle4 ? r[x]! << 4 : r[x]!);
        x++;
        continue;
      }
      out.push(0, n);
      const body = rle4 ? Array.from({ length: n / 2 }, (_, i) => (r[x + 2 * i]! << 4) | r[x + 2 * i + 1]!) : [...r.subarray(x, x + n)];
      out.push(...body);
      if (body.length % 2) out.push(0);
      x += n;
    }
    out.push(0, 0);
  }
  out.push(0, 1);
  return out;
}

// ---- Netpbm ----------------------------------------------------------------------------------------------------

/** A Netpbm file. `samples`: bits (P1/P4, 1 = black), gray or RGB values ≤ maxval, top row first. */
export function netpbm(kind: 1 | 2 | 3 | 4 | 5 | 6, width: number, height: number, samples: ArrayLike<number>, maxval = 255): Uint8Array {
  const bitmap = kind === 1 || kind === 4;
  const head = `P${kind}\n# made by test-fixtures\n${width} ${height}\n${bitmap ? '' : `${maxval}\n`}`;
  const body: number[] = [];
  if (kind <= 3) {
    const per = kind === 3 ? 3 * width : width;
    const lines: string[] = [];
    for (let i = 0; i < samples.length; i += per) lines.push(Array.from({ length: per }, (_, j) => samples[i + j]).join(' '));
    return Uint8Array.from(Buffer.from(`${head}${lines.join('\n')}\n`, 'latin1'));
  }
  if (kind === 4) {
    const rowBytes = Math.ceil(width / 8);
    for (let y = 0; y < height; y++) {
      const row = new Array<number>(rowBytes).fill(0);
      for (let x = 0; x < width; x++) if (samples[y * width + x]) row[x >> 3]! |= 0x80 >> (x & 7);
      body.push(...row);
    }
  } else {
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i]!;
      if (maxval > 255) body.push(v >> 8, v & 0xff);
      else body.push(v);
    }
  }
  return Uint8Array.from([...Buffer.from(head, 'latin1'), ...body]);
}

// ---- TGA -------------------------------------------------------------------------------------------------------

export interface TgaOptions {
  rle?: boolean;
  topDown?: boolean;
  rightToLeft?: boolean;
  /** 24-bit colour map entries (image type 1/9). */
  palette?: Array<[number, number, number]>;
}

/**
 * A TGA file. `type` 1 (colour-mapped), 2 (true colour) or 3 (grayscale); `pixels` are stored samples per pixel
 * (`depth / 8` bytes each: index, B,G,R(,A), 5-5-5 little-endian, or gray(,alpha)) in display order (top row first,
 * left to right); the encoder stores them in the order the descriptor bits say.
 */
export function tga(type: 1 | 2 | 3, depth: number, width: number, height: number, pixels: Uint8Array, opts: TgaOptions = {}): Uint8Array {
  const bpp = depth >> 3;
  const rows: Uint8Array[] = [];
  for (let y = 0; y < height; y++) {
    const row = pixels.slice(y * width * bpp, (y + 1) * width * bpp);
    if (opts.rightToLeft) {
      const rev = new Uint8Array(row.length);
      for (let x = 0; x < width; x++) rev.set(row.subarray(x * bpp, (x + 1) * bpp), (width - 1 - x) * bpp);
      rows.push(rev);
    } else rows.push(row);
  }
  if (!opts.topDown) rows.reverse();
  const stream = Uint8Array.from(rows.flatMap((r) => [...r]));
  const data = opts.rle ? tgaRle(stream, bpp) : [...stream];
  const pal = opts.palette ?? [];
  const id = [...Buffer.from('test', 'latin1')];
  const flags = (opts.topDown ? 0x20 : 0) | (opts.rightToLeft ? 0x10 : 0) | (type === 2 && depth === 32 ? 8 : 0);
  const header = [id.length, pal.length ? 1 : 0, type | (opts.rle ? 8 : 0), ...le16(0), ...le16(pal.length), pal.length ? 24 : 0];
  header.push(...le16(0), ...le16(0), ...le16(width), ...le16(height), depth, flags);
  return Uint8Array.from([...header, ...id, ...pal.flatMap(([r, g, b]) => [b, g, r]), ...data]);
}

/** TGA RLE over the whole pixel stream (packets may cross rows, as many writers do). */
function tgaRle(s: Uint8Array, bpp: number): number[] {
  const out: number[] = [];
  const n = s.length / bpp;
  const same = (i: number, j: number) => s.subarray(i * bpp, i * bpp + bpp).every((v, k) => v === s[j * bpp + k]);
  let i = 0;
  while (i < n) {
    let run = 1;
    while (i + run < n && run < 128 && same(i, i + run)) run++;
    if (run > 1) {
      out.push(0x80 | (run - 1), ...s.subarray(i * bpp, i * bpp + bpp));
      i += run;
      continue;
    }
    let lit = 1;
    while (i + lit < n && lit < 128 && !(i + lit + 1 < n && same(i + lit, i + lit + 1))) lit++;
    out.push(lit - 1, ...s.subarray(i * bpp, (i + lit) * bpp));
    i += lit;
  }
  return out;
}

// ---- ICO / CUR -------------------------------------------------------------------------------------------------

export interface IconFrame {
  /** Directory width/height (0 means 256). */
  width: number;
  height: number;
  bpp: number;
  /** The frame's bytes: a DIB (with doubled height and an AND mask) or a PNG. */
  data: Uint8Array;
}

/** An ICO (`type` 1) or CUR (`type` 2) file with these frames, in this order. */
export function icon(frames: IconFrame[], type: 1 | 2 = 1): Uint8Array {
  let offset = 6 + 16 * frames.length;
  const dir: number[] = [0, 0, ...le16(type), ...le16(frames.length)];
  for (const f of frames) {
    dir.push(f.width & 0xff, f.height & 0xff, 0, 0, ...le16(1), ...le16(f.bpp), ...le32(f.data.length), ...le32(offset));
    offset += f.data.length;
  }
  return Uint8Array.from([...dir, ...frames.flatMap((f) => [...f.data])]);
}

/** A DIB icon frame: 32-bit BGRA or 8-bit palette pixels, bottom-up, followed by an all-opaque AND mask. */
export function iconDib(img: Rgb, bits: 8 | 32, palette?: Array<[number, number, number]>, indices?: Uint8Array): Uint8Array {
  const rows: Uint8Array[] = [];
  for (let y = 0; y < img.height; y++) {
    if (bits === 8) rows.push(indices!.slice(y * img.width, (y + 1) * img.width));
    else {
      const r = new Uint8Array(img.width * 4);
      for (let x = 0; x < img.width; x++) {
        const o = (y * img.width + x) * 3;
        r.set([img.data[o + 2]!, img.data[o + 1]!, img.data[o]!, (x * 40) & 0xff], x * 4);
      }
      rows.push(r);
    }
  }
  const xor = dib(img.width, img.height, bits, rows, palette, {}, 2);
  const maskStride = Math.floor((img.width + 31) / 32) * 4;
  return Uint8Array.from([...xor, ...new Array<number>(maskStride * img.height).fill(0)]);
}
