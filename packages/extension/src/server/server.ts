/**
 * The extension's handle on the inference server. The real work (vscode-languageclient, the protocol's request
 * types) lives in ServerClient (client.ts), bundled as dist/client.js and required on first need: activation stays
 * cheap because the language client is not even evaluated until an image is to be classified. The two know each
 * other only through the types in serverTypes.ts.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type {
  ClassifyBatchResult,
  ClassifyResult,
  ClearCacheResult,
  CurateResult,
  ModelInfoResult,
  SimilarParams,
  SimilarResult,
  StatusParams,
  ThumbnailsResult,
} from '@image-classifier/protocol';
import type { RequestType } from 'vscode-languageclient';
import type { BatchOptions, ClientModule, CurateOptions, RequestOptions, ServerConnection, ServerPhase } from './serverTypes';

export type { ServerPhase } from './serverTypes';

export class ServerManager implements vscode.Disposable {
  private impl: ServerConnection | undefined;
  private readonly statusEmitter = new vscode.EventEmitter<StatusParams>();
  private readonly phaseEmitter = new vscode.EventEmitter<ServerPhase>();
  readonly onStatus = this.statusEmitter.event;
  readonly onPhase = this.phaseEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    /** Loads client.ts; the bundle's default is dist/client.js next to dist/extension.js. */
    private readonly loadModule: () => ClientModule = () => require(path.join(__dirname, 'client.js')) as ClientModule,
  ) {}

  private get client(): ServerConnection {
    if (!this.impl) {
      const m = this.loadModule();
      this.impl = new m.ServerClient(this.context, this.output, this.statusEmitter, this.phaseEmitter);
    }
    return this.impl;
  }

  get phase(): ServerPhase {
    return this.impl?.phase ?? 'stopped';
  }
  get status(): StatusParams | undefined {
    return this.impl?.status;
  }
  get pid(): number | undefined {
    return this.impl?.pid;
  }
  get started(): boolean {
    return this.impl?.started ?? false;
  }
  get starts(): number {
    return this.impl?.starts ?? 0;
  }

  async ensureStarted(): Promise<void> {
    await this.client.ensureStarted();
  }
  restart(): Promise<void> {
    return this.client.restart();
  }
  /** Sends the current settings to a running server; a server not started yet gets them when it starts. */
  async pushSettings(): Promise<void> {
    await this.impl?.pushSettings();
  }
  classify(uri: vscode.Uri, opts: RequestOptions = {}): Promise<ClassifyResult> {
    return this.client.classify(uri, opts);
  }
  classifyBatch(uris: vscode.Uri[], opts: BatchOptions = {}): Promise<ClassifyBatchResult> {
    return this.client.classifyBatch(uris, opts);
  }
  modelInfo(): Promise<ModelInfoResult> {
    return this.client.modelInfo();
  }
  clearCache(): Promise<ClearCacheResult> {
    return this.client.clearCache();
  }
  curate(root: vscode.Uri, opts: CurateOptions = {}): Promise<CurateResult> {
    return this.client.curate(root, opts);
  }
  similar(params: SimilarParams): Promise<SimilarResult> {
    return this.client.similar(params);
  }
  request<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R> {
    return this.client.request(type, params, token);
  }
  thumbnails(uris: string[], size: number, token?: vscode.CancellationToken): Promise<ThumbnailsResult> {
    return this.client.thumbnails(uris, size, token);
  }
  async stop(): Promise<void> {
    await this.impl?.stop();
  }

  dispose(): void {
    this.impl?.dispose();
    this.statusEmitter.dispose();
    this.phaseEmitter.dispose();
  }
}
