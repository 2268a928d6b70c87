import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  IMAGENET_PREPROCESS,
  normalizeInto,
  type PreprocessConfig,
  resizeAndCropExact,
  resolvePreprocessConfig,
} from '../src/image/preprocess.js';
import { type RgbImage, type ResizeWindow, resizeBilinearPillow, simdResizeDefault } from '../src/image/resize.js';
import { RESIZE_SIMD_WAT_SHA256 } from '../src/image/resize-simd.generated.js';
import { releaseSimdResize, SIMD_RESIZE_LIMITS, simdResizeAvailable, simdResizeMemoryBytes } from '../src/image/resize-simd.js';

const SKIP_NO_SIMD = simdResizeAvailable() ? false : 'SKIPPED: this runtime has no WebAssembly SIMD (the JS passes run)';

/** Deterministic pseudo-random RGB (xorshift32); `fill` 0 or 255 makes a flat image (clip edges). */
function image(width: number, height: number, seed: number, fill?: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  if (fill !== undefined) data.fill(fill);
  else {
    let s = seed >>> 0 || 1;
    for (let i = 0; i < data.length; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      data[i] = s & 255;
    }
  }
  return { data, width, height };
}

function assertSame(src: RgbImage, win: ResizeWindow, label: string): void {
  const js = resizeBilinearPillow(src, win, 'js');
  const simd = resizeBilinearPillow(src, win, 'simd');
  assert.equal(simd.width, js.width, `${label}: width`);
  assert.equal(simd.height, js.height, `${label}: height`);
  assert.equal(simd.data.length, js.data.length, `${label}: length`);
  const i = simd.data.findIndex((v, k) => v !== js.data[k]);
  assert.equal(i, -1, `${label}: first differing byte ${i} (simd ${simd.data[i]}, js ${js.data[i]})`);
}

/** The full output, the center 224-style crop, corners, single rows/columns and a few seeded random windows. */
function windows(outWidth: number, outHeight: number, seed: number): ResizeWindow[] {
  const list: ResizeWindow[] = [{ outWidth, outHeight }];
  const cw = Math.max(1, Math.floor(outWidth * 0.875));
  const ch = Math.max(1, Math.floor(outHeight * 0.875));
  list.push({ outWidth, outHeight, left: Math.floor((outWidth - cw) / 2), top: Math.floor((outHeight - ch) / 2), width: cw, height: ch });
  list.push({ outWidth, outHeight, left: 0, top: 0, width: 1, height: 1 });
  list.push({ outWidth, outHeight, left: outWidth - 1, top: outHeight - 1, width: 1, height: 1 });
  list.push({ outWidth, outHeight, left: 0, top: outHeight - 1, width: outWidth, height: 1 });
  list.push({ outWidth, outHeight, left: outWidth - 1, top: 0, width: 1, height: outHeight });
  let s = seed;
  const next = (n: number): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
  for (let k = 0; k < 3; k++) {
    const left = next(outWidth);
    const top = next(outHeight);
    list.push({ outWidth, outHeight, left, top, width: 1 + next(outWidth - left), height: 1 + next(outHeight - top) });
  }
  return list;
}

describe('SIMD resize equals the JS resize byte for byte', { skip: SKIP_NO_SIMD }, () => {
  after(() => releaseSimdResize());
  // [input w, h, output w, h]: odd sizes, up- and downscales, one axis unchanged, 1-pixel sides, large ratios.
  const cases: Array<[number, number, number, number]> = [
    [500, 375, 341, 256],
    [375, 500, 256, 341],
    [333, 257, 301, 256],
    [7, 5, 256, 182],
    [3, 97, 256, 300],
    [1, 1, 5, 3],
    [1, 1, 1, 1],
    [1, 9, 1, 4],
    [9, 1, 4, 1],
    [1, 300, 256, 1],
    [300, 1, 1, 256],
    [257, 199, 257, 64], // no horizontal pass
    [199, 257, 64, 257], // no vertical pass
    [4000, 17, 256, 5], // ratio ~15.6 horizontally
    [13, 4000, 7, 256], // ratio ~15.6 vertically
    [4001, 23, 341, 3],
    [31, 29, 30, 31], // slight down one way, up the other
    [64, 64, 63, 65],
    [101, 103, 17, 19],
    [2, 2, 3, 1],
  ];
  for (const [w, h, ow, oh] of cases) {
    test(`${w}×${h} → ${ow}×${oh}, every window`, () => {
      const src = image(w, h, w * 7919 + h);
      for (const win of windows(ow, oh, w + h)) assertSame(src, win, `${w}x${h}->${ow}x${oh} ${JSON.stringify(win)}`);
    });
  }

  test('flat 0 and 255 images (the clip at both ends)', () => {
    for (const fill of [0, 255]) {
      for (const [w, h, ow, oh] of cases.slice(0, 6)) {
        const src = image(w, h, 0, fill);
        for (const win of windows(ow, oh, 3)) assertSame(src, win, `fill ${fill} ${w}x${h}->${ow}x${oh}`);
      }
    }
  });

  test('200 seeded random sizes and windows', () => {
    let s = 12345;
    const next = (n: number): number => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return 1 + (s % n);
    };
    for (let k = 0; k < 200; k++) {
      const w = next(k % 10 === 0 ? 1500 : 120);
      const h = next(k % 10 === 5 ? 1500 : 120);
      const ow = next(k % 3 === 0 ? 400 : 90);
      const oh = next(k % 4 === 0 ? 400 : 90);
      const src = image(w, h, k + 1);
      const left = next(ow) - 1;
      const top = next(oh) - 1;
      const win = { outWidth: ow, outHeight: oh, left, top, width: next(ow - left), height: next(oh - top) };
      assertSame(src, win, `#${k} ${w}x${h}->${JSON.stringify(win)}`);
    }
  });

  test('resizeAndCropExact on a 12 MP image (4000×3000 → 341×256, crop 224) equals the JS path', () => {
    const src = image(4000, 3000, 99);
    const c = resolvePreprocessConfig();
    const simd = resizeAndCropExact(src, c);
    const js = resizeAndCropExact(src, c, 'js');
    assert.equal(simd.width, 224);
    assert.ok(Buffer.from(simd.data).equals(Buffer.from(js.data)));
  });

  test('a crop larger than the resized image (zero padding) equals the JS path', () => {
    const c = resolvePreprocessConfig({ resizeShortSide: 64, cropSize: [100, 90] });
    const src = image(77, 51, 5);
    assert.ok(Buffer.from(resizeAndCropExact(src, c).data).equals(Buffer.from(resizeAndCropExact(src, c, 'js').data)));
  });
});

describe('SIMD normalization equals the lookup tables bit for bit', { skip: SKIP_NO_SIMD }, () => {
  const configs: Array<Partial<PreprocessConfig>> = [
    {},
    { layout: 'NHWC' },
    { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    { mean: [0, 0, 0], std: [1, 1, 1], layout: 'NHWC' },
    { mean: [0.123456789, 0.987654321, 0.333333333], std: [0.0123, 3.7, 0.61] },
    { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711], layout: 'NHWC' },
  ];
  for (const over of configs) {
    test(`${JSON.stringify(over)}: every byte value, sizes with n % 4 = 0..3, at an offset`, () => {
      const c = resolvePreprocessConfig(over);
      for (const [w, h] of [
        [224, 224],
        [16, 16],
        [7, 5],
        [3, 3],
        [1, 1],
        [1, 2],
        [11, 3],
      ] as Array<[number, number]>) {
        const img = image(w, h, w * 31 + h);
        for (let i = 0; i < Math.min(256, img.data.length); i++) img.data[i] = i; // every value, in each channel
        const offset = 5;
        const a = normalizeInto(img, c, new Float32Array(offset + w * h * 3 + 3).fill(-7), offset, 'js');
        const b = normalizeInto(img, c, new Float32Array(offset + w * h * 3 + 3).fill(-7), offset, 'simd');
        assert.ok(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), `${w}x${h}: float32 bits differ`);
      }
    });
  }
  test('all 256 values in every channel position, both layouts', () => {
    const img: RgbImage = { data: new Uint8Array(256 * 3), width: 256, height: 1 };
    for (let v = 0; v < 256; v++) img.data.set([v, 255 - v, (v * 7) & 255], v * 3);
    for (const layout of ['NCHW', 'NHWC'] as const) {
      const c = resolvePreprocessConfig({ layout });
      const a = normalizeInto(img, c, new Float32Array(768), 0, 'js');
      const b = normalizeInto(img, c, new Float32Array(768), 0, 'simd');
      assert.ok(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), layout);
    }
  });
});

describe('SIMD resize memory', { skip: SKIP_NO_SIMD }, () => {
  after(() => releaseSimdResize());
  test('one memory reused across images of the same size: no growth', () => {
    releaseSimdResize();
    const src = image(500, 375, 1);
    resizeAndCropExact(src, IMAGENET_PREPROCESS);
    const bytes = simdResizeMemoryBytes();
    assert.ok(bytes > 0 && bytes < 4 * 1024 * 1024, `${bytes} bytes after a 500×375 image`);
    for (let i = 0; i < 20; i++) resizeAndCropExact(image(500, 375, i + 2), IMAGENET_PREPROCESS);
    assert.equal(simdResizeMemoryBytes(), bytes);
  });

  test('grows for a larger image, and an instance past the retention bound is dropped after its image', () => {
    releaseSimdResize();
    resizeAndCropExact(image(500, 375, 1), IMAGENET_PREPROCESS);
    const small = simdResizeMemoryBytes();
    const saved = { ...SIMD_RESIZE_LIMITS };
    try {
      SIMD_RESIZE_LIMITS.retainBytes = 4 * 1024 * 1024;
      const src = image(2000, 1500, 3);
      const out = resizeAndCropExact(src, IMAGENET_PREPROCESS);
      assert.ok(Buffer.from(out.data).equals(Buffer.from(resizeAndCropExact(src, IMAGENET_PREPROCESS, 'js').data)));
      assert.equal(simdResizeMemoryBytes(), 0, 'the grown instance is dropped');
      resizeAndCropExact(image(500, 375, 1), IMAGENET_PREPROCESS);
      assert.equal(simdResizeMemoryBytes(), small, 'the next small image starts a small memory again');
    } finally {
      Object.assign(SIMD_RESIZE_LIMITS, saved);
    }
  });

  test('an image over the memory cap takes the JS passes and gives the same bytes', () => {
    releaseSimdResize();
    const saved = { ...SIMD_RESIZE_LIMITS };
    try {
      SIMD_RESIZE_LIMITS.maxBytes = 1024 * 1024;
      const src = image(2000, 1500, 4);
      const out = resizeAndCropExact(src, IMAGENET_PREPROCESS);
      assert.equal(simdResizeMemoryBytes(), 0, 'no instance was made for it');
      assert.ok(Buffer.from(out.data).equals(Buffer.from(resizeAndCropExact(src, IMAGENET_PREPROCESS, 'js').data)));
    } finally {
      Object.assign(SIMD_RESIZE_LIMITS, saved);
    }
  });
});

describe('JS fallback', () => {
  test("IMAGE_CLASSIFIER_RESIZE=js makes 'auto' run the JS passes (no module instance), with the same bytes", () => {
    releaseSimdResize();
    const before = process.env.IMAGE_CLASSIFIER_RESIZE;
    process.env.IMAGE_CLASSIFIER_RESIZE = 'js';
    try {
      assert.equal(simdResizeDefault(), false);
      const src = image(500, 375, 8);
      const auto = resizeAndCropExact(src, IMAGENET_PREPROCESS);
      assert.equal(simdResizeMemoryBytes(), 0, 'the SIMD kernels did not run');
      delete process.env.IMAGE_CLASSIFIER_RESIZE;
      assert.equal(simdResizeDefault(), simdResizeAvailable());
      const other = resizeAndCropExact(src, IMAGENET_PREPROCESS);
      assert.ok(Buffer.from(auto.data).equals(Buffer.from(other.data)));
    } finally {
      if (before === undefined) delete process.env.IMAGE_CLASSIFIER_RESIZE;
      else process.env.IMAGE_CLASSIFIER_RESIZE = before;
      releaseSimdResize();
    }
  });

  test("'simd' throws where the runtime lacks WebAssembly SIMD, and runs otherwise", () => {
    const src = image(20, 10, 1);
    if (simdResizeAvailable()) assert.equal(resizeBilinearPillow(src, { outWidth: 9, outHeight: 4 }, 'simd').data.length, 9 * 4 * 3);
    else assert.throws(() => resizeBilinearPillow(src, { outWidth: 9, outHeight: 4 }, 'simd'), /SIMD/);
  });
});

test('resize-simd.generated.ts was assembled from the current resize-simd.wat', () => {
  const wat = readFileSync(path.join(import.meta.dirname, '../src/image/resize-simd.wat'), 'utf8');
  assert.equal(RESIZE_SIMD_WAT_SHA256, createHash('sha256').update(wat).digest('hex'), 'run node scripts/build-resize-wasm.mjs');
});
