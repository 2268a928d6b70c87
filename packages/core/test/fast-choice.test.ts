/**
 * `fast` picks between its libvips plan and the exact path by their measured CPU cost per class of image
 * (fast-choice.ts): both are tried, then the cheaper is taken, and the other is tried again now and then.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { FastChooser, preprocessImage } from '../src/index.js';
import { FIXTURE_IMAGES, tensorDiff } from '../../../test-fixtures/fixtures.js';

/** Feeds `n` choices of class `key` with the given costs; returns the paths taken. */
function drive(c: FastChooser, key: string, n: number, cost: { planned: number; exact: number }): string[] {
  const taken: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = c.choose(key);
    taken.push(p);
    c.record(key, p, cost[p]);
  }
  return taken;
}

describe('FastChooser', () => {
  test('tries both paths, then takes the cheaper; the other is tried again every 32nd image', () => {
    const c = new FastChooser();
    const taken = drive(c, 'jpeg:sharp:17', 64, { planned: 6, exact: 4 });
    assert.deepEqual(taken.slice(0, 6).sort(), ['exact', 'exact', 'exact', 'planned', 'planned', 'planned']);
    const after = taken.slice(6);
    assert.equal(after.filter((p) => p === 'planned').length, 2, after.join(' '));
    assert.equal(taken[31], 'planned');
    assert.equal(taken[63], 'planned');
    assert.deepEqual(c.snapshot()['jpeg:sharp:17'], { picks: 64, planned: 6, exact: 4 });
  });

  test('follows a change: when the taken path becomes dearer than the other, the choice turns', () => {
    const c = new FastChooser();
    drive(c, 'k', 40, { planned: 3, exact: 5 });
    assert.equal(c.choose('k'), 'planned');
    // The planned path now costs 9 ms; its median moves once most kept samples say so.
    drive(c, 'k', 12, { planned: 9, exact: 5 });
    assert.equal(c.choose('k'), 'exact');
  });

  test('classes are separate: a large JPEG and a small one keep their own costs', () => {
    const c = new FastChooser();
    drive(c, FastChooser.key('jpeg', 'sharp', 500, 375), 10, { planned: 6, exact: 4 });
    drive(c, FastChooser.key('jpeg', 'sharp-then-exact', 4000, 3000), 10, { planned: 30, exact: 100 });
    assert.equal(c.choose(FastChooser.key('jpeg', 'sharp', 500, 375)), 'exact');
    assert.equal(c.choose(FastChooser.key('jpeg', 'sharp-then-exact', 4000, 3000)), 'planned');
    assert.notEqual(FastChooser.key('jpeg', 'sharp', 500, 375), FastChooser.key('jpeg', 'sharp', 4000, 3000));
  });

  test('measure() records CPU time of a sample that ran alone, and none of overlapping ones', async () => {
    const c = new FastChooser();
    c.choose('m');
    // Burns `ms` of this process's CPU time (not wall time: a loaded host may preempt it).
    const spin = (ms: number) => async () => {
      const c0 = process.cpuUsage();
      for (;;) {
        const d = process.cpuUsage(c0);
        if (d.user + d.system >= ms * 1000) return ms;
      }
    };
    assert.equal(await c.measure('m', 'planned', spin(15)), 15);
    const s = c.snapshot().m!;
    assert.ok(s.planned !== undefined && s.planned >= 15, JSON.stringify(s));
    // Two at once: neither is a clean sample.
    const slow = async () => {
      await new Promise((r) => setTimeout(r, 10));
      return 1;
    };
    await Promise.all([c.measure('m', 'exact', slow), c.measure('m', 'exact', slow)]);
    assert.equal(c.snapshot().m!.exact, undefined);
  });

  test('a run of fast-mode images stays within the fast bounds of the exact path whichever path each took', async () => {
    const bytes = readFileSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'));
    const exact = await preprocessImage(bytes, 'coffee.jpg', { preprocessing: 'exact' });
    for (let i = 0; i < 8; i++) {
      const fast = await preprocessImage(bytes, 'coffee.jpg', { preprocessing: 'fast' });
      const d = tensorDiff(fast.tensor, exact.tensor);
      assert.ok(d.max <= 0.06 && d.mean <= 0.006, `image ${i}: max |Δ| ${d.max}, mean ${d.mean}`);
    }
  });
});
