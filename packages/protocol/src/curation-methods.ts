/**
 * The curation methods: `imageClassifier/curate` (a dataset's CurationReport, with progress, partial results and
 * cancellation), `imageClassifier/similar` (the nearest images of a dataset to one image) and
 * `imageClassifier/thumbnails` (small WebP previews for the curation board). No native imports.
 *
 * Re-query: there is no change notification. Calling `curate` again is the way to refresh a report: embeddings come
 * from the server's content-hash-keyed cache (the same one `classify` uses) and pixel features from an in-memory
 * cache keyed by the same hash, so a re-run only reads and embeds files whose content is new; a file moved to
 * another class folder keeps its cached embedding and gets its new label. `run.embedded` says how many files the
 * model actually ran on.
 */
import { ProgressType, RequestType } from 'vscode-jsonrpc';
import type { CurationCheck, CurationReport } from './curation.js';
import type { ErrorDto } from './errors.js';
import { type MessageDirection, paramsUsage } from './rpc.js';

// ---- imageClassifier/curate --------------------------------------------------------------------------------

export interface CurateParams {
  /** file:// URI (or absolute path) of the dataset folder; it must be inside the workspace (OUTSIDE_WORKSPACE). */
  root: string;
  /** Default: all of CURATION_CHECKS. */
  checks?: CurationCheck[];
  /** LSP work-done progress: begin, reports ("embedding 40/104 · 12 img/s", then "analysing 104 images"), end. */
  workDoneToken?: string | number;
  /** LSP partial results: arrays of `CurateFileProgress`, one entry per file as its embedding is ready. */
  partialResultToken?: string | number;
}

/**
 * A partial result: one file read and embedded (or failed), before the analysis. Enough for a UI to fill a tree of
 * the dataset (label, model's guess) while the run goes on; the issues come with the final report.
 */
export interface CurateFileProgress {
  /** Relative to the root, `/`-separated (as in the report). */
  file: string;
  label?: string;
  split?: string;
  /** The embedding came from the cache (the model did not run). */
  cached?: boolean;
  predicted?: { label: string; probability: number };
  error?: ErrorDto;
}

/** What the run cost (the report's `timingsMs` has the phases). */
export interface CurateRunStats {
  /** Files the model ran on (0 on a re-run over unchanged or moved files). */
  embedded: number;
  /** Files whose embedding came from the cache. */
  cachedEmbeddings: number;
  /** Files whose pixel features (hashes, quality) came from the in-memory cache. */
  cachedFeatures: number;
  failed: number;
  /** Where the analysis ran: 'worker' (a worker thread; the JSON-RPC thread stays free) or 'main'. */
  analysisThread: 'worker' | 'main';
  /**
   * How the neighbour index was made: exact search (up to 5,000 images), or a graph built, or the graph the last run
   * of this folder saved, updated (`reused` rows whose content was unchanged, moved files included; `added` new or
   * edited content; `removed` content that is gone). `rebuilt`: why the graph saved by the last run was not used
   * and the graph was built again (torn, changed since it was written, another version, or it crashed the loader).
   * Absent when the analysis did not say.
   */
  neighbourIndex?: {
    kind: 'exact' | 'built' | 'updated' | 'loaded';
    reused?: number;
    added?: number;
    removed?: number;
    rebuilt?: string;
  };
  durationMs: number;
}

/**
 * The report, or (on cancellation, like classifyBatch) `cancelled: true` without one. The model-class opinion of
 * the label check (folder names that are ImageNet classes) is not used here: cached results keep no logits.
 */
export type CurateResult =
  | (CurationReport & { cancelled: false; run: CurateRunStats })
  | { cancelled: true; root: string; run: CurateRunStats };

export namespace CurateRequest {
  export const method = 'imageClassifier/curate' as const;
  export const type = new RequestType<CurateParams, CurateResult, void>(method);
  export const messageDirection: MessageDirection = 'clientToServer';
  export const usage = paramsUsage<CurateParams>()('root', 'checks?');
  /** The shape of partial results on `$/progress`. */
  export const partialResult = new ProgressType<CurateFileProgress[]>();
}

// ---- imageClassifier/similar -------------------------------------------------------------------------------

export interface SimilarParams {
  /** The query image (inside the workspace; inside the dataset or not). */
  uri: string;
  /** How many neighbours (default 10, at most 1000). */
  k?: number;
  /**
   * The dataset folder to search. Default: the last root `curate` analysed. A root not curated yet is embedded
   * first (through the cache), without the analysis.
   */
  root?: string;
}

export interface SimilarHitDto {
  /** file:// URI of the neighbour. */
  uri: string;
  /** Relative to the root, `/`-separated. */
  file: string;
  /** Cosine similarity of the embeddings, -1..1 (1 for the image itself). */
  similarity: number;
}

export interface SimilarResult {
  /** The dataset folder searched (absolute path). */
  root: string;
  /** Nearest first; a query inside the dataset finds itself first. */
  items: SimilarHitDto[];
  /** Images in the index searched. */
  indexed: number;
  durationMs: number;
}

export namespace SimilarRequest {
  export const method = 'imageClassifier/similar' as const;
  export const type = new RequestType<SimilarParams, SimilarResult, void>(method);
  export const messageDirection: MessageDirection = 'clientToServer';
  export const usage = paramsUsage<SimilarParams>()('uri', 'k?', 'root?');
}

// ---- imageClassifier/find ----------------------------------------------------------------------------------

export interface FindParams {
  /** A noun: a WordNet 3.0 lemma with ImageNet classes below it ("vehicle", "dogs", "musical_instruments"). */
  noun: string;
  /** The dataset folder to search (inside the workspace). */
  root: string;
  /** How many files (default 50, at most 10,000). */
  top?: number;
}

export interface FindConceptDto {
  /** WordNet 3.0 id (n + noun offset). */
  synset: string;
  name: string;
  imagenetClasses: number;
}

export interface FindHitDto {
  uri: string;
  /** Relative to the root, `/`-separated. */
  file: string;
  /** The model's probability under the synset (over its top 10 classes, as the result cache keeps them), 0..1. */
  mass: number;
  /** The model's top class. */
  predicted?: { label: string; probability: number };
}

export interface FindResult {
  root: string;
  noun: string;
  /** The sense searched: of the noun's senses, the one holding the most of the dataset's probability. */
  concept: FindConceptDto;
  senses: FindConceptDto[];
  /** Highest mass first. */
  items: FindHitDto[];
  /** Images searched. */
  searched: number;
  durationMs: number;
}

/** An unknown noun answers INVALID_ARGUMENT with close matches in its message. */
export namespace FindRequest {
  export const method = 'imageClassifier/find' as const;
  export const type = new RequestType<FindParams, FindResult, void>(method);
  export const messageDirection: MessageDirection = 'clientToServer';
  export const usage = paramsUsage<FindParams>()('noun', 'root', 'top?');
}

// ---- imageClassifier/thumbnails ----------------------------------------------------------------------------

export interface ThumbnailsParams {
  /** file:// URIs (or absolute paths) of images inside the workspace (else that item's error is OUTSIDE_WORKSPACE). */
  uris: string[];
  /** Longest side in pixels: default `ThumbnailsRequest.defaultSize` (192), 16..`ThumbnailsRequest.maxSize` (512). */
  size?: number;
}

export interface ThumbnailItem {
  /** As sent. */
  uri: string;
  /** Absolute path of the WebP (inside `ThumbnailsResult.dir`); absent with `error`. */
  path?: string;
  /** The thumbnail's size (its longest side ≤ the size asked; a smaller image is not enlarged). */
  width?: number;
  height?: number;
  /** The image could not be read or decoded (the codes of `classify`: DECODE_FAILED, IMAGE_TOO_COMPLEX, …). */
  error?: ErrorDto;
}

/**
 * One item per URI, in order. Thumbnails are WebP files in the server's cache folder, named by the image's content
 * hash and the size: a moved or renamed image keeps its thumbnail, a changed one gets a new one; `clearCache`
 * removes them. Cancellation answers with the items finished so far (`cancelled: true`).
 */
export interface ThumbnailsResult {
  /** Absolute folder holding every thumbnail (for a webview's `localResourceRoots`). */
  dir: string;
  items: ThumbnailItem[];
  cancelled: boolean;
  /** Thumbnails made now (the rest came from the cache or failed). */
  made: number;
  durationMs: number;
}

export namespace ThumbnailsRequest {
  export const method = 'imageClassifier/thumbnails' as const;
  export const defaultSize = 192;
  export const minSize = 16;
  export const maxSize = 512;
  export const type = new RequestType<ThumbnailsParams, ThumbnailsResult, void>(method);
  export const messageDirection: MessageDirection = 'clientToServer';
  export const usage = paramsUsage<ThumbnailsParams>()('uris: string[]', 'size?');
}
