/**
 * An image's displayed size from the first bytes of its file (no decoding, no vscode import): PNG, GIF, BMP, ICO/CUR,
 * WebP and JPEG (with its EXIF orientation, as the editor's browser shows it). The hover sizes its thumbnail from it.
 */

export interface ImageSize {
  width: number;
  height: number;
}

/** How many leading bytes `imageSize` may need (a JPEG's frame header comes after its EXIF and ICC segments). */
export const IMAGE_HEADER_BYTES = 256 * 1024;

const u16be = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const u16le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const u24le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
const u32be = (b: Uint8Array, i: number) => ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3];
const i32le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
const ascii = (b: Uint8Array, i: number, n: number) => String.fromCharCode(...b.subarray(i, i + n));

const sized = (width: number, height: number): ImageSize | undefined =>
  width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height) ? { width, height } : undefined;

/** The size a browser shows `bytes` at (the leading bytes of an image file), or undefined when not known. */
export function imageSize(bytes: Uint8Array): ImageSize | undefined {
  const b = bytes;
  if (b.length < 26) return undefined;
  if (b[0] === 0x89 && ascii(b, 1, 3) === 'PNG' && ascii(b, 12, 4) === 'IHDR') return sized(u32be(b, 16), u32be(b, 20));
  if (ascii(b, 0, 4) === 'GIF8') return sized(u16le(b, 6), u16le(b, 8));
  if (ascii(b, 0, 2) === 'BM') return sized(Math.abs(i32le(b, 18)), Math.abs(i32le(b, 22)));
  if (b[0] === 0 && b[1] === 0 && (b[2] === 1 || b[2] === 2) && b[3] === 0 && u16le(b, 4) > 0) return iconSize(b);
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return webpSize(b);
  if (b[0] === 0xff && b[1] === 0xd8) return jpegSize(b);
  return undefined;
}

/** An icon's largest frame (the one a browser draws); 0 in the directory means 256. */
function iconSize(b: Uint8Array): ImageSize | undefined {
  let best: ImageSize | undefined;
  for (let k = 0, n = u16le(b, 4); k < n && 6 + 16 * k + 2 <= b.length; k++) {
    const width = b[6 + 16 * k] || 256;
    const height = b[7 + 16 * k] || 256;
    if (!best || width * height > best.width * best.height) best = { width, height };
  }
  return best;
}

function webpSize(b: Uint8Array): ImageSize | undefined {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8X' && b.length >= 30) return sized(u24le(b, 24) + 1, u24le(b, 27) + 1);
  if (chunk === 'VP8L' && b.length >= 25 && b[20] === 0x2f) {
    const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return sized((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8 ' && b.length >= 30 && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a)
    return sized(u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff);
  return undefined;
}

/** SOFn's size, swapped when the EXIF orientation turns the picture a quarter (5–8). */
function jpegSize(b: Uint8Array): ImageSize | undefined {
  let orientation = 1;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const len = u16be(b, i + 2);
    if (len < 2) return undefined;
    if (marker === 0xe1 && i + 10 <= b.length && ascii(b, i + 4, 6) === 'Exif\0\0')
      orientation = exifOrientation(b, i + 10, i + 2 + len) ?? 1;
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof) {
      if (i + 9 > b.length) return undefined;
      const height = u16be(b, i + 5);
      const width = u16be(b, i + 7);
      return orientation >= 5 && orientation <= 8 ? sized(height, width) : sized(width, height);
    }
    i += 2 + len;
  }
  return undefined;
}

/** The Orientation tag (0x0112) of IFD0 in the TIFF structure at `start` (ending before `end`). */
function exifOrientation(b: Uint8Array, start: number, end: number): number | undefined {
  const stop = Math.min(end, b.length);
  if (start + 8 > stop) return undefined;
  const le = b[start] === 0x49 && b[start + 1] === 0x49;
  if (!le && !(b[start] === 0x4d && b[start + 1] === 0x4d)) return undefined;
  const r16 = (i: number) => (le ? u16le(b, i) : u16be(b, i));
  const r32 = (i: number) => (le ? (u16le(b, i) | (u16le(b, i + 2) << 16)) >>> 0 : u32be(b, i));
  const ifd = start + r32(start + 4);
  if (ifd + 2 > stop) return undefined;
  const n = r16(ifd);
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + k * 12;
    if (e + 12 > stop) return undefined;
    if (r16(e) === 0x0112) return r16(e + 8);
  }
  return undefined;
}

/**
 * The box a `width`×`height` picture is drawn in so that it fits `maxWidth`×`maxHeight` with its aspect ratio (scaled
 * up or down; each side at least 1 px).
 */
export function fitBox(width: number, height: number, maxWidth: number, maxHeight: number): ImageSize {
  const scale = Math.min(maxWidth / width, maxHeight / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
