/**
 * The engine's own decoders (BMP, Netpbm, TGA, ICO) against sharp's JPEG decode of the same pixels: ms per image,
 * medians over repeated decodes of the benchmark photos re-encoded in each format. Run by scripts/bench.mjs through
 * tsx (it borrows the test fixtures' encoders); prints one JSON object.
 *
 *   node --import tsx scripts/bench-decoders.ts <photo.jpg>...
 */
import { readFileSync } from 'node:fs';
import { decodeImage, sharp } from '../packages/core/src/index.js';
import { bmp, icon, iconDib, netpbm, tga } from '../test-fixtures/formats.js';

const files = process.argv.slice(2);
const REPS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Each encoding of one photo's pixels (RGB, top row first). */
function encodings(rgb: Uint8Array, w: number, h: number): Record<string, Uint8Array> {
  const bgr = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    bgr[i] = rgb[i + 2]!;
    bgr[i + 1] = rgb[i + 1]!;
    bgr[i + 2] = rgb[i]!;
  }
  const rows = Array.from({ length: h }, (_, y) => bgr.subarray(y * w * 3, (y + 1) * w * 3));
  // ICO frames are at most 256×256: the photo's top-left 256×256, as a 32-bit DIB frame.
  const s = Math.min(256, w, h);
  const crop = new Uint8Array(s * s * 3);
  for (let y = 0; y < s; y++) crop.set(rgb.subarray(y * w * 3, y * w * 3 + s * 3), y * s * 3);
  return {
    'BMP 24-bit': bmp(w, h, 24, rows),
    'PPM (P6)': netpbm(6, w, h, rgb),
    'TGA 24-bit': tga(2, 24, w, h, bgr),
    'TGA 24-bit RLE': tga(2, 24, w, h, bgr, { rle: true }),
    'ICO 256×256 32-bit': icon([{ width: s, height: s, data: iconDib({ width: s, height: s, data: crop }, 32) }]),
  };
}

async function timeDecode(bytes: Uint8Array, name: string): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    await decodeImage(bytes, name);
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function main(): Promise<void> {
  const perFormat: Record<string, number[]> = {};
  const jpeg: number[] = [];
  const jpegSmall: number[] = [];
  for (const f of files) {
    const jpg = readFileSync(f);
    const { data, info } = await sharp(jpg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const enc = encodings(new Uint8Array(data), info.width, info.height);
    jpeg.push(await timeDecode(jpg, f));
    const s = Math.min(256, info.width, info.height);
    const smallJpg = await sharp(jpg).extract({ left: 0, top: 0, width: s, height: s }).jpeg({ quality: 92 }).toBuffer();
    jpegSmall.push(await timeDecode(smallJpg, f));
    for (const [k, bytes] of Object.entries(enc)) (perFormat[k] ??= []).push(await timeDecode(bytes, `${f}.${k}`));
  }
  const jpegMs = median(jpeg);
  const out = {
    images: files.length,
    reps: REPS,
    jpegMs,
    jpegSmallMs: median(jpegSmall),
    formats: Object.fromEntries(Object.entries(perFormat).map(([k, v]) => [k, median(v)])),
  };
  console.log(JSON.stringify(out));
}

void main();
