/**
 * The one table of what the server serves: each `clientToServer` request of the protocol (methods.ts,
 * curation-methods.ts) → its handler and how it is admitted. connection.ts registers every row and announces the
 * rows' methods in `initialize`; test/routes.test.ts checks the table against the protocol's exports both ways.
 */
import {
  ClassifyBatchRequest,
  ClassifyRequest,
  ClearCacheRequest,
  CurateRequest,
  FindRequest,
  type MessageDirection,
  ModelInfoRequest,
  SimilarRequest,
  ThumbnailsRequest,
} from '@image-classifier/protocol';
import type { CancellationToken, RequestType } from 'vscode-languageserver/node';
import { classifyBatch } from './batch.js';
import { clearCache } from './caches.js';
import { classify } from './classify.js';
import { curate } from './curate.js';
import { find } from './find.js';
import { modelInfo } from './model-info.js';
import { similar } from './similar.js';
import type { ServerContext } from './state.js';
import { clearThumbnails, thumbnails } from './thumbnails.js';

/**
 * How a request is let in before its handler runs:
 * - `params`: one params object (else INVALID_ARGUMENT with the protocol's usage line); refused before `initialize`
 *   and while the server shuts down;
 * - `initialized`: params ignored; refused before `initialize`;
 * - `always`: params ignored; answered in every state (modelInfo says the state).
 */
export type Admit = 'params' | 'initialized' | 'always';

/** A protocol request as its namespace declares it (`ClassifyRequest`, …). */
interface ProtocolRequest<P, R> {
  readonly method: string;
  readonly type: RequestType<P, R, void>;
  readonly messageDirection: MessageDirection;
  readonly usage?: string;
}

export interface Route {
  readonly method: string;
  readonly admit: Admit;
  /** The protocol's usage line for `params` rows. */
  readonly usage: string | undefined;
  readonly run: (params: never, ctx: ServerContext, token: CancellationToken) => unknown;
}

/** One row; the handler's params and result are checked against the request type's. */
function route<P, R>(
  request: ProtocolRequest<P, R>,
  admit: Admit,
  run: (params: P, ctx: ServerContext, token: CancellationToken) => R | Promise<R>,
): Route {
  if (request.messageDirection !== 'clientToServer') throw new Error(`${request.method} is not sent to the server`);
  if (admit === 'params' && !request.usage) throw new Error(`${request.method} has no usage in the protocol`);
  return { method: request.method, admit, usage: request.usage, run: run as Route['run'] };
}

export const ROUTES: readonly Route[] = [
  route(ClassifyRequest, 'params', classify),
  route(ClassifyBatchRequest, 'params', classifyBatch),
  route(ModelInfoRequest, 'always', (_p, ctx) => modelInfo(ctx)),
  route(ClearCacheRequest, 'initialized', (_p, ctx) => {
    const r = clearCache(ctx);
    clearThumbnails(ctx);
    return r;
  }),
  route(CurateRequest, 'params', curate),
  route(SimilarRequest, 'params', similar),
  route(FindRequest, 'params', find),
  route(ThumbnailsRequest, 'params', thumbnails),
];
