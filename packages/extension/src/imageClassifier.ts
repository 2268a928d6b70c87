/**
 * The extension object: builds the extension's parts (output channel, server handle, result store, queue, view,
 * decorations, status bar, commands) in init(), and stops the server in stop(). activate() makes one and inits it.
 */
import { classifiableGlob } from '@image-classifier/protocol/formats';
import * as vscode from 'vscode';
import { ClassificationQueue } from './classificationQueue';
import { registerCommands } from './commands';
import { CurationBoards } from './curation/host/boards';
import { CurationExplorer } from './curation/host/explorer';
import { CurationSummaries } from './curation/host/summaries';
import { ModelInfoDocument } from './commands/modelInfo';
import { EXCLUDE_GLOB } from './commands/util';
import { LabelDecorations } from './decorations';
import { ImagePathHover } from './hover';
import { LabelsViewProvider } from './labelsView';
import { ClassifiedMemory } from './memory';
import { ResultStore } from './results';
import { ServerManager } from './server/server';
import { StartupTimeline } from './startup';
import { ModelStatusBar } from './statusBar';
import { watchFiles, watchSettingsAndTabs } from './watch';

export class ImageClassifierExtension {
  readonly output = vscode.window.createOutputChannel('Image Classifier', { log: true });
  readonly server: ServerManager;
  readonly store = new ResultStore();
  readonly queue: ClassificationQueue;
  private statusBar: ModelStatusBar | undefined;
  private memory: ClassifiedMemory | undefined;
  /** activate() → status item → server → model ready, logged once. */
  readonly startup = new StartupTimeline(this.output);

  constructor(
    private readonly context: vscode.ExtensionContext,
    /** activate()'s own duration, for the Show Activation Time command. */
    private readonly activationTimeMs: () => number,
  ) {
    this.server = new ServerManager(context, this.output);
    this.queue = new ClassificationQueue(this.server, this.store, this.output);
  }

  /** Creates the UI and the commands; the watchers and the early server start follow right after activation. */
  init(): void {
    const { context, output, server, store, queue } = this;
    const summaries = new CurationSummaries();
    const view = new LabelsViewProvider(store, summaries);
    const treeView = vscode.window.createTreeView('imageClassifier.labels', { treeDataProvider: view, showCollapseAll: true });
    view.attach(treeView);
    const decorations = new LabelDecorations(store, queue);
    const memory = new ClassifiedMemory(context.workspaceState, store);
    this.memory = memory;
    const statusBar = new ModelStatusBar(server);
    // Life at once: activation comes as soon as the workspace holds images (workspaceContains in package.json).
    statusBar.showStarting();
    this.startup.mark('statusItemShown');
    this.statusBar = statusBar;
    const modelInfo = new ModelInfoDocument(server);
    const explorer = new CurationExplorer();
    const boards = new CurationBoards({ context, server, output, explorer, summaries, statusBar });
    context.subscriptions.push(
      output,
      server,
      store,
      queue,
      view,
      treeView,
      decorations,
      memory,
      statusBar,
      modelInfo,
      explorer,
      summaries,
      boards,
      vscode.window.registerFileDecorationProvider(decorations),
      vscode.languages.registerHoverProvider({ scheme: 'file' }, new ImagePathHover(store, queue)),
      ...registerCommands({ context, server, queue, store, view, output, modelInfo, boards, activationTimeMs: this.activationTimeMs }),
    );
    // Not needed to answer the first command: set up right after activation, outside activate()'s own time.
    const startTimer = setTimeout(() => this.afterActivation(), 0);
    context.subscriptions.push({ dispose: () => clearTimeout(startTimer) });
  }

  private afterActivation(): void {
    this.context.subscriptions.push(...watchFiles(this), ...watchSettingsAndTabs(this));
    // Start the server (and load the model) early only where there are images; elsewhere on first use.
    const startup = this.startup;
    const subs = [
      this.server.onPhase((p) => p === 'running' && startup.mark('serverRunning')),
      this.server.onStatus((s) => {
        if (s.state === 'loading') startup.mark('modelLoading');
        if (s.state === 'ready' || s.state === 'error') startup.mark('modelReady');
      }),
    ];
    this.context.subscriptions.push(...subs);
    void vscode.workspace.findFiles(classifiableGlob(), EXCLUDE_GLOB, 1).then(
      (found) => {
        startup.mark('imageSearchDone');
        if (!found.length) return this.statusBar?.hideUntilStatus();
        startup.mark('serverStartRequested');
        void this.server.client.ensureStarted().then(
          () => this.restoreLabels(),
          () => undefined,
        );
      },
      () => this.statusBar?.hideUntilStatus(),
    );
  }

  /** The labels of the images classified before this window (a reload, a restart), from the server's cache. */
  private async restoreLabels(): Promise<void> {
    const memory = this.memory;
    const uris = memory?.remembered() ?? [];
    if (!uris.length) return memory?.restoreDone();
    const t0 = Date.now();
    try {
      const n = await this.queue.restore(uris);
      this.startup.mark('labelsRestored');
      this.output.info(`Labels of ${n} of ${uris.length} images classified before shown again from the cache (${Date.now() - t0} ms).`);
    } catch (e) {
      this.output.warn(`Could not show the earlier labels again: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      memory?.restoreDone();
    }
  }

  /** Shuts the server down cleanly (shutdown/exit, then kill) before the extension host goes away. */
  stop(): Promise<void> {
    return this.server.stop();
  }
}
