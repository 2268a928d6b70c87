/**
 * The board's data: the report as the server made it, where its files are now (PathTracker), the kept files, and
 * the lists each tab shows, derived on demand and cached until something changes.
 */
import type { CurateFileProgress, CurationFile, CurationReport } from '@image-classifier/protocol';
import { type IssueKind, issueKind } from '@image-classifier/protocol/issue-kinds';
import { FIND_TOP, type FileFacts, type HostMessage } from '../curation/shared/messages';
import { type OpenIssues, openIssues } from '../curation/shared/open-issues';
import { PathTracker } from '../curation/shared/tracker';
import type { ActionOutcome } from '../curation/shared/types';
import type { KeepRule, TabId } from './api';

/** One card: `key` is the report path (stable across moves); the file's current path comes from the tracker. */
export interface Card {
  key: string;
  score: number;
  /** What the card says below the name ("fish → tool", "blurry", "0.93 similar"). */
  detail: string;
  /** The score as the card shows it, with its meaning ("0.4% fish", "0.93 similar"); empty: none shown. */
  scoreText?: string;
  /** What the score means (the score's tooltip). */
  scoreTitle?: string;
  suggested?: string;
  /** Why it is on the board, in words (the report's reasons): shown on hover and read by screen readers. */
  reasons?: string[];
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
type FoundMessage = Extract<HostMessage, { type: 'found'; concept: unknown }>;

/** The least mass under a searched concept for an image to be shown as under it (1 %). */
export const FIND_MIN_MASS = 0.01;

export interface SimilarView {
  title: string;
  items: { key: string; similarity: number }[];
  /**
   * A search's answer: `similarity` is then the mass under the concept; `count` what the toolbar says it shows,
   * `capped` when the host's FIND_TOP were all shown (more may lie under the concept).
   */
  concept?: { noun: string; name: string; synset: string; count: number; capped: boolean };
}

/** A probability as a short percentage ("0.4%", "12%"). */
function pct(p: number): string {
  const v = p * 100;
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)}%`;
}

export class BoardModel {
  report: CurationReport | undefined;
  tracker = new PathTracker([]);
  kept = new Set<string>();
  facts: Record<string, FileFacts> = {};
  partial: CurateFileProgress[] = [];
  /** The Similar tab: nearest images, a region of the map, or (with `concept`) a search's images and their mass. */
  similar: SimilarView = { title: '', items: [] };
  /** Label issues: all flagged files (true), or only the likely errors, the first `estimate` of the ranking. */
  allLabelIssues = false;
  /** Duplicate group id → the member the user picked to keep (overrides the rule). */
  readonly keepPick = new Map<number, string>();
  private byFile = new Map<string, CurationFile>();
  private cache = new Map<string, Card[] | GroupView[]>();
  private openCache: OpenIssues | undefined;

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
    this.openCache = undefined;
  }

  apply(o: ActionOutcome): void {
    this.tracker.apply(o.changes);
    for (const d of o.decisions)
      d.keep ? this.kept.add(this.tracker.reportPathOf(d.file)) : this.kept.delete(this.tracker.reportPathOf(d.file));
    this.cache.clear();
    this.openCache = undefined;
  }

  setSimilar(title: string, items: { file: string; similarity: number }[]): void {
    this.similar = { title, items: items.map((i) => ({ key: this.tracker.reportPathOf(i.file), similarity: i.similarity })) };
    this.cache.delete('similar');
  }

  /**
   * A search's answer: the images with at least FIND_MIN_MASS of the model's probability under the concept, highest
   * first, and what the tab's toolbar says about them. The files the server ranked below are not under it.
   */
  setFound(m: FoundMessage): void {
    const items = m.items.filter((i) => i.mass >= FIND_MIN_MASS);
    const c = m.concept;
    const others = m.otherSenses.length
      ? ` (other sense${m.otherSenses.length === 1 ? '' : 's'}: ${m.otherSenses.map((o) => `${o.name} ${o.synset}`).join(', ')})`
      : '';
    // The host asks for the FIND_TOP most probable: when every one of them is shown, more may lie under the concept.
    const capped = items.length >= FIND_TOP;
    const n = `${capped ? `the first ${items.length}` : items.length} of ${m.searched} image${m.searched === 1 ? '' : 's'}`;
    const title = `'${m.noun}' → ${c.name} (${c.synset}, ${c.imagenetClasses} ImageNet classes)${others}: ${n}, most probable first`;
    this.similar = {
      title,
      items: items.map((i) => ({ key: this.tracker.reportPathOf(i.file), similarity: i.mass })),
      concept: { noun: m.noun, name: c.name, synset: c.synset, count: items.length, capped },
    };
    this.cache.delete('similar');
  }

  /** Puts back what the Similar tab showed before (a cleared search). */
  restoreSimilar(view: SimilarView): void {
    this.similar = view;
    this.cache.delete('similar');
  }

  /** A selection on the map (report paths): the Similar tab's grid, without a similarity to show. */
  setRegion(title: string, keys: string[]): void {
    this.similar = { title, items: keys.map((key) => ({ key, similarity: Number.NaN })) };
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

  /**
   * Confident learning's estimate of the real label errors and the report paths of the likely ones (the first that
   * many of the ranking); undefined when the report has no estimate or it covers every flagged file.
   */
  likelyLabelErrors(): { estimate: number; flagged: number; likely: Set<string> } | undefined {
    const r = this.report;
    const estimate = r?.counts.estimatedLabelErrors;
    if (!r || estimate === undefined || estimate >= r.labelIssues.length) return undefined;
    return { estimate, flagged: r.labelIssues.length, likely: new Set(r.labelIssues.slice(0, estimate).map((i) => i.file)) };
  }

  /** Shows every flagged file on the Label issues tab, or only the likely errors. */
  setAllLabelIssues(all: boolean): void {
    this.allLabelIssues = all;
    this.cache.delete('labels');
  }

  cards(tab: TabId): Card[] {
    const hit = this.cache.get(tab);
    if (hit) return hit as Card[];
    const cards = this.build(tab);
    this.cache.set(tab, cards);
    return cards;
  }

  private build(tab: TabId): Card[] {
    const open = this.open();
    if (!open) return [];
    const alive = (f: string) => this.pathOf(f) !== null;
    switch (tab) {
      case 'labels': {
        const likely = this.allLabelIssues ? undefined : this.likelyLabelErrors()?.likely;
        return open.labelIssues
          .filter((i) => !likely || likely.has(i.file))
          .map((i) => ({
            key: i.file,
            score: i.score,
            scoreText: `${pct(i.score)} ${i.label}`,
            scoreTitle: `Label quality: the probability of the folder's label (${i.label}) relative to its class's mean; low means likely mislabelled`,
            detail: `${i.label} → ${i.suggestedLabel}`,
            suggested: i.suggestedLabel,
            ...(i.reasons ? { reasons: i.reasons } : {}),
          }));
      }
      case 'outliers':
        return open.outliers.map((o) => {
          const kind = issueKind(o.kind && o.kind !== 'embedding' ? o.kind : 'outlier') as IssueKind;
          const label = this.labelOf(o.file) ?? '';
          return {
            key: o.file,
            score: o.score,
            scoreText:
              kind.score?.unit === 'share' ? `${pct(o.score)} ${kind.score.label}` : `${kind.score?.label ?? ''} ${o.score.toFixed(2)}`,
            scoreTitle: kind.score?.title ?? '',
            detail: kind.id === 'outlier' ? label : `${label} · ${kind.title.toLowerCase()}`,
            ...(o.reason ? { reasons: [o.reason] } : {}),
          };
        });
      case 'quality':
        return open.quality.map((q) => {
          const title = issueKind(q.type)?.title ?? q.type;
          return {
            key: q.file,
            score: q.score,
            scoreText: q.score.toFixed(2),
            scoreTitle: `How strongly the image is ${title} (0–1)`,
            detail: title,
          };
        });
      case 'similar': {
        const c = this.similar.concept;
        return this.similar.items
          .filter((i) => alive(i.key))
          .map((i) => ({
            key: i.key,
            score: Number.isNaN(i.similarity) ? 0 : i.similarity,
            scoreText: Number.isNaN(i.similarity) ? '' : c ? `${pct(i.similarity)} ${c.name}` : `${i.similarity.toFixed(2)} similar`,
            scoreTitle: c
              ? `The model's probability under ${c.name} (${c.synset}): its classes below it, of its top 10 for this image`
              : 'Cosine similarity of the images’ embeddings (1: the same image)',
            detail: this.labelOf(i.key) ?? '',
          }));
      }
      default:
        return [];
    }
  }

  /** The report's open issues after the board's actions (open-issues.ts: the host counts them the same way). */
  private open(): OpenIssues | undefined {
    if (!this.report) return undefined;
    this.openCache ??= openIssues(this.report, this.tracker, this.kept);
    return this.openCache;
  }

  groups(rule: KeepRule): GroupView[] {
    const cacheKey = `groups:${rule}`;
    const hit = this.cache.get(cacheKey);
    if (hit) return hit as GroupView[];
    const out: GroupView[] = [];
    for (const g of this.open()?.duplicateGroups ?? []) {
      const { id, files } = g;
      const pick = this.keepPick.get(id);
      const keeper = pick && files.includes(pick) ? pick : this.keeperByRule(files, rule);
      const notes = [g.kind === 'exact' ? 'exact copies' : `near copies${g.minCosine ? ` (cos ≥ ${g.minCosine.toFixed(3)})` : ''}`];
      if (g.conflictingLabels) notes.push('different class folders');
      if (g.crossSplit) notes.push('across splits (leakage)');
      out.push({ id, kind: g.kind, files, keeper, note: notes.join(' · ') });
    }
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
    this.openCache = undefined;
  }
}
