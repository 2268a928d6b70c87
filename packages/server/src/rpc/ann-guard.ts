/**
 * Loading a saved neighbour graph without trusting it: a child process (ann-probe.js, beside this module) checks the
 * graph file against its SHA-256 (the manifest's, or the one a snapshot carries), copies the verified bytes to a
 * private file and loads that copy with usearch. Only when the child loaded it does this process load the same copy
 * (its sidecars checked against the same manifest by core's checkAnnSnapshot). A graph that crashes the native
 * library costs the child, never the server: the caller builds the graph anew and reports why
 * (`run.neighbourIndex.rebuilt`).
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import { type AnnSnapshot, annStoreFiles, type VerifiedGraph } from '@image-classifier/core';
import type { AnnProbeAnswer, AnnProbeRequest } from './ann-probe.js';

/** How long the child may take to check and load a graph (100k images: about a second). */
const PROBE_TIMEOUT_MS = 120_000;

export function annProbeScript(): string | undefined {
  const p = path.join(__dirname, 'ann-probe.js');
  return existsSync(p) ? p : undefined;
}

/** A new private file name beside `file` for a verified copy of the graph. */
export function privateCopyPath(file: string): string {
  return `${file}.${process.pid}-${threadId}-${randomBytes(6).toString('hex')}.load`;
}

/** Whether process `pid` still runs (EPERM: it does, as another user). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes private copies of `file`'s graph left by a run that was cancelled or killed mid-load: those of processes
 * no longer running, and any older than the longest a load may take.
 */
export function removeStaleCopies(file: string): void {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const re = /^\.(\d+)-\d+-[0-9a-f]+\.load$/;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = name.startsWith(base) ? re.exec(name.slice(base.length)) : null;
    if (!m) continue;
    const p = path.join(dir, name);
    try {
      if (!running(Number(m[1])) || Date.now() - statSync(p).mtimeMs > 2 * PROBE_TIMEOUT_MS) rmSync(p, { force: true });
    } catch {
      // Gone meanwhile.
    }
  }
}

/** Loads `req` in a child process: ok, or why not (the child's own answer, its crash, or its time-out). */
export function probeInChild(req: AnnProbeRequest, timeoutMs = PROBE_TIMEOUT_MS): Promise<AnnProbeAnswer> {
  const script = annProbeScript();
  if (!script) return Promise.resolve({ ok: false, reason: 'this build has no out-of-process loader for the saved graph' });
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: AnnProbeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    let child: ReturnType<typeof fork>;
    try {
      child = fork(script, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [], serialization: 'json' });
    } catch (e) {
      resolve({ ok: false, reason: `the graph loader could not start (${(e as Error).message})` });
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ ok: false, reason: `loading the saved graph took over ${Math.round(timeoutMs / 1000)} s` });
    }, timeoutMs);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString('utf8')).slice(-2000);
    });
    child.once('message', (m: AnnProbeAnswer) => done(m));
    child.once('error', (e) => done({ ok: false, reason: `the graph loader could not start (${e.message})` }));
    child.once('exit', (code, signal) => {
      const said = stderr.trim().split('\n')[0]?.slice(0, 200);
      const why = `${signal ?? `code ${code}`}${said ? `: ${said}` : ''}`;
      // An answer sent just before the exit is delivered first; the exit decides only when none came.
      setImmediate(() =>
        done({
          ok: false,
          reason: signal
            ? `loading the saved graph crashed the native library (${why})`
            : `the graph loader exited (${why}) before answering`,
        }),
      );
    });
    child.send(req);
  });
}

/** A graph verified and loaded once by a child process, as a private copy: `dispose` removes the copy. */
export interface PreparedGraph {
  graph?: VerifiedGraph;
  /** Why the saved graph is not used; neither this nor `graph` when nothing was saved. */
  reason?: string;
  dispose: () => void;
}

function prepare(req: AnnProbeRequest): Promise<PreparedGraph> {
  const dispose = () => rmSync(req.copyTo, { force: true });
  return probeInChild(req).then((a) => {
    if (a.ok) return { graph: a.graph, dispose };
    dispose();
    return { reason: a.reason, dispose };
  });
}

/**
 * The graph saved at `annFile`, checked against its manifest and loaded once by a child process, as a private copy
 * for this process (give it to core's checkAnnSnapshot as `verifiedGraph`, which checks the sidecars); otherwise
 * why not, or neither when nothing is saved there.
 */
export function prepareSavedGraph(annFile: string): Promise<PreparedGraph> {
  removeStaleCopies(annFile);
  const f = annStoreFiles(annFile);
  if (![f.graph, f.f32, f.json, f.manifest].some((p) => existsSync(p))) return Promise.resolve({ dispose: () => undefined });
  return prepare({ kind: 'saved', annFile, copyTo: privateCopyPath(annFile) });
}

/**
 * The snapshot a curate run saved (`snapshot.file`, its hash as saved), checked again and loaded once by a child
 * process, as a private copy for this process to load; otherwise why not.
 */
export async function guardSavedSnapshot(snapshot: AnnSnapshot): Promise<{ snapshot?: AnnSnapshot; reason?: string; dispose: () => void }> {
  if (!snapshot.sha256 || snapshot.graphBytes === undefined)
    return { reason: 'the saved graph carries no checksum', dispose: () => undefined };
  const p = await prepare({
    kind: 'snapshot',
    source: snapshot.file,
    sha256: snapshot.sha256,
    bytes: snapshot.graphBytes,
    dims: snapshot.dims,
    options: snapshot.options,
    copyTo: privateCopyPath(snapshot.file),
  });
  return p.graph ? { snapshot: { ...snapshot, file: p.graph.file }, dispose: p.dispose } : { reason: p.reason, dispose: p.dispose };
}
