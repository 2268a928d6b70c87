/**
 * Find by concept: a dataset's files ranked by the model's probability mass under a noun's WordNet synset
 * ("vehicle", "dog", "fruit"), through the hierarchy above ImageNet's classes (hierarchy.ts). A noun with several
 * senses takes the one whose subtree holds the most of the dataset's mass; a noun not in the hierarchy is an
 * INVALID_ARGUMENT error that names the closest nouns it knows.
 */
import { ClassifierError } from '../errors.js';
import type { LabelSet } from '../model/labels.js';
import { softmax } from '../model/labels.js';
import type { CurationEngine } from './engine.js';
import { extractAll } from './extract.js';
import { type Concept, closeNouns, lookupNoun, massUnder } from './hierarchy.js';
import { scanDataset } from './scan.js';
import { hierarchyApplies } from './semantic.js';

export interface ConceptDto {
  synset: string;
  name: string;
  /** ImageNet classes at or below it. */
  imagenetClasses: number;
}

export interface ConceptHit {
  file: string;
  /** The model's probability mass under the synset, 0..1. */
  mass: number;
  predicted?: { label: string; probability: number };
}

export interface ConceptSearch {
  noun: string;
  root: string;
  concept: ConceptDto;
  /** Every sense the noun has in the hierarchy, the one used first. */
  senses: ConceptDto[];
  results: ConceptHit[];
  failed: Array<{ file: string; message: string }>;
}

export const toConceptDto = (c: Concept): ConceptDto => ({ synset: c.id, name: c.lemmas[0]!, imagenetClasses: c.classes.length });

/**
 * The senses of `noun` (with ImageNet classes below); throws INVALID_ARGUMENT for an empty noun, and with close
 * matches when it has none.
 */
export function resolveNoun(noun: string, labels: LabelSet | undefined): Concept[] {
  if (!hierarchyApplies(labels))
    throw new ClassifierError('INVALID_ARGUMENT', "Find by concept needs a model with ImageNet's 1000 classes (MobileNetV2, ResNet50).");
  if (!noun.trim()) throw new ClassifierError('INVALID_ARGUMENT', 'Give a noun to find, for example fish, fruit or vehicle.');
  const senses = lookupNoun(noun);
  if (!senses.length) {
    const near = closeNouns(noun);
    throw new ClassifierError(
      'INVALID_ARGUMENT',
      `'${noun}' is not a noun with ImageNet classes below it in WordNet${near.length ? `; close matches: ${near.join(', ')}` : ''}.`,
    );
  }
  return senses;
}

/**
 * Ranks `files` (with their probability vectors over the 1000 classes) by mass under the sense of `senses` that
 * holds the most mass over all of them; the `top` best (all when undefined), highest first.
 */
export function rankByConcept(
  files: Array<{ file: string; probs: ArrayLike<number>; predicted?: ConceptHit['predicted'] }>,
  senses: Concept[],
  top?: number,
): { concept: Concept; results: ConceptHit[] } {
  let concept = senses[0]!;
  let best = -1;
  for (const c of senses) {
    const total = files.reduce((s, f) => s + massUnder(f.probs, c), 0);
    if (total > best + 1e-9) {
      best = total;
      concept = c;
    }
  }
  const results = files
    .map((f) => ({
      file: f.file,
      mass: Math.round(massUnder(f.probs, concept) * 1e4) / 1e4,
      ...(f.predicted ? { predicted: f.predicted } : {}),
    }))
    .sort((a, b) => b.mass - a.mass || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { concept, results: top === undefined ? results : results.slice(0, top) };
}

/** Reads every image under `root` once (logits) and ranks them by mass under `noun`'s synset. */
export async function findByConcept(
  root: string,
  engine: CurationEngine,
  noun: string,
  o: { top?: number; onProgress?: (done: number, total: number, failed: number) => void } = {},
): Promise<ConceptSearch> {
  const senses = resolveNoun(noun, engine.labels);
  const scan = await scanDataset(root);
  const ex = await extractAll(engine, scan.entries, { logits: true, ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
  const files = ex.flatMap((x) =>
    x.logits ? [{ file: x.entry.file, probs: softmax(x.logits), ...(x.predicted ? { predicted: x.predicted } : {}) }] : [],
  );
  const { concept, results } = rankByConcept(files, senses, o.top);
  return {
    noun,
    root: scan.root,
    concept: toConceptDto(concept),
    senses: [concept, ...senses.filter((s) => s !== concept)].map(toConceptDto),
    results,
    failed: ex.filter((x) => x.error).map((x) => ({ file: x.entry.file, message: x.error!.message })),
  };
}
