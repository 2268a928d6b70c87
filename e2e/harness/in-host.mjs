// In-host API tests (what @vscode/test-electron would run), through VS Code's smoke-test driver in code-server.
import path from 'node:path';
import { launchBrowser, openWorkbench } from './browser.mjs';
import { startCodeServer } from './code-server.mjs';
import { screenshot } from './screenshots.mjs';

/**
 * Runs an extension's in-host test module the way @vscode/test-electron would: starts its own code-server with
 * `--vscode-option enable-smoke-test-driver`, opens the workbench with a payload carrying
 * extensionDevelopmentPath/extensionTestsPath (as vscode-remote:// URIs), and waits for the workbench to call
 * `codeAutomationExit(code)` once the tests module's `run()` settles (0 = resolved, 1 = rejected/threw).
 * @param {object} o
 * @param {string} o.extensionDevelopmentPath  folder of the extension under development (its package.json)
 * @param {string} o.extensionTestsPath        test module exporting `run(): Promise<void>`
 * @param {string} o.workspaceDir              folder to open
 * @param {string|string[]} [o.vsix]           other extensions to install first
 * @param {string} [o.extensionsDir]
 * @param {object} [o.userSettings]
 * @param {object} [o.env]                     extra environment for the extension host (e.g. test options)
 * @param {number} [o.timeoutMs=180000]
 * @param {string} [o.screenshotName]          screenshot taken when the run ends (pass or fail)
 * @returns {Promise<{exitCode:number|null, timedOut:boolean, console:string[], logs:any, serverLog:string,
 *   offHostRequests:string[]}>}
 */
export async function runInHostTests({
  extensionDevelopmentPath,
  extensionTestsPath,
  workspaceDir,
  vsix,
  extensionsDir,
  userSettings,
  env,
  timeoutMs = 180_000,
  screenshotName,
} = {}) {
  const server = await startCodeServer({ workspaceDir, extensionsDir, vsix, userSettings, env, smokeTestDriver: true });
  let browser;
  try {
    browser = await launchBrowser();
    const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${path.resolve(p)}`;
    let resolveExit;
    const exited = new Promise((r) => {
      resolveExit = r;
    });
    const page = await openWorkbench(browser, server.url, workspaceDir, {
      payload: [
        ['extensionDevelopmentPath', remote(extensionDevelopmentPath)],
        ['extensionTestsPath', remote(extensionTestsPath)],
      ],
      waitForExplorer: false,
      timeoutMs,
      beforeGoto: (p) =>
        p.exposeFunction('codeAutomationExit', (code, logs) => {
          resolveExit({ code, logs });
        }),
    });
    let timer;
    const result = await Promise.race([
      exited,
      new Promise((r) => {
        timer = setTimeout(() => r(null), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (screenshotName) await screenshot(page, screenshotName).catch(() => {});
    return {
      exitCode: result ? result.code : null,
      timedOut: !result,
      console: [...browser.console],
      logs: result?.logs,
      serverLog: server.log(),
      offHostRequests: browser.offHostRequests(),
    };
  } finally {
    await browser?.close();
    await server.stop();
  }
}
