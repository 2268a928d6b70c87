/**
 * The Image Labels view's curation groups: "Curation: dataset — 10 label issues · …" per dataset curated in this
 * window, with a row per issue type; a row opens the dataset's board on that tab.
 */
import { issueSection } from '@image-classifier/protocol/issue-kinds';
import * as vscode from 'vscode';
import type { IssueCount } from './curation/shared/issue-counts';
import { issueSummary } from './curation/shared/issue-counts';
import type { DatasetIssues } from './curation/host/summaries';

export type CurationNode =
  | { kind: 'curation'; dataset: DatasetIssues }
  | { kind: 'curationRow'; dataset: DatasetIssues; count: IssueCount };

export function curationChildren(node: CurationNode): CurationNode[] {
  if (node.kind !== 'curation') return [];
  return node.dataset.counts.map((count) => ({ kind: 'curationRow', dataset: node.dataset, count }));
}

export function curationTreeItem(node: CurationNode): vscode.TreeItem {
  const { dataset } = node;
  if (node.kind === 'curation') {
    const item = new vscode.TreeItem(`Curation: ${dataset.name}`, vscode.TreeItemCollapsibleState.Expanded);
    item.id = `curation:${dataset.root.toString()}`;
    item.description = issueSummary(dataset.counts);
    item.tooltip = `${dataset.name}: ${item.description} (open on its curation board). Click a row to show it there.`;
    item.iconPath = new vscode.ThemeIcon('checklist');
    item.contextValue = 'curation';
    return item;
  }
  const { count } = node;
  const item = new vscode.TreeItem(count.text, vscode.TreeItemCollapsibleState.None);
  item.id = `curation:${dataset.root.toString()}:${count.tab}`;
  item.tooltip = `${dataset.name}: ${count.text}. Click to show them on the curation board.`;
  item.iconPath = new vscode.ThemeIcon(issueSection(count.tab).icon);
  item.command = { command: 'imageClassifier.curateDataset', title: 'Show on the Curation Board', arguments: [dataset.root, count.tab] };
  item.contextValue = 'curationRow';
  return item;
}
