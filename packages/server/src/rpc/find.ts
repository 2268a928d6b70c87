/**
 * `imageClassifier/find`: a dataset's images ranked by the model's probability under a noun's WordNet synset
 * (core's rankByConcept), over each image's whole output row, as the CLI's `find` does: the same masses and order.
 * Each image goes through the cached classify path asking for its output row, which the cache keeps in its own log
 * (`outputs-v1.log`): a folder searched before answers from the cache; an image whose cached result has no row
 * (classified or curated only, or an older cache) is classified again. An unknown noun is refused before any image
 * is read, with close matches.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClassifierError, rankByConcept, resolveNoun, scanDataset, softmax, toConceptDto } from '@image-classifier/core';
import { type FindParams, type FindResult, FindRequest, usageLine } from '@image-classifier/protocol';
import type { CancellationToken } from 'vscode-languageserver/node';
import { classifyFile } from './cached-classify.js';
import { signalFor } from './classify.js';
import { datasetRoot } from './curate.js';
import { acquireModel } from './model-host.js';
import { optionalInt } from './limits.js';
import { pace } from './pace.js';
import type { ServerContext } from './state.js';

const MAX_TOP = 10_000;

export async function find(p: FindParams, ctx: ServerContext, token: CancellationToken): Promise<FindResult> {
  const t0 = performance.now();
  if (!p || typeof p !== 'object' || typeof p.noun !== 'string' || typeof p.root !== 'string')
    throw new ClassifierError('INVALID_ARGUMENT', `${usageLine(FindRequest.method, FindRequest.usage)}.`);
  const top = optionalInt('top', p.top, 50, MAX_TOP);
  const root = datasetRoot(ctx, p.root);
  const model = await acquireModel(ctx);
  const { signal, dispose } = signalFor(token);
  try {
    const l = model.loaded;
    const senses = resolveNoun(p.noun, l.classifier.labels);
    const scan = await scanDataset(root);
    const files: Parameters<typeof rankByConcept>[0] = [];
    let next = 0;
    const lane = async () => {
      while (next < scan.entries.length && !signal.aborted) {
        await pace();
        if (signal.aborted || next >= scan.entries.length) break;
        const e = scan.entries[next++]!;
        try {
          const file = ctx.config.roots.resolve(e.path);
          const r = await classifyFile(ctx, l, file, {
            topK: 1,
            force: false,
            interactive: false,
            signal,
            embedding: false,
            outputs: true,
          });
          // A model without its output row (a remote answer from an older server) cannot be ranked like the CLI: left out.
          if (!r.outputs) continue;
          // The CLI's probabilities: softmax over the whole row (core's findByConcept).
          const probs = softmax(r.outputs);
          const best = r.predictions[0];
          const predicted = best ? { label: best.label, probability: Math.round(best.probability * 1e4) / 1e4 } : undefined;
          files.push({ file: e.file, probs, ...(predicted ? { predicted } : {}) });
        } catch (err) {
          if ((err as ClassifierError).code === 'CANCELLED' && signal.aborted) throw err;
          // One unreadable image never stops the search: it is left out.
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, l.classifier.maxBatch * 2 + 2) }, lane));
    if (signal.aborted) throw new ClassifierError('CANCELLED', 'The request was cancelled.');
    const { concept, results } = rankByConcept(files, senses, top);
    return {
      root: scan.root,
      noun: p.noun,
      concept: toConceptDto(concept),
      senses: [concept, ...senses.filter((s) => s !== concept)].map(toConceptDto),
      items: results.map((h) => ({ uri: pathToFileURL(path.join(scan.root, ...h.file.split('/'))).href, ...h })),
      searched: files.length,
      durationMs: Math.round(performance.now() - t0),
    };
  } finally {
    dispose();
    model.release();
  }
}
