/**
 * Decoder threads (decoder-threads.ts): JPEGs the WebAssembly decoder takes are decoded in worker threads, straight
 * into the caller's tensor. The same tensors as in this thread and as in a decoder process; whatever the WebAssembly
 * decoder declines goes to a decoder process; a decode over its budget stops inside WebAssembly; threads that cannot
 * start hand every image to the processes; interactive requests have a thread of their own; the budget is CPU time.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import {
  type ClassifierError,
  DECODER_THREAD_NAME,
  DecoderThreads,
  IMAGENET_PREPROCESS,
  preprocessImage,
  PreprocessPool,
  tensorElements,
  type PreprocessConfig,
} from '../src/index.js';
import { FIXTURE_IMAGES, writeBadInputs } from '../../../test-fixtures/fixtures.js';

const config = IMAGENET_PREPROCESS as PreprocessConfig;
const tensor = () => new Float32Array(tensorElements(config));
const CAT = path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg');

/** This process's threads named as decoder threads, with their nice values. */
function decoderThreads(): Array<{ tid: number; nice: number }> {
  const out = [];
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== DECODER_THREAD_NAME) continue;
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Field 19 (nice), counted from field 3, after the command name (which ends at the last ')').
      out.push({ tid: Number(tid), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

describe('decoder threads: WebAssembly JPEGs decoded in worker threads', () => {
  let pool: PreprocessPool;
  let processes: PreprocessPool;
  let dir: string;
  before(() => {
    pool = new PreprocessPool(2);
    processes = new PreprocessPool(2, undefined, { threads: 0 });
    dir = mkdtempSync(path.join(tmpdir(), 'ic-threads-'));
  });
  after(async () => Promise.all([pool?.close(), processes?.close()]));

  test('the same tensors as in this thread and as in a decoder process, in both modes; the tensor comes back', async () => {
    const files = ['skimage_chelsea_cat.jpg', 'skimage_coffee.jpg'].map((f) => path.join(FIXTURE_IMAGES, f));
    // A progressive 4:2:2 encoding and a grayscale one too (other decoder paths).
    const extra = [
      ['progressive.jpg', await sharp(files[0]).jpeg({ progressive: true, quality: 80, chromaSubsampling: '4:4:4' }).toBuffer()],
      ['gray.jpg', await sharp(files[1]).grayscale().jpeg({ quality: 85 }).toBuffer()],
    ] as const;
    for (const [n, b] of extra) {
      files.push(path.join(dir, n));
      writeFileSync(files.at(-1)!, b);
    }
    const before = pool.threadCounts!.decoded;
    let n = 0;
    for (const preprocessing of ['exact', 'fast'] as const) {
      for (const f of files) {
        const bytes = readFileSync(f);
        const here = await preprocessImage(bytes, f, { preprocessing, config });
        const out = tensor();
        let back: Float32Array | undefined;
        const there = await pool.run(bytes, f, { preprocessing, config }, out, (b) => (back = b));
        assert.equal(back, there.tensor, 'the tensor of the result came back to the caller');
        assert.equal(out.length, 0, 'the caller’s tensor went to the thread (transferred, not copied)');
        const proc = await processes.run(bytes, f, { preprocessing, config }, tensor(), () => undefined);
        assert.deepEqual([there.width, there.height, there.format], [here.width, here.height, here.format]);
        assert.deepEqual(Buffer.from(there.tensor.buffer), Buffer.from(here.tensor.buffer), `${preprocessing} ${path.basename(f)}`);
        assert.deepEqual(
          Buffer.from(proc.tensor.buffer),
          Buffer.from(here.tensor.buffer),
          `${preprocessing} ${path.basename(f)} (process)`,
        );
        n++;
      }
    }
    // Every one of them took the thread path (these photos are below a 2× reduction: `fast` is the exact path).
    assert.equal(pool.threadCounts!.decoded - before, n);
  });

  test('what the WebAssembly decoder declines goes to a decoder process: a harmless libjpeg warning, a truncated file', async () => {
    const cat = readFileSync(CAT);
    // Junk before the end marker: libjpeg warns ("extraneous bytes"), libvips decodes it as it did before.
    const junk = Buffer.concat([cat.subarray(0, cat.length - 2), Buffer.from([1, 2, 3, 4]), cat.subarray(cat.length - 2)]);
    const c0 = { ...pool.threadCounts! };
    const here = await preprocessImage(junk, 'junk.jpg', { config });
    let back: Float32Array | undefined;
    const there = await pool.run(junk, 'junk.jpg', { preprocessing: 'exact', config }, tensor(), (b) => (back = b));
    assert.deepEqual(Buffer.from(there.tensor.buffer), Buffer.from(here.tensor.buffer));
    assert.equal(back, there.tensor);
    assert.equal(pool.threadCounts!.declined, c0.declined + 1, 'declined by the thread');
    assert.equal(pool.threadCounts!.decoded, c0.decoded);
    // A truncated JPEG: the thread declines, the decoder process gives the error it always gave.
    const bad = await writeBadInputs(mkdtempSync(path.join(tmpdir(), 'ic-threads-bad-')));
    const trunc = readFileSync(bad.files.truncatedJpeg);
    await assert.rejects(
      pool.run(trunc, bad.files.truncatedJpeg, { preprocessing: 'exact', config }, tensor(), (b) => (back = b)),
      (e: ClassifierError) => e.code === bad.expectedCodes.truncatedJpeg && e.message.includes('truncated.jpg'),
    );
    assert.equal(back?.length, tensorElements(config), 'a usable tensor back after the failure');
    assert.equal(pool.threadCounts!.declined, c0.declined + 2);
  });

  test('header errors come from the thread as a decoder process gives them (the pixel limit)', async () => {
    const cat = readFileSync(CAT);
    const failed = pool.threadCounts!.failed;
    let back: Float32Array | undefined;
    await assert.rejects(
      pool.run(cat, 'cat.jpg', { preprocessing: 'exact', config, maxPixels: 1000 }, tensor(), (b) => (back = b)),
      (e: ClassifierError) => e.code === 'IMAGE_TOO_LARGE' && /pixel limit/.test(e.message),
    );
    await assert.rejects(
      processes.run(cat, 'cat.jpg', { preprocessing: 'exact', config, maxPixels: 1000 }, tensor(), () => undefined),
      (e: ClassifierError) => e.code === 'IMAGE_TOO_LARGE',
    );
    assert.equal(back?.length, tensorElements(config));
    assert.equal(pool.threadCounts!.failed, failed + 1, 'the thread gave the error');
  });

  test('a decode over its budget is stopped inside WebAssembly: IMAGE_TOO_COMPLEX, the thread replaced, the next image fine', async () => {
    const one = new PreprocessPool(1, undefined, { decodeTimeoutMs: 60 });
    try {
      // 20 MP of noise: over 200 ms to decode, below the threads' pixel limit.
      const big = await sharp({ create: { width: 5000, height: 4000, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
        .jpeg({ quality: 90 })
        .toBuffer();
      // The thread is up before the budget starts (it counts from the hand-over).
      await one.run(readFileSync(CAT), CAT, { preprocessing: 'exact', config }, tensor(), () => undefined);
      const [thread] = one.decoderThreadIds!.bulk;
      let back: Float32Array | undefined;
      await assert.rejects(
        one.run(big, 'noise.jpg', { preprocessing: 'exact', config }, tensor(), (b) => (back = b)),
        (e: ClassifierError) => e.code === 'IMAGE_TOO_COMPLEX' && /noise\.jpg took longer than 0\.06 s/.test(e.message),
      );
      assert.equal(back?.length, tensorElements(config), 'a fresh tensor for the one left in the stopped thread');
      assert.equal(one.threadCounts!.overBudget, 1);
      const r = await one.run(readFileSync(CAT), CAT, { preprocessing: 'exact', config }, tensor(), () => undefined);
      assert.equal(r.width, 451);
      if (process.platform === 'linux') assert.notDeepEqual(one.decoderThreadIds!.bulk, [thread], 'a fresh thread');
    } finally {
      await one.close();
    }
  });

  test('the budget is CPU time: a decode that waits for a core (nice 19 beside busy threads) is not stopped', async () => {
    const one = new PreprocessPool(1, undefined, { decodeTimeoutMs: 250, nice: 19 });
    const spinners: Worker[] = [];
    try {
      // 10 MP: some 50 ms of CPU to decode, well within the budget.
      const big = await sharp(CAT).resize(4000).jpeg().toBuffer();
      await one.run(big, 'big.jpg', { preprocessing: 'exact', config }, tensor(), () => undefined);
      // Threads that keep every core busy for a second at the normal priority (each says when it spins). Another
      // program on the machine can leave the decode a core after all: up to 5 tries for one that waited.
      const walls: number[] = [];
      for (let attempt = 0; attempt < 5 && !walls.some((w) => w > 250); attempt++) {
        const spinning = [];
        for (let i = 0; i < availableParallelism(); i++) {
          const w = new Worker(
            "require('node:worker_threads').parentPort.postMessage(1); const end = Date.now() + 1000; while (Date.now() < end);",
            { eval: true },
          );
          spinning.push(new Promise((r) => w.once('message', r)));
          spinners.push(w);
        }
        await Promise.all(spinning);
        const t = performance.now();
        const r = await one.run(big, 'big.jpg', { preprocessing: 'exact', config }, tensor(), () => undefined);
        walls.push(performance.now() - t);
        assert.equal(r.width, 4000);
        assert.equal(one.threadCounts!.overBudget, 0, `not stopped (${walls.at(-1)!.toFixed(0)} ms of wall time)`);
        await Promise.all(spinners.splice(0).map((w) => w.terminate()));
      }
      // At nice 19 beside threads at 0 on every core (Linux: nice is per thread), it took longer than its budget.
      if (process.platform === 'linux')
        assert.ok(
          walls.some((w) => w > 250),
          `waited ${walls.map((w) => w.toFixed(0)).join(', ')} ms`,
        );
    } finally {
      await Promise.all(spinners.map((w) => w.terminate()));
      await one.close();
    }
  });

  test('cancelled while decoding: CANCELLED at once, with a tensor to reuse', async () => {
    const decoded = pool.threadCounts!.decoded;
    const ac = new AbortController();
    const big = await sharp(CAT).resize(4000).jpeg().toBuffer();
    let back: Float32Array | undefined;
    const p = pool.run(big, 'big.jpg', { preprocessing: 'exact', config, signal: ac.signal }, tensor(), (b) => (back = b));
    ac.abort();
    await assert.rejects(p, (e: ClassifierError) => e.code === 'CANCELLED');
    assert.equal(back?.length, tensorElements(config));
    // The pool goes on; both were decoded in threads (the cancelled one's result dropped).
    assert.equal((await pool.run(readFileSync(CAT), CAT, { preprocessing: 'exact', config }, tensor(), () => undefined)).width, 451);
    while (pool.threadCounts!.decoded < decoded + 2) await new Promise((r) => setTimeout(r, 10));
  });

  test('cancelled while waiting for a thread: CANCELLED, with the caller’s own tensor back; close() with a decode in flight', async () => {
    const one = new PreprocessPool(1);
    try {
      const big = await sharp(CAT).resize(4000).jpeg().toBuffer();
      await one.run(readFileSync(CAT), CAT, { preprocessing: 'exact', config }, tensor(), () => undefined);
      const first = one.run(big, 'big.jpg', { preprocessing: 'exact', config }, tensor(), () => undefined);
      const ac = new AbortController();
      const out = tensor();
      let back: Float32Array | undefined;
      const queued = one.run(big, 'big.jpg', { preprocessing: 'exact', config, signal: ac.signal }, out, (b) => (back = b));
      ac.abort();
      await assert.rejects(queued, (e: ClassifierError) => e.code === 'CANCELLED');
      assert.equal(back, out, 'never sent: the same tensor');
      assert.equal(out.length, tensorElements(config));
      // close() lets the decode in flight finish (within its wait), then ends the thread.
      const third = one.run(big, 'big.jpg', { preprocessing: 'exact', config }, tensor(), () => undefined);
      await one.close();
      assert.equal((await first).width, 4000);
      const r = await third.then(
        (x) => x.width,
        (e: ClassifierError) => e.code,
      );
      assert.ok(r === 4000 || r === 'MODEL_NOT_READY', String(r));
      await assert.rejects(
        one.run(readFileSync(CAT), CAT, { preprocessing: 'exact', config }, tensor(), () => undefined),
        (e: ClassifierError) => e.code === 'MODEL_NOT_READY',
      );
    } finally {
      await one.close();
    }
  });

  test('threads that cannot start hand every image back for a decoder process', { timeout: 60_000 }, async () => {
    const broken = new DecoderThreads({ size: 2, script: path.join(dir, 'missing-worker.js'), decodeTimeoutMs: 5000, nice: 0 });
    try {
      const out = tensor();
      let back: Float32Array | undefined;
      const r = await broken.run(readFileSync(CAT), CAT, { config }, out, (b) => (back = b));
      assert.equal(r, undefined, 'handed back');
      assert.equal(back, out, 'with the caller’s own tensor, never sent');
      while (broken.usable) await broken.run(readFileSync(CAT), CAT, { config }, tensor(), () => undefined);
      assert.equal(await broken.run(readFileSync(CAT), CAT, { config }, tensor(), () => undefined), undefined);
    } finally {
      await broken.close();
    }
  });

  test('threads are named and run at the pool’s nice value; an interactive request gets a thread of its own; none outlives close()', {
    skip: process.platform !== 'linux' ? 'Linux only (/proc, per-thread nice)' : false,
  }, async () => {
    const own = new PreprocessPool(2, undefined, { nice: 7 });
    let ids: { bulk: number[]; interactive: number[] } | undefined;
    const named = () => new Map(decoderThreads().map((t) => [t.tid, t.nice]));
    try {
      const bytes = readFileSync(CAT);
      await Promise.all([0, 1, 2, 3].map(() => own.run(bytes, CAT, { preprocessing: 'exact', config }, tensor(), () => undefined)));
      // The first interactive request starts the interactive thread (an idle bulk thread serves it meanwhile).
      const end = performance.now() + 5000;
      do await own.run(bytes, CAT, { preprocessing: 'exact', config, interactive: true }, tensor(), () => undefined);
      while (own.decoderThreadIds!.interactive.length === 0 && performance.now() < end);
      ids = own.decoderThreadIds!;
      assert.equal(ids.bulk.length, 2, 'two bulk threads');
      assert.equal(ids.interactive.length, 1, 'and one interactive thread');
      const now = named();
      assert.deepEqual(
        [...ids.bulk, ...ids.interactive].map((t) => now.get(t)),
        [7, 7, 7],
        'named, at nice 7',
      );
    } finally {
      await own.close();
    }
    const left = named();
    assert.deepEqual(
      [...ids.bulk, ...ids.interactive].filter((t) => left.has(t)),
      [],
      'no decoder thread after close()',
    );
  });
});
