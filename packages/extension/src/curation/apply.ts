/**
 * Running a list of file operations safely: every check first (each file as the journal last saw it, every
 * destination free), then the operations one by one; when one fails, the ones already done are rolled back.
 * No vscode import.
 */
import { absPath, TRASH_FOLDER, withSuffix } from './paths';
import { type FileOps, type FileState, fileState, sha256, stateDifference } from './file-ops';
import type { FileOp } from './journal';

export interface OpContext {
  root: string;
  ops: FileOps;
}

/** The inverse of an operation (what undoes it). */
export function inverseOp(op: FileOp): FileOp {
  switch (op.op) {
    case 'rename':
      return { op: 'rename', from: op.to, to: op.from };
    case 'trash':
      return { op: 'restore', copy: op.copy, to: op.from };
    case 'restore':
      return { op: 'trash', from: op.to, copy: op.copy };
    case 'decide':
      return { op: 'decide', file: op.file, before: op.after, after: op.before };
  }
}

/** `rel` or the first free ` (n)` variant of it, skipping `reserved` (destinations already planned). */
export async function freePath(ctx: OpContext, rel: string, reserved: Set<string>): Promise<string> {
  for (let n = 0; n < 100000; n++) {
    const candidate = n === 0 ? rel : withSuffix(rel, n);
    if (reserved.has(candidate)) continue;
    if (!(await ctx.ops.stat(absPath(ctx.root, candidate)))) {
      reserved.add(candidate);
      return candidate;
    }
  }
  throw new Error(`no free name for ${rel}`);
}

async function checkSource(ctx: OpContext, rel: string, expected: Map<string, FileState>): Promise<string | undefined> {
  const now = await fileState(ctx.ops, ctx.root, rel);
  const exp = expected.get(rel);
  if (exp) return stateDifference(exp, now);
  return now ? undefined : `${rel} is gone`;
}

async function checkFree(ctx: OpContext, rel: string, planned: Set<string>): Promise<string | undefined> {
  if (planned.has(rel)) return `${rel} would be written twice`;
  planned.add(rel);
  return (await ctx.ops.stat(absPath(ctx.root, rel))) ? `${rel} is taken now (something else is at that path)` : undefined;
}

/** Why the operations cannot run (checked before any of them runs), or undefined when they can. */
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
      const saved = problem ? undefined : await fileState(ctx.ops, ctx.root, op.copy);
      const now = expected.get(op.from) ?? (await fileState(ctx.ops, ctx.root, op.from));
      if (saved && saved.sha256 !== now?.sha256) problem = `the copy saved at ${op.copy} differs from ${op.from}`;
    }
    if (problem) return problem;
  }
  return undefined;
}

async function copyVerified(ctx: OpContext, fromRel: string, toRel: string): Promise<void> {
  const data = await ctx.ops.readFile(absPath(ctx.root, fromRel));
  await ctx.ops.createFile(absPath(ctx.root, toRel), data);
  const written = await ctx.ops.readFile(absPath(ctx.root, toRel));
  if (sha256(written) !== sha256(data)) throw new Error(`the copy of ${fromRel} at ${toRel} does not match its bytes`);
}

/** Runs one operation; returns the operation actually done (a trash without OS trash becomes a rename into .trash/). */
async function runOp(ctx: OpContext, op: FileOp, reserved: Set<string>): Promise<FileOp> {
  switch (op.op) {
    case 'rename':
      await ctx.ops.rename(absPath(ctx.root, op.from), absPath(ctx.root, op.to));
      return op;
    case 'restore':
      await copyVerified(ctx, op.copy, op.to);
      return op;
    case 'trash': {
      if (ctx.ops.osTrash) {
        if (!(await ctx.ops.stat(absPath(ctx.root, op.copy)))) await copyVerified(ctx, op.from, op.copy);
        if (await ctx.ops.trash(absPath(ctx.root, op.from))) return op;
      }
      const to = await freePath(ctx, `${TRASH_FOLDER}/${op.from}`, reserved);
      await ctx.ops.rename(absPath(ctx.root, op.from), absPath(ctx.root, to));
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
export async function runOps(ctx: OpContext, ops: FileOp[]): Promise<RunResult> {
  const done: FileOp[] = [];
  const reserved = new Set<string>();
  for (const op of ops) {
    try {
      done.push(await runOp(ctx, op, reserved));
    } catch (e) {
      const what = op.op === 'decide' ? op.file : op.op === 'restore' ? op.to : op.from;
      const error = `${op.op} of ${what} failed (${(e as Error).message})`;
      return { done: [], error, rollbackFailures: await rollback(ctx, done) };
    }
  }
  return { done, rollbackFailures: [] };
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
    const st = await fileState(ctx.ops, ctx.root, rel);
    if (st) out.push(st);
  }
  return out;
}
