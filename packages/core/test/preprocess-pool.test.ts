import { strict as assert } from 'node:assert';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import {
  ClassifierError,
  IMAGENET_PREPROCESS,
  preprocessImage,
  PreprocessPool,
  tensorElements,
  type PreprocessConfig,
} from '../src/index.js';
import { FIXTURE_IMAGES, writeBadInputs, type BadInputs } from '../../../test-fixtures/fixtures.js';

const config = IMAGENET_PREPROCESS as PreprocessConfig;

describe('PreprocessPool: decoding and preprocessing in decoder processes', () => {
  let pool: PreprocessPool;
  let bad: BadInputs;
  before(async () => {
    // Decoder processes alone: JPEGs the WebAssembly decoder takes would go to decoder threads (decoder-threads.test.ts).
    pool = new PreprocessPool(2, undefined, { threads: 0 });
    bad = await writeBadInputs(mkdtempSync(path.join(tmpdir(), 'ic-pool-')));
  });
  after(async () => pool?.close());

  test('the same tensors as in this thread, bit for bit, in both modes; the output buffer comes back', async () => {
    // The photos at a short side of 600 (a 2.3× reduction): `fast` may take libvips there (below 2× a JPEG goes
    // straight to the exact path, which costs less: preprocess.ts).
    const dir = mkdtempSync(path.join(tmpdir(), 'ic-pool-photos-'));
    const files: string[] = [];
    for (const f of ['skimage_chelsea_cat.jpg', 'skimage_coffee.jpg']) {
      const bytes = await sharp(path.join(FIXTURE_IMAGES, f))
        .resize({ width: 600, height: 600, fit: 'outside' })
        .jpeg({ quality: 92 })
        .toBuffer();
      files.push(path.join(dir, f));
      writeFileSync(files.at(-1)!, bytes);
    }
    const byMode: Record<string, Buffer[]> = {};
    for (const preprocessing of ['exact', 'fast'] as const) {
      const results = await Promise.all(
        files.map(async (f) => {
          const bytes = readFileSync(f);
          // Each photo is the first of its class (format, plan, pixel count) in this thread and in its decoder
          // process, so `fast` takes its libvips plan in both (fast-choice.ts tries that path first).
          const here = await preprocessImage(bytes, f, { preprocessing, config });
          const out = new Float32Array(tensorElements(config));
          let back: Float32Array | undefined;
          const there = await pool.run(bytes, f, { preprocessing, config }, out, (b) => (back = b));
          assert.equal(there.tensor, out, 'filled in the caller’s tensor');
          assert.equal(back, there.tensor);
          assert.equal(bytes.length > 0, true, "the caller's bytes are left alone");
          return { here, there };
        }),
      );
      for (const { here, there } of results) {
        assert.deepEqual([there.width, there.height, there.format], [here.width, here.height, here.format]);
        assert.deepEqual(Buffer.from(there.tensor.buffer), Buffer.from(here.tensor.buffer), `${preprocessing}: identical tensors`);
      }
      byMode[preprocessing] = results.map((r) => Buffer.from(r.there.tensor.buffer));
    }
    // The two modes really ran: libvips' resize differs from the exact (torchvision) path on these photos.
    for (let i = 0; i < files.length; i++) {
      assert.notDeepEqual(byMode.fast![i], byMode.exact![i], `${path.basename(files[i]!)}: fast and exact tensors differ`);
    }
  });

  test('bad inputs: the decoder’s own error codes and details, and the buffer back for reuse', async () => {
    for (const key of ['empty', 'truncatedJpeg', 'randomPng', 'text', 'tiny', 'bomb'] as const) {
      const bytes = readFileSync(bad.files[key]);
      let back: Float32Array | undefined;
      await assert.rejects(
        pool.run(bytes, bad.files[key], { preprocessing: 'fast', config }, new Float32Array(tensorElements(config)), (b) => (back = b)),
        (e: ClassifierError) => {
          assert.ok(e instanceof ClassifierError);
          assert.equal(e.code, bad.expectedCodes[key], key);
          assert.ok(e.message.includes(path.basename(bad.files[key])), `${key}: names the file`);
          if (key === 'bomb') assert.deepEqual(e.details, { width: 50000, height: 50000, maxPixels: 100_000_000 });
          return true;
        },
      );
      assert.equal(back?.length, tensorElements(config), `${key}: buffer returned`);
    }
  });

  test('a decoder that is up and idle takes a job without a `started` message; a busy one announces each pickup', async () => {
    const one = new PreprocessPool(1, undefined, { threads: 0 });
    try {
      const f = path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg');
      const bytes = readFileSync(f);
      const run = () => one.run(bytes, f, { preprocessing: 'exact', config }, new Float32Array(tensorElements(config)), () => undefined);
      const child = (one as unknown as { slots: Array<{ child: ChildProcess }> }).slots[0]!.child;
      const seen: Array<{ type: string; id: number }> = [];
      child.on('message', (m: { type: string; id: number }) => seen.push({ type: m.type, id: m.id }));
      // Not known to be up yet: the first job asks for its pickup.
      await run();
      assert.deepEqual(
        seen.map((m) => m.type),
        ['started', 'done'],
      );
      seen.length = 0;
      await run();
      assert.deepEqual(
        seen.map((m) => m.type),
        ['done'],
        'idle and up: no started',
      );
      seen.length = 0;
      const rs = await Promise.all([run(), run(), run()]);
      for (const r of rs) assert.equal(r.width, 451);
      assert.deepEqual(seen.filter((m) => m.type === 'started').length, 2, 'the two jobs sent while it was busy announce their pickup');
      // A large request (its copy through the pipe is not part of its budget) announces its pickup even when idle:
      // the photo with 5 MiB of trailing bytes (JPEG ignores what follows its end).
      seen.length = 0;
      const big = Buffer.concat([bytes, Buffer.alloc(5 * 1024 * 1024)]);
      const r = await one.run(big, f, { preprocessing: 'exact', config }, new Float32Array(tensorElements(config)), () => undefined);
      assert.equal(r.width, 451);
      assert.deepEqual(
        seen.map((m) => m.type),
        ['started', 'done'],
        'a large request to an idle decoder: started',
      );
    } finally {
      await one.close();
    }
  });

  test('a decoder process that dies fails only its own images; a fresh one takes its place', async () => {
    const f = path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg');
    const bytes = readFileSync(f);
    const slots = (pool as unknown as { slots: Array<{ child: ChildProcess }> }).slots;
    const doomed = slots[0]!.child;
    const lost = pool.run(bytes, f, { preprocessing: 'exact', config }, new Float32Array(tensorElements(config)), () => undefined);
    doomed.kill('SIGKILL');
    await assert.rejects(lost, (e: ClassifierError) => e.code === 'INTERNAL' && /decoder stopped/.test(e.message));
    assert.notEqual(slots[0]!.child, doomed, 'replaced');
    const rs = await Promise.all(
      [0, 1, 2, 3].map(() =>
        pool.run(bytes, f, { preprocessing: 'exact', config }, new Float32Array(tensorElements(config)), () => undefined),
      ),
    );
    for (const r of rs) assert.equal(r.width, 451);
  });
});
