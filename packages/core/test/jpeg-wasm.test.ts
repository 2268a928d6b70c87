import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import sharp from 'sharp';
import {
  decodeImage,
  decodeJpegWasm,
  jpegFrame,
  jpegOrientation,
  jpegWasmCounts,
  preprocessImage,
  WASM_JPEG_MAX_PIXELS,
} from '../src/index.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { jpegWasmKernelCalls, jpegWasmMemoryBytes, wasmDecodable } from '../src/image/jpeg-wasm.js';
import { FIXTURE_IMAGES, sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';

const cat = () => readFileSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'));

/** libvips' pixels for a JPEG as decode.ts reads them (no ICC conversion), 3 channels. */
async function libvipsRgb(bytes: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes, { ignoreIcc: true }).raw().toBuffer({ resolveWithObject: true });
  const rgb = info.channels === 3 ? data : Buffer.from(Array.from(data).flatMap((g) => [g, g, g]));
  return { data: rgb, width: info.width, height: info.height };
}

/** Deterministic noise over a photo: every coefficient in use, at sizes that are not multiples of a block. */
async function source(width: number, height: number, seed: number): Promise<Buffer> {
  const photo = await sharp(cat()).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  let s = seed;
  for (let i = 0; i < photo.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    photo[i] = Math.max(0, Math.min(255, photo[i]! + ((s >>> 24) % 61) - 30));
  }
  return photo;
}

/** Runs `fn` with IMAGE_CLASSIFIER_JPEG_DECODER set to `value` (undefined: unset). */
async function withDecoder<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env.IMAGE_CLASSIFIER_JPEG_DECODER;
  if (value === undefined) delete process.env.IMAGE_CLASSIFIER_JPEG_DECODER;
  else process.env.IMAGE_CLASSIFIER_JPEG_DECODER = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.IMAGE_CLASSIFIER_JPEG_DECODER;
    else process.env.IMAGE_CLASSIFIER_JPEG_DECODER = before;
  }
}

/** What preprocessImage makes of `bytes`: its tensor's bytes and size, or the error's code and message. */
async function outcome(bytes: Buffer): Promise<string> {
  try {
    const r = await preprocessImage(bytes, 'file.jpg');
    return `${r.width}x${r.height} ${Buffer.from(r.tensor.buffer, r.tensor.byteOffset, r.tensor.byteLength).toString('base64')}`;
  } catch (e) {
    const err = e as Error & { code?: string };
    return `${err.code} ${err.message}`;
  }
}

describe('the WebAssembly JPEG decoder gives libvips pixels, byte for byte', () => {
  const encodings: Array<[string, (s: sharp.Sharp) => sharp.Sharp]> = [
    ['baseline 4:2:0', (s) => s.jpeg({ quality: 80 })],
    ['quality 5', (s) => s.jpeg({ quality: 5 })],
    ['quality 100, 4:4:4', (s) => s.jpeg({ quality: 100, chromaSubsampling: '4:4:4' })],
    ['progressive', (s) => s.jpeg({ progressive: true, quality: 70 })],
    ['mozjpeg (progressive, trellis)', (s) => s.jpeg({ mozjpeg: true })],
    ['optimised coding, quantisation table 3', (s) => s.jpeg({ optimiseCoding: true, quantisationTable: 3 })],
    ['grayscale', (s) => s.toColourspace('b-w').jpeg({ quality: 60 })],
    ['grayscale progressive', (s) => s.toColourspace('b-w').jpeg({ progressive: true })],
  ];
  const sizes: Array<[number, number]> = [
    [9, 9],
    [17, 31],
    [451, 300],
    [203, 517],
  ];
  for (const [name, encode] of encodings) {
    test(`${name}, at ${sizes.map(([w, h]) => `${w}×${h}`).join(', ')}`, async () => {
      for (const [w, h] of sizes) {
        const raw = await source(w, h, w * 31 + h);
        const bytes = await encode(sharp(raw, { raw: { width: w, height: h, channels: 3 } })).toBuffer();
        const before = jpegWasmCounts().wasm;
        const calls = jpegWasmKernelCalls();
        const img = decodeJpegWasm(bytes);
        assert.ok(img, `${w}×${h}: decoded`);
        assert.equal(jpegWasmCounts().wasm, before + 1);
        // The simd128 kernels ran, not libjpeg-turbo's C code (the IDCT always; colour and h2v2 for 4:2:0 colour).
        const after = jpegWasmKernelCalls();
        assert.ok(after.idct > calls.idct, 'the IDCT kernel ran');
        if (name.startsWith('baseline')) assert.ok(after.color > calls.color && after.h2v2 > calls.h2v2, 'the colour and h2v2 kernels ran');
        const ref = await libvipsRgb(bytes);
        assert.deepEqual([img.width, img.height], [ref.width, ref.height]);
        assert.ok(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength).equals(ref.data), `${w}×${h}: identical pixels`);
      }
    });
  }

  const cjpeg = (() => {
    try {
      execFileSync('cjpeg', ['-version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  test("libjpeg-turbo's cjpeg variants sharp cannot write: 4:2:2, 4:4:0, 4:1:1, restart markers, arithmetic coding, RGB", {
    skip: cjpeg ? false : 'SKIPPED: no cjpeg (Debian libjpeg-turbo-progs; .ci/install-e2e.sh installs it)',
  }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jpeg-variants-'));
    try {
      const options = [
        ['-sample', '2x1'],
        ['-sample', '1x2'],
        ['-sample', '4x1'],
        ['-sample', '2x1', '-progressive'],
        ['-restart', '1'],
        ['-restart', '3B', '-sample', '1x1'],
        ['-arithmetic'],
        ['-arithmetic', '-progressive', '-sample', '2x1'],
        ['-rgb'],
        ['-grayscale', '-restart', '2'],
      ];
      let h2v1 = 0;
      for (const [w, h] of [
        [61, 45],
        [300, 211],
      ] as const) {
        const ppm = path.join(dir, `${w}x${h}.ppm`);
        writeFileSync(ppm, Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), await source(w, h, w + h)]));
        for (const opt of options) {
          const bytes = execFileSync('cjpeg', [...opt, ppm]);
          const before = jpegWasmKernelCalls().h2v1;
          const img = decodeJpegWasm(bytes);
          assert.ok(img, `${opt.join(' ')} ${w}×${h}: decoded`);
          if (opt[1] === '2x1') h2v1 += jpegWasmKernelCalls().h2v1 - before;
          const ref = await libvipsRgb(bytes);
          assert.deepEqual([img.width, img.height], [ref.width, ref.height]);
          assert.ok(Buffer.from(img.data).equals(ref.data), `${opt.join(' ')} ${w}×${h}: identical pixels`);
        }
      }
      assert.ok(h2v1 > 0, 'the h2v1 kernel ran');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the photos in ../shared/images: the same decodeImage with and without it', {
    skip: sharedDir() ? false : SKIP_NO_SHARED,
  }, async () => {
    const dir = path.join(sharedDir()!, 'images');
    const jpegs = readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f));
    assert.ok(jpegs.length >= 4, `found ${jpegs.length} JPEGs`);
    let taken = 0;
    for (const f of jpegs) {
      const bytes = readFileSync(path.join(dir, f));
      const before = jpegWasmCounts().wasm;
      const a = await decodeImage(bytes, f);
      taken += jpegWasmCounts().wasm - before;
      const b = await withDecoder('libvips', () => decodeImage(bytes, f));
      assert.deepEqual(
        [a.width, a.height, a.storedWidth, a.storedHeight, a.format],
        [b.width, b.height, b.storedWidth, b.storedHeight, b.format],
        f,
      );
      assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)), `${f}: identical pixels`);
    }
    // The CMYK and the EXIF-rotated photos go to libvips; the others are decoded here.
    assert.ok(taken >= jpegs.length - 2, `${taken} of ${jpegs.length} decoded in WebAssembly`);
  });
});

describe('damaged JPEGs: the same pixels or the same error as libvips alone', () => {
  test('200 truncated, bit-flipped, marker-inserted and header-damaged files', async () => {
    const bases = await Promise.all([
      sharp(await source(96, 72, 1), { raw: { width: 96, height: 72, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer(),
      sharp(await source(80, 64, 2), { raw: { width: 80, height: 64, channels: 3 } })
        .jpeg({ progressive: true })
        .toBuffer(),
      sharp(await source(64, 48, 3), { raw: { width: 64, height: 48, channels: 3 } })
        .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
        .toBuffer(),
    ]);
    let seed = 20261207;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const kinds = { same: 0, errors: 0 };
    const before = jpegWasmCounts();
    for (let k = 0; k < 200; k++) {
      let b = Buffer.from(bases[k % bases.length]!);
      const kind = k % 4;
      if (kind === 0) b = b.subarray(0, Math.floor(b.length * (0.3 + 0.69 * rnd())));
      else if (kind === 1) for (let j = 0; j < 3; j++) b[Math.floor(b.length * (0.3 + 0.7 * rnd()))] = Math.floor(rnd() * 256);
      else if (kind === 2) {
        const at = Math.floor(b.length * (0.2 + 0.8 * rnd()));
        b = Buffer.concat([b.subarray(0, at), Buffer.from([0xff, Math.floor(rnd() * 256)]), b.subarray(at)]);
      } else b[2 + Math.floor(rnd() * 300)] = Math.floor(rnd() * 256);
      const ours = await outcome(b);
      const libvips = await withDecoder('libvips', () => outcome(b));
      assert.equal(ours, libvips, `mutation ${k} (kind ${kind})`);
      kinds[ours.includes(' ') && !/^\d+x\d+ /.test(ours) ? 'errors' : 'same']++;
    }
    const after = jpegWasmCounts();
    assert.ok(kinds.errors > 20 && kinds.same > 20, JSON.stringify(kinds));
    assert.ok(after.failed - before.failed > 20, 'libjpeg warned on many of them: each went to libvips');
  });

  test('DC terms near the edge of the range every IDCT agrees on: the same samples as libvips, or left to it', async () => {
    // A white 16×16 at quality 100, 4:4:4: its luma DC term scales with the table's DC entry; from 5 on, the
    // samples leave the range where libjpeg-turbo's C and SIMD IDCTs agree, and from 9 on its SIMD IDCTs wrap.
    const white = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 255, g: 255, b: 255 } } })
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .toBuffer();
    const dqt = white.indexOf(Buffer.from([0xff, 0xdb]));
    for (const entry of [1, 4, 5, 8, 9, 12, 16, 17, 64]) {
      const b = Buffer.from(white);
      b[dqt + 5] = entry;
      const ours = decodeJpegWasm(b);
      const ref = await libvipsRgb(b);
      if (ours) assert.ok(Buffer.from(ours.data).equals(ref.data), `DC entry ${entry}: identical pixels`);
      else assert.ok(entry >= 5, `DC entry ${entry}: decoded here`);
      assert.equal(await outcome(b), await withDecoder('libvips', () => outcome(b)), `DC entry ${entry}`);
    }
  });

  test('a quantization table far past the range every IDCT agrees on is left to libvips', async () => {
    const bytes = await sharp(await source(64, 64, 9), { raw: { width: 64, height: 64, channels: 3 } })
      .jpeg({ quality: 100 })
      .toBuffer();
    // The first DQT's DC entry: 1 at quality 100; 255 makes the DC terms of the bright blocks overflow 16 bits.
    const dqt = bytes.indexOf(Buffer.from([0xff, 0xdb]));
    const damaged = Buffer.from(bytes);
    assert.equal(damaged[dqt + 5], 1);
    damaged[dqt + 5] = 255;
    const before = jpegWasmCounts().declined;
    assert.equal(decodeJpegWasm(damaged), undefined);
    assert.equal(jpegWasmCounts().declined, before + 1);
    assert.equal(await outcome(damaged), await withDecoder('libvips', () => outcome(damaged)));
  });
});

describe('what is left to libvips', () => {
  afterEach(() => delete process.env.IMAGE_CLASSIFIER_JPEG_DECODER);
  const frame = (bytes: Buffer) => jpegFrame(bytes)!;

  test('EXIF orientations other than 1, CMYK, 12-bit and lossless frames, and images over the pixel limit', async () => {
    const plain = await sharp(cat()).jpeg().toBuffer();
    assert.equal(wasmDecodable(plain, frame(plain)), true);
    const rotated = await sharp(cat()).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    assert.equal(jpegOrientation(rotated), 6);
    assert.equal(wasmDecodable(rotated, frame(rotated)), false);
    const upright = await sharp(cat()).withMetadata({ orientation: 1 }).jpeg().toBuffer();
    assert.equal(jpegOrientation(upright), 1);
    assert.equal(wasmDecodable(upright, frame(upright)), true);
    const cmyk = await sharp(cat()).toColourspace('cmyk').jpeg().toBuffer();
    assert.equal(wasmDecodable(cmyk, frame(cmyk)), false);
    for (const [marker, precision] of [
      [0xc3, 8], // lossless
      [0xc5, 8], // hierarchical
      [0xc1, 12],
    ] as const) {
      assert.equal(wasmDecodable(plain, { ...frame(plain), marker, precision }), false, `SOF ${marker.toString(16)} ${precision}-bit`);
    }
    assert.equal(wasmDecodable(plain, { ...frame(plain), width: 10_000, height: WASM_JPEG_MAX_PIXELS / 10_000 + 1 }), false);
  });

  test('IMAGE_CLASSIFIER_JPEG_DECODER=libvips turns it off', async () => {
    const plain = await sharp(cat()).jpeg().toBuffer();
    process.env.IMAGE_CLASSIFIER_JPEG_DECODER = 'libvips';
    const before = jpegWasmCounts();
    await decodeImage(plain, 'cat.jpg');
    assert.deepEqual(jpegWasmCounts(), before);
    delete process.env.IMAGE_CLASSIFIER_JPEG_DECODER;
    await decodeImage(plain, 'cat.jpg');
    assert.equal(jpegWasmCounts().wasm, before.wasm + 1);
  });

  test('EXIF read as libvips reads it: both byte orders, IFD1 and the Exif IFD; unreadable blocks undefined', async () => {
    const made: Buffer[] = [];
    /** A JPEG whose APP1 holds a TIFF block with `entries` ([ifd, tag, type, count, value]). */
    const withExif = (little: boolean, entries: Array<[0 | 1 | 2, number, number, number, number]>) => {
      const ifd = (n: number) => 2 + n * 12 + 4;
      const u16 = (v: number) => (little ? [v & 255, v >> 8] : [v >> 8, v & 255]);
      const u32 = (v: number) => (little ? [...u16(v & 0xffff), ...u16(v >>> 16)] : [...u16(v >>> 16), ...u16(v & 0xffff)]);
      const by = [0, 1, 2].map((k) => entries.filter((e) => e[0] === k));
      const exifPtr = by[2]!.length ? 1 : 0;
      const at0 = 8;
      const at1 = at0 + ifd(by[0]!.length + exifPtr);
      const at2 = at1 + (by[1]!.length ? ifd(by[1]!.length) : 0);
      const block = (list: typeof entries, next: number, extra: number[][] = []) => {
        const rows = [
          ...list.map(([, tag, type, count, value]) => [...u16(tag), ...u16(type), ...u32(count), ...u16(value), 0, 0]),
          ...extra,
        ];
        return [...u16(rows.length), ...rows.flat(), ...u32(next)];
      };
      const tiff = [
        ...(little ? [0x49, 0x49] : [0x4d, 0x4d]),
        ...u16(42),
        ...u32(at0),
        ...block(by[0]!, by[1]!.length ? at1 : 0, exifPtr ? [[...u16(0x8769), ...u16(4), ...u32(1), ...u32(at2)]] : []),
        ...(by[1]!.length ? block(by[1]!, 0) : []),
        ...(exifPtr ? block(by[2]!, 0) : []),
      ];
      const app1 = [0xff, 0xe1, ...[(tiff.length + 8) >> 8, (tiff.length + 8) & 255], 0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
      const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, ...app1]), cat().subarray(2)]);
      made.push(jpeg);
      return jpeg;
    };
    for (const little of [true, false]) {
      assert.equal(jpegOrientation(withExif(little, [[0, 0x0112, 3, 1, 1]])), 1);
      assert.equal(jpegOrientation(withExif(little, [[0, 0x0112, 3, 1, 8]])), 8);
      assert.equal(jpegOrientation(withExif(little, [[0, 0x010f, 2, 1, 0]])), 1, 'no orientation tag');
      assert.equal(jpegOrientation(withExif(little, [[1, 0x0112, 3, 1, 3]])), 3, 'in IFD1');
      assert.equal(jpegOrientation(withExif(little, [[2, 0x0112, 3, 1, 6]])), 6, 'in the Exif IFD');
      assert.equal(jpegOrientation(withExif(little, [[0, 0x0112, 4, 1, 1]])), undefined, 'not a SHORT');
      assert.equal(
        jpegOrientation(
          withExif(little, [
            [0, 0x0112, 3, 1, 1],
            [1, 0x0112, 3, 1, 6],
          ]),
        ),
        undefined,
        'two different',
      );
    }
    // IFD0 at offset 0 (libexif reads entries out of the TIFF header there): left to libvips.
    const zero = Buffer.alloc(40);
    zero.write('II', 0, 'latin1');
    zero.writeUInt16LE(42, 2);
    zero.writeUInt32LE(0, 4);
    zero.writeUInt16LE(0x0112, 14);
    zero.writeUInt16LE(3, 16);
    zero.writeUInt32LE(1, 18);
    zero.writeUInt16LE(6, 22);
    const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), zero]);
    const app1 = Buffer.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255]);
    assert.equal(jpegOrientation(Buffer.concat([cat().subarray(0, 2), app1, payload, cat().subarray(2)])), undefined);
    const bad = withExif(true, [[0, 0x0112, 3, 1, 1]]);
    bad[14] = 0x58; // not II/MM
    assert.equal(jpegOrientation(bad), undefined);
    assert.equal(jpegOrientation(cat()), 1, 'no EXIF block');
    // Wherever it says 1, libvips (which autoOrient follows) sees no rotation either.
    for (const jpeg of made) {
      if (jpegOrientation(jpeg) !== 1) continue;
      assert.ok([undefined, 1].includes((await sharp(jpeg).metadata()).orientation), 'libvips agrees: upright');
    }
    assert.ok(made.filter((j) => jpegOrientation(j) === 1).length >= 4);
  });

  test("a large image's memory is given back after its decode", async () => {
    const big = await sharp({ create: { width: 6000, height: 4000, channels: 3, background: { r: 90, g: 140, b: 30 } } })
      .jpeg()
      .toBuffer();
    const img = decodeJpegWasm(big);
    assert.ok(img);
    assert.deepEqual([img.width, img.height], [6000, 4000]);
    assert.ok(Buffer.from(img.data).equals((await libvipsRgb(big)).data), 'identical pixels');
    assert.equal(jpegWasmMemoryBytes(), 0, 'the instance that grew to hold 72 MB was dropped');
    assert.ok(decodeJpegWasm(await sharp(cat()).jpeg().toBuffer()), 'a fresh instance decodes the next one');
    assert.ok(jpegWasmMemoryBytes() > 0 && jpegWasmMemoryBytes() < 64 << 20);
  });
});
