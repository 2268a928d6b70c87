/**
 * How many labels are likely wrong: confident learning's estimate, the off-diagonal sum of the calibrated confident
 * joint (cleanlab's `num_label_issues(..., estimation_method='off_diagonal_calibrated')`). The flagged list can be
 * longer (every row a noise rate selects); the board shows this count first and ranks the list by it.
 */
import { confidentJoint } from './label-issues.js';

/**
 * Σ_k Σ_{j≠k} C[k][j] over the classes `eligible` says may be flagged (those large enough to learn from), rounded.
 * `probs`: n × classes out-of-sample probabilities; `y`: the given labels.
 */
export function estimateLabelErrors(
  probs: Float32Array,
  y: Int32Array,
  classes: number,
  eligible: (k: number) => boolean = () => true,
): number {
  const joint = confidentJoint(probs, y, classes);
  let sum = 0;
  for (let k = 0; k < classes; k++) {
    if (!eligible(k)) continue;
    for (let j = 0; j < classes; j++) if (j !== k) sum += joint[k * classes + j]!;
  }
  return Math.round(sum);
}
