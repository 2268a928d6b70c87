/**
 * The curation board's controller for one dataset folder: the journaled actions of model/dataset-actions.ts over the VS Code file
 * operations. Problems found in the journal (a line torn by a crash, a path outside the dataset: skipped), the move
 * of an earlier version's folders out of the dataset, and a read-only board are shown once as a warning.
 */
import * as vscode from 'vscode';
import { CurationCore } from '../model/dataset-actions';
import type { CurationController } from '../shared/types';
import { VscodeFileOps } from './vscode-file-ops';

export async function createCurationController(root: vscode.Uri): Promise<CurationController> {
  if (root.scheme !== 'file') throw new Error(`Curation works on folders on disk; ${root.toString()} is not one.`);
  const core = await CurationCore.open(root.fsPath, new VscodeFileOps());
  if (core.readOnly) void vscode.window.showWarningMessage(`Dataset curation: ${core.readOnly}`);
  const problems = core.journalProblems;
  if (problems.length) {
    const n = problems.length;
    void vscode.window.showWarningMessage(
      `The curation state (${core.stateDir}) had ${n} entr${n === 1 ? 'y' : 'ies'} the board cannot use, skipped: ${problems.join('; ')}. Every other entry was kept.`,
    );
  }
  if (core.notices.length) void vscode.window.showInformationMessage(`Dataset curation: ${core.notices.join('; ')}.`);
  core.markSaid();
  return core;
}
