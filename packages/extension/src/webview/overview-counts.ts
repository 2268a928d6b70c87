/** What the Overview counts (pure: no DOM, tested on its own): the summary line and each class's bar. */
import type { CurationReport } from '@image-classifier/protocol';
import { countText, ISSUE_SECTIONS } from '@image-classifier/protocol/issue-kinds';
import type { BoardModel } from './model';

export interface ClassCount {
  name: string;
  /** Images of the class that were analysed (read, embedded, classified). */
  analysed: number;
  /** Open label issues among them. */
  labelIssues: number;
  /** Files of the class that could not be read (not in `analysed`). */
  unreadable: number;
}

/** Per class (in the board's order), the files still in the dataset: analysed, with open label issues, unreadable. */
export function classCounts(model: BoardModel): ClassCount[] {
  const r = model.report!;
  const counts = new Map<string, ClassCount>(model.classes().map((name) => [name, { name, analysed: 0, labelIssues: 0, unreadable: 0 }]));
  for (const f of r.files) {
    const c = counts.get(model.labelOf(f.file) ?? '');
    if (!c || model.pathOf(f.file) === null) continue;
    if (f.issues.some((i) => i.type === 'unreadable')) c.unreadable++;
    else c.analysed++;
  }
  for (const card of model.cards('labels')) {
    const c = counts.get(model.labelOf(card.key) ?? '');
    if (c) c.labelIssues++;
  }
  return [...counts.values()];
}

const n = (k: number, one: string, many = `${one}s`) => `${k} ${k === 1 ? one : many}`;

/** What was read: "12 images analysed · 1 unreadable" (the board's status line after a report says the same). */
export function analysedLine(c: CurationReport['counts']): string {
  return [`${n(c.analysed, 'image')} analysed`, ...(c.unreadable ? [`${c.unreadable} unreadable`] : [])].join(' · ');
}

/** The Overview's first line: "12 images analysed · 1 unreadable · 3 label issues · …". */
export function summaryLine(c: CurationReport['counts']): string {
  return [analysedLine(c), ...ISSUE_SECTIONS.map((s) => countText(c[s.field], s))].join(' · ');
}
