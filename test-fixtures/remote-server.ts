/**
 * A real Open Inference Protocol server for the remote-inference tests and bench: NVIDIA Triton (through PyTriton,
 * from the virtual environment that scripts/install-remote-server.sh makes from PyPI) serving ONNX files with
 * deploy/pytriton/serve.py on 127.0.0.1; the model files are written by `image-classifier model export-triton`.
 * Plus a fault proxy that stands between client and server to inject 503s, slowness and dropped connections.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './fixtures.js';

export const SKIP_NO_REMOTE =
  'SKIPPED: the Triton (PyTriton) virtual environment could not be made (see the warning above; run bash scripts/install-remote-server.sh)';

let venv: { python?: string; why?: string } | undefined;

/** The venv's python (made on first use; minutes the first time, cached after), or undefined with a loud warning. */
export function remotePython(): string | undefined {
  if (!venv) {
    const r = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'install-remote-server.sh')], {
      encoding: 'utf8',
      timeout: 20 * 60_000,
    });
    const last = r.stdout?.trim().split('\n').pop() ?? '';
    venv =
      r.status === 0 && existsSync(last)
        ? { python: last }
        : { why: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim().slice(-600) };
    if (!venv.python) console.warn(`\n!!! No Triton environment: remote-inference tests are SKIPPED.\n!!! ${venv.why}\n`);
  }
  return venv.python;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Writes `<repo>/<name>/1/model.onnx` (+ config.pbtxt) from `model` with the CLI; returns the model file. */
export function exportForTriton(model: string, name: string, repo = mkdtempSync(path.join(tmpdir(), 'ic-triton-'))): string {
  const bin = path.join(REPO_ROOT, 'packages', 'server', 'bin', 'image-classifier.js');
  const r = spawnSync(process.execPath, [bin, 'model', 'export-triton', repo, '--model', model, '--name', name, '--no-progress'], {
    encoding: 'utf8',
    env: { ...process.env, IMAGE_CLASSIFIER_MALLOC_TUNING: '0' },
  });
  if (r.status !== 0) throw new Error(`model export-triton failed: ${r.stderr}`);
  return path.join(repo, name, '1', 'model.onnx');
}

export interface TritonServer {
  url: string;
  port: number;
  child: ChildProcess;
  log: () => string;
  /** SIGTERM to the server's process group (Triton stops cleanly); resolves when it has exited. */
  stop(): Promise<void>;
  /** SIGKILL to the process group: the server dies mid-request, as a crash would. */
  kill(): Promise<void>;
}

async function ready(url: string, models: string[], headers: Record<string, string>): Promise<boolean> {
  for (const m of models) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(`${url}/v2/models/${m}/ready`, { headers }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.setTimeout(2000, () => req.destroy());
    });
    if (!ok) return false;
  }
  return true;
}

/** Starts Triton with `models` (name → ONNX file) and waits until every model is ready (at most `timeoutMs`). */
export async function startTriton(
  python: string,
  models: Record<string, string>,
  o: { accessToken?: string; port?: number; threads?: number; timeoutMs?: number } = {},
): Promise<TritonServer> {
  const port = o.port ?? (await freePort());
  const args = [path.join(REPO_ROOT, 'deploy', 'pytriton', 'serve.py'), '--http-port', String(port)];
  args.push('--grpc-port', String(await freePort()), '--metrics-port', String(await freePort()), '--threads', String(o.threads ?? 1));
  for (const [name, file] of Object.entries(models)) args.push('--model', `${name}=${file}`);
  if (o.accessToken) args.push('--access-token', o.accessToken);
  // Its own process group: PyTriton starts tritonserver as a child, and both must go.
  const child = spawn(python, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const signalGroup = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
    await exited;
  };
  const url = `http://127.0.0.1:${port}`;
  const headers = o.accessToken ? { 'triton-access-token': o.accessToken } : {};
  const end = Date.now() + (o.timeoutMs ?? 180_000);
  while (!(await ready(url, Object.keys(models), headers))) {
    if (child.exitCode !== null || Date.now() > end) {
      await signalGroup('SIGKILL');
      throw new Error(`Triton did not get ready:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    child,
    log: () => log,
    stop: async () => {
      const t = setTimeout(() => void signalGroup('SIGKILL'), 15_000);
      await signalGroup('SIGTERM');
      clearTimeout(t);
      // tritonserver may outlive the Python parent by a moment; make sure the group is gone.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    },
    kill: () => signalGroup('SIGKILL'),
  };
}

export interface FaultPlan {
  /** Answer this many inference requests with 503 before passing them on. */
  fail503?: number;
  /** Delay every inference reply by this many ms. */
  delayMs?: number;
  /** Answer every request (metadata too) with this status. */
  status?: number;
}

export interface FaultProxy {
  url: string;
  plan: FaultPlan;
  /** Inference requests seen, how many were answered with 503, and how many the client abandoned before the reply. */
  stats: { infer: number; injected503: number; abandoned: number };
  close(): Promise<void>;
}

/** An HTTP proxy on 127.0.0.1 in front of `target` that follows `plan` (which the test may change at any time). */
export async function faultProxy(target: string, plan: FaultPlan = {}): Promise<FaultProxy> {
  const t = new URL(target);
  const stats = { infer: 0, injected503: 0, abandoned: 0 };
  const proxy: { plan: FaultPlan } = { plan };
  const server = http.createServer((req, res) => {
    const infer = req.method === 'POST' && /\/infer$/.test(req.url ?? '');
    if (infer) stats.infer++;
    res.on('close', () => {
      if (infer && !res.writableFinished) stats.abandoned++;
    });
    const p = proxy.plan;
    if (p.status) {
      req.resume();
      res.writeHead(p.status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: `injected ${p.status}` }));
      return;
    }
    if (infer && (p.fail503 ?? 0) > 0) {
      p.fail503!--;
      stats.injected503++;
      req.resume();
      res.writeHead(503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'injected 503: server busy' }));
      return;
    }
    const fwd = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const send = () => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      };
      if (infer && p.delayMs) setTimeout(send, p.delayMs);
      else send();
    });
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get plan() {
      return proxy.plan;
    },
    set plan(v: FaultPlan) {
      proxy.plan = v;
    },
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
