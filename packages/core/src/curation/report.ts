/** Assembling the versioned curation report from the scan, the extracted images and the analyses. */
import type { ClassConcept, ClassSummary, CurationFile, FileIssue, LabelIssue } from '@image-classifier/protocol';
import type { Analysable, Analysis } from './analyse.js';
import type { Extracted } from './extract.js';
import type { DatasetEntry } from './scan.js';

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** Ranked label issues and, per analysable index, [quality, suggested label?, reasons?]. */
export function labelFindings(
  items: Analysable[],
  a: Analysis,
): { issues: LabelIssue[]; byItem: Map<number, [number, string?, string[]?]> } {
  const byItem = new Map<number, [number, string?, string[]?]>();
  const issues: LabelIssue[] = [];
  const lr = a.label;
  if (!lr) return { issues, byItem };
  for (const [row, item] of lr.rows.entries()) byItem.set(item, [r4(lr.analysis.quality[row]!)]);
  for (const row of lr.analysis.issues) {
    const item = lr.rows[row]!;
    const suggestedLabel = lr.classes[lr.analysis.suggested.get(row)!]!;
    const reasons = lr.reasons.get(row);
    byItem.set(item, [r4(lr.analysis.quality[row]!), suggestedLabel, reasons]);
    issues.push({
      file: items[item]!.entry.file,
      label: items[item]!.entry.label!,
      suggestedLabel,
      score: r4(lr.analysis.quality[row]!),
      ...(reasons ? { reasons } : {}),
    });
  }
  return { issues, byItem };
}

/** Per-file issue lists from the analyses (label issues are added by the caller). */
export function fileIssues(a: Analysis, changed: Set<string>): Map<string, FileIssue[]> {
  const map = new Map<string, FileIssue[]>();
  const add = (file: string, issue: FileIssue) => map.set(file, [...(map.get(file) ?? []), issue]);
  for (const g of a.duplicates) {
    for (const f of g.files) {
      const others = g.files.filter((o) => o !== f);
      const list = others.length > 5 ? `${others.slice(0, 5).join(', ')} and ${others.length - 5} more` : others.join(', ');
      add(f, { type: g.kind === 'exact' ? 'exact_duplicate' : 'near_duplicate', detail: `same image as ${list}` });
      if (g.crossSplit) add(f, { type: 'leakage', detail: 'a duplicate sits in another split' });
    }
  }
  for (const o of a.outliers)
    add(
      o.file,
      o.kind === 'out_of_vocabulary'
        ? { type: 'out_of_vocabulary', score: o.score, detail: o.reason! }
        : { type: 'outlier', score: o.score },
    );
  for (const q of a.quality) add(q.file, { type: q.type, score: q.score });
  for (const f of changed) add(f, { type: 'changed', detail: 'the file changed while it was analysed; run again for fresh results' });
  return map;
}

export function buildFiles(
  extracted: Extracted[],
  items: Analysable[],
  a: Analysis,
  changed: Set<string>,
): { files: CurationFile[]; labelIssues: LabelIssue[] } {
  const { issues, byItem } = labelFindings(items, a);
  const itemIndex = new Map(items.map((x, i) => [x.entry.file, i]));
  const perFile = fileIssues(a, changed);
  const files = extracted.map((x): CurationFile => {
    const e = x.entry;
    const list: FileIssue[] = [];
    if (x.error) list.push({ type: 'unreadable', code: x.error.code, detail: `${x.error.code}: ${x.error.message}` });
    const i = itemIndex.get(e.file);
    const lq = i === undefined ? undefined : byItem.get(i);
    if (lq?.[1]) list.push({ type: 'label', score: lq[0], detail: `suggested label: ${lq[1]}` });
    list.push(...(perFile.get(e.file) ?? []));
    const reasons = [...(lq?.[2] ?? []), ...list.flatMap((f) => (f.type === 'out_of_vocabulary' && f.detail ? [f.detail] : []))];
    return {
      file: e.file,
      ...(e.label !== undefined ? { label: e.label } : {}),
      ...(e.split !== undefined ? { split: e.split } : {}),
      ...(lq ? { labelQuality: lq[0] } : {}),
      ...(lq?.[1] ? { suggestedLabel: lq[1] } : {}),
      ...(x.predicted ? { predicted: x.predicted } : {}),
      ...(reasons.length ? { reasons } : {}),
      ...(x.features ? { width: x.features.width, height: x.features.height } : {}),
      issues: list,
    };
  });
  return { files, labelIssues: issues };
}

/** Per class name, the synset its folder was matched to and the learned weight of its mass. */
export function classConcepts(a: Analysis | undefined): Map<string, ClassConcept> {
  const out = new Map<string, ClassConcept>();
  const lr = a?.label;
  if (!lr?.folders) return out;
  lr.folders.forEach((f, k) => {
    out.set(lr.classes[k]!, {
      ...(f.concept ? { synset: f.concept.id, name: f.concept.lemmas[0]! } : {}),
      imagenetClasses: f.concept?.classes.length ?? 0,
      senses: f.senses,
      agreement: r4(f.agreement),
      background: r4(f.floor),
    });
  });
  return out;
}

export function classSummaries(
  entries: DatasetEntry[],
  labelIssues: LabelIssue[],
  concepts = new Map<string, ClassConcept>(),
): ClassSummary[] {
  const by = new Map<string, { files: number; perSplit: Record<string, number>; issues: number }>();
  for (const e of entries) {
    if (e.label === undefined) continue;
    const c = by.get(e.label) ?? { files: 0, perSplit: {}, issues: 0 };
    c.files++;
    if (e.split !== undefined) c.perSplit[e.split] = (c.perSplit[e.split] ?? 0) + 1;
    by.set(e.label, c);
  }
  for (const li of labelIssues) {
    const c = by.get(li.label);
    if (c) c.issues++;
  }
  const largest = Math.max(1, ...[...by.values()].map((c) => c.files));
  return [...by.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, c]) => ({
      name,
      files: c.files,
      ...(Object.keys(c.perSplit).length ? { perSplit: c.perSplit } : {}),
      labelIssues: c.issues,
      relativeSize: r4(c.files / largest),
      ...(concepts.has(name) ? { concept: concepts.get(name)! } : {}),
    }));
}

/** Dataset-level warnings: why a check did not run, classes too small to judge. */
export function datasetWarnings(
  a: Analysis | undefined,
  classes: ClassSummary[],
  total: number,
  analysed: number,
  checks: Set<string>,
): string[] {
  const w: string[] = [];
  if (total === 0) w.push('No image files found under the root.');
  else if (analysed === 0) w.push('None of the images could be read; nothing was analysed.');
  if (a?.labelSkipped && checks.has('label'))
    w.push(`Label check skipped: ${a.labelSkipped}. Use a <class>/<image> layout to check labels.`);
  if (a?.label && !a.label.usedRegression)
    w.push(`Label check used the kNN vote only: a regression over ${a.label.classes.length} classes would take too long.`);
  if (a?.label?.fastRegression)
    w.push('Large dataset: the label regression ran with momentum and a tenth of the steps to fit the time budget.');
  if (a?.label?.folders) {
    const f = a.label.folders;
    const named = f.flatMap((x, k) => (x.concept ? [`${a.label!.classes[k]} → ${x.concept.lemmas[0]} (${x.concept.classes.length})`] : []));
    const none = a.label.classes.filter((_, k) => !f[k]!.concept);
    w.push(
      `Folder names matched WordNet synsets (ImageNet classes below each): ${named.join(', ')}${none.length ? `; no synset for ${none.join(', ')}` : ''}. The model's probability under them joined the label check with weight ${a.label.analysis.semanticWeight ?? 0} (fitted on the folder labels).`,
    );
  } else if (a?.label?.usedModel) w.push("Folder names are the model's own classes: its probabilities joined the label check.");
  const tiny = classes.filter((c) => c.files < 2).map((c) => c.name);
  if (tiny.length && checks.has('label'))
    w.push(
      `${tiny.length} class(es) have a single image (${tiny.slice(0, 5).join(', ')}${tiny.length > 5 ? ', …' : ''}): they cannot be checked for label issues.`,
    );
  const small = classes.filter((c) => c.relativeSize < 0.1).length;
  if (small && classes.length > 1) w.push(`${small} class(es) have under 10 % of the largest class's images (class imbalance).`);
  return w;
}
