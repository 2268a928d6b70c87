/** What every command gets: the extension's parts, built once by the extension object. */
import type * as vscode from 'vscode';
import type { ClassificationQueue } from '../classificationQueue';
import type { CurationBoards } from '../curation/host/boards';
import type { LabelsViewProvider } from '../labelsView';
import type { ResultStore } from '../results';
import type { ServerManager } from '../server/server';
import type { ModelInfoDocument } from './modelInfo';

export interface CommandContext {
  readonly context: vscode.ExtensionContext;
  readonly server: ServerManager;
  readonly queue: ClassificationQueue;
  readonly store: ResultStore;
  readonly view: LabelsViewProvider;
  readonly output: vscode.LogOutputChannel;
  readonly modelInfo: ModelInfoDocument;
  /** The curation boards (one per dataset folder). */
  readonly boards: CurationBoards;
  /** activate()'s own duration, ms (0 until activate() returned). */
  activationTimeMs(): number;
}

// biome-ignore lint/suspicious/noExplicitAny: command arguments come from VS Code untyped
export type CommandHandler = (...args: any[]) => unknown;

/** Builds a command's handler from the extension's parts. */
export type CommandFactory = (ctx: CommandContext) => CommandHandler;
