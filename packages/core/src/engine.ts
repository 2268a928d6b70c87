/**
 * `@image-classifier/core/engine`: what classifying needs (the engine, model resolution, labels, errors), without
 * the curation modules, the thumbnail store or the index, which the whole package (`index.ts`) also loads. The CLI's
 * `classify` loads this alone: fewer modules between the process's start and the model's load.
 */
export * from './errors.js';
export * from './engine/classifier.js';
export { embeddingToJson, requireEmbedding, type ModelInfo } from './model/session.js';
export { loadLabelsFile, type LabelSet, type Prediction } from './model/labels.js';
export * from './model/models.js';
export { defaultCacheDir, type DownloadProgress, renderBar, renderProgressBar } from './model/download.js';
export * from './remote/options.js';
