/** The board's HTML: a strict Content-Security-Policy with a nonce; the script and style come from the extension. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export function boardHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'media', 'board.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'board.css'));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource}`,
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>${esc(title)}</title>
</head>
<body>
<header class="bar">
  <nav class="tabs" role="tablist" aria-label="Board"></nav>
  <span class="status" role="status" aria-live="polite"></span>
  <span class="spacer"></span>
  <button class="undo" title="Undo (Ctrl+Z)" disabled>Undo</button>
  <button class="redo" title="Redo (Ctrl+Shift+Z)" disabled>Redo</button>
  <button class="export" title="Export the issues and decisions (CSV, JSON, clean file list)">Export</button>
</header>
<div class="findbar">
  <input class="find" type="search" placeholder="Find a concept: dog, fruit, vehicle…" aria-label="Find images by concept (a WordNet noun)" title="The images the model sees under a WordNet noun, most probable first (Enter; / to come here, Escape to clear)">
  <span class="find-note" role="status" aria-live="polite"></span>
</div>
<section class="classes" aria-label="Classes (press 1–9 to move the selection there)"></section>
<main class="content"></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
