/**
 * Curation in the Explorer: a badge and a tooltip on every file of a curated dataset with an open issue (see
 * issue-badges.ts for the letters), coloured with the theme's error / warning / info colours. One instance serves
 * every curated folder: `update(root, report, kept)` after a run, an action or a "keep label" decision;
 * `update(root, undefined, …)` when the board for that folder closes.
 */
import * as vscode from 'vscode';
import type { CurationReport } from '@image-classifier/protocol';
import { curationBadges, type FileBadge } from '../shared/issue-badges';

export class CurationExplorer implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this.changed.event;
  /** Per dataset root (its URI string): file URI string → badge. */
  private readonly roots = new Map<string, Map<string, FileBadge>>();
  private readonly registration: vscode.Disposable;

  constructor() {
    this.registration = vscode.window.registerFileDecorationProvider(this);
  }

  /** Shows `report`'s open issues under `root` (paths in the report are relative to it); undefined clears them. */
  update(root: vscode.Uri, report: CurationReport | undefined, kept: ReadonlySet<string>): void {
    const key = root.toString();
    const before = this.roots.get(key);
    const next = new Map<string, FileBadge>();
    if (report) {
      for (const [file, badge] of curationBadges(report, kept)) next.set(vscode.Uri.joinPath(root, ...file.split('/')).toString(), badge);
    }
    if (next.size) this.roots.set(key, next);
    else this.roots.delete(key);
    // Only the files whose decoration changed (the Explorer asks again for those).
    const touched = new Set<string>();
    for (const [uri, b] of next) {
      const old = before?.get(uri);
      if (!old || old.badge !== b.badge || old.tooltip !== b.tooltip || old.color !== b.color) touched.add(uri);
    }
    for (const uri of before?.keys() ?? []) if (!next.has(uri)) touched.add(uri);
    if (touched.size) this.changed.fire([...touched].map((u) => vscode.Uri.parse(u)));
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    const key = uri.toString();
    for (const files of this.roots.values()) {
      const b = files.get(key);
      if (!b) continue;
      const d = new vscode.FileDecoration(b.badge, b.tooltip, new vscode.ThemeColor(b.color));
      d.propagate = false;
      return d;
    }
    return undefined;
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
    this.roots.clear();
  }
}
