/**
 * The curation journal: `journal.jsonl` in the board's state folder beside the dataset (state.ts), append-only, one
 * JSON object per line (version `v: 1`).
 * Every action (move, trash, keep, unkeep) is an entry with the file operations it did and the state (size, mtime,
 * sha256) of each file after it; undo and redo are entries too (`target` = the action's id), so the undo/redo stacks
 * are rebuilt from the file alone after a window reload. Each line is appended and fsync'ed in one write: a crash
 * can only tear the last line, which the reader reports and skips, keeping every other entry.
 *
 * The journal is data from disk (a dataset shared as an archive may carry one), so reading it checks every entry:
 * each path must be a plain relative path the board acts on (places.ts `journalPathProblem`: no `..`, not absolute,
 * inside the dataset or the state folder), each id must be new (a repeated id is a replayed line), and an entry that
 * fails is reported and skipped, the rest kept.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { FileState } from './file-ops';
import { journalPathProblem } from './places';
import { relProblem } from './paths';
import { ensureStateDir } from './state';
import type { BoardActionKind } from '../shared/types';

export const JOURNAL_VERSION = 1 as const;
export const JOURNAL_FILE = 'journal.jsonl';

/** A "keep label" decision: the class folder the user confirmed, and when. */
export interface Decision {
  label: string;
  at: string;
}

export type FileOp =
  /**
   * A move, a trash into `.trash/` (the state folder's `trash/`), or the undo of either. `made`: the dataset folders
   * the rename created (removed again, when empty, by its undo).
   */
  | { op: 'rename'; from: string; to: string; made?: string[] }
  /** Moved to the OS trash after its bytes were saved at `copy` (`.curation/trash/<action id>/…`, the state folder's `trash-copies/`). */
  | { op: 'trash'; from: string; copy: string }
  /** The saved copy written back to `to` (the undo of `trash`; the copy stays). */
  | { op: 'restore'; copy: string; to: string; made?: string[] }
  /** decisions.json: `file`'s decision went from `before` to `after` (null = none). */
  | { op: 'decide'; file: string; before: Decision | null; after: Decision | null };

export interface JournalEntry {
  v: typeof JOURNAL_VERSION;
  id: string;
  /** ISO time. */
  at: string;
  kind: BoardActionKind | 'undo' | 'redo';
  /** For undo/redo: the id of the action undone or redone. */
  target?: string;
  ops: FileOp[];
  /** Each file an operation left in place, as it is after this entry. */
  files: FileState[];
  /** What was done, in words. */
  message: string;
}

export interface JournalState {
  /** The readable entries, in order. */
  entries: JournalEntry[];
  /** Applied actions, oldest first: the last one is what Undo undoes. */
  done: string[];
  /** Undone actions, most recently undone last: what Redo redoes. */
  undone: string[];
  /** Lines skipped (torn by a crash, not JSON, not an entry) and inconsistent markers, in words. */
  problems: string[];
  /** False when the file's last line was torn (no final line break). */
  endsClean: boolean;
}

const KINDS = new Set(['move', 'trash', 'keep', 'unkeep', 'undo', 'redo']);

function isEntry(o: unknown): o is JournalEntry {
  const e = o as JournalEntry;
  return (
    !!e &&
    typeof e === 'object' &&
    e.v === JOURNAL_VERSION &&
    typeof e.id === 'string' &&
    typeof e.at === 'string' &&
    KINDS.has(e.kind) &&
    Array.isArray(e.ops) &&
    Array.isArray(e.files) &&
    typeof e.message === 'string' &&
    ((e.kind !== 'undo' && e.kind !== 'redo') || typeof e.target === 'string')
  );
}

/** The paths an operation names (the `decide` file too). */
export function opPaths(op: FileOp): unknown[] {
  const made = 'made' in op && op.made !== undefined ? (Array.isArray(op.made) ? op.made : [op.made]) : [];
  switch (op.op) {
    case 'rename':
      return [op.from, op.to, ...made];
    case 'trash':
      return [op.from, op.copy];
    case 'restore':
      return [op.copy, op.to, ...made];
    case 'decide':
      return [op.file];
    default:
      return [undefined];
  }
}

const isDecision = (d: unknown) => d === null || (!!d && typeof (d as Decision).label === 'string');

/** Why an entry's operations or file states cannot be acted on (a path outside, an unknown operation), or undefined. */
export function entryProblem(e: JournalEntry): string | undefined {
  for (const op of e.ops) {
    if (!op || !['rename', 'trash', 'restore', 'decide'].includes((op as FileOp).op)) return 'it names an unknown file operation';
    if (op.op === 'decide' && (!isDecision(op.before) || !isDecision(op.after))) return 'it holds a malformed decision';
    for (const p of opPaths(op)) {
      const problem = op.op === 'decide' && typeof p === 'string' ? relProblem(p) : journalPathProblem(p);
      if (problem) return problem;
    }
  }
  for (const f of e.files) {
    const problem = journalPathProblem(f?.path);
    if (problem) return problem;
  }
  return undefined;
}

/** Splits the journal's text into entries; every unreadable line is reported and skipped, the rest kept. */
export function parseJournal(text: string): { entries: JournalEntry[]; problems: string[]; endsClean: boolean } {
  const entries: JournalEntry[] = [];
  const problems: string[] = [];
  const lines = text.split('\n');
  const endsClean = lines[lines.length - 1] === '';
  if (endsClean) lines.pop();
  const ids = new Set<string>();
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const torn = !endsClean && i === lines.length - 1;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      problems.push(
        torn ? `line ${i + 1} is incomplete (a write torn by a crash); it was skipped` : `line ${i + 1} is not valid JSON; it was skipped`,
      );
      return;
    }
    if (isEntry(o)) {
      const problem = entryProblem(o);
      if (problem) problems.push(`line ${i + 1} (entry ${o.id}) was skipped: ${problem}`);
      else if (ids.has(o.id))
        problems.push(`line ${i + 1} repeats the entry id ${o.id} (a copied or replayed line); it was refused and skipped`);
      else {
        ids.add(o.id);
        entries.push(o);
      }
    } else if (o && typeof o === 'object' && typeof (o as { v?: unknown }).v === 'number' && (o as { v: number }).v > JOURNAL_VERSION)
      problems.push(`line ${i + 1} was written by a newer version (v${(o as { v: number }).v}); it was skipped`);
    else problems.push(`line ${i + 1} is not a journal entry; it was skipped`);
  });
  return { entries, problems, endsClean };
}

/** Rebuilds the undo/redo stacks from the entries. */
export function replayJournal(entries: JournalEntry[]): { done: string[]; undone: string[]; problems: string[] } {
  const done: string[] = [];
  const undone: string[] = [];
  const problems: string[] = [];
  for (const e of entries) {
    if (e.kind === 'undo') {
      if (done[done.length - 1] === e.target) undone.push(done.pop()!);
      else problems.push(`entry ${e.id} undoes ${e.target}, which was not the last applied action; it was ignored`);
    } else if (e.kind === 'redo') {
      if (undone[undone.length - 1] === e.target) done.push(undone.pop()!);
      else problems.push(`entry ${e.id} redoes ${e.target}, which was not the last undone action; it was ignored`);
    } else {
      done.push(e.id);
      undone.length = 0;
    }
  }
  return { done, undone, problems };
}

/** The entry that last applied (action or redo) or reverted (undo) the action `id`. */
export function latestEntryFor(entries: JournalEntry[], id: string): JournalEntry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.id === id || e.target === id) return e;
  }
  return undefined;
}

/** A new entry id: the time and 48 random bits (ids must be unique: a repeated one is refused as a replayed line). */
export function newEntryId(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
}

/** The journal file of one dataset (in its state folder). */
export class Journal {
  constructor(readonly file: string) {}

  /** Reads the entries; `check` (the file-system checks of an entry's paths) may skip more, with a reason. */
  async load(check?: (e: JournalEntry) => Promise<string | undefined>): Promise<JournalState> {
    let text = '';
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const parsed = parseJournal(text);
    const entries: JournalEntry[] = [];
    for (const e of parsed.entries) {
      const problem = check ? await check(e) : undefined;
      if (problem) parsed.problems.push(`entry ${e.id} was skipped: ${problem}`);
      else entries.push(e);
    }
    const replayed = replayJournal(entries);
    return {
      entries,
      done: replayed.done,
      undone: replayed.undone,
      problems: [...parsed.problems, ...replayed.problems],
      endsClean: parsed.endsClean,
    };
  }

  /**
   * Appends one entry as one line and fsyncs it. After a torn last line, a line break goes first, so the torn
   * fragment stays on its own line (reported and skipped on reading) and never swallows the new entry.
   */
  async append(entry: JournalEntry, endsClean = true): Promise<void> {
    await ensureStateDir(path.dirname(this.file));
    const fh = await fs.open(this.file, 'a');
    try {
      await fh.write(`${endsClean ? '' : '\n'}${JSON.stringify(entry)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
