/**
 * The curation actions on a dataset root, over any `FileOps`: move, trash, keep/unkeep, undo/redo and export,
 * journaled in `<root>/.curation/journal.jsonl` (see journal.ts) with decisions in `.curation/decisions.json`.
 * Every call re-reads the journal (so two windows, or a reload, see the same history) and runs one at a time.
 * The extension wraps this with the VS Code file operations (controller.ts); unit tests use node:fs. No vscode import.
 */
import type { CurationReport } from '@image-classifier/protocol';
import { type OpContext, checkOps, freePath, inverseOp, rollback, runOps, statesAfter } from './apply';
import { type Decisions, DecisionsError, DecisionsFile } from './decisions';
import { writeExport } from './export-files';
import { type FileOps, type FileState, fileState } from './file-ops';
import { type FileOp, Journal, type JournalEntry, type JournalState, latestEntryFor, newEntryId } from './journal';
import { absPath, CURATION_DIR, labelProblem, moveTarget, placeOf, relProblem } from './paths';
import type { ActionOutcome, BoardActionKind, CurationController } from './types';

const refused = (message: string): ActionOutcome => ({ ok: false, message, changes: [], decisions: [] });
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

interface Plan {
  kind: BoardActionKind | 'undo' | 'redo';
  target?: string;
  id: string;
  ops: FileOp[];
  expected: Map<string, FileState>;
  message: string;
  /** For undo/redo: the sentence for a refusal's start ("Cannot undo “moved 1 file to cats”"). */
  refusal: string;
}

/** What an outcome reports for the operations done. */
function outcomeOf(done: FileOp[]): Pick<ActionOutcome, 'changes' | 'decisions'> {
  const changes: ActionOutcome['changes'] = [];
  const decisions: ActionOutcome['decisions'] = [];
  for (const op of done) {
    if (op.op === 'rename') changes.push(op.to.startsWith('.') ? { from: op.from } : { from: op.from, to: op.to });
    else if (op.op === 'trash') changes.push({ from: op.from });
    else if (op.op === 'restore') changes.push({ from: op.copy, to: op.to });
    else decisions.push({ file: op.file, keep: op.after !== null });
  }
  return { changes, decisions };
}

export class CurationCore implements CurationController {
  /** Problems found in the journal when it was last read (torn or unreadable lines, skipped). */
  journalProblems: string[] = [];
  private readonly journal: Journal;
  private readonly decisionsFile: DecisionsFile;
  private readonly ctx: OpContext;
  private state: JournalState = { entries: [], done: [], undone: [], problems: [], endsClean: true };
  private kept = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly root: string,
    ops: FileOps,
    private readonly now: () => Date,
  ) {
    this.journal = new Journal(root);
    this.decisionsFile = new DecisionsFile(root);
    this.ctx = { root, ops };
  }

  /** Opens the curation state of `root` (reads the journal and decisions.json). */
  static async open(root: string, ops: FileOps, now: () => Date = () => new Date()): Promise<CurationCore> {
    const core = new CurationCore(root, ops, now);
    await core.refresh();
    return core;
  }

  /** Re-reads the journal and the decisions. */
  async refresh(): Promise<Decisions | DecisionsError> {
    this.state = await this.journal.load();
    this.journalProblems = this.state.problems;
    try {
      const d = await this.decisionsFile.load();
      this.kept = new Set(d.keys());
      return d;
    } catch (e) {
      if (e instanceof DecisionsError) return e;
      throw e;
    }
  }

  canUndo(): boolean {
    return this.state.done.length > 0;
  }

  canRedo(): boolean {
    return this.state.undone.length > 0;
  }

  keptFiles(): ReadonlySet<string> {
    return this.kept;
  }

  move(files: string[], toLabel: string): Promise<ActionOutcome> {
    return this.act(() => this.planMove(files, toLabel));
  }

  trash(files: string[]): Promise<ActionOutcome> {
    return this.act(() => this.planTrash(files));
  }

  keepLabel(files: string[]): Promise<ActionOutcome> {
    return this.act(() => this.planDecide(files, true));
  }

  unkeepLabel(files: string[]): Promise<ActionOutcome> {
    return this.act(() => this.planDecide(files, false));
  }

  undo(): Promise<ActionOutcome> {
    return this.act(() => this.planUndoRedo('undo'));
  }

  redo(): Promise<ActionOutcome> {
    return this.act(() => this.planUndoRedo('redo'));
  }

  exportReport(report: CurationReport, dir: string): Promise<string[]> {
    return this.serial(async () => {
      await this.refresh();
      return writeExport(this.ctx.ops, report, dir, { kept: this.kept, entries: this.state.entries, now: this.now() });
    });
  }

  /** Runs `fn` after the previous call finished (one action at a time). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Plans then performs an action; a plan step may answer with an outcome (a refusal) instead. */
  private act(plan: () => Promise<Plan | ActionOutcome>): Promise<ActionOutcome> {
    return this.serial(async () => {
      const p = await plan();
      return 'refusal' in p ? this.perform(p) : p;
    });
  }

  /** Loads the journal and the decisions; a DecisionsError becomes a refusal. */
  private async begin(): Promise<Decisions | ActionOutcome> {
    const d = await this.refresh();
    return d instanceof DecisionsError ? refused(`${d.message}. Nothing was changed.`) : d;
  }

  /** Checks the dataset paths and that each file is on disk now; returns their states or a refusal. */
  private async sources(files: string[]): Promise<FileState[] | ActionOutcome> {
    const unique = [...new Set(files)];
    if (!unique.length) return refused('No files were selected. Nothing was changed.');
    const states: FileState[] = [];
    for (const f of unique) {
      const problem = relProblem(f);
      if (problem) return refused(`Cannot act on ${problem}. Nothing was changed.`);
      const st = await fileState(this.ctx.ops, this.root, f);
      if (!st) return refused(`${f} is not on disk any more (moved or deleted since the board last looked). Nothing was changed.`);
      states.push(st);
    }
    return states;
  }

  private async planMove(files: string[], toLabel: string): Promise<Plan | ActionOutcome> {
    const problem = labelProblem(toLabel);
    if (problem) return refused(`Cannot move: ${problem}. Nothing was changed.`);
    const decisions = await this.begin();
    if (!(decisions instanceof Map)) return decisions;
    const states = await this.sources(files);
    if (!Array.isArray(states)) return states;
    const ops: FileOp[] = [];
    const reserved = new Set<string>();
    let renamed = 0;
    for (const st of states) {
      if (placeOf(st.path).label === toLabel) continue;
      const target = moveTarget(st.path, toLabel);
      const to = await freePath(this.ctx, target, reserved);
      if (to !== target) renamed++;
      ops.push({ op: 'rename', from: st.path, to });
      const d = decisions.get(st.path);
      if (d) ops.push({ op: 'decide', file: st.path, before: d, after: null });
    }
    if (!ops.length) return refused(`Already in “${toLabel}”. Nothing was changed.`);
    const moved = ops.filter((o) => o.op === 'rename').length;
    const clash = renamed
      ? ` (${plural(renamed, 'name')} already taken there, so ${renamed === 1 ? 'it got' : 'they got'} a “ (n)” suffix)`
      : '';
    const message = `Moved ${plural(moved, 'file')} to “${toLabel}”${clash}.`;
    return this.plan('move', ops, states, message);
  }

  private async planTrash(files: string[]): Promise<Plan | ActionOutcome> {
    const decisions = await this.begin();
    if (!(decisions instanceof Map)) return decisions;
    const states = await this.sources(files);
    if (!Array.isArray(states)) return states;
    const id = newEntryId();
    const ops: FileOp[] = [];
    for (const st of states) {
      ops.push({ op: 'trash', from: st.path, copy: `${CURATION_DIR}/trash/${id}/${st.path}` });
      const d = decisions.get(st.path);
      if (d) ops.push({ op: 'decide', file: st.path, before: d, after: null });
    }
    return { ...this.plan('trash', ops, states, `Trashed ${plural(states.length, 'file')}`), id };
  }

  private async planDecide(files: string[], keep: boolean): Promise<Plan | ActionOutcome> {
    const decisions = await this.begin();
    if (!(decisions instanceof Map)) return decisions;
    const ops: FileOp[] = [];
    const at = this.now().toISOString();
    for (const file of new Set(files)) {
      const before = decisions.get(file) ?? null;
      if (keep) {
        const problem = relProblem(file);
        if (problem) return refused(`Cannot keep ${problem}. Nothing was changed.`);
        const { label } = placeOf(file);
        if (label === undefined) return refused(`${file} is not in a class folder: there is no label to keep. Nothing was changed.`);
        if (!(await this.ctx.ops.stat(this.abs(file)))) return refused(`${file} is not on disk any more. Nothing was changed.`);
        if (before?.label !== label) ops.push({ op: 'decide', file, before, after: { label, at } });
      } else if (before) ops.push({ op: 'decide', file, before, after: null });
    }
    const n = ops.length;
    if (!n)
      return {
        ok: true,
        message: keep ? 'Already kept. Nothing was changed.' : 'No kept label to remove. Nothing was changed.',
        changes: [],
        decisions: [],
      };
    const message = keep ? `Kept the folder label of ${plural(n, 'file')}.` : `Removed the kept label of ${plural(n, 'file')}.`;
    return this.plan(keep ? 'keep' : 'unkeep', ops, [], message);
  }

  private plan(kind: BoardActionKind, ops: FileOp[], states: FileState[], message: string): Plan {
    return { kind, id: newEntryId(), ops, expected: new Map(states.map((s) => [s.path, s])), message, refusal: `Cannot ${kind}` };
  }

  private planUndoRedo(kind: 'undo' | 'redo'): Promise<Plan | ActionOutcome> {
    return this.begin().then((decisions): Plan | ActionOutcome => {
      if (!(decisions instanceof Map)) return decisions;
      const stack = kind === 'undo' ? this.state.done : this.state.undone;
      const target = stack[stack.length - 1];
      if (target === undefined) return refused(kind === 'undo' ? 'Nothing to undo.' : 'Nothing to redo.');
      const action = this.state.entries.find((e) => e.id === target)!;
      const latest = latestEntryFor(this.state.entries, target)!;
      const ops = [...latest.ops].reverse().map(inverseOp);
      const what = action.message.replace(/\.$/, '');
      return {
        kind,
        target,
        id: newEntryId(),
        ops,
        expected: new Map(latest.files.map((s) => [s.path, s])),
        message: `${kind === 'undo' ? 'Undid' : 'Redid'}: ${what.charAt(0).toLowerCase()}${what.slice(1)}.`,
        refusal: `Cannot ${kind} “${what}”`,
      };
    });
  }

  private abs(rel: string): string {
    return absPath(this.root, rel);
  }

  /** Checks, runs the operations, writes decisions and the journal entry; rolls everything back on a failure. */
  private async perform(plan: Plan): Promise<ActionOutcome> {
    const problem = await checkOps(this.ctx, plan.ops, plan.expected);
    if (problem) return refused(`${plan.refusal}: ${problem}. Nothing was changed.`);
    const run = await runOps(this.ctx, plan.ops);
    if (run.error) return this.failed(plan, run.error, run.rollbackFailures);
    try {
      await this.writeDecisions(run.done);
      const entry: JournalEntry = {
        v: 1,
        id: plan.id,
        at: this.now().toISOString(),
        kind: plan.kind,
        ...(plan.target !== undefined ? { target: plan.target } : {}),
        ops: run.done,
        files: await statesAfter(this.ctx, run.done),
        message: plan.kind === 'trash' ? trashMessage(run.done) : plan.message,
      };
      await this.journal.append(entry, this.state.endsClean);
      await this.refresh();
      return { ok: true, message: entry.kind === 'trash' ? entry.message : plan.message, ...outcomeOf(run.done) };
    } catch (e) {
      const failures = await rollback(
        this.ctx,
        run.done.filter((o) => o.op !== 'decide'),
      );
      await this.writeDecisions(run.done.map(inverseOp)).catch(() => undefined);
      return this.failed(plan, (e as Error).message, failures);
    }
  }

  private failed(plan: Plan, error: string, rollbackFailures: string[]): ActionOutcome {
    const what = plan.kind === 'undo' || plan.kind === 'redo' ? plan.refusal : 'The action failed';
    const tail = rollbackFailures.length
      ? ` Some operations could not be rolled back: ${rollbackFailures.join('; ')}.`
      : ' What had been done was rolled back: nothing was changed.';
    return refused(`${what}: ${error}.${tail}`);
  }

  private async writeDecisions(done: FileOp[]): Promise<void> {
    const decide = done.filter((o): o is Extract<FileOp, { op: 'decide' }> => o.op === 'decide');
    if (!decide.length) return;
    const d = await this.decisionsFile.load();
    for (const op of decide) {
      if (op.after) d.set(op.file, op.after);
      else d.delete(op.file);
    }
    await this.decisionsFile.save(d);
  }
}

function trashMessage(done: FileOp[]): string {
  const os = done.filter((o) => o.op === 'trash').length;
  const folder = done.filter((o) => o.op === 'rename').length;
  const parts: string[] = [];
  if (os) parts.push(`Moved ${plural(os, 'file')} to the trash (a copy is kept in .curation/trash/ for undo)`);
  if (folder)
    parts.push(`${os ? 'moved' : 'Moved'} ${plural(folder, 'file')} into the dataset's .trash/ folder (there is no OS trash here)`);
  return `${parts.join('; ')}.`;
}
