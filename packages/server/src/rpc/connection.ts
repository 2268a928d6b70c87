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
  SimilarRequest,
} from '@image-classifier/protocol';
import type { Connection, InitializeParams, InitializeResult } from 'vscode-languageserver/node';
import { SERVER_NAME, SERVER_VERSION } from '../version.js';
import { classifyBatch } from './batch.js';
import { clearCache } from './cached-classify.js';
import { classify } from './classify.js';
import { curate } from './curate.js';
import { handle } from './errors.js';
import { modelInfo } from './model-info.js';
import { similar } from './similar.js';
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
}

async function onShutdown(ctx: ServerContext): Promise<void> {
  closeCaches(ctx);
  ctx.cache = undefined;
  ctx.embeddingCache = undefined;
  const cur = ctx.current;
  ctx.current = undefined;
  ctx.state = 'error';
  ctx.loadError = new ClassifierError('MODEL_NOT_READY', 'The server is shutting down.');
  if (cur) await cur.classifier.close().catch(() => undefined);
}

export function listen(ctx: ServerContext): void {
  const c = ctx.connection;
  c.onInitialize((p) => onInitialize(ctx, p));
  c.onDidChangeConfiguration((p) => onConfigurationChange(ctx, p));
  c.onShutdown(() => onShutdown(ctx));
  c.onExit(() => closeCaches(ctx));
  c.onRequest(ClassifyRequest.type, (p, token) => handle(ctx.initialized, () => classify(p, ctx, token)));
  c.onRequest(ClassifyBatchRequest.type, (p, token) => handle(ctx.initialized, () => classifyBatch(p, ctx, token)));
  c.onRequest(ModelInfoRequest.type, () => modelInfo(ctx));
  c.onRequest(CurateRequest.type, (p, token) => handle(ctx.initialized, () => curate(p, ctx, token)));
  c.onRequest(SimilarRequest.type, (p, token) => handle(ctx.initialized, () => similar(p, ctx, token)));
  c.onRequest(ClearCacheRequest.type, () => handle(ctx.initialized, async () => clearCache(ctx)));
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
}
