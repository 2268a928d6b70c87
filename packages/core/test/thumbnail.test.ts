/** Thumbnails in-process (thumbnail.ts): sizes, formats, alpha, the guards shared with decoding, and webpSize. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { FIXTURE_IMAGES, pngBombHeader } from '../../../test-fixtures/fixtures.js';
import { netpbm, pattern } from '../../../test-fixtures/formats.js';
import { overLimitSvgs } from '../../../test-fixtures/svg-bombs.js';
import { ClassifierError, makeThumbnail, webpSize } from '../src/index.js';

const coffee = readFileSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'));

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ClassifierError, String(e));
    return e.code;
  }
  return 'ok';
}

describe('makeThumbnail', () => {
  test('a JPEG: WebP, longest side = size, aspect kept, webpSize agrees with sharp', async () => {
    const t = await makeThumbnail(coffee, 'coffee.jpg', { size: 150 });
    const m = await sharp(t.webp).metadata();
    assert.equal(m.format, 'webp');
    assert.deepEqual([t.width, t.height, m.width, m.height], [150, 100, 150, 100]);
    assert.deepEqual(webpSize(t.webp), { width: 150, height: 100 });
    assert.equal(t.format, 'jpeg');
  });

  test('a small image is not enlarged; a Netpbm file goes through the built-in decoder', async () => {
    const img = pattern(40, 30);
    const t = await makeThumbnail(netpbm(6, 40, 30, img.data), 'p.ppm', { size: 192 });
    assert.deepEqual([t.width, t.height, t.format], [40, 30, 'pnm']);
  });

  test('alpha is kept (VP8X), and webpSize reads lossless (VP8L) too', async () => {
    const rgba = await sharp({ create: { width: 64, height: 48, channels: 4, background: { r: 9, g: 90, b: 200, alpha: 0.5 } } })
      .png()
      .toBuffer();
    const t = await makeThumbnail(rgba, 'a.png', { size: 32 });
    assert.equal((await sharp(t.webp).metadata()).hasAlpha, true);
    assert.deepEqual(webpSize(t.webp), { width: 32, height: 24 });
    const lossless = await sharp(coffee).resize(77, 51).webp({ lossless: true }).toBuffer();
    assert.equal(String.fromCharCode(...lossless.subarray(12, 16)), 'VP8L');
    assert.deepEqual(webpSize(lossless), { width: 77, height: 51 });
    assert.equal(webpSize(coffee), undefined);
    assert.equal(webpSize(new Uint8Array(10)), undefined);
  });

  test('the guards of decoding: a 50000² header, an SVG bomb, a truncated JPEG, text, an empty file', async () => {
    assert.equal(await code(makeThumbnail(pngBombHeader(50000, 50000), 'bomb.png', { size: 64 })), 'IMAGE_TOO_LARGE');
    assert.equal(await code(makeThumbnail(Buffer.from(overLimitSvgs()[0]![1]), 'b.svg', { size: 64 })), 'IMAGE_TOO_COMPLEX');
    assert.equal(await code(makeThumbnail(coffee.subarray(0, coffee.length / 2), 'half.jpg', { size: 64 })), 'DECODE_FAILED');
    assert.equal(await code(makeThumbnail(Buffer.from('hello, not an image'), 'x.png', { size: 64 })), 'UNSUPPORTED_FORMAT');
    assert.equal(await code(makeThumbnail(new Uint8Array(0), 'e.png', { size: 64 })), 'EMPTY_FILE');
  });
});
