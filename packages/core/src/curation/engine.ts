/** What curation needs of the engine: core's `Classifier` satisfies it; tests may pass a stand-in. */
import type { Classifier } from '../engine/classifier.js';

export type CurationEngine = Pick<Classifier, 'classifyBytes' | 'maxBatch' | 'labels'> & {
  readonly info: { name: string; embedding?: { dims: number } | undefined };
};
