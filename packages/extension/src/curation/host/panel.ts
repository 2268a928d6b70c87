/**
 * The Dataset Curation panel: one webview panel per dataset folder (reopening focuses it). It runs
 * `imageClassifier/curate` (a notification with Cancel the first time, the status bar on re-queries), streams the
 * partial results into the board, sends it the report, and turns the board's messages into actions
 * (actions.ts). The board's state lives in the webview (getState/setState): no retainContextWhenHidden.
 */
import * as vscode from 'vscode';
import { folderName } from './folder-name';
import type { CurateFileProgress, CurationReport } from '@image-classifier/protocol';
import type { ServerManager } from '../../server/server';
import { BoardActions } from './actions';
import { boardHtml } from './html';
import type { FileFacts, HostMessage } from '../shared/messages';
import { createCurationController } from './controller';
import type { CurationExplorer } from './explorer';
import type { IssueTab } from '../shared/issue-counts';
import { OwnFileEvents } from '../shared/ownEvents';
import type { CurationSummaries } from './summaries';
import { PathTracker, currentReport } from '../shared/tracker';
import type { ActionOutcome, CurationController } from '../shared/types';

export const BOARD_VIEW_TYPE = 'imageClassifier.curationBoard';

export interface BoardDeps {
  readonly context: vscode.ExtensionContext;
  readonly server: ServerManager;
  readonly output: vscode.LogOutputChannel;
  readonly explorer: CurationExplorer;
  /** The open issue counts for the Image Labels view (fed with the Explorer badges). */
  readonly summaries?: CurationSummaries;
  /** The status bar item that shows a run's progress. */
  readonly statusBar?: { curationProgress(dataset: string, message: string | undefined): void };
}

/** Files changed outside the board: the report is asked again (cheap: embeddings are cached) after this quiet time. */
const REQUERY_DEBOUNCE_MS = 1500;

export function boardOptions(context: vscode.ExtensionContext, extra: vscode.Uri[] = []): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [
      vscode.Uri.joinPath(context.extensionUri, 'dist', 'media'),
      vscode.Uri.joinPath(context.extensionUri, 'media'),
      ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri),
      ...extra,
    ],
  };
}

export class CurationPanel implements vscode.Disposable {
  report: CurationReport | undefined;
  tracker = new PathTracker([]);
  /** The actions' path changes since the report (a re-shown webview replays them). */
  private changes: ActionOutcome['changes'] = [];
  private factsCache: Record<string, FileFacts> = {};
  readonly controller: Promise<CurationController>;
  private readonly actions: BoardActions;
  private readonly disposables: vscode.Disposable[] = [];
  private running: vscode.CancellationTokenSource | undefined;
  private requeryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The board's own file operations, told apart from changes made outside it. */
  readonly ownEvents = new OwnFileEvents();
  private extraRoots: vscode.Uri[] = [];
  private readonly disposedEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposedEmitter.event;

  constructor(
    readonly deps: BoardDeps,
    readonly root: vscode.Uri,
    readonly panel: vscode.WebviewPanel,
  ) {
    this.controller = createCurationController(root);
    this.actions = new BoardActions(this);
    panel.webview.options = boardOptions(deps.context);
    panel.webview.html = boardHtml(panel.webview, deps.context.extensionUri, panel.title);
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(root, '**/*'));
    const changed = (u: vscode.Uri) => this.fileChanged(u);
    this.disposables.push(
      watcher,
      watcher.onDidCreate(changed),
      watcher.onDidDelete(changed),
      watcher.onDidChange(changed),
      panel.webview.onDidReceiveMessage((m) => void this.actions.handle(m)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  post(message: HostMessage): void {
    void this.panel.webview.postMessage(message);
  }

  /** Lets the webview load images from another folder (the server's thumbnail cache). */
  allowRoot(dir: vscode.Uri): void {
    if (this.extraRoots.some((u) => u.toString() === dir.toString())) return;
    this.extraRoots.push(dir);
    this.panel.webview.options = boardOptions(this.deps.context, this.extraRoots);
  }

  private fileChanged(uri: vscode.Uri): void {
    if (/\/\.(curation|trash)(\/|$)/.test(uri.path) || !this.ownEvents.isForeign(uri.path)) return;
    this.requeryLater();
  }

  /** Asks the report again once files stop changing. */
  requeryLater(): void {
    clearTimeout(this.requeryTimer);
    this.requeryTimer = setTimeout(() => void this.curate({ quietly: true }), REQUERY_DEBOUNCE_MS);
  }

  /** Asks the report again now (after an undo or redo), quietly: embeddings are cached, so it is cheap. */
  requeryNow(): void {
    clearTimeout(this.requeryTimer);
    void this.curate({ quietly: true }).catch((e) => this.deps.output.warn(`Curation board: re-reading the dataset: ${String(e)}`));
  }

  /** Runs curate on the folder and sends the board the report. */
  async curate(opts: { quietly?: boolean } = {}): Promise<void> {
    this.running?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.running = cts;
    const name = folderName(this.root);
    await this.actions.prepareThumbnails();
    const location = opts.quietly ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification;
    const status = this.deps.statusBar;
    status?.curationProgress(name, '');
    try {
      const result = await vscode.window.withProgress(
        { location, title: `Curating '${name}'`, cancellable: !opts.quietly },
        async (progress, token) => {
          token.onCancellationRequested(() => cts.cancel());
          let read = 0;
          return this.deps.server.client.curate(
            { root: this.root.toString() },
            {
              token: cts.token,
              onProgress: (message) => {
                progress.report({ message });
                if (this.running === cts) status?.curationProgress(name, message);
              },
              onPartial: (items: CurateFileProgress[]) => {
                read += items.length;
                this.post({ type: 'progress', message: `${read} image${read === 1 ? '' : 's'} read…`, partial: items });
              },
            },
          );
        },
      );
      if (cts.token.isCancellationRequested && this.running !== cts) return;
      if (result.cancelled) {
        this.post({ type: 'status', message: 'Cancelled: run Curate Dataset again to finish the analysis.' });
        return;
      }
      await this.showReport(result);
    } finally {
      if (this.running === cts) {
        this.running = undefined;
        status?.curationProgress(name, undefined);
      }
      cts.dispose();
    }
  }

  private async showReport(report: CurationReport): Promise<void> {
    this.report = report;
    this.tracker = new PathTracker(
      report.files.map((f) => f.file),
      report.layout?.splits,
    );
    this.changes = [];
    this.factsCache = await this.facts(report);
    await this.resend();
    this.updateExplorer(await this.controller);
  }

  /** Sends the board the report and the changes made since (a webview shown again starts afresh). */
  async resend(): Promise<void> {
    if (!this.report) return;
    const controller = await this.controller;
    this.post({
      type: 'report',
      rootUri: this.root.toString(),
      report: this.report,
      facts: this.factsCache,
      kept: [...controller.keptFiles()],
      changes: this.changes,
      canUndo: controller.canUndo(),
      canRedo: controller.canRedo(),
    });
  }

  applyChanges(changes: ActionOutcome['changes']): void {
    this.tracker.apply(changes);
    this.changes.push(...changes);
  }

  /** The Explorer badges and the Image Labels view's counts, from the report as the dataset is now. */
  updateExplorer(controller: CurationController): void {
    if (!this.report) return;
    const now = currentReport(this.report, this.tracker);
    this.deps.explorer.update(this.root, now, controller.keptFiles());
    this.deps.summaries?.update(this.root, now, controller.keptFiles());
  }

  /** A tab to show once the webview can hear it (a hidden board reloads its page when revealed). */
  private pendingTab: IssueTab | undefined;

  /** Reveals the board on `tab`. */
  showTab(tab: IssueTab): void {
    this.pendingTab = tab;
    this.panel.reveal();
    void this.panel.webview.postMessage({ type: 'tab', tab } satisfies HostMessage).then((delivered) => {
      if (delivered && this.pendingTab === tab) this.pendingTab = undefined;
    });
  }

  /** After the webview's `ready`: the tab asked for while it was loading. */
  flushPendingTab(): void {
    if (this.pendingTab) this.post({ type: 'tab', tab: this.pendingTab });
    this.pendingTab = undefined;
  }

  /** Size and modification time of the duplicates' members (the keep rules need them). */
  private async facts(report: CurationReport): Promise<Record<string, FileFacts>> {
    const out: Record<string, FileFacts> = {};
    const files = [...new Set(report.duplicateGroups.flatMap((g) => g.files))];
    await Promise.all(
      files.map(async (f) => {
        const st = await vscode.workspace.fs.stat(this.uriOf(f)).then(
          (s) => s,
          () => undefined,
        );
        if (st) out[f] = { bytes: st.size, mtimeMs: st.mtime };
      }),
    );
    return out;
  }

  /** Shows the images nearest to `file` (relative to the root, or any image's URI) on the board's Similar tab. */
  findSimilar(file: string | vscode.Uri): Promise<void> {
    if (typeof file === 'string') return this.actions.similar(file);
    const inside = file.toString().startsWith(`${this.root.toString()}/`);
    const name = inside ? file.path.slice(this.root.path.replace(/\/$/, '').length + 1) : vscode.workspace.asRelativePath(file, false);
    return this.actions.similar(name, file);
  }

  uriOf(rel: string): vscode.Uri {
    return vscode.Uri.joinPath(this.root, ...rel.split('/'));
  }

  private disposed = false;
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.deps.explorer.update(this.root, undefined, new Set());
    this.deps.summaries?.update(this.root, undefined, new Set());
    clearTimeout(this.requeryTimer);
    this.running?.cancel();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.disposedEmitter.fire();
    this.disposedEmitter.dispose();
    this.panel.dispose();
  }
}
