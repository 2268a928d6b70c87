/**
 * The extension's handle on the inference server. The real work (vscode-languageclient, the protocol's request
 * types) lives in lsp.ts, bundled as dist/client.js and required on first need: activation stays cheap because
 * the language client is not even evaluated until an image is to be classified.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type {
  BatchItem,
  ClassifyBatchResult,
  ClassifyResult,
  ClearCacheResult,
  ModelInfoResult,
  StatusParams,
} from '@image-classifier/protocol';
import type { LspServer } from './lsp';

export type ServerPhase = 'stopped' | 'starting' | 'running' | 'failed';

export interface BatchCallbacks {
  onPartial?: (items: BatchItem[]) => void;
  onProgress?: (p: { percentage?: number; message?: string }) => void;
}

type LspModule = typeof import('./lsp');

export class ServerManager implements vscode.Disposable {
  private impl: LspServer | undefined;
  private readonly statusEmitter = new vscode.EventEmitter<StatusParams>();
  private readonly phaseEmitter = new vscode.EventEmitter<ServerPhase>();
  readonly onStatus = this.statusEmitter.event;
  readonly onPhase = this.phaseEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    /** Loads lsp.ts; the bundle's default is dist/client.js next to dist/extension.js. */
    private readonly loadModule: () => LspModule = () => require(path.join(__dirname, 'client.js')) as LspModule,
  ) {}

  private get lsp(): LspServer {
    if (!this.impl) {
      const m = this.loadModule();
      this.impl = new m.LspServer(this.context, this.output, this.statusEmitter, this.phaseEmitter);
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
    await this.lsp.ensureStarted();
  }
  restart(): Promise<void> {
    return this.lsp.restart();
  }
  /** Sends the current settings to a running server; a server not started yet gets them when it starts. */
  async pushSettings(): Promise<void> {
    await this.impl?.pushSettings();
  }
  classify(uri: vscode.Uri, opts: { force?: boolean; topK?: number; token?: vscode.CancellationToken } = {}): Promise<ClassifyResult> {
    return this.lsp.classify(uri, opts);
  }
  classifyBatch(
    uris: vscode.Uri[],
    opts: { force?: boolean; topK?: number; token?: vscode.CancellationToken } & BatchCallbacks = {},
  ): Promise<ClassifyBatchResult> {
    return this.lsp.classifyBatch(uris, opts);
  }
  modelInfo(): Promise<ModelInfoResult> {
    return this.lsp.modelInfo();
  }
  clearCache(): Promise<ClearCacheResult> {
    return this.lsp.clearCache();
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
