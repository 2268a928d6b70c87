/**
 * Why a file was flagged, in words a person can check, and the out-of-vocabulary check: a file whose probability
 * mass lies mostly under a synset that no class folder covers (a car photo in a dataset of fruit and vegetables).
 */
import type { LabelSet } from '../model/labels.js';
import { ancestors, type Concept, classNode, concept, massUnder } from './hierarchy.js';
import type { LabelAnalysis } from './label-issues.js';
import type { SemanticView } from './semantic.js';
import { meanNeighbourDistance } from './outliers.js';
import { dotRows, type Matrix, type Neighbours, quantile } from './vectors.js';

const pct = (v: number) => `${Math.round(v * 100)} %`;

/** "strawberry" from "strawberry" / "tabby, tabby cat" from the model's labels. */
function className(labels: LabelSet | undefined, output: number): string {
  return (labels?.labels[output] ?? `class ${output}`).split(',')[0]!.trim();
}

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
  return best;
}

/** What the model sees, placed under a folder's synset when one holds it ("strawberry (a fruit) at 99 %"). */
function modelSees(view: SemanticView, labels: LabelSet | undefined, row: number, prefer: number): string {
  const p = view.probs[row]!;
  const top = argmax(p);
  const holders = view.folders.flatMap((f, k) => (f.concept?.classes.includes(top) ? [k] : []));
  const holder = holders.includes(prefer) ? prefer : holders[0];
  const under = holder === undefined ? '' : ` (a ${view.folders[holder]!.concept!.lemmas[0]})`;
  return `the model sees ${className(labels, top)}${under} at ${pct(p[top]!)}`;
}

/** The mass under the suggested and the own folder's synsets, where they have one. */
function massLine(view: SemanticView, classes: string[], row: number, ks: number[]): string | undefined {
  const c = classes.length;
  const parts = ks
    .filter((k) => view.folders[k]!.concept)
    .map((k) => `${pct(view.mass[row * c + k]!)} under ${classes[k]}/ (${view.folders[k]!.concept!.lemmas[0]})`);
  return parts.length ? `its probability: ${parts.join(', ')}` : undefined;
}

/** "9 of its 10 nearest images are in fruit/". */
function neighbourLine(nb: Neighbours, y: Int32Array, row: number, s: number, classes: string[]): string | undefined {
  let inS = 0;
  let count = 0;
  for (let r = 0; r < nb.k; r++) {
    const j = nb.index[row * nb.k + r]!;
    if (j < 0) continue;
    count++;
    if (y[j] === s) inS++;
  }
  return count ? `${inS} of its ${count} nearest images are in ${classes[s]}/` : undefined;
}

/**
 * Reasons for each flagged row: what the model sees (when the hierarchy applies), where its neighbours are, the
 * mass under the folders' synsets, and the label check's own numbers.
 */
export function labelReasons(
  a: LabelAnalysis,
  y: Int32Array,
  classes: string[],
  nb: Neighbours,
  view: SemanticView | undefined,
  labels: LabelSet | undefined,
): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const row of a.issues) {
    const s = a.suggested.get(row)!;
    const reasons = [
      view ? modelSees(view, labels, row, s) : undefined,
      neighbourLine(nb, y, row, s, classes),
      view ? massLine(view, classes, row, [s, y[row]!]) : undefined,
      `label quality ${a.quality[row]!.toFixed(2)} in ${classes[y[row]!]}/; ${pct(a.probs[row * classes.length + s]!)} for ${classes[s]}/`,
    ];
    out.set(
      row,
      reasons.filter((r): r is string => r !== undefined),
    );
  }
  return out;
}

export interface VocabularyOutlier {
  row: number;
  /** Mass under the uncovered synset. */
  score: number;
  concept: Concept;
  reason: string;
}

/** A file is out of vocabulary when at least this share of its mass lies under a synset no folder covers… */
export const OOV_MIN_MASS = 0.75;
/** …and fewer than this many other images (not its own copies) lie mostly under that synset too. */
export const OOV_MIN_OTHERS = 2;
/** Images at least this similar (embedding cosine) to a file count as its copies, not as other images. */
const COPY_COSINE = 0.9;
/** Its folder's synset must describe the folder: this mean share of the folder's files' mass lies under it. */
export const OOV_FOLDER_AGREEMENT = 0.5;
/** And it must sit apart: its mean distance to its neighbours in the upper quarter of the dataset's. */
const OOV_ISOLATION_QUANTILE = 0.75;

/** The largest synset above `node` with none of the `covered` classes below it. */
function uncoveredAbove(node: number, covered: Uint8Array): Concept | undefined {
  let best: Concept | undefined;
  for (const n of ancestors(node)) {
    const c = concept(n);
    if (c.classes.some((k) => covered[k])) continue;
    if (!best || c.classes.length > best.classes.length) best = c;
  }
  return best;
}

/**
 * Rows whose mass lies mostly under a synset that no folder's synset covers and that the dataset holds no other
 * images of (two or more distinct images under it would make it part of the dataset's own vocabulary), most
 * confident first. Only in folders that their synset describes (a folder without one, or whose files the model
 * mostly sees as something else, says nothing about what lies outside it) and only for files that also sit apart
 * in the embedding space (a fish the model misreads as a sea snake still sits among the fish).
 * `x`: the rows' unit embeddings, to tell a file's own copies from other images; `nb`: their neighbours.
 */
export function vocabularyOutliers(
  view: SemanticView,
  x: Matrix,
  y: Int32Array,
  nb: Neighbours,
  classes: string[],
  labels: LabelSet | undefined,
): VocabularyOutlier[] {
  const dist = meanNeighbourDistance(nb, y.length);
  const apart = quantile(dist, OOV_ISOLATION_QUANTILE);
  const covered = new Uint8Array(view.probs[0]?.length ?? 0);
  for (const f of view.folders) for (const k of f.concept?.classes ?? []) covered[k] = 1;
  const holders = new Map<number, number[]>();
  const out: VocabularyOutlier[] = [];
  view.probs.forEach((p, row) => {
    const top = argmax(p);
    if (covered[top] || view.folders[y[row]!]!.agreement < OOV_FOLDER_AGREEMENT || dist[row]! < apart) return;
    const c = uncoveredAbove(classNode(top), covered);
    if (!c) return;
    const m = massUnder(p, c);
    if (m < OOV_MIN_MASS) return;
    if (!holders.has(c.node))
      holders.set(
        c.node,
        view.probs.flatMap((q, j) => (massUnder(q, c) >= OOV_MIN_MASS ? [j] : [])),
      );
    const others = holders.get(c.node)!.filter((j) => j !== row && dotRows(x.data, row, x.data, j, x.d) < COPY_COSINE);
    if (others.length >= OOV_MIN_OTHERS) return;
    const names = classes.filter((_, k) => view.folders[k]!.concept).join(', ');
    out.push({
      row,
      score: Math.round(m * 1e4) / 1e4,
      concept: c,
      reason: `the model sees ${className(labels, top)} at ${pct(p[top]!)}: ${pct(m)} of its mass lies under ${c.lemmas[0]} (${c.id}), which no class folder covers (${names}) and no other image in the set shares`,
    });
  });
  return out.sort((a, b) => b.score - a.score || a.row - b.row);
}
