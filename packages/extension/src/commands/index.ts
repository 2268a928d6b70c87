/**
 * The command table: every command id and the factory that builds its handler, in one place. registerCommands
 * builds and registers them all; a failing command shows one user-facing error instead of throwing at VS Code.
 */
import * as vscode from 'vscode';
import { classifyFolder, classifyImage, classifyWorkspace } from './classify';
import type { CommandContext, CommandFactory, CommandHandler } from './context';
import { curateDataset, findSimilar } from './curation';
import { classifyAgain, clearResults, copyLabel, exportLabels, revealInExplorer, setMinConfidence } from './labels';
import { clearCache, downloadDefaultModel, restartServer, selectModel, setRemoteCredentials, showModelInfo } from './model';
import { showError } from './util';

export type { CommandContext } from './context';

const showOutput: CommandFactory = (ctx) => () => ctx.output.show(true);

const activationTime: CommandFactory = (ctx) => (opts?: { silent?: boolean }) => {
  const ms = ctx.activationTimeMs();
  if (!opts?.silent) void vscode.window.showInformationMessage(`Image Classifier activated in ${ms.toFixed(1)} ms.`);
  return ms;
};

/** Command id → the factory of its handler (the ids are those contributed in package.json). */
export function createCommands(): Record<string, CommandFactory> {
  return {
    'imageClassifier.classifyImage': classifyImage,
    'imageClassifier.classifyFolder': classifyFolder,
    'imageClassifier.classifyWorkspace': classifyWorkspace,
    'imageClassifier.showModelInfo': showModelInfo,
    'imageClassifier.selectModel': selectModel,
    'imageClassifier.downloadDefaultModel': downloadDefaultModel,
    'imageClassifier.restartServer': restartServer,
    'imageClassifier.clearCache': clearCache,
    'imageClassifier.setRemoteCredentials': setRemoteCredentials,
    'imageClassifier.exportLabels': exportLabels,
    'imageClassifier.showOutput': showOutput,
    'imageClassifier.activationTime': activationTime,
    'imageClassifier.setMinConfidence': setMinConfidence,
    'imageClassifier.clearResults': clearResults,
    'imageClassifier.view.classifyAgain': classifyAgain,
    'imageClassifier.view.revealInExplorer': revealInExplorer,
    'imageClassifier.view.copyLabel': copyLabel,
    'imageClassifier.curateDataset': curateDataset,
    'imageClassifier.findSimilar': findSimilar,
  };
}

/** Wraps a handler: an error becomes a notification (not awaited: it stays until dismissed) and `undefined`. */
function guarded(fn: CommandHandler, output: vscode.LogOutputChannel): (...args: unknown[]) => Promise<unknown> {
  return async (...args: unknown[]) => {
    try {
      return await fn(...args);
    } catch (e) {
      void showError(e, 'Image Classifier', output);
      return undefined;
    }
  };
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return Object.entries(createCommands()).map(([id, factory]) => vscode.commands.registerCommand(id, guarded(factory(ctx), ctx.output)));
}
