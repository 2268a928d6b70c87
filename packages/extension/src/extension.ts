/**
 * Image Classifier for VS Code: a thin client. It forks the bundled inference server (ONNX Runtime and sharp
 * live there, never in the extension host), sends it workspace images and renders the answers: notifications,
 * Explorer badges and tooltips, hovers on image paths, the "Image Labels" view, the model's status bar item.
 */
import * as vscode from 'vscode';
import { Classifier } from './classifier';
import { registerCommands } from './commands';
import { LabelDecorations } from './decorations';
import { ImagePathHover } from './hover';
import { IMAGE_GLOB, isImagePath } from './images';
import { LabelsViewProvider } from './labelsView';
import { ResultStore } from './results';
import { ServerManager } from './server';
import { autoClassify, RESULT_AFFECTING, SECTION } from './settings';
import { ModelStatusBar } from './statusBar';

declare const __IMAGE_CLASSIFIER_LOAD_START__: number | undefined;
declare const __IMAGE_CLASSIFIER_LOAD_END__: number | undefined;
declare const __IMAGE_CLASSIFIER_LOAD_CPU__: NodeJS.CpuUsage | undefined;
declare const __IMAGE_CLASSIFIER_VSCODE_API_MS__: number | undefined;

/** How long evaluating the bundle took (VS Code's "code loading time"), from the marks esbuild.mjs adds. */
function codeLoadingTimeMs(): number {
  return typeof __IMAGE_CLASSIFIER_LOAD_START__ === 'number' && typeof __IMAGE_CLASSIFIER_LOAD_END__ === 'number'
    ? __IMAGE_CLASSIFIER_LOAD_END__ - __IMAGE_CLASSIFIER_LOAD_START__
    : 0;
}

/** What activate() returns: used by the in-host tests (and usable by other extensions). */
export interface ImageClassifierApi {
  /** activate()'s own duration, ms. */
  readonly activationTimeMs: number;
  /** Of codeLoadingTimeMs: the editor creating this extension's `vscode` API object (first require('vscode')). */
  readonly vscodeApiMs: number;
  /** Evaluating the bundle (require of dist/extension.js), ms. */
  readonly codeLoadingTimeMs: number;
  /** activate()'s own main-thread CPU time, ms (0 where Node lacks process.threadCpuUsage). */
  readonly activationCpuMs: number;
  /** codeLoadingTimeMs + activationTimeMs (wall clock): what the 50 ms budget is about. */
  readonly loadAndActivationTimeMs: number;
  /**
   * CPU time (user + system) of the extension host's main thread from the bundle's first line to the end of
   * activate(): the work itself, without the time the thread was preempted. 0 where Node lacks
   * process.threadCpuUsage (Node < 23.9).
   */
  readonly loadAndActivationCpuMs: number;
  readonly server: {
    readonly pid: number | undefined;
    readonly starts: number;
    readonly phase: string;
    readonly state: string | undefined;
  };
  results(): Array<{ uri: string; label: string; probability: number; model: string }>;
  whenServerReady(): Promise<void>;
}

type ThreadCpu = (prev?: NodeJS.CpuUsage) => NodeJS.CpuUsage;
const threadCpuUsage: ThreadCpu | undefined = (process as unknown as { threadCpuUsage?: ThreadCpu }).threadCpuUsage?.bind(process);

export function activate(context: vscode.ExtensionContext): ImageClassifierApi {
  const t0 = performance.now();
  const cpu0 = threadCpuUsage?.();

  const output = vscode.window.createOutputChannel('Image Classifier', { log: true });
  const server = new ServerManager(context, output);
  serverForDeactivate = server;
  const store = new ResultStore();
  const classifier = new Classifier(server, store, output);
  const view = new LabelsViewProvider(store);
  const treeView = vscode.window.createTreeView('imageClassifier.labels', { treeDataProvider: view, showCollapseAll: true });
  view.attach(treeView);
  const decorations = new LabelDecorations(store, classifier);
  const statusBar = new ModelStatusBar(server);

  let activationTimeMs = 0;
  let loadAndActivationTimeMs = 0;

  context.subscriptions.push(
    output,
    server,
    store,
    classifier,
    view,
    treeView,
    decorations,
    statusBar,
    vscode.window.registerFileDecorationProvider(decorations),
    vscode.languages.registerHoverProvider({ scheme: 'file' }, new ImagePathHover(store, classifier)),
    ...registerCommands({ context, server, classifier, store, view, output, activationTimeMs: () => activationTimeMs }),
  );

  // Not needed to answer the first command: set up right after activation, outside activate()'s own time.
  const startWatching = () => {
    // Files that change are classified again; deleted ones (or folders) leave the results.
    // A classified file replaced by delete + create (atomic saves, copies over it) counts as changed.
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    const removedAt = new Map<string, number>();
    const reclassify = (uri: vscode.Uri) => {
      output.info(`${vscode.workspace.asRelativePath(uri)} changed: classifying it again.`);
      classifier.enqueue(uri, { force: true });
    };
    context.subscriptions.push(
      watcher,
      watcher.onDidChange((uri) => {
        if (store.get(uri)) reclassify(uri);
      }),
      watcher.onDidDelete((uri) => {
        if (store.get(uri)) removedAt.set(uri.toString(), Date.now());
        store.delete(uri);
      }),
      watcher.onDidCreate((uri) => {
        const at = removedAt.get(uri.toString());
        removedAt.delete(uri.toString());
        for (const [k, t] of removedAt) if (Date.now() - t > 10_000) removedAt.delete(k);
        // A classified file reported as created: replaced, or its create and change were coalesced into one event.
        if (store.get(uri) || (at !== undefined && Date.now() - at < 10_000)) reclassify(uri);
        else if (isImagePath(uri.path) && autoClassify() === 'visibleFiles') classifier.enqueue(uri);
      }),
    );

    // Settings apply without a reload: the server gets them, and results of another model are redone.
    context.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) return;
        void server.pushSettings().catch((err) => output.warn(`Could not send the settings: ${String(err)}`));
        if (RESULT_AFFECTING.some((k) => e.affectsConfiguration(k)) && store.size) {
          const force = !e.affectsConfiguration(`${SECTION}.topK`) || RESULT_AFFECTING.slice(0, 3).some((k) => e.affectsConfiguration(k));
          for (const r of store.all()) classifier.enqueue(r.uri, { force });
        }
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void server.pushSettings()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void server.pushSettings()),
      vscode.window.tabGroups.onDidChangeTabs((e) => {
        if (autoClassify() !== 'visibleFiles') return;
        for (const tab of e.opened) {
          const input = tab.input;
          if (input instanceof vscode.TabInputCustom && isImagePath(input.uri.path) && !store.get(input.uri)) classifier.enqueue(input.uri);
        }
      }),
    );
  };

  // Start the server (and load the model) early only where there are images; elsewhere on first use.
  const startTimer = setTimeout(() => {
    startWatching();
    void vscode.workspace.findFiles(IMAGE_GLOB, '**/{node_modules,.git}/**', 1).then(
      (found) => {
        if (found.length) void server.ensureStarted().catch(() => undefined);
      },
      () => undefined,
    );
  }, 0);
  context.subscriptions.push({ dispose: () => clearTimeout(startTimer) });

  const t1 = performance.now();
  activationTimeMs = t1 - t0;
  const codeLoading = codeLoadingTimeMs();
  loadAndActivationTimeMs = codeLoading + activationTimeMs;
  // Main-thread CPU of the two synchronous windows (the footer stored the bundle's own as a difference).
  let cpuMs = 0;
  let activateCpuMs = 0;
  if (threadCpuUsage && cpu0 && typeof __IMAGE_CLASSIFIER_LOAD_CPU__ === 'object' && __IMAGE_CLASSIFIER_LOAD_CPU__) {
    const a = threadCpuUsage(cpu0);
    activateCpuMs = (a.user + a.system) / 1000;
    cpuMs = activateCpuMs + (__IMAGE_CLASSIFIER_LOAD_CPU__.user + __IMAGE_CLASSIFIER_LOAD_CPU__.system) / 1000;
  }
  const apiMs = typeof __IMAGE_CLASSIFIER_VSCODE_API_MS__ === 'number' ? __IMAGE_CLASSIFIER_VSCODE_API_MS__ : 0;
  output.info(
    `Activated in ${activationTimeMs.toFixed(1)} ms; loading the bundle took ${codeLoading.toFixed(1)} ms ` +
      `(of which the editor creating the vscode API object ${apiMs.toFixed(1)} ms) ` +
      `(total ${loadAndActivationTimeMs.toFixed(1)} ms wall clock, ${cpuMs.toFixed(1)} ms main-thread CPU).`,
  );

  return {
    get activationTimeMs() {
      return activationTimeMs;
    },
    get activationCpuMs() {
      return activateCpuMs;
    },
    get vscodeApiMs() {
      return apiMs;
    },
    get loadAndActivationCpuMs() {
      return cpuMs;
    },
    get codeLoadingTimeMs() {
      return codeLoading;
    },
    get loadAndActivationTimeMs() {
      return loadAndActivationTimeMs;
    },
    server: {
      get pid() {
        return server.pid;
      },
      get starts() {
        return server.starts;
      },
      get phase() {
        return server.phase;
      },
      get state() {
        return server.status?.state;
      },
    },
    results: () =>
      store.all().map((r) => ({
        uri: r.uri.toString(),
        label: r.predictions[0]?.label ?? '',
        probability: r.predictions[0]?.probability ?? 0,
        model: r.model,
      })),
    whenServerReady: () =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          const s = server.status;
          if (s?.state === 'ready') {
            resolve();
            return true;
          }
          if (s?.state === 'error') {
            reject(new Error(s.error?.message ?? s.message ?? 'model error'));
            return true;
          }
          return false;
        };
        void server.ensureStarted().then(() => {
          if (check()) return;
          const sub = server.onStatus(() => {
            if (check()) sub.dispose();
          });
        }, reject);
      }),
  };
}

export function deactivate(): Promise<void> | undefined {
  // Shut the server down cleanly (shutdown/exit, then kill) before the extension host goes away.
  return serverForDeactivate?.stop();
}

let serverForDeactivate: ServerManager | undefined;
