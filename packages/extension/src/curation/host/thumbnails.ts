/**
 * The curation board's thumbnails, through the extension's server handle: `imageClassifier/thumbnails` (WebP files
 * in the server's cache folder; see protocol's ThumbnailsResult). The webview shows them with `asWebviewUri`, with
 * `result.dir` among its `localResourceRoots`. The request goes through the server's one client (server/serverTypes.ts
 * `ServerConnection`), whose bundle (server/client.ts) activation does not load.
 */
import type * as vscode from 'vscode';
import { ThumbnailsRequest, type ThumbnailsResult } from '@image-classifier/protocol';
import type { ServerConnection } from '../../server/serverTypes';

/** The longest side the server accepts, and the default (protocol's ThumbnailsRequest.minSize/maxSize/defaultSize). */
export const THUMBNAIL_SIZES = { min: 16, max: 512, default: 192 } as const;

/**
 * WebP thumbnails of `uris` (file URI strings, inside the workspace) whose longest side is `size` pixels (rounded
 * and clamped to 16..512): one item per URI, in order, each with a `path` or an `error`. Cancelling `token` answers
 * with the items finished so far (`cancelled: true`).
 */
export function requestThumbnails(
  client: Pick<ServerConnection, 'sendRequest'>,
  uris: string[],
  size: number,
  token?: vscode.CancellationToken,
): Promise<ThumbnailsResult> {
  const side = Number.isFinite(size)
    ? Math.min(THUMBNAIL_SIZES.max, Math.max(THUMBNAIL_SIZES.min, Math.round(size)))
    : THUMBNAIL_SIZES.default;
  return client.sendRequest(ThumbnailsRequest.type, { uris, size: side }, token);
}
