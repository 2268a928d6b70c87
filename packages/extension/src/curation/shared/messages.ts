/**
 * The messages between the curation panel (extension host) and the board (webview script). No DOM:
 * both sides import these types. Paths are relative to the dataset root, '/'-separated, as in the report.
 */
import type { CurateFileProgress, CurationReport } from '@image-classifier/protocol';
import type { IssueTab } from './issue-counts';
import type { ActionOutcome, BoardActionKind } from './types';

/** What the host knows about a file on disk (for the duplicate keep rules): bytes and modification time. */
export interface FileFacts {
  bytes: number;
  mtimeMs: number;
}

/** A sense of the searched noun: WordNet 3.0 id, its first lemma, the ImageNet classes at or below it. */
export interface FoundConcept {
  synset: string;
  name: string;
  imagenetClasses: number;
}

/** Files the host asks `imageClassifier/find` for (the board shows those with at least FIND_MIN_MASS of them). */
export const FIND_TOP = 1000;

export interface UndoState {
  canUndo: boolean;
  canRedo: boolean;
}

export type HostMessage =
  | { type: 'progress'; message: string; partial: CurateFileProgress[] }
  | ({
      type: 'report';
      /** The dataset folder's URI (kept in the webview's state for the panel serializer). */
      rootUri: string;
      report: CurationReport;
      facts: Record<string, FileFacts>;
      kept: string[];
      /** Path changes made since the report (applied on top of it). */
      changes: ActionOutcome['changes'];
    } & UndoState)
  | ({ type: 'outcome'; outcome: ActionOutcome } & UndoState)
  /** Image URLs (webview URIs) for files, by path. */
  | { type: 'thumbs'; urls: Record<string, string> }
  /** The Similar tab's grid: the images nearest to `of`. */
  | { type: 'similar'; of: string; items: { file: string; similarity: number }[] }
  /**
   * The answer to the search box's `find` of the same `seq`: the images under the noun's synset, highest mass first
   * (the server's top FIND_TOP of `searched`), or `error`: why the noun finds nothing (not in the hierarchy, with
   * close matches).
   */
  | ({ type: 'found'; seq: number; noun: string } & (
      | { concept: FoundConcept; otherSenses: FoundConcept[]; items: { file: string; mass: number }[]; searched: number }
      | { error: string }
    ))
  | { type: 'status'; message: string; error?: boolean }
  /** Show this tab (a row of the Image Labels view's curation group was clicked). */
  | { type: 'tab'; tab: IssueTab };

export type BoardMessage =
  | { type: 'ready' }
  | { type: 'action'; action: BoardActionKind; files: string[]; toLabel?: string }
  | { type: 'undo' }
  | { type: 'redo' }
  | { type: 'open'; file: string }
  | { type: 'thumbs'; files: string[] }
  | { type: 'similar'; file: string }
  /**
   * The search box: the images the model sees under a WordNet noun; answered by `found` with the same `seq`. A newer
   * `find` cancels the one in flight; an empty `noun` only cancels.
   */
  | { type: 'find'; noun: string; seq: number }
  | { type: 'export' }
  /** Test hook: time from the report's arrival to the first painted grid, and scrolling figures. */
  | { type: 'perf'; data: Record<string, number> };
