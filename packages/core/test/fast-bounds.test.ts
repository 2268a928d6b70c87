/**
 * `fast` mode stays within max |Δ| 0.06 / mean 0.006 of torchvision. The exact path is torchvision to 1e-6
 * (preprocess.test.ts, formats.test.ts), so it stands in for PyTorch here: photos re-encoded at short sides from
 * 260 px (libvips alone) through 800–1500 px (the exact path) to 4000 px (libvips with JPEG shrink-on-load to an
 * intermediate, then Pillow's filter), where libvips alone was measured up to 0.96 off. The shared reference images
 * are checked against PyTorch's own tensors in preprocess.test.ts and formats.test.ts.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { preprocessImage } from '../src/index.js';
import { FIXTURE_IMAGES, tensorDiff } from '../../../test-fixtures/fixtures.js';

const diff = tensorDiff;

describe('fast mode bounds against the exact path', () => {
  const photos = ['skimage_chelsea_cat.jpg', 'skimage_coffee.jpg'];
  const cases: Array<[string, number, 'jpeg' | 'png' | 'webp']> = [];
  for (const photo of photos) {
    for (const short of [260, 700, 900, 1600, 3200, 4000]) cases.push([photo, short, 'jpeg']);
    cases.push([photo, 1700, 'png'], [photo, 1700, 'webp'], [photo, 300, 'png']);
  }
  for (const [photo, short, enc] of cases) {
    test(`${photo} as ${enc} at short side ${short}`, async () => {
      const src = readFileSync(path.join(FIXTURE_IMAGES, photo));
      const m = await sharp(src).metadata();
      const scale = short / Math.min(m.width!, m.height!);
      let s = sharp(src)
        .resize(Math.round(m.width! * scale), Math.round(m.height! * scale), { kernel: 'lanczos3', fit: 'fill' })
        .sharpen();
      s = enc === 'jpeg' ? s.jpeg({ quality: 90 }) : enc === 'png' ? s.png() : s.webp({ quality: 90 });
      const bytes = await s.toBuffer();
      const exact = await preprocessImage(bytes, `x.${enc}`, { preprocessing: 'exact' });
      const fast = await preprocessImage(bytes, `x.${enc}`, { preprocessing: 'fast' });
      assert.deepEqual([fast.width, fast.height], [exact.width, exact.height]);
      const d = diff(fast.tensor, exact.tensor);
      assert.ok(d.max <= 0.06 && d.mean <= 0.006, `max |Δ| ${d.max}, mean ${d.mean}`);
    });
  }
  test('small, palette, grayscale and 16-bit grayscale PNGs', async () => {
    const src = readFileSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'));
    const variants = [
      await sharp(src).resize(200, 133).grayscale().png().toBuffer(),
      await sharp(src).resize(48, 36).png({ palette: true, colours: 32 }).toBuffer(),
      await sharp(src).png({ palette: true, colours: 64 }).toBuffer(),
      await sharp(src).grayscale().png().toBuffer(),
      await sharp(src).grayscale().toColourspace('grey16').png().toBuffer(),
    ];
    for (const [i, bytes] of variants.entries()) {
      const exact = await preprocessImage(bytes, 'x.png', { preprocessing: 'exact' });
      const fast = await preprocessImage(bytes, 'x.png', { preprocessing: 'fast' });
      const d = diff(fast.tensor, exact.tensor);
      assert.ok(d.max <= 0.06 && d.mean <= 0.006, `variant ${i}: max |Δ| ${d.max}, mean ${d.mean}`);
    }
  });
});
