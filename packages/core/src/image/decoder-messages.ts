/**
 * The messages between the engine and its decoders: decoder processes (preprocess-pool.ts) and decoder threads
 * (decoder-threads.ts), which run the same script (preprocess-worker.ts).
 */
import { ClassifierError, type ErrorCode, toClassifierError } from '../errors.js';
import type { PreprocessConfig } from './preprocess.js';
import type { Thumbnail } from './thumbnail.js';
import type { PreprocessingMode } from '@image-classifier/protocol/settings';

/**
 * `ack`: the decoder answers `started` when it picks the job up (the job's time budget counts from then). A job
 * sent to a decoder that is up and has nothing else to do is picked up at once: its budget counts from the send,
 * and it goes without the extra message.
 */
export interface PreprocessRequest {
  type: 'run';
  id: number;
  ack?: boolean;
  bytes: Uint8Array;
  name: string;
  preprocessing: PreprocessingMode;
  config: PreprocessConfig;
  maxPixels?: number;
}

/** A thumbnail job (see thumbnail.ts): the same decoders, time budget and guards as a classification's decode. */
export interface ThumbnailRequest {
  type: 'thumbnail';
  id: number;
  ack?: boolean;
  bytes: Uint8Array;
  name: string;
  size: number;
  maxPixels?: number;
}

export type DecoderRequest = PreprocessRequest | ThumbnailRequest;

export type PreprocessResponse =
  | { type: 'started'; id: number }
  /** Sent once, when the decoder has loaded the image library (see `preload`). */
  | { type: 'ready'; id: 0 }
  /** The crop's 8-bit RGB pixels (cropWidth × cropHeight); the pool normalizes them into the caller's tensor. */
  | { type: 'done'; id: number; rgb: Uint8Array; cropWidth: number; cropHeight: number; width: number; height: number; format: string }
  | { type: 'thumbnail'; id: number; thumbnail: Thumbnail }
  | { type: 'error'; id: number; error: DecoderError };

export interface ThreadRequest {
  id: number;
  bytes: Uint8Array;
  name: string;
  config: PreprocessConfig;
  maxPixels?: number;
  /** Transferred to the thread and back in every answer. */
  out: Float32Array;
}

export type ThreadResponse =
  /** Unasked, once: the thread has compiled the decoder and waits for work. */
  | { type: 'ready'; id: 0; tid?: number }
  | { type: 'done'; id: number; out: Float32Array; width: number; height: number; format: string }
  /** Not a file the WebAssembly decoder takes after all (a libjpeg warning…): a decoder process decodes it. */
  | { type: 'declined'; id: number; out: Float32Array }
  | { type: 'error'; id: number; out: Float32Array; error: DecoderError };

/** An error as a decoder sends it: its code, message and details. */
export interface DecoderError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** What a decoder (process or thread) sends for an error it met: DECODE_FAILED unless it is a ClassifierError. */
export function toDecoderError(e: unknown): DecoderError {
  const err = toClassifierError(e, 'DECODE_FAILED');
  return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
}

/** The decoder's error again, on the caller's side. */
export function fromDecoderError(e: DecoderError): ClassifierError {
  return new ClassifierError(e.code, e.message, e.details ? { details: e.details } : undefined);
}

/** A decode stopped past its time budget (its process killed, its thread terminated). */
export function overBudgetError(name: string, timeoutMs: number, thumbnail = false): ClassifierError {
  return new ClassifierError(
    'IMAGE_TOO_COMPLEX',
    `${name} took longer than ${timeoutMs / 1000} s to decode; it was stopped and ${thumbnail ? 'has no thumbnail' : 'not classified'}. Simplify it or convert it to PNG/JPEG.`,
    { details: { timeoutMs } },
  );
}
