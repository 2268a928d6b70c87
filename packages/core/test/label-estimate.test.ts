import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateLabelErrors } from '../src/curation/label-estimate.js';

/** n rows of `classes` probabilities: 0.9 on `confident`, the rest shared. */
function rows(specs: Array<[given: number, confident: number, count: number]>, classes: number) {
  const probs: number[] = [];
  const y: number[] = [];
  for (const [given, confident, count] of specs)
    for (let i = 0; i < count; i++) {
      y.push(given);
      for (let j = 0; j < classes; j++) probs.push(j === confident ? 0.9 : 0.1 / (classes - 1));
    }
  return { probs: Float32Array.from(probs), y: Int32Array.from(y) };
}

test('the estimate is the off-diagonal sum of the calibrated confident joint', () => {
  // Two files in folder 0 that the probabilities put confidently in class 1; everything else where it is.
  const { probs, y } = rows(
    [
      [0, 0, 8],
      [0, 1, 2],
      [1, 1, 10],
      [2, 2, 10],
    ],
    3,
  );
  assert.equal(estimateLabelErrors(probs, y, 3), 2);
  // Classes that may not be flagged (too small to learn) do not count.
  assert.equal(
    estimateLabelErrors(probs, y, 3, (k) => k !== 0),
    0,
  );
});

test('calibration: a row with no confident class counts in proportion to its class’s confident rows', () => {
  // Folder 0: 6 confident in 0, 2 confident in 1, 2 with no class above its threshold (flat probabilities).
  const a = rows(
    [
      [0, 0, 6],
      [0, 1, 2],
      [1, 1, 10],
    ],
    2,
  );
  const flat = Float32Array.from([...a.probs, 0.5, 0.5, 0.5, 0.5]);
  const y = Int32Array.from([...a.y, 0, 0]);
  // t_0 = mean p_0 over folder 0 = (6·0.9 + 2·0.1 + 2·0.5) / 10 = 0.66, t_1 = 0.9: the flat rows reach neither.
  // Joint row 0 = [6, 2] over 8 confident rows, calibrated to the folder's 10 files: [7.5, 2.5] → 2.5 → 3 (rounded).
  assert.equal(estimateLabelErrors(flat, y, 2), 3);
});
