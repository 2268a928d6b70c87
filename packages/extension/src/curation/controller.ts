/**
 * The curation board's controller for one dataset folder: the journaled actions of core.ts over the VS Code file
 * operations. Problems found in the journal (a line torn by a crash, skipped) are shown once as a warning.
 */
import * as vscode from 'vscode';
import { CurationCore } from './core';
import type { CurationController } from './types';
import { VscodeFileOps } from './vscode-file-ops';

export async function createCurationController(root: vscode.Uri): Promise<CurationController> {
  if (root.scheme !== 'file') throw new Error(`Curation works on folders on disk; ${root.toString()} is not one.`);
  const core = await CurationCore.open(root.fsPath, new VscodeFileOps());
  if (core.journalProblems.length) {
    const n = core.journalProblems.length;
    void vscode.window.showWarningMessage(
      `The curation journal (.curation/journal.jsonl) had ${n} unreadable line${n === 1 ? '' : 's'}, skipped: ${core.journalProblems.join('; ')}. Every other entry was kept.`,
    );
  }
  return core;
}
