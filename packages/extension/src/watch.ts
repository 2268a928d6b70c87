/**
 * What the extension follows after activation: files that change are classified again and deleted ones leave the
 * results; settings reach the server without a reload (and results of another model are redone); images opened in
 * the editor are classified when `autoClassify` is `visibleFiles`.
 */
import { isClassifiablePath } from '@image-classifier/protocol/formats';
import * as vscode from 'vscode';
import type { ClassificationQueue } from './classificationQueue';
import type { ResultStore } from './results';
import type { ServerManager } from './server/server';
import { autoClassify, RESULT_AFFECTING, SECTION } from './settings';

export interface WatchDeps {
  readonly server: ServerManager;
  readonly store: ResultStore;
  readonly queue: ClassificationQueue;
  readonly output: vscode.LogOutputChannel;
}

/** Files that change are classified again; deleted ones (or folders) leave the results. */
export function watchFiles({ store, queue, output }: WatchDeps): vscode.Disposable[] {
  // A classified file replaced by delete + create (atomic saves, copies over it) counts as changed.
  const watcher = vscode.workspace.createFileSystemWatcher('**/*');
  const removedAt = new Map<string, number>();
  const reclassify = (uri: vscode.Uri) => {
    output.info(`${vscode.workspace.asRelativePath(uri)} changed: classifying it again.`);
    queue.enqueue(uri, { force: true });
  };
  return [
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
      else if (isClassifiablePath(uri.path) && autoClassify() === 'visibleFiles') queue.enqueue(uri);
    }),
  ];
}

/** Settings apply without a reload: the server gets them, and results of another model are redone. */
export function watchSettingsAndTabs({ server, store, queue, output }: WatchDeps): vscode.Disposable[] {
  return [
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      void server.pushSettings().catch((err) => output.warn(`Could not send the settings: ${String(err)}`));
      if (RESULT_AFFECTING.some((k) => e.affectsConfiguration(k)) && store.size) {
        const force = !e.affectsConfiguration(`${SECTION}.topK`) || RESULT_AFFECTING.slice(0, 3).some((k) => e.affectsConfiguration(k));
        for (const r of store.all()) queue.enqueue(r.uri, { force });
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void server.pushSettings()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void server.pushSettings()),
    vscode.window.tabGroups.onDidChangeTabs((e) => {
      if (autoClassify() !== 'visibleFiles') return;
      for (const tab of e.opened) {
        const input = tab.input;
        if (input instanceof vscode.TabInputCustom && isClassifiablePath(input.uri.path) && !store.get(input.uri)) queue.enqueue(input.uri);
      }
    }),
  ];
}
