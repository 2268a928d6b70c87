/**
 * The "Image Labels" view in the Explorer: classified images grouped by their top-1 label (groups by count,
 * images by confidence), with a minimum-confidence filter; above them, the open issue counts of each dataset curated
 * in this window (labelsViewCuration.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { percent, shortLabel } from './text/format';
import type { CurationSummaries } from './curation/host/summaries';
import { type CurationNode, curationChildren, curationTreeItem } from './labelsViewCuration';
import { predictionsMarkdown, readImageSize } from './markdown';
import type { ImageResult, ResultStore, SkippedImage } from './results';
import { minConfidence, topK } from './settings';
import { displayPath } from './userPaths';

/** The group of images a run could not classify, below the label groups. */
export const SKIPPED_GROUP = 'Could not classify';

export type LabelNode =
  | { kind: 'group'; label: string; items: ImageResult[] }
  | { kind: 'image'; result: ImageResult; group: string }
  | { kind: 'skippedGroup'; items: SkippedImage[] }
  | { kind: 'skipped'; item: SkippedImage }
  | CurationNode;

export class LabelsViewProvider implements vscode.TreeDataProvider<LabelNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<LabelNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private groups: Array<Extract<LabelNode, { kind: 'group' }>> = [];
  private skippedGroup: Extract<LabelNode, { kind: 'skippedGroup' }> | undefined;
  private hidden = 0;
  private dirty = true;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly subs: vscode.Disposable[] = [];
  view: vscode.TreeView<LabelNode> | undefined;

  constructor(
    private readonly store: ResultStore,
    private readonly curation?: CurationSummaries,
  ) {
    this.subs.push(store.onDidChange(() => this.scheduleRefresh()));
    if (curation) this.subs.push(curation.onDidChange(() => this.scheduleRefresh()));
    this.subs.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('imageClassifier.minConfidence')) this.refresh();
      }),
    );
  }

  attach(view: vscode.TreeView<LabelNode>): void {
    this.view = view;
    this.updateDescription();
  }

  /** Coalesces bursts of partial results into one refresh per 100 ms. */
  private scheduleRefresh(): void {
    this.dirty = true;
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire(undefined);
      this.updateDescription();
    }, 100);
  }

  refresh(): void {
    this.dirty = true;
    this.changed.fire(undefined);
    this.updateDescription();
  }

  private rebuild(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const min = minConfidence();
    const byLabel = new Map<string, ImageResult[]>();
    this.hidden = 0;
    for (const r of this.store.all()) {
      const top = r.predictions[0];
      if (!top) continue;
      if (top.probability < min) {
        this.hidden++;
        continue;
      }
      let list = byLabel.get(top.label);
      if (!list) byLabel.set(top.label, (list = []));
      list.push(r);
    }
    this.groups = [...byLabel.entries()]
      .map(([label, items]) => ({
        kind: 'group' as const,
        label,
        items: items.sort((a, b) => b.predictions[0]!.probability - a.predictions[0]!.probability || a.uri.path.localeCompare(b.uri.path)),
      }))
      .sort((a, b) => b.items.length - a.items.length || a.label.localeCompare(b.label));
    const skipped = this.store.skipped();
    this.skippedGroup = skipped.length ? { kind: 'skippedGroup', items: skipped } : undefined;
  }

  private updateDescription(): void {
    if (!this.view) return;
    this.rebuild();
    const min = minConfidence();
    const shown = this.groups.reduce((n, g) => n + g.items.length, 0);
    this.view.description =
      shown || this.hidden ? `${shown} image${shown === 1 ? '' : 's'}${min > 0 ? ` · ≥ ${percent(min)}` : ''}` : undefined;
    this.view.message =
      this.hidden > 0 ? `${this.hidden} image${this.hidden === 1 ? '' : 's'} below ${percent(min)} hidden (${shown} shown).` : undefined;
  }

  getChildren(node?: LabelNode): LabelNode[] {
    this.rebuild();
    if (!node) {
      const curated: LabelNode[] = (this.curation?.all() ?? []).map((dataset) => ({ kind: 'curation', dataset }));
      return [...curated, ...this.groups, ...(this.skippedGroup ? [this.skippedGroup] : [])];
    }
    if (node.kind === 'curation') return curationChildren(node);
    if (node.kind === 'group') return node.items.map((result) => ({ kind: 'image', result, group: node.label }));
    if (node.kind === 'skippedGroup') return node.items.map((item) => ({ kind: 'skipped', item }));
    return [];
  }

  getParent(node: LabelNode): LabelNode | undefined {
    if (node.kind === 'skipped') return this.skippedGroup;
    if (node.kind === 'curationRow') return { kind: 'curation', dataset: node.dataset };
    if (node.kind !== 'image') return undefined;
    return this.groups.find((g) => g.label === node.group);
  }

  getTreeItem(node: LabelNode): vscode.TreeItem {
    if (node.kind === 'skippedGroup' || node.kind === 'skipped') return skippedTreeItem(node);
    if (node.kind === 'curation' || node.kind === 'curationRow') return curationTreeItem(node);
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(shortLabel(node.label), vscode.TreeItemCollapsibleState.Expanded);
      item.id = `group:${node.label}`;
      item.description = `${node.items.length}`;
      item.tooltip = `${node.label}: ${node.items.length} image${node.items.length === 1 ? '' : 's'}`;
      item.iconPath = new vscode.ThemeIcon('tag');
      item.contextValue = 'group';
      return item;
    }
    const r = node.result;
    const top = r.predictions[0]!;
    const item = new vscode.TreeItem(r.uri, vscode.TreeItemCollapsibleState.None);
    item.id = `image:${r.uri.toString()}`;
    // The confidence first: a narrow view (the Explorer badges take room too) cuts the name, not the number.
    const conf = percent(top.probability);
    item.label = `${conf}  ${path.posix.basename(r.uri.path)}`;
    item.description = undefined;
    // The tooltip (thumbnail and labels) is made on hover, in resolveTreeItem, once the image's size is read.
    item.command = { command: 'vscode.open', title: 'Open Image', arguments: [r.uri] };
    item.contextValue = 'image';
    return item;
  }

  async resolveTreeItem(item: vscode.TreeItem, node: LabelNode): Promise<vscode.TreeItem> {
    if (node.kind !== 'image' || item.tooltip !== undefined) return item;
    const r = node.result;
    const imageSize = await readImageSize(r.uri);
    item.tooltip = predictionsMarkdown(r.uri, r.predictions.slice(0, topK()), { model: r.model, title: displayPath(r.uri), imageSize });
    return item;
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}

/** The "Could not classify" group and its rows: the file, and the reason in words. */
function skippedTreeItem(node: Extract<LabelNode, { kind: 'skippedGroup' | 'skipped' }>): vscode.TreeItem {
  if (node.kind === 'skippedGroup') {
    const item = new vscode.TreeItem(SKIPPED_GROUP, vscode.TreeItemCollapsibleState.Expanded);
    item.id = 'group:skipped';
    item.description = `${node.items.length}`;
    item.tooltip = `${node.items.length} image${node.items.length === 1 ? '' : 's'} could not be classified: hover one for the reason.`;
    item.iconPath = new vscode.ThemeIcon('warning');
    item.contextValue = 'skippedGroup';
    return item;
  }
  const { uri, code, reason } = node.item;
  const item = new vscode.TreeItem(path.posix.basename(uri.path), vscode.TreeItemCollapsibleState.None);
  item.id = `skipped:${uri.toString()}`;
  item.resourceUri = uri;
  item.description = reason;
  item.tooltip = new vscode.MarkdownString(undefined, true).appendText(`${displayPath(uri)}\n\n${code}: ${reason}`);
  item.iconPath = new vscode.ThemeIcon('circle-slash');
  item.command = { command: 'revealInExplorer', title: 'Reveal in Explorer', arguments: [uri] };
  item.contextValue = 'skipped';
  return item;
}
