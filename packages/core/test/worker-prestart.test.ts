/**
 * The inference worker started before the program's modules load (`prestartInferenceWorker`, what the CLI's
 * `classify` does first): the engine takes it instead of starting another, and one that is never taken keeps no
 * process alive.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Classifier } from '../src/index.js';
import { defaultWorkerScript } from '../src/engine/inference-backend.js';
import { prestartInferenceWorker, settlePrestartedWorker, takePrestartedWorker } from '../src/engine/worker-prestart.js';
import { sharedDir, SKIP_NO_SHARED } from '../../../test-fixtures/fixtures.js';

const shared = sharedDir();
const PRESTART = path.resolve(__dirname, '../src/engine/worker-prestart.ts');

describe('a prestarted inference worker', () => {
  test('never taken, it does not keep the process alive', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import(${JSON.stringify(PRESTART)}).then((m) => { (m.prestartInferenceWorker ? m : m.default).prestartInferenceWorker(); console.log('started'); })`,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.signal, null, `killed after 30 s: the unused worker kept the process alive (${r.stderr})`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /started/);
  });

  test('the engine takes it once, and classifies as with its own', { skip: shared ? false : SKIP_NO_SHARED }, async () => {
    const model = path.join(shared!, 'models', 'mobilenetv2-12-int8.onnx');
    const image = path.join(shared!, 'images', 'skimage_chelsea_cat.jpg');
    const own = await Classifier.create({ modelPath: model, preprocessing: 'exact', preprocessWorkers: 0 });
    const expected = await own.classifyFile(image, { logits: true });
    await own.close();
    prestartInferenceWorker();
    const c = await Classifier.create({ modelPath: model, preprocessing: 'exact', preprocessWorkers: 0 });
    try {
      assert.equal(takePrestartedWorker(defaultWorkerScript()), undefined, 'the classifier took the prestarted worker');
      const got = await c.classifyFile(image, { logits: true });
      assert.deepEqual(Array.from(got.logits!), Array.from(expected.logits!));
    } finally {
      await c.close();
    }
  });

  test('one nothing took is stopped once ONNX Runtime has loaded in it', async () => {
    prestartInferenceWorker();
    const t0 = performance.now();
    await settlePrestartedWorker();
    assert.ok(performance.now() - t0 < 5_000, 'settled by the ready message, not by the time limit');
    assert.equal(takePrestartedWorker(defaultWorkerScript()), undefined, 'gone');
    await settlePrestartedWorker(); // nothing left: returns at once
  });

  test('a worker for another script is not taken', () => {
    prestartInferenceWorker();
    assert.equal(takePrestartedWorker('/elsewhere/inference-worker.js'), undefined);
    const w = takePrestartedWorker(defaultWorkerScript());
    assert.ok(w, 'still there for the default script');
    return w.terminate().then(() => undefined);
  });
});
