/**
 * The open issue counts of every dataset curated in this window (a board with a report), for the Image Labels view.
 * Fed where the Explorer badges are (CurationPanel.updateExplorer: after a run, an action, a "keep label"); a board
 * that closes clears its dataset.
 */
import * as vscode from 'vscode';
import { folderName } from './folder-name';
import type { CurationReport } from '@image-classifier/protocol';
import { curationIssueCounts, type IssueCount } from '../shared/issue-counts';

export interface DatasetIssues {
  root: vscode.Uri;
  /** The folder as the workspace names it. */
  name: string;
  counts: IssueCount[];
}

export class CurationSummaries implements vscode.Disposable {
  private readonly byRoot = new Map<string, DatasetIssues>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  /** `report` as the dataset is now (undefined: the board closed). */
  update(root: vscode.Uri, report: CurationReport | undefined, kept: ReadonlySet<string>): void {
    const key = root.toString();
    if (report) {
      const name = folderName(root);
      this.byRoot.set(key, { root, name, counts: curationIssueCounts(report, kept) });
    } else if (!this.byRoot.delete(key)) return;
    this.changed.fire();
  }

  all(): DatasetIssues[] {
    return [...this.byRoot.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  dispose(): void {
    this.byRoot.clear();
    this.changed.dispose();
  }
}
