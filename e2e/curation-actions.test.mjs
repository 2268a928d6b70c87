// The curation board's file actions in a real VS Code extension host (code-server): createCurationController over
// VscodeFileOps (WorkspaceEdit renames, workspace.fs, the trash or its fallback: the `trash/` of the board's state
// folder beside the dataset, `.dataset.curation/`), no UI. The controller
// source is bundled with esbuild into a throwaway extension whose in-host test module drives it.
//   node --test e2e/curation-actions.test.mjs        (after `npm run build`; skips loudly without code-server)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';

import { E2E_DIR, missingPrerequisites, warnSkipped } from './harness/setup.mjs';
import { makeTempDir, makeWorkspace } from './harness/processes.mjs';
import { runInHostTests } from './harness/in-host.mjs';

const ROOT = path.resolve(E2E_DIR, '..');
const missing = missingPrerequisites();
warnSkipped('the curation actions e2e test', missing);

const bytes = (name) => createHash('sha256').update(name).digest();
const DATASET = {
  'dataset/train/cats/a.jpg': bytes('cats-a'),
  'dataset/train/cats/b.jpg': bytes('cats-b'),
  'dataset/train/dogs/a.jpg': bytes('dogs-a'),
  'dataset/train/dogs/c.jpg': bytes('dogs-c'),
};

// Runs inside the extension host. Each result line starts with CURATION-INHOST.
const IN_HOST = `
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');
const { createCurationController } = require('../curation.js');
const log = (m) => console.log('CURATION-INHOST ' + m);
const sha = (p) => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
exports.run = async () => {
  const root = vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, 'dataset');
  const abs = (rel) => path.join(root.fsPath, rel);
  const before = Object.fromEntries(['train/cats/a.jpg', 'train/cats/b.jpg', 'train/dogs/a.jpg', 'train/dogs/c.jpg'].map((f) => [f, sha(abs(f))]));
  const renames = [];
  vscode.workspace.onDidRenameFiles((e) => renames.push(...e.files.map((f) => path.relative(root.fsPath, f.newUri.fsPath))));
  const c = await createCurationController(root);
  const m = await c.move(['train/dogs/c.jpg', 'train/dogs/a.jpg'], 'cats');
  log('move: ' + m.message);
  assert.equal(m.ok, true, m.message);
  assert.deepEqual(m.changes, [{ from: 'train/dogs/c.jpg', to: 'train/cats/c.jpg' }, { from: 'train/dogs/a.jpg', to: 'train/cats/a (1).jpg' }]);
  assert.equal(sha(abs('train/cats/a.jpg')), before['train/cats/a.jpg'], 'the file in the way was not overwritten');
  assert.equal(sha(abs('train/cats/a (1).jpg')), before['train/dogs/a.jpg']);
  assert.deepEqual(renames.sort(), ['train/cats/a (1).jpg', 'train/cats/c.jpg'], 'VS Code saw the renames (WorkspaceEdit)');
  const u = await c.undo();
  log('undo: ' + u.message);
  assert.equal(u.ok, true, u.message);
  for (const [f, h] of Object.entries(before)) assert.equal(sha(abs(f)), h, f + ' back, same bytes');
  const t = await c.trash(['train/cats/b.jpg']);
  log('trash: ' + t.message + ' (remoteName: ' + vscode.env.remoteName + ', state folder: ' + c.stateDir + ': ' + fs.readdirSync(c.stateDir).join(', ') + ')');
  assert.equal(t.ok, true, t.message);
  assert.equal(fs.existsSync(abs('train/cats/b.jpg')), false);
  assert.equal(c.stateDir, path.join(path.dirname(root.fsPath), '.dataset.curation'), 'the state folder is beside the dataset');
  assert.deepEqual(fs.readdirSync(root.fsPath).sort(), ['train'], 'nothing of the board inside the dataset (no .curation, no .trash)');
  assert.ok(fs.existsSync(path.join(c.stateDir, 'trash/train/cats/b.jpg')) || fs.existsSync(path.join(c.stateDir, 'trash-copies')), 'the trash (or its copy for undo) is in the state folder');
  const reloaded = await createCurationController(root);
  assert.equal(reloaded.canUndo(), true, 'a new controller (a window reload) sees the journal');
  const u2 = await reloaded.undo();
  log('undo trash: ' + u2.message);
  assert.equal(u2.ok, true, u2.message);
  assert.equal(sha(abs('train/cats/b.jpg')), before['train/cats/b.jpg'], 'restored byte for byte');
  assert.ok(!fs.existsSync(path.join(c.stateDir, 'trash/train')), 'the undo took the emptied trash folders with it');
  fs.appendFileSync(abs('train/cats/b.jpg'), 'edited');
  const r = await reloaded.redo();
  log('redo after an edit: ' + r.message);
  assert.equal(r.ok, false);
  assert.match(r.message, /train\\/cats\\/b\\.jpg was edited since.*Nothing was changed\\.$/);
  assert.equal(fs.existsSync(abs('train/cats/b.jpg')), true);
  const k = await reloaded.keepLabel(['train/cats/a.jpg']);
  assert.equal(k.ok, true, k.message);
  assert.match(fs.readFileSync(path.join(c.stateDir, 'decisions.json'), 'utf8'), /"train\\/cats\\/a\\.jpg": \\{"at":"[^"]+","label":"cats"\\}/);
  log('OK');
};
`;

async function makeHarnessExtension() {
  const esbuild = await import('esbuild');
  const dir = await makeTempDir('ic-e2e-curation-ext-');
  await esbuild.build({
    entryPoints: [path.join(ROOT, 'packages/extension/src/curation/host/controller.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    outfile: path.join(dir, 'curation.js'),
    logLevel: 'error',
  });
  const manifest = {
    name: 'curation-actions-e2e',
    publisher: 'e2e',
    version: '0.0.1',
    engines: { vscode: '^1.80.0' },
    main: './extension.js',
  };
  await fsp.writeFile(path.join(dir, 'package.json'), JSON.stringify(manifest));
  await fsp.writeFile(path.join(dir, 'extension.js'), 'exports.activate = () => {};\n');
  await fsp.mkdir(path.join(dir, 'test'));
  await fsp.writeFile(path.join(dir, 'test', 'index.js'), IN_HOST);
  return dir;
}

describe('curation actions in a VS Code extension host', { skip: missing.length > 0, timeout: 300_000 }, () => {
  test('move with a clash, undo, trash, reload + undo, refused redo of an edited file, keep label', async () => {
    const ws = await makeWorkspace(DATASET, 'ic-e2e-curation-ws-');
    const ext = await makeHarnessExtension();
    const r = await runInHostTests({
      extensionDevelopmentPath: ext,
      extensionTestsPath: path.join(ext, 'test', 'index.js'),
      workspaceDir: ws,
    });
    const lines = r.console.filter((l) => l.includes('CURATION-INHOST'));
    console.log(lines.join('\n'));
    assert.equal(r.timedOut, false, 'codeAutomationExit was called');
    assert.equal(r.exitCode, 0, r.console.join('\n'));
    assert.ok(
      lines.some((l) => l.includes('CURATION-INHOST OK')),
      r.console.join('\n'),
    );
    // On disk, seen from outside the host: every original file is back, and nothing was lost.
    for (const [rel, data] of Object.entries(DATASET)) {
      const now = await fsp.readFile(path.join(ws, rel));
      if (rel.endsWith('cats/b.jpg')) assert.deepEqual(now.subarray(0, data.length), data);
      else assert.deepEqual(now, data, rel);
    }
    assert.deepEqual(r.offHostRequests, []);
  });
});
