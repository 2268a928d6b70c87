/** How the curation surfaces name a dataset folder. */
import * as vscode from 'vscode';

/** A folder as the user knows it: workspace-relative, or the workspace folder's name for a workspace folder itself. */
export function folderName(root: vscode.Uri): string {
  const own = vscode.workspace.getWorkspaceFolder(root);
  if (own && own.uri.toString().replace(/\/$/, '') === root.toString().replace(/\/$/, '')) return own.name;
  return own ? vscode.workspace.asRelativePath(root, (vscode.workspace.workspaceFolders?.length ?? 0) > 1) : root.fsPath;
}
