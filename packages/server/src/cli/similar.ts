/**
 * `image-classifier similar <image> --in <root> [-k 10] [--format text|json]`: the k images under <root> nearest to
 * <image> by embedding cosine (exact brute-force search; the root is embedded on every run).
 */
import { escapeControl } from '../output.js';
import { buildEmbeddingIndex, findSimilar } from '@image-classifier/core';
import { EXIT_OK, EXIT_SOME_FAILED, type Io, intOption, parseCommand, UsageError } from './common.js';
import { MODEL_OPTIONS, textOrJson, withEmbeddingModel } from './model-options.js';

export const SIMILAR_OPTIONS = {
  ...MODEL_OPTIONS,
  in: { type: 'string' },
  k: { type: 'string', short: 'k' },
} as const;

export async function similarCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(args, SIMILAR_OPTIONS);
  if (positionals.length !== 1) throw new UsageError('similar takes one image: image-classifier similar <image> --in <folder> [-k 10].');
  const root = values.in;
  if (!root) throw new UsageError('similar needs --in <folder>: the images to search.');
  const format = textOrJson(values.format, io);
  const k = intOption(values.k, '-k', 1) ?? 10;
  return withEmbeddingModel(values, io, async ({ classifier, line, progress }) => {
    const index = await buildEmbeddingIndex(root, classifier, progress);
    line.end();
    const hits = await findSimilar(index, classifier, positionals[0]!, k);
    if (format === 'json')
      io.stdout.write(`${JSON.stringify({ query: positionals[0], root: index.root, k, results: hits, failed: index.failed })}\n`);
    else for (const h of hits) io.stdout.write(`${h.similarity.toFixed(4)}  ${escapeControl(h.file)}\n`);
    return index.failed.length ? EXIT_SOME_FAILED : EXIT_OK;
  });
}
