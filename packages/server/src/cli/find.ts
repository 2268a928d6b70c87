/**
 * `image-classifier find <noun> --in <root> [--top 20] [--format text|json]`: the images under <root> ranked by the
 * model's probability mass under the noun's WordNet synset (core's findByConcept). A noun the hierarchy does not
 * know is a usage error that names close matches (exit 2).
 */
import { findByConcept, resolveNoun } from '@image-classifier/core';
import { EXIT_OK, EXIT_SOME_FAILED, type Io, intOption, parseCommand, UsageError } from './common.js';
import { MODEL_OPTIONS, textOrJson, withEmbeddingModel } from './model-options.js';

export const FIND_OPTIONS = {
  ...MODEL_OPTIONS,
  in: { type: 'string' },
  top: { type: 'string' },
} as const;

export async function findCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(args, FIND_OPTIONS);
  if (positionals.length < 1) throw new UsageError('find takes a noun: image-classifier find <noun> --in <folder> [--top 20].');
  const root = values.in;
  if (!root) throw new UsageError('find needs --in <folder>: the images to search.');
  const noun = positionals.join(' ');
  const format = textOrJson(values.format, io);
  const top = intOption(values.top, '--top', 1) ?? 20;
  return withEmbeddingModel(values, io, async ({ classifier, line, progress }) => {
    // An unknown noun is refused before any image is read.
    resolveNoun(noun, classifier.labels);
    const r = await findByConcept(root, classifier, noun, { top, onProgress: progress });
    line.end();
    if (format === 'json') io.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      const other =
        r.senses.length > 1
          ? ` (other senses: ${r.senses
              .slice(1)
              .map((s) => `${s.name} ${s.synset}`)
              .join(', ')})`
          : '';
      io.stdout.write(`'${noun}' → ${r.concept.name} ${r.concept.synset}, ${r.concept.imagenetClasses} ImageNet classes${other}\n`);
      for (const h of r.results)
        io.stdout.write(
          `${h.mass.toFixed(4)}  ${h.file}${h.predicted ? `  (${h.predicted.label.split(',')[0]} ${(h.predicted.probability * 100).toFixed(0)} %)` : ''}\n`,
        );
    }
    return r.failed.length ? EXIT_SOME_FAILED : EXIT_OK;
  });
}
