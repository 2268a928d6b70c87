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
  /** The Similar tab's grid: images nearest to `of`, or (with `title`) the images found under a concept. */
  | { type: 'similar'; of: string; items: { file: string; similarity: number }[]; title?: string }
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
  /** The search box: the images the model sees under a WordNet noun. */
  | { type: 'find'; noun: string }
  | { type: 'export' }
  /** Test hook: time from the report's arrival to the first painted grid, and scrolling figures. */
  | { type: 'perf'; data: Record<string, number> };
