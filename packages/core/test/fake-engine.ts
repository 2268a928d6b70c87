/**
 * A stand-in curation engine for tests that need curation's pipeline without a model: each image's embedding is its
 * 4×4 sRGB thumbnail (48 values), every image is predicted as the one class `thing`.
 */
import sharp from 'sharp';
import type { CurationEngine } from '../src/index.js';

export const thumbnailEngine: CurationEngine = {
  maxBatch: 8,
  labels: undefined,
  info: { name: 'fake-4x4', embedding: { dims: 48 } },
  classifyBytes: (async (bytes: Uint8Array) => {
    const { data } = await sharp(bytes)
      .resize(4, 4, { fit: 'fill' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      predictions: [{ index: 0, label: 'thing', probability: 1 }],
      embedding: Float32Array.from(data, (v) => v / 255 + 0.05),
      width: 4,
      height: 4,
      format: 'png',
      timings: { preprocessMs: 0, queueMs: 0, inferenceMs: 0, batchSize: 1 },
    };
  }) as CurationEngine['classifyBytes'],
};
