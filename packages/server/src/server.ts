/**
 * The inference server: one warm model session answering the editor over JSON-RPC (LSP framing), with the
 * methods declared in protocol's `methods.ts`. Hovers (`classify`, interactive priority) go ahead of folder runs
 * (`classifyBatch`, bulk priority); results are kept in a persistent cache keyed by image content.
 *
 * The parts live in rpc/: state (the shared state), model-host (loads, reloads, status), settings, cached-classify
 * (one file through cache and engine), classify, batch, model-info, threads (helper-thread priorities), errors,
 * and connection (the wiring).
 */
export { ErrorCodes } from 'vscode-languageserver/node';
export { InferenceServer } from './rpc/connection.js';
export { toResponseError } from './rpc/errors.js';
export type { ServerOptions } from './rpc/state.js';
export { deprioritizeHelperThreads } from './rpc/threads.js';
export { SERVER_NAME, SERVER_VERSION } from './version.js';
