/**
 * The types shared by the server handle (server.ts, in the activation bundle) and the language client behind it
 * (client.ts, bundled as dist/client.js): server.ts only knows the client through these, so neither imports the other.
 */
import type * as vscode from 'vscode';
import type {
  BatchItem,
  ClassifyBatchParams,
  ClassifyBatchResult,
  CurateFileProgress,
  CurateParams,
  CurateResult,
  StatusParams,
} from '@image-classifier/protocol';
import type { RequestType } from 'vscode-languageclient';

export type ServerPhase = 'stopped' | 'starting' | 'running' | 'failed';

/** The params of a request whose progress tokens the client makes (see ServerConnection.classifyBatch, curate). */
type WithoutTokens<P> = Omit<P, 'workDoneToken' | 'partialResultToken'>;

export interface BatchOptions {
  token?: vscode.CancellationToken;
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

/**
 * The one client of the inference server (ServerClient in client.ts), made on first use by ServerManager (server.ts).
 * Callers send the protocol's request types through `sendRequest`; only the requests whose progress tokens the
 * client makes and listens to have methods of their own.
 */
export interface ServerConnection extends vscode.Disposable {
  readonly phase: ServerPhase;
  readonly status: StatusParams | undefined;
  readonly pid: number | undefined;
  readonly started: boolean;
  readonly starts: number;
  /** Starts the server if it is not running; resolves once it answered `initialize`. */
  ensureStarted(): Promise<unknown>;
  restart(): Promise<void>;
  pushSettings(): Promise<void>;
  /** A request of the protocol (`ClassifyRequest.type`, …), once the server runs; `token` cancels it. */
  sendRequest<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R>;
  /** `imageClassifier/classifyBatch` with a partial-result token: `onPartial` gets the items as they finish. */
  classifyBatch(params: WithoutTokens<ClassifyBatchParams>, opts?: BatchOptions): Promise<ClassifyBatchResult>;
  /** `imageClassifier/curate` with partial-result and work-done tokens (`onPartial`, `onProgress`). */
  curate(params: WithoutTokens<CurateParams>, opts?: CurateOptions): Promise<CurateResult>;
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
