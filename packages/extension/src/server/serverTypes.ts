/**
 * The types shared by the server handle (server.ts, in the activation bundle) and the language client behind it
 * (client.ts, bundled as dist/client.js): server.ts only knows the client through these, so neither imports the other.
 */
import type * as vscode from 'vscode';
import type {
  BatchItem,
  ClassifyBatchResult,
  ClassifyResult,
  ClearCacheResult,
  CurateFileProgress,
  CurateResult,
  ModelInfoResult,
  SimilarParams,
  SimilarResult,
  StatusParams,
  ThumbnailsResult,
} from '@image-classifier/protocol';
import type { RequestType } from 'vscode-languageclient';

export type ServerPhase = 'stopped' | 'starting' | 'running' | 'failed';

export interface RequestOptions {
  force?: boolean;
  topK?: number;
  token?: vscode.CancellationToken;
}

export interface BatchOptions extends RequestOptions {
  /** From the result cache only (see `ClassifyBatchParams.cachedOnly`). */
  cachedOnly?: boolean;
  /** Items as the server finishes them (partial results), before the request answers. */
  onPartial?: (items: BatchItem[]) => void;
}

export interface CurateOptions {
  token?: vscode.CancellationToken;
  /** Files as the server reads and embeds them (partial results), before the report. */
  onPartial?: (items: CurateFileProgress[]) => void;
  /** The server's work-done progress: "embedding 40/104 · 12 img/s", then "analysing…". */
  onProgress?: (message: string, percentage?: number) => void;
}

/** What ServerClient (client.ts) offers to ServerManager (server.ts). */
export interface ServerConnection extends vscode.Disposable {
  readonly phase: ServerPhase;
  readonly status: StatusParams | undefined;
  readonly pid: number | undefined;
  readonly started: boolean;
  readonly starts: number;
  ensureStarted(): Promise<unknown>;
  restart(): Promise<void>;
  pushSettings(): Promise<void>;
  classify(uri: vscode.Uri, opts?: RequestOptions): Promise<ClassifyResult>;
  classifyBatch(uris: vscode.Uri[], opts?: BatchOptions): Promise<ClassifyBatchResult>;
  modelInfo(): Promise<ModelInfoResult>;
  clearCache(): Promise<ClearCacheResult>;
  curate(root: vscode.Uri, opts?: CurateOptions): Promise<CurateResult>;
  similar(params: SimilarParams): Promise<SimilarResult>;
  /** Any typed request of the protocol (for methods without a wrapper of their own, e.g. thumbnails). */
  request<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R>;
  /** `imageClassifier/thumbnails`: WebP previews (longest side `size`) of file URIs, one item per URI. */
  thumbnails(uris: string[], size: number, token?: vscode.CancellationToken): Promise<ThumbnailsResult>;
  stop(): Promise<void>;
}

/** The module dist/client.js (client.ts) as server.ts loads it. */
export interface ClientModule {
  ServerClient: new (
    context: vscode.ExtensionContext,
    output: vscode.LogOutputChannel,
    statusEmitter: vscode.EventEmitter<StatusParams>,
    phaseEmitter: vscode.EventEmitter<ServerPhase>,
  ) => ServerConnection;
}
