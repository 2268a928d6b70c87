/**
 * Test helper: starts the real server (`node packages/server/bin/image-classifier.js serve --stdio`) as a child
 * process and talks to it with vscode-jsonrpc's real client connection.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { engineProcessEnv } from '@image-classifier/protocol/launch';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
  type ProgressToken,
  ResponseError,
} from 'vscode-jsonrpc/node';
import { StatusNotification, type ServerSettings, type StatusParams } from '@image-classifier/protocol';
import { REPO_ROOT, sharedDir } from '../../../test-fixtures/fixtures.js';

/** The `image-classifier` command the tests run. */
export const BIN = path.join(REPO_ROOT, 'packages', 'server', 'bin', 'image-classifier.js');

const shared = sharedDir();
/** The real ImageNet model (MobileNetV2 int8) in ../shared; '' without ../shared (the suites that need it skip). */
export const MOBILENET_INT8 = shared ? path.join(shared, 'models', 'mobilenetv2-12-int8.onnx') : '';
/** The ImageNet class MobileNetV2 gives the fixture photo skimage_chelsea_cat.jpg (Egyptian cat). */
export const CAT = 285;
/** The ImageNet class MobileNetV2 gives the fixture photo skimage_coffee.jpg (espresso). */
export const ESPRESSO = 967;

/** The file: URI of a path, as the requests take it. */
export const uri = (file: string): string => pathToFileURL(file).href;

export interface ServerHandle {
  child: ChildProcess;
  conn: MessageConnection;
  statuses: StatusParams[];
  stderr: () => string;
  /** Resolves with the first status (already received or future) that matches. */
  waitStatus(pred: (s: StatusParams) => boolean): Promise<StatusParams>;
  /** Resolves with the `$/progress` values on a token as they come. */
  progress(token: ProgressToken): unknown[];
  initialize(settings: ServerSettings, extra?: Record<string, unknown>): Promise<unknown>;
  /** shutdown + exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startServer(env: NodeJS.ProcessEnv = {}, args: string[] = ['--stdio'], opts: { listen?: boolean } = {}): ServerHandle {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // As the extension starts it (telemetry off, malloc tuned).
    env: { ...engineProcessEnv(process.env), ...env },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (process.env.IMAGE_CLASSIFIER_TEST_DEBUG) process.stderr.write(d);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const conn = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const statuses: StatusParams[] = [];
  const waiters: Array<{ pred: (s: StatusParams) => boolean; resolve: (s: StatusParams) => void }> = [];
  conn.onNotification(StatusNotification.type, (s) => {
    statuses.push(s);
    for (const w of [...waiters]) {
      if (w.pred(s)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(s);
      }
    }
  });
  const progressByToken = new Map<ProgressToken, unknown[]>();
  conn.onNotification('$/progress', (p: { token: ProgressToken; value: unknown }) => {
    let list = progressByToken.get(p.token);
    if (!list) progressByToken.set(p.token, (list = []));
    list.push(p.value);
  });
  if (opts.listen !== false) conn.listen();
  const handle: ServerHandle = {
    child,
    conn,
    statuses,
    stderr: () => err,
    exited,
    waitStatus(pred) {
      const seen = statuses.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pred, resolve });
        void exited.then(({ code, signal }) => reject(new Error(`server exited (${code ?? signal}) before the status came:\n${err}`)));
      });
    },
    progress(token) {
      let list = progressByToken.get(token);
      if (!list) progressByToken.set(token, (list = []));
      return list;
    },
    initialize(settings, extra = {}) {
      return conn.sendRequest('initialize', {
        processId: process.pid,
        rootUri: null,
        capabilities: {},
        initializationOptions: settings,
        ...extra,
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      try {
        await conn.sendRequest('shutdown');
        await conn.sendNotification('exit');
      } catch {
        child.kill('SIGKILL');
      }
      const r = await exited;
      conn.dispose();
      return r.code;
    },
  };
  return handle;
}

/**
 * A server started with `env`, sent `initialize` with `settings` (the real model unless `settings.model` names
 * another), and whose model has loaded (status `ready`). A server that does not get there is stopped.
 */
export async function startReadyServer(settings: ServerSettings, env: NodeJS.ProcessEnv = {}): Promise<ServerHandle> {
  const srv = startServer(env);
  try {
    await srv.initialize({ model: MOBILENET_INT8, ...settings });
    await srv.waitStatus((s) => s.state === 'ready');
    return srv;
  } catch (e) {
    await srv.stop();
    throw e;
  }
}

/** The JSON-RPC error a request must fail with (the test fails if it succeeds or fails otherwise). */
export async function rpcError(p: Promise<unknown>): Promise<ResponseError<{ code: string }>> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ResponseError, `expected a ResponseError, got ${String(e)}`);
    return e as ResponseError<{ code: string }>;
  }
  assert.fail('expected the request to fail');
}
