// The processes and temp folders the e2e harness makes: each process started here is its own process group, killed
// by its owner's stop()/close() and, as a last resort, when this Node process exits (or gets SIGINT/SIGTERM/SIGHUP);
// temp folders left behind are removed at exit unless E2E_KEEP=1. Also: a free port, the isolated environment
// (HOME and XDG_* in fresh folders) code-server runs in, and running a command to completion.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../wait-for.cjs';
import { KEEP, NODE24_DIR } from './setup.mjs';

/** Process groups started here and not yet ended. */
export const liveGroups = new Set();
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

export function killGroupSync(pid, signal = 'SIGKILL') {
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
export async function killTree(child, graceMs = 5000) {
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

/** A timestamp usable in a file name. */
export function stamp() {
  return new Date().toISOString().replace(/[:.]/g, '-');
}
/** Environment for code-server / its CLI: Node 24 first on PATH, HOME and XDG dirs under `base`. */
export async function isolatedEnv(base, extra = {}) {
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

/** Runs `cmd` in its own process group to completion; resolves with its output, rejects on a non-zero exit. */
export function run(cmd, args, { env, cwd, timeoutMs = 120_000 } = {}) {
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
