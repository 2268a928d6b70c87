/**
 * Where each file of a curation report is now, after the board's actions (and their undo/redo): the report stays as
 * the server made it, the tracker maps its paths to the current ones. No DOM: the host and the
 * webview both use it, so an ActionOutcome updates the board without re-running anything.
 */
import type { CurationFile, CurationReport } from '@image-classifier/protocol';
import { isSplitName } from '@image-classifier/protocol/curation';
import { fileIssueOpener, openIssues } from './open-issues';
import type { ActionOutcome } from './types';

/**
 * The class folder of a root-relative path, as the server's scan reads it: the first folder, or the second under a
 * split folder (`train/cat/a.jpg` → `cat`, `cat/a.jpg` → `cat`, `cat/x/y/a.jpg` → `cat`); undefined at the root.
 * `splits`: the report's split folders (`layout.splits`); without them, a first folder named like a split is one.
 */
export function labelOfPath(file: string, splits?: readonly string[]): string | undefined {
  const parts = file.split('/');
  const isSplit = splits ? splits.includes(parts[0]!) : isSplitName(parts[0]!);
  const i = parts.length > 1 && isSplit ? 1 : 0;
  return parts.length - i > 1 ? parts[i] : undefined;
}

export class PathTracker {
  /** Report path → current path; null = trashed (left the dataset). */
  private readonly current = new Map<string, string | null>();
  /** Current path → report path. */
  private readonly original = new Map<string, string>();
  /** Report path → its path when it was trashed. */
  private readonly trashedFrom = new Map<string, string>();

  /** `splits`: the report's split folders (`layout.splits`), for the class of a moved file. */
  constructor(
    files: Iterable<string>,
    private readonly splits?: readonly string[],
  ) {
    for (const f of files) {
      this.current.set(f, f);
      this.original.set(f, f);
    }
  }

  /** Applies an outcome's path changes; returns the report paths that changed. */
  apply(changes: ActionOutcome['changes']): string[] {
    const touched: string[] = [];
    for (const c of changes) {
      let orig = this.original.get(c.from);
      if (orig === undefined && c.to !== undefined) {
        // Back from the trash: `from` is where the trash kept it; the file is known by where it was.
        orig = [...this.trashedFrom].find(([, was]) => was === c.to)?.[0];
      }
      if (orig === undefined) continue;
      const now = this.current.get(orig);
      if (now) this.original.delete(now);
      if (c.to === undefined) {
        this.current.set(orig, null);
        this.trashedFrom.set(orig, c.from);
      } else {
        this.current.set(orig, c.to);
        this.original.set(c.to, orig);
        this.trashedFrom.delete(orig);
      }
      touched.push(orig);
    }
    return touched;
  }

  /** Where a report path is now: null when trashed, the path itself when it never moved. */
  currentOf(reportPath: string): string | null {
    const c = this.current.get(reportPath);
    return c === undefined ? reportPath : c;
  }

  /** The report path of a current path (itself for a file the report does not know). */
  reportPathOf(currentPath: string): string {
    return this.original.get(currentPath) ?? currentPath;
  }

  /** The file's class now (its folder), or null when trashed. */
  labelOf(f: CurationFile): string | undefined | null {
    const now = this.currentOf(f.file);
    if (now === null) return null;
    return now === f.file ? f.label : labelOfPath(now, this.splits);
  }

  /** Moved or trashed since the report. */
  changed(reportPath: string): boolean {
    return this.currentOf(reportPath) !== reportPath;
  }
}

/**
 * The report as the dataset is now: moved files under their new path and label, trashed ones left out, and only the
 * open issues (open-issues.ts) in every issue list and on every file. The Explorer's badges and the Image Labels
 * view's counts read it.
 */
export function currentReport(report: CurationReport, tracker: PathTracker): CurationReport {
  const at = (f: string) => tracker.currentOf(f);
  // The open issues (open-issues.ts) under their current paths: a moved file's label issue is resolved (the user
  // chose its class), a trashed file's issues are gone, a group needs two files left.
  const isOpen = fileIssueOpener(report, tracker);
  const files = report.files
    .filter((f) => at(f.file) !== null)
    .map((f) => ({
      ...f,
      file: at(f.file)!,
      label: labelOfPath(at(f.file)!, report.layout?.splits) ?? f.label,
      issues: f.issues.filter((i) => isOpen(f.file, i)),
    }));
  const open = openIssues(report, tracker);
  const moved = <T extends { file: string }>(xs: T[]) => xs.map((x) => ({ ...x, file: at(x.file)! }));
  return {
    ...report,
    files,
    labelIssues: open.labelIssues,
    duplicateGroups: open.duplicateGroups.map(({ id: _, ...g }) => ({ ...g, files: g.files.map((f) => at(f)!) })),
    outliers: moved(open.outliers),
    quality: moved(open.quality),
  };
}
