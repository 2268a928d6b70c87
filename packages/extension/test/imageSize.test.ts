import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fitBox, IMAGE_HEADER_BYTES, imageSize } from '../src/imageSize';

const SHARED = process.env.IMAGE_CLASSIFIER_SHARED_DIR ?? path.resolve(__dirname, '..', '..', '..', '..', 'shared');
const NO_SHARED = existsSync(path.join(SHARED, 'images'))
  ? false
  : `SKIPPED: ../shared not found at ${SHARED}; set IMAGE_CLASSIFIER_SHARED_DIR`;
if (NO_SHARED) console.warn(`\n!!! ${NO_SHARED}\n`);

/** The sizes sharp's metadata gives these files after EXIF orientation (autoOrient), and `file` for BMP/ICO. */
const SHARED_SIZES: [string, number, number][] = [
  ['images/skimage_chelsea_cat.jpg', 451, 300],
  ['images/derived_chelsea_orient6.jpg', 451, 300], // stored 300×451, EXIF orientation 6
  ['images/derived_chelsea_cmyk.jpg', 451, 300],
  ['images/skimage_rocket.jpg', 640, 427],
  ['images/derived_chelsea.webp', 451, 300],
  ['images/derived_chelsea_16bit.png', 451, 300],
  ['images/skimage_coffee.png', 600, 400],
  ['formats/images/derived_rocket_tiny_palette.png', 48, 36],
  ['formats/images/derived_coffee_8bit.bmp', 600, 400],
  ['formats/images/derived_coffee_32bit.bmp', 600, 400],
  ['formats/images/derived_coffee.ico', 256, 171], // the largest of its 32, 128 and 256 px frames
];

test('imageSize: the displayed size of the shared photos (JPEG with EXIF orientation, WebP, PNG, BMP, ICO)', { skip: NO_SHARED }, () => {
  for (const [file, width, height] of SHARED_SIZES) {
    const head = readFileSync(path.join(SHARED, file)).subarray(0, IMAGE_HEADER_BYTES);
    assert.deepEqual(imageSize(head), { width, height }, file);
  }
});

test('imageSize: GIF, lossless and extended WebP, a top-down BMP; undefined for what it cannot read', () => {
  const gif = Buffer.alloc(32);
  gif.write('GIF89a', 0, 'latin1');
  gif.writeUInt16LE(1800, 6);
  gif.writeUInt16LE(120, 8);
  assert.deepEqual(imageSize(gif), { width: 1800, height: 120 });

  const riff = (chunk: string, body: number[]) => {
    const b = Buffer.alloc(40);
    b.write('RIFF', 0, 'latin1');
    b.write('WEBP', 8, 'latin1');
    b.write(chunk, 12, 'latin1');
    Buffer.from(body).copy(b, 20);
    return b;
  };
  // VP8L: signature 0x2f, then 14 bits width-1 and 14 bits height-1.
  const bits = (90 - 1) | ((720 - 1) << 14);
  assert.deepEqual(imageSize(riff('VP8L', [0x2f, bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff, (bits >>> 24) & 0xff])), {
    width: 90,
    height: 720,
  });
  // VP8X: flags, 3 reserved bytes, then 24-bit width-1 and height-1.
  assert.deepEqual(imageSize(riff('VP8X', [0, 0, 0, 0, 11, 0, 0, 8, 0, 0])), { width: 12, height: 9 });

  const bmp = Buffer.alloc(54);
  bmp.write('BM', 0, 'latin1');
  bmp.writeInt32LE(640, 18);
  bmp.writeInt32LE(-480, 22); // negative: rows stored top-down
  assert.deepEqual(imageSize(bmp), { width: 640, height: 480 });

  assert.equal(imageSize(Buffer.from('\xff\xd8\xff\xe0 not really a JPEG at all', 'latin1')), undefined);
  assert.equal(imageSize(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')), undefined);
  assert.equal(imageSize(Buffer.alloc(0)), undefined);
  if (!NO_SHARED) {
    const png = readFileSync(path.join(SHARED, 'images', 'skimage_coffee.png'));
    assert.equal(imageSize(png.subarray(0, 20)), undefined, 'too short a header');
  }
});

test('fitBox: the picture fitted in the box with its aspect ratio, scaled up or down', () => {
  assert.deepEqual(fitBox(1800, 120, 240, 96), { width: 240, height: 16 });
  assert.deepEqual(fitBox(90, 720, 240, 96), { width: 12, height: 96 });
  assert.deepEqual(fitBox(12, 9, 240, 96), { width: 128, height: 96 });
  assert.deepEqual(fitBox(451, 300, 240, 96), { width: 144, height: 96 });
  assert.deepEqual(fitBox(100_000, 1, 240, 96), { width: 240, height: 1 });
});
