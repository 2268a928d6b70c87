/**
 * The Dataset Curation panel: one webview panel per dataset folder (reopening focuses it). It runs
 * `imageClassifier/curate` (a notification with Cancel the first time, the status bar on re-queries), streams the
 * partial results into the board, sends it the report, and turns the board's messages into actions
 * (actions.ts). The board's state lives in the webview (getState/setState): no retainContextWhenHidden.
 */
import * as vscode from 'vscode';
import type { CurateFileProgress, CurationReport } from '@image-classifier/protocol';
import type { ServerManager } from '../server';
import { BoardActions } from './actions';
import { boardHtml } from './html';
import type { FileFacts, HostMessage } from './messages';
import { createCurationController } from './controller';
import type { CurationExplorer } from './explorer';
import { OwnFileEvents } from './ownEvents';
import { PathTracker, currentReport } from './tracker';
import type { ActionOutcome, CurationController } from './types';

export const BOARD_VIEW_TYPE = 'imageClassifier.curationBoard';

export interface BoardDeps {
  readonly context: vscode.ExtensionContext;
  readonly server: ServerManager;
  readonly output: vscode.LogOutputChannel;
  readonly explorer: CurationExplorer;
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

  /** Runs curate on the folder and sends the board the report. */
  async curate(opts: { quietly?: boolean } = {}): Promise<void> {
    this.running?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.running = cts;
    const name = vscode.workspace.asRelativePath(this.root, false);
    await this.actions.prepareThumbnails();
    const location = opts.quietly ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification;
    try {
      const result = await vscode.window.withProgress(
        { location, title: `Curating '${name}'`, cancellable: !opts.quietly },
        async (progress, token) => {
          token.onCancellationRequested(() => cts.cancel());
          let read = 0;
          return this.deps.server.curate(this.root, {
            token: cts.token,
            onProgress: (message) => progress.report({ message }),
            onPartial: (items: CurateFileProgress[]) => {
              read += items.length;
              this.post({ type: 'progress', message: `${read} images read…`, partial: items });
            },
          });
        },
      );
      if (cts.token.isCancellationRequested && this.running !== cts) return;
      if (result.cancelled) {
        this.post({ type: 'status', message: 'Cancelled: run Curate Dataset again to finish the analysis.' });
        return;
      }
      await this.showReport(result);
    } finally {
      if (this.running === cts) this.running = undefined;
      cts.dispose();
    }
  }

  private async showReport(report: CurationReport): Promise<void> {
    this.report = report;
    this.tracker = new PathTracker(report.files.map((f) => f.file));
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

  updateExplorer(controller: CurationController): void {
    if (this.report) this.deps.explorer.update(this.root, currentReport(this.report, this.tracker), controller.keptFiles());
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

  /** Shows the images nearest to `file` (relative to the root) on the board's Similar tab. */
  findSimilar(file: string): Promise<void> {
    return this.actions.similar(file);
  }

  uriOf(rel: string): vscode.Uri {
    return vscode.Uri.joinPath(this.root, ...rel.split('/'));
  }

  private disposed = false;
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.deps.explorer.update(this.root, undefined, new Set());
    clearTimeout(this.requeryTimer);
    this.running?.cancel();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.disposedEmitter.fire();
    this.disposedEmitter.dispose();
    this.panel.dispose();
  }
}
