/**
 * The board's data: the report as the server made it, where its files are now (PathTracker), the kept files, and
 * the lists each tab shows, derived on demand and cached until something changes.
 */
import type { CurateFileProgress, CurationFile, CurationReport } from '@image-classifier/protocol';
import type { FileFacts, HostMessage } from '../curation/messages';
import { PathTracker } from '../curation/tracker';
import type { ActionOutcome } from '../curation/types';
import type { KeepRule, TabId } from './api';

/** One card: `key` is the report path (stable across moves); the file's current path comes from the tracker. */
export interface Card {
  key: string;
  score: number;
  /** What the card says below the name ("fish → tool", "blurry", "0.93 similar"). */
  detail: string;
  suggested?: string;
}

export interface GroupView {
  id: number;
  kind: 'exact' | 'near';
  /** Report paths of the members still in the dataset. */
  files: string[];
  keeper: string;
  note: string;
}

type ReportMessage = Extract<HostMessage, { type: 'report' }>;

export class BoardModel {
  report: CurationReport | undefined;
  tracker = new PathTracker([]);
  kept = new Set<string>();
  facts: Record<string, FileFacts> = {};
  partial: CurateFileProgress[] = [];
  similar: { title: string; items: { key: string; similarity: number }[] } = { title: '', items: [] };
  /** Duplicate group id → the member the user picked to keep (overrides the rule). */
  readonly keepPick = new Map<number, string>();
  private byFile = new Map<string, CurationFile>();
  private cache = new Map<string, Card[] | GroupView[]>();

  setReport(m: ReportMessage): void {
    this.report = m.report;
    this.byFile = new Map(m.report.files.map((f) => [f.file, f]));
    this.tracker = new PathTracker(
      m.report.files.map((f) => f.file),
      m.report.layout?.splits,
    );
    this.tracker.apply(m.changes);
    this.kept = new Set(m.kept);
    this.facts = m.facts;
    this.partial = [];
    this.cache.clear();
  }

  apply(o: ActionOutcome): void {
    this.tracker.apply(o.changes);
    for (const d of o.decisions)
      d.keep ? this.kept.add(this.tracker.reportPathOf(d.file)) : this.kept.delete(this.tracker.reportPathOf(d.file));
    this.cache.clear();
  }

  setSimilar(title: string, items: { file: string; similarity: number }[]): void {
    this.similar = { title, items: items.map((i) => ({ key: this.tracker.reportPathOf(i.file), similarity: i.similarity })) };
    this.cache.delete('similar');
  }

  file(key: string): CurationFile | undefined {
    return this.byFile.get(key);
  }
  /** The file's current path (null when trashed). */
  pathOf(key: string): string | null {
    return this.tracker.currentOf(key);
  }
  labelOf(key: string): string | undefined {
    const f = this.byFile.get(key);
    const l = f ? this.tracker.labelOf(f) : undefined;
    return l ?? undefined;
  }
  classes(): string[] {
    return (this.report?.classes ?? []).map((c) => c.name);
  }

  cards(tab: TabId): Card[] {
    const hit = this.cache.get(tab);
    if (hit) return hit as Card[];
    const cards = this.build(tab);
    this.cache.set(tab, cards);
    return cards;
  }

  private build(tab: TabId): Card[] {
    const r = this.report;
    if (!r) return [];
    const alive = (f: string) => this.pathOf(f) !== null;
    switch (tab) {
      case 'labels':
        return r.labelIssues
          .filter((i) => !this.tracker.changed(i.file) && !this.kept.has(i.file))
          .map((i) => ({ key: i.file, score: i.score, detail: `${i.label} → ${i.suggestedLabel}`, suggested: i.suggestedLabel }));
      case 'outliers':
        return r.outliers.filter((o) => alive(o.file)).map((o) => ({ key: o.file, score: o.score, detail: this.labelOf(o.file) ?? '' }));
      case 'quality':
        return r.quality.filter((q) => alive(q.file)).map((q) => ({ key: q.file, score: q.score, detail: q.type.replace(/_/g, ' ') }));
      case 'similar':
        return this.similar.items
          .filter((i) => alive(i.key))
          .map((i) => ({ key: i.key, score: i.similarity, detail: `${this.labelOf(i.key) ?? ''} · ${i.similarity.toFixed(3)}` }));
      default:
        return [];
    }
  }

  groups(rule: KeepRule): GroupView[] {
    const cacheKey = `groups:${rule}`;
    const hit = this.cache.get(cacheKey);
    if (hit) return hit as GroupView[];
    const out: GroupView[] = [];
    (this.report?.duplicateGroups ?? []).forEach((g, id) => {
      const files = g.files.filter((f) => this.pathOf(f) !== null);
      if (files.length < 2) return;
      const pick = this.keepPick.get(id);
      const keeper = pick && files.includes(pick) ? pick : this.keeperByRule(files, rule);
      const notes = [g.kind === 'exact' ? 'exact copies' : `near copies${g.minCosine ? ` (cos ≥ ${g.minCosine.toFixed(3)})` : ''}`];
      if (g.conflictingLabels) notes.push('different class folders');
      if (g.crossSplit) notes.push('across splits (leakage)');
      out.push({ id, kind: g.kind, files, keeper, note: notes.join(' · ') });
    });
    this.cache.set(cacheKey, out);
    return out;
  }

  /** The copy to keep: the largest (pixels, then bytes), the oldest, or the one in the training split. */
  keeperByRule(files: string[], rule: KeepRule): string {
    const px = (f: string) => (this.byFile.get(f)?.width ?? 0) * (this.byFile.get(f)?.height ?? 0);
    const bytes = (f: string) => this.facts[f]?.bytes ?? 0;
    const mtime = (f: string) => this.facts[f]?.mtimeMs ?? Number.POSITIVE_INFINITY;
    const largest = (a: string, b: string) => px(b) - px(a) || bytes(b) - bytes(a) || a.localeCompare(b);
    const sorted = [...files];
    if (rule === 'oldest') sorted.sort((a, b) => mtime(a) - mtime(b) || largest(a, b));
    else if (rule === 'train') {
      const inTrain = (f: string) => (/^train$/i.test(this.byFile.get(f)?.split ?? '') ? 0 : 1);
      sorted.sort((a, b) => inTrain(a) - inTrain(b) || largest(a, b));
    } else sorted.sort(largest);
    return sorted[0]!;
  }

  invalidate(): void {
    this.cache.clear();
  }
}
