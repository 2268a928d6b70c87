/** Assembling the versioned curation report from the scan, the extracted images and the analyses. */
import {
  type ClassConcept,
  type ClassSummary,
  type CurationFile,
  type FileIssue,
  issueKind,
  type LabelIssue,
} from '@image-classifier/protocol';
import type { Analysable, Analysis } from './analyse.js';
import { CHECKS } from './checks.js';
import { labelFindings } from './checks/label.js';
import type { Extracted } from './extract.js';
import type { DatasetEntry } from './scan.js';

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** Per-file issue lists from the checks, in CHECKS order (unreadable is added by the caller). */
export function fileIssues(a: Analysis, items: Analysable[], changed: Set<string>): Map<string, FileIssue[]> {
  const map = new Map<string, FileIssue[]>();
  const add = (file: string, issue: FileIssue) => map.set(file, [...(map.get(file) ?? []), issue]);
  for (const check of CHECKS) check.fileIssues(a, items, add);
  for (const f of changed) add(f, { type: 'changed', detail: 'the file changed while it was analysed; run again for fresh results' });
  return map;
}

export function buildFiles(extracted: Extracted[], items: Analysable[], a: Analysis, changed: Set<string>): CurationFile[] {
  const { byItem } = labelFindings(items, a);
  const itemIndex = new Map(items.map((x, i) => [x.entry.file, i]));
  const perFile = fileIssues(a, items, changed);
  const files = extracted.map((x): CurationFile => {
    const e = x.entry;
    const list: FileIssue[] = [];
    if (x.error) list.push({ type: 'unreadable', code: x.error.code, detail: `${x.error.code}: ${x.error.message}` });
    const i = itemIndex.get(e.file);
    const lq = i === undefined ? undefined : byItem.get(i);
    list.push(...(perFile.get(e.file) ?? []));
    const reasons = [...(lq?.[2] ?? []), ...list.flatMap((f) => (issueKind(f.type)?.detailIsReason && f.detail ? [f.detail] : []))];
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
  return files;
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
  if (a) for (const check of CHECKS) w.push(...(check.warnings?.(a, classes, checks) ?? []));
  const small = classes.filter((c) => c.relativeSize < 0.1).length;
  if (small && classes.length > 1) w.push(`${small} class(es) have under 10 % of the largest class's images (class imbalance).`);
  return w;
}
