/**
 * The image a position in a text document refers to. Where the editor resolves links itself (the built-in Markdown,
 * HTML and CSS language features), what `vscode.executeLinkProvider` found is used; elsewhere (JSON, YAML, JS/TS,
 * Python, plain text…) the readings of text/imagePaths.ts are tried against the file system, most specific first.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { imagePathCandidates, imageRefReadings, isKnownImage } from './text/imagePaths';

/** Languages whose built-in features provide document links (image references included). */
export const LINK_PROVIDER_LANGUAGES: ReadonlySet<string> = new Set(['markdown', 'html', 'css', 'scss', 'less']);

export interface ImageReference {
  uri: vscode.Uri;
  range: vscode.Range;
  /** True when the editor's own link provider found it (Markdown then shows its own image preview in the hover). */
  fromLinkProvider: boolean;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    const st = await vscode.workspace.fs.stat(uri);
    return (st.type & vscode.FileType.File) !== 0;
  } catch {
    return false;
  }
}

/** Where a written path may point: absolute, relative to the document, or to a workspace folder (own one first). */
function locations(doc: vscode.TextDocument, written: string): vscode.Uri[] {
  const out: vscode.Uri[] = [];
  const clean = written.replace(/\\/g, '/');
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (path.posix.isAbsolute(clean) || /^[a-zA-Z]:\//.test(clean)) {
    out.push(vscode.Uri.file(clean));
    // Site-style absolute paths (`/images/cat.jpg`) mean the workspace root.
    for (const f of folders) out.push(vscode.Uri.joinPath(f.uri, clean));
    return out;
  }
  if (doc.uri.scheme === 'file' || doc.uri.scheme === 'vscode-remote') out.push(vscode.Uri.joinPath(doc.uri, '..', clean));
  const own = vscode.workspace.getWorkspaceFolder(doc.uri);
  if (own) out.push(vscode.Uri.joinPath(own.uri, clean));
  for (const f of folders) if (f !== own) out.push(vscode.Uri.joinPath(f.uri, clean));
  return out;
}

/** The first existing file a written path names, or undefined. */
export async function resolveImagePath(doc: vscode.TextDocument, written: string): Promise<vscode.Uri | undefined> {
  for (const c of locations(doc, written)) if (await exists(c)) return c;
  return undefined;
}

/** The link the editor's link providers found at `pos` that names an image file that exists. */
async function fromLinkProvider(doc: vscode.TextDocument, pos: vscode.Position): Promise<ImageReference | undefined> {
  let links: vscode.DocumentLink[] | undefined;
  try {
    links = await vscode.commands.executeCommand<vscode.DocumentLink[]>('vscode.executeLinkProvider', doc.uri);
  } catch {
    return undefined;
  }
  for (const link of links ?? []) {
    if (!link.range.contains(pos)) continue;
    const target = link.target;
    if (target?.scheme === 'file') {
      // A name with a literal `#` or `?` (`IMG #3.png`) that the provider read as a fragment or query: the file
      // that exists wins over the URL reading.
      const literal = target.path + (target.query ? `?${target.query}` : '') + (target.fragment ? `#${target.fragment}` : '');
      for (const p of literal !== target.path ? [literal, target.path] : [target.path]) {
        const uri = target.with({ path: p, query: '', fragment: '' });
        if (isKnownImage(p) && (await exists(uri))) return { uri, range: link.range, fromLinkProvider: true };
      }
    }
    // Targets the provider resolves lazily (or as a command): the link's text, read as a path.
    for (const written of imageRefReadings(doc.getText(link.range))) {
      const uri = await resolveImagePath(doc, written);
      if (uri) return { uri, range: link.range, fromLinkProvider: true };
    }
  }
  return undefined;
}

/** The image file referred to at `pos`, or undefined. */
export async function imageReferenceAt(doc: vscode.TextDocument, pos: vscode.Position): Promise<ImageReference | undefined> {
  if (LINK_PROVIDER_LANGUAGES.has(doc.languageId)) {
    const linked = await fromLinkProvider(doc, pos);
    if (linked) return linked;
  }
  const line = doc.lineAt(pos.line).text;
  for (const c of imagePathCandidates(line, pos.character)) {
    const uri = await resolveImagePath(doc, c.path);
    if (uri) return { uri, range: new vscode.Range(pos.line, c.start, pos.line, c.end), fromLinkProvider: false };
  }
  return undefined;
}
