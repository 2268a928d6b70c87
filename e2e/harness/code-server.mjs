// code-server (VS Code's server + web workbench) for the e2e suites: installing a VSIX with its CLI, starting it on a
// free 127.0.0.1 port with fresh user-data/extensions/HOME/XDG folders and quiet settings, and packaging an extension
// with vsce.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { waitFor } from '../wait-for.cjs';
import { freePort, isolatedEnv, killTree, liveGroups, makeTempDir, run, stamp } from './processes.mjs';
import { CODE_SERVER_ENTRY, checkInstalled, KEEP, LOG_DIR, NODE24, VSCE_CLI } from './setup.mjs';

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
