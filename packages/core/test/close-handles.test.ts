/**
 * After `Classifier.close()` nothing the engine started keeps the process alive: no timer, no worker thread, no
 * decoder process, no message port. A command-line run that printed its answer then exits at once instead of
 * waiting on a forgotten handle (a 2 s release timer used to hold every `classify` for 2 s after its last line).
 * Checked on the event loop's own list of what keeps it alive (`process.getActiveResourcesInfo()`), not by timing.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Classifier } from '../src/index.js';
import { sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';

const shared = sharedDir();

/** What keeps the event loop alive, as counts per resource type. */
function aliveCounts(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

/** The resource types (with their counts) that `after` holds beyond `before`. */
function added(before: Map<string, number>, after: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [k, n] of after) if (n > (before.get(k) ?? 0)) out.push(`${k} ×${n - (before.get(k) ?? 0)}`);
  return out;
}

const turn = () => new Promise((r) => setImmediate(r));

describe('nothing keeps the process alive after Classifier.close()', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  const model = shared ? path.join(shared, 'models', 'mobilenetv2-12-int8.onnx') : '';
  const images = shared ? ['skimage_chelsea_cat.jpg', 'skimage_coffee.jpg'].map((f) => path.join(shared, 'images', f)) : [];

  for (const [name, workers] of [
    ['one image as the CLI runs it: inference worker thread, decoding in this thread', 0],
    ['a folder as the CLI runs it: inference worker thread and two decoder processes', 2],
  ] as const) {
    test(name, async () => {
      await turn();
      const before = aliveCounts();
      const c = await Classifier.create({ modelPath: model, preprocessing: 'exact', preprocessWorkers: workers });
      const results = await Promise.all(images.map((f) => c.classifyFile(f)));
      assert.equal(results.length, 2);
      assert.ok(added(before, aliveCounts()).length > 0, 'the open classifier holds resources (the check can see them)');
      await c.close();
      await turn();
      assert.deepEqual(added(before, aliveCounts()), [], 'resources left alive after close()');
    });
  }

  test('closing while a batch is still being classified leaves nothing alive either', async () => {
    await turn();
    const before = aliveCounts();
    const c = await Classifier.create({ modelPath: model, preprocessing: 'exact', preprocessWorkers: 1 });
    const pending = images.map((f) => c.classifyFile(f).catch((e: Error & { code?: string }) => e.code));
    await c.close();
    const outcomes = await Promise.all(pending);
    for (const o of outcomes) assert.ok(typeof o === 'string' ? o === 'MODEL_NOT_READY' : Array.isArray(o.predictions), String(o));
    await turn();
    assert.deepEqual(added(before, aliveCounts()), [], 'resources left alive after close()');
  });
});
