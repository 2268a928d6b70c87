/**
 * The curation board's thumbnails, through the extension's server handle: `imageClassifier/thumbnails` (WebP files
 * in the server's cache folder; see protocol's ThumbnailsResult). The webview shows them with `asWebviewUri`, with
 * `result.dir` among its `localResourceRoots`. Type imports only: the request itself is sent by the language client
 * bundle (server/client.ts), which activation does not load.
 */
import type * as vscode from 'vscode';
import type { ThumbnailsResult } from '@image-classifier/protocol';
import type { ServerManager } from '../../server/server';

/** The longest side the server accepts, and the default (protocol's ThumbnailsRequest.minSize/maxSize/defaultSize). */
export const THUMBNAIL_SIZES = { min: 16, max: 512, default: 192 } as const;

/**
 * WebP thumbnails of `uris` (file URI strings, inside the workspace) whose longest side is `size` pixels (rounded
 * and clamped to 16..512): one item per URI, in order, each with a `path` or an `error`. Cancelling `token` answers
 * with the items finished so far (`cancelled: true`).
 */
export function requestThumbnails(
  client: Pick<ServerManager, 'thumbnails'>,
  uris: string[],
  size: number,
  token?: vscode.CancellationToken,
): Promise<ThumbnailsResult> {
  const side = Number.isFinite(size)
    ? Math.min(THUMBNAIL_SIZES.max, Math.max(THUMBNAIL_SIZES.min, Math.round(size)))
    : THUMBNAIL_SIZES.default;
  return client.thumbnails(uris, side, token);
}
