/** The curation board's actions (contract between the board panel and the journal). */
export type BoardActionKind = 'move' | 'trash' | 'keep' | 'unkeep';

/** Why an action was refused, where the user must act: a link or a path outside, a read-only board, a held lock. */
export type CurationErrorCode = 'UNSAFE_PATH' | 'READ_ONLY' | 'LOCKED';

export interface ActionOutcome {
  ok: boolean;
  /** One sentence for the user: what happened, or why it was refused (nothing was changed then). */
  message: string;
  /** Paths that changed, relative to the root: `to` undefined = the file left the dataset (trashed). */
  changes: { from: string; to?: string }[];
  /** Files whose "keep label" decision changed. */
  decisions: { file: string; keep: boolean }[];
  /** Why it was refused, for refusals the user must act on (a link on the way, a read-only board, a held lock). */
  code?: CurationErrorCode;
  /** Problems found since the last outcome (journal lines skipped, old folders moved), in words: shown as a warning. */
  warnings?: string[];
}

export interface CurationController {
  /** Absolute file-system path of the dataset root. */
  readonly root: string;
  /** The board's state folder beside the dataset (journal, decisions, trash, export). */
  readonly stateDir: string;
  /** Set when the board cannot write its state: why, and what to do (every action is refused with it). */
  readonly readOnly?: string;
  /** Move files into the class folder `toLabel` (same split); a name clash gets a suffix, never overwrites. */
  move(files: string[], toLabel: string): Promise<ActionOutcome>;
  /** Trash (OS trash locally, the state folder's `trash/` where there is none), undoable. */
  trash(files: string[]): Promise<ActionOutcome>;
  /** "The folder is right": recorded in the state folder's `decisions.json`. */
  keepLabel(files: string[]): Promise<ActionOutcome>;
  unkeepLabel(files: string[]): Promise<ActionOutcome>;
  undo(): Promise<ActionOutcome>;
  redo(): Promise<ActionOutcome>;
  canUndo(): boolean;
  canRedo(): boolean;
  /** Files the user decided to keep (decisions.json). */
  keptFiles(): ReadonlySet<string>;
  /** Writes curation-issues.csv, curation-issues.json and clean-files.txt into `dir`; returns the paths written. */
  exportReport(report: import('@image-classifier/protocol').CurationReport, dir: string): Promise<string[]>;
}
