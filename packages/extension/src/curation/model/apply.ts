/**
 * Running a list of file operations safely: every check first (each path safe — places.ts —, each file as the
 * journal last saw it, every destination free), then the operations one by one, each path checked again just before
 * it is used; when one fails, the ones already done are rolled back. A rename or restore records the dataset folders
 * it created (`made`); its undo removes them again when they are empty, and a file leaving the state folder's trash
 * takes its emptied folders there with it.
 */
import { type FileOps, type FileState, fileState, sha256, stateDifference } from './file-ops';
import type { FileOp } from './journal';
import { TRASH_FOLDER, withSuffix } from './paths';
import { CurationError, isStatePath, type Places } from './places';

export interface OpContext {
  places: Places;
  ops: FileOps;
}

/** An operation as run: the undo of a rename or restore also removes the (empty) folders `prune` it had made. */
export type RunOp = FileOp & { prune?: string[] };

/** The inverse of an operation (what undoes it). */
export function inverseOp(op: FileOp): RunOp {
  const prune = 'made' in op && op.made?.length ? { prune: op.made } : {};
  switch (op.op) {
    case 'rename':
      return { op: 'rename', from: op.to, to: op.from, ...prune };
    case 'trash':
      return { op: 'restore', copy: op.copy, to: op.from };
    case 'restore':
      return { op: 'trash', from: op.to, copy: op.copy, ...prune };
    case 'decide':
      return { op: 'decide', file: op.file, before: op.after, after: op.before };
  }
}

/** `rel` or the first free ` (n)` variant of it, skipping `reserved` (destinations already planned). */
export async function freePath(ctx: OpContext, rel: string, reserved: Set<string>): Promise<string> {
  for (let n = 0; n < 100000; n++) {
    const candidate = n === 0 ? rel : withSuffix(rel, n);
    if (reserved.has(candidate)) continue;
    if (!(await ctx.ops.stat(ctx.places.abs(candidate)))) {
      reserved.add(candidate);
      return candidate;
    }
  }
  throw new Error(`no free name for ${rel}`);
}

async function stateOf(ctx: OpContext, rel: string): Promise<FileState | undefined> {
  return fileState(ctx.ops, await ctx.places.safe(rel), rel);
}

async function checkSource(ctx: OpContext, rel: string, expected: Map<string, FileState>): Promise<string | undefined> {
  const now = await stateOf(ctx, rel);
  const exp = expected.get(rel);
  if (exp) return stateDifference(exp, now);
  return now ? undefined : `${rel} is gone`;
}

async function checkFree(ctx: OpContext, rel: string, planned: Set<string>): Promise<string | undefined> {
  if (planned.has(rel)) return `${rel} would be written twice`;
  planned.add(rel);
  return (await ctx.ops.stat(await ctx.places.safe(rel))) ? `${rel} is taken now (something else is at that path)` : undefined;
}

/**
 * Why the operations cannot run (checked before any of them runs), or undefined when they can. A path that is not
 * safe (a link on the way, outside the dataset) throws CurationError UNSAFE_PATH.
 */
export async function checkOps(ctx: OpContext, ops: FileOp[], expected: Map<string, FileState>): Promise<string | undefined> {
  const destinations = new Set<string>();
  for (const op of ops) {
    let problem: string | undefined;
    if (op.op === 'rename') problem = (await checkSource(ctx, op.from, expected)) ?? (await checkFree(ctx, op.to, destinations));
    else if (op.op === 'restore') {
      problem = await checkSource(ctx, op.copy, expected);
      if (problem) problem = `the copy saved for undo is not usable (${problem}; the OS trash may still hold the file)`;
      problem ??= await checkFree(ctx, op.to, destinations);
    } else if (op.op === 'trash') {
      problem = await checkSource(ctx, op.from, expected);
      const saved = problem ? undefined : await stateOf(ctx, op.copy);
      const now = expected.get(op.from) ?? (await stateOf(ctx, op.from));
      if (saved && saved.sha256 !== now?.sha256) problem = `the copy saved at ${op.copy} differs from ${op.from}`;
    }
    if (problem) return problem;
  }
  return undefined;
}

async function copyVerified(ctx: OpContext, fromRel: string, toRel: string): Promise<void> {
  const data = await ctx.ops.readFile(await ctx.places.safe(fromRel));
  const to = await ctx.places.safe(toRel);
  await ctx.ops.createFile(to, data);
  const written = await ctx.ops.readFile(to);
  if (sha256(written) !== sha256(data)) throw new Error(`the copy of ${fromRel} at ${toRel} does not match its bytes`);
}

/** The dataset folders on the way to `rel` that do not exist yet (the operation will create them). */
async function missingDirs(ctx: OpContext, rel: string): Promise<{ made?: string[] }> {
  if (isStatePath(rel)) return {};
  const parts = rel.split('/');
  const made: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    if (made.length || !(await ctx.ops.stat(ctx.places.abs(dir)))) made.push(dir);
  }
  return made.length ? { made } : {};
}

/** After `op` took a file away from `source`: removes the emptied folders it made, or those left in the trash. */
async function pruneAfter(ctx: OpContext, op: RunOp, source: string): Promise<void> {
  const dirs = [...(op.prune ?? [])];
  if (source.startsWith(`${TRASH_FOLDER}/`)) {
    const parts = source.split('/');
    for (let i = parts.length - 1; i > 1; i--) dirs.push(parts.slice(0, i).join('/'));
  }
  dirs.sort((a, b) => b.split('/').length - a.split('/').length);
  for (const dir of dirs) {
    const abs = await ctx.places.safe(dir, 'folder').catch(() => undefined);
    if (abs) await ctx.ops.removeEmptyDir(abs);
  }
}

/** Runs one operation; returns the operation actually done (a trash without OS trash becomes a rename into `.trash/`). */
async function runOp(ctx: OpContext, op: RunOp, reserved: Set<string>): Promise<FileOp> {
  switch (op.op) {
    case 'rename': {
      const [from, to] = [await ctx.places.safe(op.from), await ctx.places.safe(op.to)];
      const made = await missingDirs(ctx, op.to);
      await ctx.ops.rename(from, to);
      await pruneAfter(ctx, op, op.from);
      return { op: 'rename', from: op.from, to: op.to, ...made };
    }
    case 'restore': {
      const made = await missingDirs(ctx, op.to);
      await copyVerified(ctx, op.copy, op.to);
      return { op: 'restore', copy: op.copy, to: op.to, ...made };
    }
    case 'trash': {
      const from = await ctx.places.safe(op.from);
      if (ctx.ops.osTrash) {
        if (!(await ctx.ops.stat(await ctx.places.safe(op.copy)))) await copyVerified(ctx, op.from, op.copy);
        if (await ctx.ops.trash(from)) {
          await pruneAfter(ctx, op, op.from);
          return { op: 'trash', from: op.from, copy: op.copy };
        }
      }
      const to = await freePath(ctx, `${TRASH_FOLDER}/${op.from}`, reserved);
      await ctx.ops.rename(from, await ctx.places.safe(to));
      await pruneAfter(ctx, op, op.from);
      return { op: 'rename', from: op.from, to };
    }
    case 'decide':
      return op;
  }
}

export interface RunResult {
  /** The operations done, in order (all of them when `error` is undefined). */
  done: FileOp[];
  error?: string;
  /** Operations that could not be rolled back after the error, in words. */
  rollbackFailures: string[];
}

/** Runs the operations in order; on a failure rolls back those done (newest first). */
export async function runOps(ctx: OpContext, ops: RunOp[]): Promise<RunResult> {
  const done: FileOp[] = [];
  const reserved = new Set<string>();
  for (const op of ops) {
    try {
      done.push(await runOp(ctx, op, reserved));
    } catch (e) {
      const what = op.op === 'decide' ? op.file : op.op === 'restore' ? op.to : op.from;
      const error = `${op.op} of ${what} failed (${(e as Error).message})`;
      const rollbackFailures = await rollback(ctx, done);
      if (e instanceof CurationError) throw new CurationError(e.code, `${error}.${rollbackTail(rollbackFailures)}`);
      return { done: [], error, rollbackFailures };
    }
  }
  return { done, rollbackFailures: [] };
}

/** The end of a failure's sentence: everything was rolled back, or what could not be. */
export function rollbackTail(failures: string[]): string {
  return failures.length
    ? ` Some operations could not be rolled back: ${failures.join('; ')}.`
    : ' What had been done was rolled back: nothing was changed.';
}

/** Undoes `done` newest first; returns what could not be undone, in words (where each file is now). */
export async function rollback(ctx: OpContext, done: FileOp[]): Promise<string[]> {
  const failures: string[] = [];
  for (const op of [...done].reverse()) {
    try {
      await runOp(ctx, inverseOp(op), new Set());
    } catch (e) {
      const where = op.op === 'rename' ? `${op.from} is at ${op.to}` : op.op === 'trash' ? `${op.from} is saved at ${op.copy}` : '';
      failures.push(`${where} (${(e as Error).message})`);
    }
  }
  return failures;
}

/** The state of each file the operations left in place (for the journal, checked before undo/redo). */
export async function statesAfter(ctx: OpContext, done: FileOp[]): Promise<FileState[]> {
  const out: FileState[] = [];
  for (const op of done) {
    const rel = op.op === 'rename' ? op.to : op.op === 'trash' ? op.copy : op.op === 'restore' ? op.to : op.file;
    const st = await stateOf(ctx, rel).catch(() => undefined);
    if (st) out.push(st);
  }
  return out;
}
