import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  checkSvgComplexity,
  ClassifierError,
  decodeImage,
  IMAGENET_PREPROCESS,
  type PreprocessConfig,
  PreprocessPool,
  preprocessImage,
  SVG_RENDER_MAX_PIXELS,
  SVG_RENDER_SIDE,
  svgRenderDensity,
  tensorElements,
} from '../src/index.js';
import { FIXTURE_IMAGES } from '../../../test-fixtures/fixtures.js';
import { filterBombSvg, normalSvg, overLimitSvgs, patchJpegSize, plainHugeSvg, slowSvg } from '../../../test-fixtures/svg-bombs.js';

const config = IMAGENET_PREPROCESS as PreprocessConfig;
const svg = (s: string) => Buffer.from(s, 'utf8');

function code(e: unknown): string | undefined {
  return e instanceof ClassifierError ? e.code : undefined;
}

describe('SVG budgets', () => {
  test('the render density puts the short side at 256 and bounds the pixels, whatever the declared canvas', () => {
    for (const [w, h] of [
      [9000, 9000],
      [9999, 9999],
      [16, 16],
      [400, 300],
      [1, 9000],
      [1e7, 10],
    ] as const) {
      const d = svgRenderDensity(w, h);
      const rw = (w * d) / 72;
      const rh = (h * d) / 72;
      assert.ok(rw * rh <= SVG_RENDER_MAX_PIXELS * 1.01, `${w}×${h}: ${rw}×${rh}`);
      if (Math.max(w, h) / Math.min(w, h) <= 8)
        assert.ok(Math.abs(Math.min(rw, rh) - SVG_RENDER_SIDE) < 1, `${w}×${h}: short side ${Math.min(rw, rh)}`);
    }
  });

  test('the complexity check refuses each over-limit SVG with IMAGE_TOO_COMPLEX, and passes ordinary ones', () => {
    for (const [what, text] of overLimitSvgs()) {
      assert.throws(
        () => checkSvgComplexity(svg(text), `${what}.svg`),
        (e) => code(e) === 'IMAGE_TOO_COMPLEX' && /too complex/.test((e as Error).message),
        what,
      );
    }
    for (const ok of [normalSvg(), plainHugeSvg(), filterBombSvg(10)]) checkSvgComplexity(svg(ok), 'ok.svg');
  });

  test('9999×9999 and 9000×9000 filter-bomb SVGs are rendered at 256 px, quickly', async () => {
    for (const text of [plainHugeSvg(), filterBombSvg(10)]) {
      const t = performance.now();
      const img = await decodeImage(svg(text), 'bomb.svg');
      const ms = performance.now() - t;
      assert.deepEqual([img.width, img.height, img.format], [256, 256, 'svg']);
      assert.ok(ms < 5000, `${ms.toFixed(0)} ms`);
    }
  });

  test('an ordinary SVG (mm size, viewBox) keeps its aspect and classifies in both modes', async () => {
    const img = await decodeImage(svg(normalSvg()), 'normal.svg');
    assert.deepEqual([img.width, img.height], [341, 256]);
    for (const preprocessing of ['exact', 'fast'] as const) {
      const r = await preprocessImage(svg(normalSvg()), 'normal.svg', { preprocessing, config });
      assert.equal(r.format, 'svg');
    }
  });

  test('a JPEG whose header claims 9999×9999 is refused as truncated (DECODE_FAILED), in both modes', async () => {
    const jpeg = patchJpegSize(readFileSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg')));
    for (const preprocessing of ['exact', 'fast'] as const) {
      await assert.rejects(
        preprocessImage(jpeg, 'patched.jpg', { preprocessing, config }),
        (e) => code(e) === 'DECODE_FAILED',
        preprocessing,
      );
    }
  });
});

describe('PreprocessPool: decode time budget', () => {
  const pool = new PreprocessPool(2, undefined, { decodeTimeoutMs: 1000 });
  after(() => pool.close());
  const run = (bytes: Uint8Array, name: string) =>
    pool.run(bytes, name, { preprocessing: 'exact', config }, new Float32Array(tensorElements(config)), () => undefined);

  test('a decode over its budget fails with IMAGE_TOO_COMPLEX, its thread is replaced, other images are classified', async () => {
    const jpeg = readFileSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'));
    await run(jpeg, 'warm.jpg');
    const t = performance.now();
    const [slow, ok] = await Promise.allSettled([run(svg(slowSvg()), 'slow.svg'), run(jpeg, 'coffee.jpg')]);
    assert.equal(ok.status, 'fulfilled');
    assert.equal(slow.status, 'rejected');
    const e = (slow as PromiseRejectedResult).reason as ClassifierError;
    assert.equal(e.code, 'IMAGE_TOO_COMPLEX');
    assert.match(e.message, /slow\.svg took longer than 1 s to decode/);
    assert.ok(performance.now() - t < 8000);
    // The replacement thread decodes.
    const again = await Promise.all([run(jpeg, 'a.jpg'), run(jpeg, 'b.jpg'), run(jpeg, 'c.jpg')]);
    assert.equal(again.length, 3);
  });
});
