/**
 * Wiring: registers the handlers on the connection. Each handler is a plain function of (params, state); this file
 * only routes, and owns initialize (which starts the first load) and shutdown.
 */
import { ClassifierError } from '@image-classifier/core';
import {
  ClassifyBatchRequest,
  ClassifyRequest,
  ClearCacheRequest,
  CurateRequest,
  ModelInfoRequest,
  FindRequest,
  SimilarRequest,
  ThumbnailsRequest,
} from '@image-classifier/protocol';
import type { CancellationToken, Connection, InitializeParams, InitializeResult } from 'vscode-languageserver/node';
import { CRASH_INFERENCE_WORKER, environment } from '../environment.js';
import { SERVER_NAME, SERVER_VERSION } from '../version.js';
import { classifyBatch } from './batch.js';
import { clearCache } from './cached-classify.js';
import { classify } from './classify.js';
import { curate } from './curate.js';
import { handle } from './errors.js';
import { singleParams, tokenOf } from './limits.js';
import { modelInfo } from './model-info.js';
import { find } from './find.js';
import { similar } from './similar.js';
import { clearThumbnails, closeThumbnails, thumbnails } from './thumbnails.js';
import { applySettings, onConfigurationChange, readSettings } from './settings.js';
import { createContext, type ServerContext, type ServerOptions } from './state.js';

function rootsFromInitialize(p: InitializeParams): string[] | undefined {
  if (p.workspaceFolders?.length) return p.workspaceFolders.map((f) => f.uri);
  if (p.rootUri) return [p.rootUri];
  if (p.rootPath) return [p.rootPath];
  return undefined;
}

function onInitialize(ctx: ServerContext, p: InitializeParams): InitializeResult {
  ctx.initSettings = readSettings(ctx, p.initializationOptions);
  ctx.initRoots = rootsFromInitialize(p);
  ctx.initialized = true;
  // Load after the initialize response has gone out, so status notifications follow it; requests that come
  // meanwhile wait on `loading`, which then hands over to the real load.
  ctx.loading = new Promise<void>((resolve) =>
    setImmediate(() => {
      // The engine's decoder threads load the image library while the model loads.
      applySettings(ctx, ctx.initSettings ?? {}, true);
      resolve();
    }),
  );
  return {
    capabilities: {
      experimental: {
        imageClassifier: {
          methods: [
            ClassifyRequest.method,
            ClassifyBatchRequest.method,
            ModelInfoRequest.method,
            ClearCacheRequest.method,
            CurateRequest.method,
            SimilarRequest.method,
            FindRequest.method,
            ThumbnailsRequest.method,
          ],
        },
      },
    },
    serverInfo: { name: SERVER_NAME, version: SERVER_VERSION },
  };
}

function closeCaches(ctx: ServerContext): void {
  ctx.cache?.close();
  ctx.embeddingCache?.close();
  ctx.cache = undefined;
  ctx.embeddingCache = undefined;
}

/** Unloads the model: queued images fail, runs in flight return first (see Classifier.close). */
async function unload(ctx: ServerContext, why: string): Promise<void> {
  const cur = ctx.current;
  ctx.current = undefined;
  ctx.state = 'error';
  ctx.loadError = new ClassifierError('MODEL_NOT_READY', why);
  if (cur) await cur.classifier.close().catch(() => undefined);
}

async function onShutdown(ctx: ServerContext): Promise<void> {
  ctx.shutdownRequested = true;
  await Promise.all([unload(ctx, 'The server is shutting down.'), closeThumbnails(ctx)]);
  closeCaches(ctx);
}

/** Stops the server in order: refuse new requests, cancel queued work, unload the model, flush the caches. */
export async function stopServer(ctx: ServerContext): Promise<void> {
  ctx.closing = true;
  ctx.stop.abort();
  // A load in progress becomes stale and closes what it loaded.
  ctx.generation++;
  await Promise.all([unload(ctx, 'The server is shutting down.'), closeThumbnails(ctx)]);
  closeCaches(ctx);
  // The cancelled requests answer (batches with what they finished) before the process exits.
  const end = Date.now() + 1000;
  while ((ctx.runningBatches > 0 || ctx.pendingSingles > 0) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setImmediate(r));
}

const CLASSIFY_USAGE = 'classify needs one params object {uri, topK?}';
const BATCH_USAGE = 'classifyBatch needs one params object {uris: string[], topK?}';
const CURATE_USAGE = 'curate needs one params object {root, checks?}';
const SIMILAR_USAGE = 'similar needs one params object {uri, k?, root?}';
const FIND_USAGE = 'find needs one params object {noun, root, top?}';
const THUMBNAILS_USAGE = 'thumbnails needs one params object {uris: string[], size?}';

/**
 * A request handler's arguments (params spread by vscode-jsonrpc, token last) → `f(params, token)`, run by
 * `handle`: refused before initialize and while shutting down, malformed params as INVALID_ARGUMENT.
 */
function guarded<T>(ctx: ServerContext, usage: string, f: (p: never, token: CancellationToken) => Promise<T>) {
  return (...args: unknown[]) =>
    handle(ctx.initialized, () => {
      if (ctx.closing) throw new ClassifierError('MODEL_NOT_READY', 'The server is shutting down.');
      return f(singleParams(args, usage) as never, tokenOf<CancellationToken>(args));
    });
}

export function listen(ctx: ServerContext): void {
  const c = ctx.connection;
  c.onInitialize((p) => onInitialize(ctx, p));
  c.onDidChangeConfiguration((p) => onConfigurationChange(ctx, p));
  c.onShutdown(() => onShutdown(ctx));
  // The requests that take one params object: checked by `guarded`, then handled by a plain function.
  const routes: Array<[string, string, (p: never, ctx: ServerContext, token: CancellationToken) => Promise<unknown>]> = [
    [ClassifyRequest.method, CLASSIFY_USAGE, classify],
    [ClassifyBatchRequest.method, BATCH_USAGE, classifyBatch],
    [CurateRequest.method, CURATE_USAGE, curate],
    [SimilarRequest.method, SIMILAR_USAGE, similar],
    [FindRequest.method, FIND_USAGE, find],
    [ThumbnailsRequest.method, THUMBNAILS_USAGE, thumbnails],
  ];
  for (const [method, usage, f] of routes)
    c.onRequest(
      method,
      guarded(ctx, usage, (p: never, token) => f(p, ctx, token)),
    );
  c.onRequest(ModelInfoRequest.type, () => modelInfo(ctx));
  c.onRequest(ClearCacheRequest.type, () =>
    handle(ctx.initialized, async () => {
      const r = clearCache(ctx);
      clearThumbnails(ctx);
      return r;
    }),
  );
  if (environment.testHooks()) {
    // Test hook: the inference worker dies as if it had crashed (see core's WorkerBackend.crashForTest).
    c.onRequest(CRASH_INFERENCE_WORKER, () => ({ crashed: ctx.current?.classifier.crashInferenceWorkerForTest() ?? false }));
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
    return this.ctx.shutdownRequested;
  }

  /** Orderly stop (see stopServer); the caller exits the process afterwards. */
  close(): Promise<void> {
    return stopServer(this.ctx);
  }
}
