/**
 * Wiring: registers every row of the routes table (routes.ts) on the connection, and owns initialize (which starts
 * the first load), shutdown and stop. The lifecycle's part of the server state (state.ts `LifecycleState`) is
 * written only here.
 */
import { ClassifierError } from '@image-classifier/core';
import { usageLine } from '@image-classifier/protocol';
import type { CancellationToken, Connection, InitializeParams, InitializeResult } from 'vscode-languageserver/node';
import { CRASH_INFERENCE_WORKER, environment } from '../environment.js';
import { SERVER_NAME, SERVER_VERSION } from '../version.js';
import { closeCaches } from './caches.js';
import { handle } from './errors.js';
import { singleParams, tokenOf } from './limits.js';
import { loadAfterInitialize, unload } from './model-host.js';
import { ROUTES, type Route } from './routes.js';
import { applySettings, initialSettings, onConfigurationChange } from './settings.js';
import { createContext, type LifecycleState, type ServerContext, type ServerOptions } from './state.js';
import { closeThumbnails } from './thumbnails.js';

function mine(ctx: ServerContext): LifecycleState {
  return ctx.lifecycle as LifecycleState;
}

function rootsFromInitialize(p: InitializeParams): string[] | undefined {
  if (p.workspaceFolders?.length) return p.workspaceFolders.map((f) => f.uri);
  if (p.rootUri) return [p.rootUri];
  if (p.rootPath) return [p.rootPath];
  return undefined;
}

function onInitialize(ctx: ServerContext, p: InitializeParams): InitializeResult {
  initialSettings(ctx, p.initializationOptions, rootsFromInitialize(p));
  mine(ctx).initialized = true;
  // The engine's decoder threads load the image library while the model loads.
  loadAfterInitialize(ctx, () => applySettings(ctx, ctx.config.initSettings ?? {}, true));
  return {
    capabilities: { experimental: { imageClassifier: { methods: ROUTES.map((r) => r.method) } } },
    serverInfo: { name: SERVER_NAME, version: SERVER_VERSION },
  };
}

async function onShutdown(ctx: ServerContext): Promise<void> {
  mine(ctx).shutdownRequested = true;
  await Promise.all([unload(ctx, 'The server is shutting down.'), closeThumbnails(ctx)]);
  closeCaches(ctx);
}

/** Stops the server in order: refuse new requests, cancel queued work, unload the model, flush the caches. */
export async function stopServer(ctx: ServerContext): Promise<void> {
  const l = mine(ctx);
  l.closing = true;
  l.stop.abort();
  // A load in progress becomes stale (unload bumps the generation) and closes what it loaded.
  await Promise.all([unload(ctx, 'The server is shutting down.'), closeThumbnails(ctx)]);
  closeCaches(ctx);
  // The cancelled requests answer (batches with what they finished) before the process exits.
  const end = Date.now() + 1000;
  while (!ctx.inFlight.idle && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setImmediate(r));
}

/**
 * A row's handler on the connection. vscode-jsonrpc spreads params (`[p, null]` → `(p, null, token)`) and passes
 * the cancellation token last; `handle` turns what the handler threw into the client's error.
 */
function handlerFor(ctx: ServerContext, r: Route): (...args: unknown[]) => unknown {
  const usage = r.usage === undefined ? '' : usageLine(r.method, r.usage);
  const run = (args: unknown[], params: unknown) => r.run(params as never, ctx, tokenOf<CancellationToken>(args));
  switch (r.admit) {
    case 'always':
      return (...args) => run(args, undefined);
    case 'initialized':
      return (...args) => handle(ctx.lifecycle.initialized, async () => run(args, undefined));
    case 'params':
      return (...args) =>
        handle(ctx.lifecycle.initialized, async () => {
          if (ctx.lifecycle.closing) throw new ClassifierError('MODEL_NOT_READY', 'The server is shutting down.');
          return run(args, singleParams(args, usage));
        });
  }
}

export function listen(ctx: ServerContext): void {
  const c = ctx.connection;
  c.onInitialize((p) => onInitialize(ctx, p));
  c.onDidChangeConfiguration((p) => onConfigurationChange(ctx, p));
  c.onShutdown(() => onShutdown(ctx));
  for (const r of ROUTES) c.onRequest(r.method, handlerFor(ctx, r));
  if (environment.testHooks()) {
    // Test hook, not part of the protocol: the inference worker dies as if it had crashed (see core's
    // WorkerBackend.crashForTest).
    c.onRequest(CRASH_INFERENCE_WORKER, () => ({ crashed: ctx.model.current?.classifier.crashInferenceWorkerForTest() ?? false }));
  }
  c.listen();
}

/** The inference server on one connection: `new InferenceServer(connection).listen()`. */
export class InferenceServer {
  private readonly ctx: ServerContext;

  constructor(connection: Connection, options: ServerOptions = {}) {
    this.ctx = createContext(connection, options);
  }

  listen(): void {
    listen(this.ctx);
  }

  /** The client asked for `shutdown` (so `exit` ends with code 0). */
  get shutdownRequested(): boolean {
    return this.ctx.lifecycle.shutdownRequested;
  }

  /** Orderly stop (see stopServer); the caller exits the process afterwards. */
  close(): Promise<void> {
    return stopServer(this.ctx);
  }
}
