// Debian's Chromium through playwright-core, and the workbench page in it: a fresh profile, every request and console
// line recorded (off-host requests are a failure in the suites), the requests VS Code's service worker answered, and
// opening the workbench on a folder.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, KEEP } from './setup.mjs';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** True for http(s)/ws(s)/ftp URLs whose host is not loopback. data:, blob:, vscode-*:, about: etc. are fine. */
export function isOffHost(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (!['http:', 'https:', 'ws:', 'wss:', 'ftp:'].includes(u.protocol)) return false;
  return !LOCAL_HOSTS.has(u.hostname);
}

/**
 * Launches Debian's Chromium (headless) through playwright-core with a fresh profile dir.
 * @param {object} [o]
 * @param {{width:number,height:number}} [o.viewport={width:1400,height:900}]
 * @param {boolean} [o.headless=true]
 * @param {string[]} [o.args] extra Chromium flags
 * @returns {Promise<{context: import('playwright-core').BrowserContext, requests: {url:string,method:string,
 *   resourceType:string}[], console: string[], offHostRequests(): string[], newPage(): Promise<import('playwright-core').Page>,
 *   close(): Promise<void>}>}
 */
export async function launchBrowser({ viewport = { width: 1400, height: 900 }, headless = true, args = [] } = {}) {
  const { chromium } = await import('playwright-core');
  // Not via makeTempDir: the profile must be removed only after playwright's own exit handler (registered at
  // launch, so before the one below) has killed Chromium, or Chromium keeps writing into it.
  const profileDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ic-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      ...args,
    ],
    env: {
      ...process.env,
      HOME: profileDir,
      XDG_CONFIG_HOME: path.join(profileDir, '.config'),
      XDG_CACHE_HOME: path.join(profileDir, '.cache'),
    },
  });
  const requests = [];
  const consoleLines = [];
  const record = (page) => {
    page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
    page.on('websocket', (ws) => requests.push({ url: ws.url(), method: 'GET', resourceType: 'websocket' }));
  };
  context.on('request', (r) => requests.push({ url: r.url(), method: r.method(), resourceType: r.resourceType() }));
  context.on('page', record);
  for (const p of context.pages()) record(p);
  let closed = false;
  const removeProfile = () => {
    if (!closed && !KEEP) {
      try {
        fs.rmSync(profileDir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        /* best effort */
      }
    }
  };
  process.once('exit', removeProfile);
  return {
    context,
    requests,
    console: consoleLines,
    profileDir,
    offHostRequests: () => [...new Set(requests.map((r) => r.url).filter(isOffHost))],
    newPage: () => context.newPage(),
    async close({ keep = KEEP } = {}) {
      if (closed) return;
      closed = true;
      process.removeListener('exit', removeProfile);
      await context.close().catch(() => {});
      if (!keep) await fsp.rm(profileDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

/**
 * Keeps count, for a browser from launchBrowser, of the requests VS Code's service worker answered: webviews load
 * their resources from https://*.vscode-resource.vscode-cdn.net/…, which the service worker answers from the
 * workbench, so they never reach the network. `inFlight` holds the URLs asked for and not answered yet.
 * @returns {{servedByServiceWorker: Set<string>, inFlight: Set<string>, offHostNetworkRequests(): string[]}}
 */
export function recordServiceWorkerRequests(browser) {
  const servedByServiceWorker = new Set();
  const inFlight = new Set();
  browser.context.on('request', (r) => inFlight.add(r.url()));
  browser.context.on('requestfailed', (r) => inFlight.delete(r.url()));
  browser.context.on('requestfinished', async (r) => {
    const res = await r.response().catch(() => null);
    if (res?.fromServiceWorker()) servedByServiceWorker.add(r.url());
    inFlight.delete(r.url());
  });
  return {
    servedByServiceWorker,
    inFlight,
    /** Requests to hosts other than loopback that really went out (not answered by VS Code's service worker). */
    offHostNetworkRequests: () => browser.offHostRequests().filter((u) => !servedByServiceWorker.has(u)),
  };
}

/** `/?folder=…&payload=…` for a code-server URL. payload: [[k, v], …] or { k: v }. */
export function workbenchUrl(url, folder, payload) {
  const u = new URL(url);
  if (folder) u.searchParams.set('folder', path.resolve(folder));
  if (payload) {
    const pairs = Array.isArray(payload) ? payload : Object.entries(payload);
    u.searchParams.set('payload', JSON.stringify(pairs));
  }
  return u.toString();
}

/**
 * Opens the workbench in a new page and waits until it is usable (`.monaco-workbench` and, when a folder is
 * open, the Explorer view visible).
 * @param {Awaited<ReturnType<typeof launchBrowser>>|import('playwright-core').BrowserContext|import('playwright-core').Browser} browser
 * @param {string} url code-server base URL (server.url)
 * @param {string} [folder] absolute folder path to open
 * @param {object} [o]
 * @param {Array<[string,string]>|Record<string,string>} [o.payload] workbench payload (e.g. extensionDevelopmentPath)
 * @param {(page) => Promise<void>|void} [o.beforeGoto] called on the fresh page before navigation (exposeFunction…)
 * @param {boolean} [o.waitForExplorer=!!folder]
 * @param {number} [o.timeoutMs=90000]
 */
export async function openWorkbench(browser, url, folder, { payload, beforeGoto, waitForExplorer = !!folder, timeoutMs = 90_000 } = {}) {
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  if (beforeGoto) await beforeGoto(page);
  await page.goto(workbenchUrl(url, folder, payload), { timeout: timeoutMs, waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  if (waitForExplorer) {
    await page.locator('.explorer-folders-view').waitFor({ state: 'visible', timeout: timeoutMs });
  }
  return page;
}

/** A webview resource URL of one of VS Code's built-in extensions (code-server's lib/vscode/extensions/…). */
export const VSCODE_BUILTIN = /\/lib\/vscode\/extensions\//;
