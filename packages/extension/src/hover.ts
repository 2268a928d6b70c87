/**
 * Hovering an image path in a text document (Markdown, HTML, CSS, JSON, YAML, JS/TS, Python, …) shows a thumbnail
 * and the top-k labels, classifying the image on the spot when `imageClassifier.autoClassify` allows it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ClassificationQueue } from './classificationQueue';
import { toUserError } from './errors';
import { imagePathAt } from './format';
import { predictionsMarkdown, thumbnail } from './markdown';
import type { ResultStore } from './results';
import { autoClassify } from './settings';

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    const st = await vscode.workspace.fs.stat(uri);
    return (st.type & vscode.FileType.File) !== 0;
  } catch {
    return false;
  }
}

/** The image a path written in `doc` refers to: absolute, relative to the document, or to a workspace folder. */
export async function resolveImagePath(doc: vscode.TextDocument, text: string): Promise<vscode.Uri | undefined> {
  const candidates: vscode.Uri[] = [];
  const clean = text.replace(/\\/g, '/');
  if (path.posix.isAbsolute(clean) || /^[a-zA-Z]:\//.test(clean)) {
    candidates.push(vscode.Uri.file(clean));
    // Site-style absolute paths (`/images/cat.jpg`) mean the workspace root.
    for (const f of vscode.workspace.workspaceFolders ?? []) candidates.push(vscode.Uri.joinPath(f.uri, clean));
  } else {
    if (doc.uri.scheme === 'file' || doc.uri.scheme === 'vscode-remote') {
      candidates.push(vscode.Uri.joinPath(doc.uri, '..', clean));
    }
    const own = vscode.workspace.getWorkspaceFolder(doc.uri);
    if (own) candidates.push(vscode.Uri.joinPath(own.uri, clean));
    for (const f of vscode.workspace.workspaceFolders ?? []) if (f !== own) candidates.push(vscode.Uri.joinPath(f.uri, clean));
  }
  for (const c of candidates) if (await exists(c)) return c;
  return undefined;
}

export class ImagePathHover implements vscode.HoverProvider {
  constructor(
    private readonly store: ResultStore,
    private readonly classifier: ClassificationQueue,
  ) {}

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const line = doc.lineAt(pos.line).text;
    if (line.length > 10_000) return undefined;
    const tok = imagePathAt(line, pos.character);
    if (!tok) return undefined;
    const uri = await resolveImagePath(doc, tok.text);
    if (!uri || token.isCancellationRequested) return undefined;
    const range = new vscode.Range(pos.line, tok.start, pos.line, tok.end);
    const existing = this.store.get(uri);
    if (existing)
      return new vscode.Hover(
        predictionsMarkdown(uri, existing.predictions, { model: existing.model, cached: true, thumbnailHeight: 96 }),
        range,
      );
    if (autoClassify() === 'off') {
      const md = new vscode.MarkdownString(`${thumbnail(uri, 96)}\n\n`, true);
      const args = encodeURIComponent(JSON.stringify([uri.toString()]));
      md.appendMarkdown(`[$(sparkle) Classify Image](command:imageClassifier.classifyImage?${args} "Classify this image")`);
      md.isTrusted = { enabledCommands: ['imageClassifier.classifyImage'] };
      return new vscode.Hover(md, range);
    }
    try {
      // Not cancelled with the hover: the answer is stored, so the next hover is instant.
      const r = await this.classifier.classify(uri);
      return new vscode.Hover(
        predictionsMarkdown(uri, r.predictions, { model: r.model, durationMs: r.durationMs, cached: r.cached, thumbnailHeight: 96 }),
        range,
      );
    } catch (e) {
      const u = toUserError(e, 'Classifying the image');
      if (u.code === 'CANCELLED') return undefined;
      const md = new vscode.MarkdownString(`${thumbnail(uri)}\n\n$(warning) ${u.message.replace(/[\\`*_[\]<>]/g, (c) => `\\${c}`)}`, true);
      return new vscode.Hover(md, range);
    }
  }
}
