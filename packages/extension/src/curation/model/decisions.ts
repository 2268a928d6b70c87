/**
 * `decisions.json` in the board's state folder beside the dataset (state.ts): the files whose folder label the user confirmed ("keep label"), so they stop
 * appearing as label issues and the decision travels with the dataset in version control. Diff-friendly: a version
 * field, files sorted, one file per line:
 *
 *   {
 *     "version": 1,
 *     "keep": {
 *       "cats/img1.jpg": {"at":"2026-12-01T10:00:00.000Z","label":"cats"}
 *     }
 *   }
 *
 * `label` is the class folder confirmed. A file moved or trashed by the board loses its decision (the move says the
 * folder was wrong after all); undoing the move brings it back. Written to a temporary file, fsync'ed, then renamed
 * over the old one, so a crash leaves the old or the new file, never half of one. A key that is not a plain dataset
 * path (`../x.jpg`, `/etc/passwd`, a dot folder) is reported and ignored by the board, and written back unchanged.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Decision, FileOp } from './journal';
import { relProblem } from './paths';
import { ensureStateDir } from './state';

export const DECISIONS_VERSION = 1 as const;
export const DECISIONS_FILE = 'decisions.json';

export type Decisions = Map<string, Decision>;

export class DecisionsError extends Error {
  readonly code = 'DECISIONS_UNREADABLE';
}

/** The file's text for `decisions` (sorted, one entry per line, stable key order). */
export function formatDecisions(decisions: Decisions): string {
  const files = [...decisions.keys()].sort();
  const lines = files.map((f) => {
    const d = decisions.get(f)!;
    return `    ${JSON.stringify(f)}: {"at":${JSON.stringify(d.at)},"label":${JSON.stringify(d.label)}}`;
  });
  const keep = lines.length ? `{\n${lines.join(',\n')}\n  }` : '{}';
  return `{\n  "version": ${DECISIONS_VERSION},\n  "keep": ${keep}\n}\n`;
}

/** Parses decisions.json; throws DecisionsError (the file is never overwritten then) when it is not one. */
export function parseDecisions(text: string, where = DECISIONS_FILE): Decisions {
  let o: { version?: unknown; keep?: unknown };
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new DecisionsError(`${where} is not valid JSON (${(e as Error).message}); fix or remove it`);
  }
  if (!o || typeof o !== 'object' || o.version !== DECISIONS_VERSION)
    throw new DecisionsError(`${where} is not a version ${DECISIONS_VERSION} decisions file; fix or remove it`);
  const out: Decisions = new Map();
  const keep = o.keep ?? {};
  if (typeof keep !== 'object' || Array.isArray(keep)) throw new DecisionsError(`${where}: "keep" must be an object; fix or remove it`);
  for (const [file, d] of Object.entries(keep as Record<string, unknown>)) {
    const dd = d as Partial<Decision> | null;
    if (!dd || typeof dd.label !== 'string') throw new DecisionsError(`${where}: the entry for “${file}” has no label; fix or remove it`);
    out.set(file, { label: dd.label, at: typeof dd.at === 'string' ? dd.at : '' });
  }
  return out;
}

export class DecisionsFile {
  /** Keys that are not plain dataset paths, in words (from the last load). */
  problems: string[] = [];
  /** Those entries, kept as they were so a save writes them back. */
  private ignored: Decisions = new Map();

  constructor(readonly file: string) {}

  /** The decisions (empty when the file does not exist); throws DecisionsError when it cannot be read. */
  async load(): Promise<Decisions> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new DecisionsError(`${this.file} cannot be read (${(e as Error).message})`);
    }
    const all = parseDecisions(text, this.file);
    const out: Decisions = new Map();
    this.ignored = new Map();
    this.problems = [];
    for (const [file, d] of all) {
      const problem = relProblem(file);
      if (!problem) out.set(file, d);
      else {
        this.ignored.set(file, d);
        this.problems.push(`${DECISIONS_FILE}: the entry for ${problem}; it was ignored`);
      }
    }
    return out;
  }

  async save(decisions: Decisions): Promise<void> {
    await ensureStateDir(path.dirname(this.file));
    const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
    const fh = await fs.open(tmp, 'wx');
    try {
      await fh.writeFile(formatDecisions(new Map([...this.ignored, ...decisions])));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, this.file);
  }

  /** Applies the `decide` operations among `done` to the file (re-read first). */
  async apply(done: FileOp[]): Promise<void> {
    const decide = done.filter((o): o is Extract<FileOp, { op: 'decide' }> => o.op === 'decide');
    if (!decide.length) return;
    const d = await this.load();
    for (const op of decide) {
      if (op.after) d.set(op.file, op.after);
      else d.delete(op.file);
    }
    await this.save(d);
  }
}
