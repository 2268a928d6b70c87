import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import {
  centerCropBox,
  decodeImage,
  jpegFrame,
  precomputeCoefficients,
  preprocessImage,
  resizeBilinearPillow,
  resizedSize,
} from '../src/index.js';
import { FIXTURE_IMAGES, readF32, sharedDir, SKIP_NO_SHARED, tensorDiff } from '../../../test-fixtures/fixtures.js';

const shared = sharedDir();

function stemOf(file: string): string {
  return file.replace(/\.([^.]*)$/, '_$1');
}

const diff = tensorDiff;

describe('torchvision parity against ../shared/reference', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  const images = shared ? readdirSync(path.join(shared, 'images')).sort() : [];
  test('every reference image is covered', () => {
    assert.ok(images.length >= 12, `expected the shared photos, found ${images.length}`);
  });
  for (const file of images) {
    const ref = () => readF32(readFileSync(path.join(shared!, 'reference', `${stemOf(file)}.input.f32`)));
    const bytes = () => readFileSync(path.join(shared!, 'images', file));
    test(`exact: ${file} within 1e-6 of PyTorch's tensor`, async () => {
      const r = await preprocessImage(bytes(), file, { preprocessing: 'exact' });
      const d = diff(r.tensor, ref());
      assert.ok(d.max <= 1e-6, `max |Δ| ${d.max}`);
    });
    test(`fast: ${file} within max 0.06 / mean 0.006`, async () => {
      const r = await preprocessImage(bytes(), file, { preprocessing: 'fast' });
      const d = diff(r.tensor, ref());
      assert.ok(d.max <= 0.06, `max |Δ| ${d.max}`);
      assert.ok(d.mean <= 0.006, `mean |Δ| ${d.mean}`);
    });
  }
});

describe('geometry', () => {
  test("torchvision's Resize(256) truncates the long side", () => {
    assert.deepEqual(resizedSize(451, 300, 256), [384, 256]);
    assert.deepEqual(resizedSize(300, 451, 256), [256, 384]);
    assert.deepEqual(resizedSize(500, 375, 256), [341, 256]);
    assert.deepEqual(resizedSize(512, 512, 256), [256, 256]);
  });
  test("CenterCrop rounds half to even like Python's round()", () => {
    assert.deepEqual(centerCropBox(341, 256, 224, 224), { left: 58, top: 16 }); // 58.5 → 58
    assert.deepEqual(centerCropBox(343, 256, 224, 224), { left: 60, top: 16 }); // 59.5 → 60
    assert.deepEqual(centerCropBox(384, 256, 224, 224), { left: 80, top: 16 });
  });
  test('Pillow coefficients sum to one in fixed point and stay in bounds', () => {
    const c = precomputeCoefficients(451, 384);
    for (let i = 0; i < 384; i++) {
      let s = 0;
      for (let k = 0; k < c.ksize; k++) s += c.weights[i * c.ksize + k]!;
      assert.ok(Math.abs(s - (1 << 22)) <= c.ksize, `row ${i} sums to ${s}`);
      assert.ok(c.min[i]! >= 0 && c.min[i]! + c.count[i]! <= 451);
    }
  });
  test('windowed resize equals the crop of the full resize', () => {
    const w = 97;
    const h = 61;
    const data = new Uint8Array(w * h * 3).map((_, i) => (i * 37 + (i >> 5)) & 0xff);
    const full = resizeBilinearPillow({ data, width: w, height: h }, { outWidth: 50, outHeight: 31 });
    const win = resizeBilinearPillow(
      { data, width: w, height: h },
      { outWidth: 50, outHeight: 31, left: 7, top: 5, width: 20, height: 11 },
    );
    for (let y = 0; y < 11; y++) {
      for (let x = 0; x < 20 * 3; x++) assert.equal(win.data[y * 60 + x], full.data[(y + 5) * 150 + 7 * 3 + x]);
    }
  });
  test('upscaling a small image works (no antialias support shrink)', () => {
    const data = new Uint8Array(8 * 8 * 3).fill(100);
    const r = resizeBilinearPillow({ data, width: 8, height: 8 }, { outWidth: 256, outHeight: 256 });
    assert.ok(r.data.every((v) => v === 100));
  });
});

describe('decompression bombs', () => {
  test('a 50000×50000 PNG header is refused from the header, before pixels are allocated', async () => {
    const { pngBombHeader } = await import('../../../test-fixtures/fixtures.js');
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    for (const mode of ['exact', 'fast'] as const) {
      await assert.rejects(
        preprocessImage(pngBombHeader(50000, 50000), 'bomb.png', { mode }),
        (e: Error & { code?: string }) => e.code === 'IMAGE_TOO_LARGE' && /50000×50000/.test(e.message),
      );
    }
    assert.ok(performance.now() - t0 < 2000);
    assert.ok(process.memoryUsage().rss - before < 100 << 20, 'no large allocation');
  });
});

describe('decoding', () => {
  const cat = () => readFileSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'));
  const formats: Array<[string, (s: sharp.Sharp) => sharp.Sharp]> = [
    ['progressive JPEG', (s) => s.jpeg({ progressive: true })],
    ['palette PNG', (s) => s.png({ palette: true, colours: 64 })],
    ['16-bit PNG', (s) => s.toColourspace('rgb16').png()],
    ['grayscale PNG', (s) => s.grayscale().png()],
    ['PNG with alpha', (s) => s.ensureAlpha(0.5).png()],
    ['WebP', (s) => s.webp()],
    ['AVIF', (s) => s.avif({ effort: 0 })],
    ['GIF', (s) => s.gif()],
    ['TIFF', (s) => s.tiff()],
  ];
  for (const [name, enc] of formats) {
    test(`${name} decodes to 451×300 RGB`, async () => {
      const bytes = await enc(sharp(cat())).toBuffer();
      const img = await decodeImage(bytes, name);
      assert.equal(img.width, 451);
      assert.equal(img.height, 300);
      assert.equal(img.data.length, 451 * 300 * 3);
    });
  }
  test('SVG rasterizes, at the size the model needs (short side 256), not its declared 64×48', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><rect width="64" height="48" fill="#f00"/></svg>',
    );
    const img = await decodeImage(svg, 'red.svg');
    assert.equal(img.format, 'svg');
    assert.deepEqual([img.width, img.height], [341, 256]);
    assert.deepEqual([img.storedWidth, img.storedHeight], [64, 48]);
    assert.deepEqual(Array.from(img.data.subarray(0, 3)), [255, 0, 0]);
  });
  test('multi-page TIFF uses the first page', async () => {
    const red = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const blue = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#0000ff' } })
      .png()
      .toBuffer();
    const tiff = await sharp([red, blue], { join: { animated: true } })
      .tiff()
      .toBuffer()
      .catch(() => undefined);
    if (!tiff) return; // joining pages needs sharp ≥ 0.34 features; the GIF path below covers first-frame too
    const img = await decodeImage(tiff, 'pages.tiff');
    const [r, g, b] = Array.from(img.data.subarray(0, 3)) as [number, number, number];
    assert.ok(r > 240 && g < 15 && b < 15, `first page is red, got ${r},${g},${b}`);
  });
  test('EXIF orientation 6 is applied (portrait result)', async () => {
    const bytes = await sharp(cat()).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const img = await decodeImage(bytes, 'rotated.jpg');
    assert.deepEqual([img.width, img.height, img.storedWidth, img.storedHeight], [300, 451, 451, 300]);
  });
  test('alpha is dropped, not composited (as PIL convert("RGB"))', async () => {
    const raw = Buffer.alloc(8 * 8 * 4);
    for (let i = 0; i < 64; i++) raw.set(i % 2 ? [40, 50, 60, 128] : [10, 20, 30, 0], i * 4);
    const png = await sharp(raw, { raw: { width: 8, height: 8, channels: 4 } })
      .png()
      .toBuffer();
    const img = await decodeImage(png, 'alpha.png');
    assert.deepEqual(Array.from(img.data.subarray(0, 6)), [10, 20, 30, 40, 50, 60]);
  });
});

describe('JPEG frame header read without libvips', () => {
  const cat = () => readFileSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'));
  /** SOI, a baseline SOF0 of `w`×`h` with `n` components at `precision` bits, SOS; no entropy-coded data. */
  const header = (w: number, h: number, n = 3, precision = 8) => {
    const sof = [0xff, 0xc0, 0, 8 + 3 * n, precision, h >> 8, h & 255, w >> 8, w & 255, n];
    for (let c = 1; c <= n; c++) sof.push(c, 0x11, 0);
    const sos = [0xff, 0xda, 0, 6 + 2 * n, n];
    for (let c = 1; c <= n; c++) sos.push(c, 0);
    sos.push(0, 63, 0);
    return Buffer.from([0xff, 0xd8, ...sof, ...sos]);
  };
  const variants: Array<[string, (s: sharp.Sharp) => sharp.Sharp, number]> = [
    ['baseline', (s) => s.jpeg(), 3],
    ['progressive', (s) => s.jpeg({ progressive: true }), 3],
    ['4:4:4 with optimised coding', (s) => s.jpeg({ chromaSubsampling: '4:4:4', optimiseCoding: true }), 3],
    ['grayscale', (s) => s.toColourspace('b-w').jpeg(), 1],
    ['EXIF orientation 6', (s) => s.withMetadata({ orientation: 6 }).jpeg(), 3],
    ['ICC profile', (s) => s.withIccProfile('p3').jpeg(), 3],
    ['CMYK', (s) => s.toColourspace('cmyk').jpeg(), 4],
  ];
  for (const [name, enc, components] of variants) {
    test(`${name}: the frame header says what libvips' header read says; the pixels are libvips' decode`, async () => {
      const bytes = await enc(sharp(cat())).toBuffer();
      const meta = await sharp(bytes).metadata();
      const marker = name === 'progressive' ? 0xc2 : 0xc0;
      assert.deepEqual(jpegFrame(bytes), { marker, width: meta.width, height: meta.height, components, precision: 8 });
      assert.equal(meta.channels, components);
      const img = await decodeImage(bytes, `${name}.jpg`);
      assert.deepEqual([img.storedWidth, img.storedHeight, img.format], [451, 300, 'jpeg']);
      if (components === 4) return; // CMYK: Pillow's conversion (formats tests)
      const ref = await sharp(bytes, { ignoreIcc: true }).autoOrient().raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([img.width, img.height], [ref.info.width, ref.info.height]);
      const rgb = ref.info.channels === 3 ? ref.data : Buffer.from(Array.from(ref.data).flatMap((g) => [g, g, g]));
      assert.ok(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength).equals(rgb), 'identical pixels');
    });
  }
  test('a header claiming 60000×60000 is refused from the frame header, and one of 4×4 as too small', async () => {
    const before = process.memoryUsage().rss;
    await assert.rejects(decodeImage(header(60000, 60000), 'bomb.jpg'), (e: Error & { code?: string; details?: unknown }) => {
      assert.equal(e.code, 'IMAGE_TOO_LARGE');
      assert.deepEqual(e.details, { width: 60000, height: 60000, maxPixels: 100_000_000 });
      return true;
    });
    assert.ok(process.memoryUsage().rss - before < 100 << 20, 'no large allocation');
    await assert.rejects(decodeImage(header(4, 4), 'tiny.jpg'), (e: Error & { code?: string }) => e.code === 'IMAGE_TOO_SMALL');
  });
  test('headers the walk cannot finish, and unusual frames, are left to libvips: undefined', async () => {
    const bytes = cat();
    const sos = bytes.indexOf(Buffer.from([0xff, 0xda]));
    assert.equal(jpegFrame(bytes.subarray(0, sos)), undefined, 'cut before the scan');
    assert.equal(jpegFrame(bytes.subarray(0, 40)), undefined, 'cut inside a segment');
    assert.equal(jpegFrame(Buffer.from('not a jpeg at all')), undefined);
    assert.deepEqual(jpegFrame(header(640, 480, 3, 12)), { marker: 0xc0, width: 640, height: 480, components: 3, precision: 12 });
    // Cut before its scan, a JPEG is still refused as libvips' header read refuses it.
    await assert.rejects(decodeImage(bytes.subarray(0, sos), 'cut.jpg'), (e: Error & { code?: string }) => e.code === 'DECODE_FAILED');
    // A 12-bit frame is not taken as a plain 8-bit JPEG (libvips reads it, or says why not).
    await assert.rejects(decodeImage(header(640, 480, 3, 12), 'twelve.jpg'), (e: Error & { code?: string }) => e.code === 'DECODE_FAILED');
  });
});
