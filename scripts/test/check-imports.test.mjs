// The extension's folder import rules (scripts/check-imports.mjs) fail when broken: each test copies
// packages/extension/src into a temporary repository root, plants one forbidden import and runs the check there.
//   node --test scripts/test/check-imports.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'check-imports.mjs');
const SRC = 'packages/extension/src';
const work = mkdtempSync(path.join(tmpdir(), 'ic-check-imports-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A fresh copy of the extension's sources under a temporary root, named `name`. */
function copyOfTree(name) {
  const root = path.join(work, name);
  cpSync(path.join(ROOT, SRC), path.join(root, SRC), { recursive: true });
  return root;
}

function check(root) {
  const r = spawnSync(process.execPath, [SCRIPT, `--root=${root}`], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('the repository tree and an untouched copy of it pass', () => {
  const here = check(ROOT);
  assert.equal(here.status, 0, here.out);
  const copy = check(copyOfTree('clean'));
  assert.equal(copy.status, 0, copy.out);
  assert.match(copy.out, /folder import rules .* hold/);
});

// Each case: the file to plant in, the line planted, the rule it must name and what the message must call it.
const CASES = [
  ['webview/board.ts', "import * as vscode from 'vscode';", /rule webview/, /the VS Code API/],
  ['webview/grid.ts', "import type { Uri } from 'vscode';", /rule webview/, /the VS Code API/],
  ['webview/keys.ts', "import { readFileSync } from 'node:fs';", /rule webview/, /a node builtin/],
  ['webview/fit.ts', "const fs = require('fs');", /rule webview/, /a node builtin/],
  ['webview/model.ts', "export { CurationCore } from '../curation/model/dataset-actions';", /rule webview/, /a file outside webview/],
  ['webview/overview.ts', "type P = import('../curation/host/panel').CurationPanel;", /rule webview/, /a file outside webview/],
  ['webview/thumbs.ts', "import '@image-classifier/core';", /rule webview/, /a package other than @image-classifier\/protocol/],
  ['curation/shared/tracker.ts', "import * as path from 'node:path';", /rule curation\/shared/, /a node builtin/],
  ['curation/shared/messages.ts', "import type { ServerManager } from '../../server/server';", /rule curation\/shared/, /a file outside/],
  ['curation/shared/types.ts', "import sharp from 'sharp';", /rule curation\/shared/, /a package other than/],
  ['text/format.ts', "import * as vscode from 'vscode';", /rule text/, /the VS Code API/],
  ['text/pathText.ts', "import * as path from 'node:path';", /rule text/, /a node builtin/],
  ['text/imagePaths.ts', "import { statusText } from '../statusBar';", /rule text/, /a file outside text/],
  ['text/markdownText.ts', "import MarkdownIt from 'markdown-it';", /rule text/, /a package other than @image-classifier\/protocol/],
  ['curation/model/journal.ts', "import * as vscode from 'vscode';", /rule curation\/model/, /the VS Code API/],
  [
    'curation/model/state.ts',
    "import { folderName } from '../host/folder-name';",
    /rule curation\/model/,
    /a file outside curation\/model/,
  ],
  ['curation/host/panel.ts', "import * as ort from 'onnxruntime-node';", /rule extension/, /server-side or native code/],
  ['server/client.ts', "const core = await import('@image-classifier/core');", /rule extension/, /server-side or native code/],
  ['extension.ts', "import { serve } from '@image-classifier/server';", /rule extension/, /server-side or native code/],
  ['commands/model.ts', "import { Classifier } from '../../../core/src/index';", /rule extension/, /a file outside packages\/extension/],
];

for (const [file, line, rule, why] of CASES) {
  test(`a planted import fails the check: ${file} gets ${line}`, (t) => {
    const root = copyOfTree(`case-${CASES.findIndex((c) => c[0] === file && c[1] === line)}`);
    t.after(() => rmSync(root, { recursive: true, force: true }));
    appendFileSync(path.join(root, SRC, file), `\n${line}\n`);
    const r = check(root);
    assert.equal(r.status, 1, r.out);
    const hits = r.out.split('\n').filter((l) => l.includes(`${SRC}/${file}:`));
    assert.equal(hits.length >= 1, true, `no line names ${file}:\n${r.out}`);
    assert.match(hits.join('\n'), rule);
    assert.match(hits.join('\n'), why);
    // Only the planted line is reported: the rest of the copy is clean.
    const reported = r.out.split('\n').filter((l) => l.startsWith(`  ${SRC}/`));
    assert.deepEqual(
      reported.map((l) => l.split(':')[0].trim()),
      reported.map(() => `${SRC}/${file}`),
    );
  });
}
