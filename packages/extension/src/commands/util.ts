/** Helpers shared by the commands: errors for people, command arguments → URIs, images in folders, settings. */
import * as path from 'node:path';
import { classifiableGlob, IMAGE_FORMATS, isClassifiablePath, isKnownImagePath } from '@image-classifier/protocol/formats';
import * as vscode from 'vscode';
import { toUserError } from '../errors';
import { SECTION } from '../settings';
import { displayPath, userFacingPaths } from '../userPaths';

/** Folders never searched for images. */
export const EXCLUDE_GLOB = '**/{node_modules,.git}/**';

/**
 * Shows a user-facing error: one sentence, the actions that help, never a stack trace; files named
 * workspace-relative, and `subject` (the file the command worked on) named when the message does not.
 */
export async function showError(e: unknown, what: string, output: vscode.LogOutputChannel, subject?: vscode.Uri): Promise<void> {
  const u = toUserError(e, what);
  if (u.code === 'CANCELLED') return;
  output.error(`${what}: ${u.code}: ${e instanceof Error ? e.message : String(e)}`);
  let message = userFacingPaths(u.message);
  if (subject && !message.includes(basename(subject))) message = `${displayPath(subject)}: ${message}`;
  const pick = await vscode.window.showErrorMessage(message, ...u.actions.map((a) => a.title));
  const action = u.actions.find((a) => a.title === pick);
  if (action) await vscode.commands.executeCommand(action.command);
}

/** A command argument (a Uri, a path or URI string, a tree node or result with a URI) → a Uri. */
export function toUri(x: unknown): vscode.Uri | undefined {
  if (x instanceof vscode.Uri) return x;
  if (typeof x === 'string' && x)
    return /^[a-z][\w+.-]*:/i.test(x) && !/^[a-zA-Z]:[\\/]/.test(x) ? vscode.Uri.parse(x) : vscode.Uri.file(x);
  if (x && typeof x === 'object') {
    const o = x as { resourceUri?: unknown; uri?: unknown; result?: { uri?: unknown } };
    return toUri(o.resourceUri ?? o.uri ?? o.result?.uri);
  }
  return undefined;
}

/** The image the user means: the clicked one, else the active image preview / editor. */
export function activeImage(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  // Known image formats, readable or not: for the others the command says why it cannot classify them.
  if (input instanceof vscode.TabInputCustom && isKnownImagePath(input.uri.path)) return input.uri;
  if (input instanceof vscode.TabInputText && isKnownImagePath(input.uri.path)) return input.uri;
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && isKnownImagePath(doc.uri.path)) return doc.uri;
  return undefined;
}

/** Image files under the folders that no decoder here reads (HEIC…): reported as skipped, with the reason. */
export async function unreadableImagesUnder(folders: vscode.Uri[]): Promise<vscode.Uri[]> {
  const names = IMAGE_FORMATS.filter((f) => f.decoder === 'none').flatMap((f) => f.extensions.map((e) => e.slice(1)));
  if (!names.length) return [];
  const glob = `**/*.{${names.flatMap((e) => [e, e.toUpperCase()]).join(',')}}`;
  const seen = new Map<string, vscode.Uri>();
  for (const f of folders) {
    for (const u of await vscode.workspace.findFiles(new vscode.RelativePattern(f, glob), EXCLUDE_GLOB)) {
      if (!isClassifiablePath(u.path)) seen.set(u.toString(), u);
    }
  }
  return [...seen.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** The classifiable images under the folders (node_modules and .git left out), sorted by path. */
export async function imagesUnder(folders: vscode.Uri[]): Promise<vscode.Uri[]> {
  const seen = new Map<string, vscode.Uri>();
  const glob = classifiableGlob();
  for (const f of folders) {
    const found = await vscode.workspace.findFiles(new vscode.RelativePattern(f, glob), EXCLUDE_GLOB);
    for (const u of found) seen.set(u.toString(), u);
  }
  return [...seen.values()].sort((a, b) => a.path.localeCompare(b.path));
}

export function basename(uri: vscode.Uri): string {
  return path.posix.basename(uri.path);
}

/** Writes a setting where the user keeps it: the workspace if it is set there, else the user settings. */
export async function updateSetting(key: string, value: unknown): Promise<void> {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const i = cfg.inspect(key);
  const target =
    i?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : i?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await cfg.update(key, value, target);
}
