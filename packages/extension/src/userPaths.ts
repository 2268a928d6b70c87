/** Messages for people name files as the Explorer does: workspace-relative, not by absolute path or file: URI. */
import * as vscode from 'vscode';
import { relativizePaths } from './text/pathText';

/** `message` with absolute paths (and file: URIs) inside the workspace folders written workspace-relative. */
export function userFacingPaths(message: string): string {
  const folders = vscode.workspace.workspaceFolders ?? [];
  return relativizePaths(
    message,
    folders.map((f) => ({ path: f.uri.fsPath, uri: f.uri.toString(), name: folders.length > 1 ? f.name : '' })),
  );
}

/** The path the Explorer would show for `uri` (workspace-relative when inside a folder). */
export function displayPath(uri: vscode.Uri): string {
  return vscode.workspace.asRelativePath(uri, (vscode.workspace.workspaceFolders?.length ?? 0) > 1);
}
