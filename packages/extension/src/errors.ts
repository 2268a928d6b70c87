/**
 * Errors from the server (JSON-RPC ResponseError with `data.code`) or the connection → one sentence a user can
 * act on, and the actions to offer. Never a stack trace.
 */
import { errorCodeForRpc, RPC_REQUEST_CANCELLED } from '@image-classifier/protocol/errors';

export interface UserError {
  /** The engine's string code, e.g. FILE_NOT_FOUND, or CANCELLED / SERVER_STOPPED / INTERNAL. */
  code: string;
  message: string;
  /** Buttons to offer, by command id. */
  actions: Array<{ title: string; command: string }>;
}

const CANCELLED_CODES = new Set([RPC_REQUEST_CANCELLED, -32802 /* ServerCancelled */]);
const CONNECTION_CODES = new Set([-32097 /* PendingResponseRejected */, -32096 /* ConnectionInactive */, -32099]);

function firstSentences(s: string): string {
  // Keep what a person reads: drop stack frames and anything after the first line break.
  const line = s.split(/\r?\n/).find((l) => l.trim() && !/^\s*at\s/.test(l)) ?? s;
  // libvips names its loaders ("VipsJpeg: premature end of JPEG image"): the reader's words stay, the name goes.
  return line
    .trim()
    .replace(/^Error:\s*/, '')
    .replace(/\bVips[A-Za-z]*:\s*/g, '');
}

export function isCancellation(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const o = e as { name?: string; code?: unknown; message?: string };
  return o.name === 'Canceled' || o.name === 'CancellationError' || (typeof o.code === 'number' && CANCELLED_CODES.has(o.code));
}

export function toUserError(e: unknown, what = 'The request'): UserError {
  const showOutput = { title: 'Show Output', command: 'imageClassifier.showOutput' };
  if (isCancellation(e)) return { code: 'CANCELLED', message: `${what} was cancelled.`, actions: [] };
  const o = (e && typeof e === 'object' ? e : { message: String(e) }) as { code?: unknown; message?: string; data?: unknown };
  const data = o.data && typeof o.data === 'object' ? (o.data as { code?: unknown }) : undefined;
  let code = typeof data?.code === 'string' ? data.code : typeof o.code === 'number' ? (errorCodeForRpc(o.code) ?? '') : '';
  const raw = firstSentences(o.message ?? String(e));
  if (typeof o.code === 'number' && CONNECTION_CODES.has(o.code)) code = 'SERVER_STOPPED';
  switch (code) {
    case 'SERVER_STOPPED':
      return {
        code,
        message: `${what} failed because the Image Classifier server stopped. It is being restarted; try again in a moment.`,
        actions: [showOutput],
      };
    case 'OUTSIDE_WORKSPACE':
      return { code, message: raw, actions: [] };
    case 'MODEL_NOT_READY':
    case 'MODEL_LOAD_FAILED':
    case 'MODEL_NOT_FOUND':
    case 'CHECKSUM_MISMATCH':
    case 'LABELS_MISMATCH':
      return {
        code,
        message: `The model could not be loaded: ${raw}`,
        actions: [{ title: 'Select Model', command: 'imageClassifier.selectModel' }, showOutput],
      };
    case 'MODEL_DOWNLOAD_FAILED':
      return {
        code,
        message: `The model could not be downloaded: ${raw}${/check the network/i.test(raw) ? '' : ' Check the network, or select a local .onnx file.'}`,
        actions: [{ title: 'Select Model', command: 'imageClassifier.selectModel' }, showOutput],
      };
    case 'REMOTE_AUTH_FAILED':
      return {
        code,
        message: raw,
        actions: [{ title: 'Set Credentials', command: 'imageClassifier.setRemoteCredentials' }, showOutput],
      };
    case 'REMOTE_UNAVAILABLE':
    case 'REMOTE_MODEL_NOT_FOUND':
    case 'REMOTE_MODEL_MISMATCH':
    case 'REMOTE_TIMEOUT':
    case 'REMOTE_FAILED':
      return { code, message: raw, actions: [showOutput] };
    case 'QUEUE_FULL':
      return { code, message: 'The classifier is busy with many images. Try again when the current run is done.', actions: [] };
    case 'FILE_NOT_FOUND':
    case 'UNSUPPORTED_FORMAT':
    case 'IMAGE_TOO_LARGE':
    case 'IMAGE_TOO_COMPLEX':
    case 'DECODE_FAILED':
    case 'INVALID_ARGUMENT':
      return { code, message: raw, actions: [] };
    default:
      return { code: code || 'INTERNAL', message: `${what} failed: ${raw}`, actions: [showOutput] };
  }
}
