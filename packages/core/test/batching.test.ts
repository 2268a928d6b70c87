/**
 * The engine's batching rules, on a backend whose runs the test finishes: no model, no timing races.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Classifier, type InferenceBackend, type ModelInfo } from '../src/index.js';

const CLASSES = 3;
const PER = 3 * 2 * 2;

/** A backend that records each run's batch size and finishes a run when the test calls `finish()`. */
function controlledBackend() {
  const runs: number[] = [];
  const waiting: Array<() => void> = [];
  const info = {
    path: '/fake.onnx',
    name: 'fake',
    inputSize: [2, 2],
    layout: 'NCHW',
    classes: CLASSES,
    dynamicBatch: true,
    maxBatch: 64,
    outputIsProbabilities: false,
  } as unknown as ModelInfo;
  const backend: InferenceBackend = {
    info,
    run: (input, batch, giveBack) => {
      runs.push(batch);
      return new Promise((resolve) =>
        waiting.push(() => {
          giveBack?.(input);
          resolve({ logits: new Float32Array(batch * CLASSES) });
        }),
      );
    },
    release: async () => undefined,
  };
  return {
    backend,
    runs,
    /** Finishes the oldest run still going. */
    finish: () => waiting.shift()?.(),
    get running() {
      return waiting.length;
    },
  };
}

const tensor = () => new Float32Array(PER);
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('batching', () => {
  test('a partial bulk batch waits behind a running batch until it fills; it does not take the spare slot half empty', async () => {
    const b = controlledBackend();
    const c = Classifier.forBackend(b.backend, { maxBatch: 8, maxDelayMs: 2 });
    const all: Array<Promise<unknown>> = [];
    for (let i = 0; i < 8; i++) all.push(c.infer(tensor()));
    await tick();
    assert.deepEqual(b.runs, [8], 'a full batch goes at once');
    for (let i = 0; i < 2; i++) all.push(c.infer(tensor()));
    await tick(20); // ten times the max delay
    assert.deepEqual(b.runs, [8], 'two images do not go as a batch of 2 while the model is busy with 8');
    for (let i = 0; i < 6; i++) all.push(c.infer(tensor()));
    await tick();
    assert.deepEqual(b.runs, [8, 8], 'once full, the batch takes the spare slot behind the running one');
    for (let i = 0; i < 3; i++) all.push(c.infer(tensor()));
    await tick(20);
    assert.deepEqual(b.runs, [8, 8], 'both slots taken: nothing more goes');
    b.finish();
    await tick(20);
    assert.deepEqual(b.runs, [8, 8], 'one batch still ahead: the partial batch keeps waiting to fill');
    b.finish();
    await tick(20);
    assert.deepEqual(b.runs, [8, 8, 3], 'the model ran out of work: the partial batch goes after the max delay');
    b.finish();
    await Promise.all(all);
    await c.close();
  });

  test('an interactive image goes at once, even while a batch runs', async () => {
    const b = controlledBackend();
    const c = Classifier.forBackend(b.backend, { maxBatch: 8, maxDelayMs: 2 });
    const all: Array<Promise<unknown>> = [];
    for (let i = 0; i < 8; i++) all.push(c.infer(tensor()));
    await tick();
    all.push(c.infer(tensor(), 'interactive'));
    await tick();
    assert.deepEqual(b.runs, [8, 1]);
    b.finish();
    b.finish();
    await Promise.all(all);
    await c.close();
  });

  test('with the model idle, a partial batch goes after the max delay', async () => {
    const b = controlledBackend();
    const c = Classifier.forBackend(b.backend, { maxBatch: 8, maxDelayMs: 2 });
    const p = [c.infer(tensor()), c.infer(tensor())];
    await tick(20);
    assert.deepEqual(b.runs, [2]);
    b.finish();
    const r = await Promise.all(p);
    assert.equal(r.length, 2);
    await c.close();
  });
});
