/**
 * The curation actions on a dataset root, over any `FileOps`: move, trash, keep/unkeep, undo/redo and export,
 * journaled in `journal.jsonl` (see journal.ts) with decisions in `decisions.json`, both in the board's state folder
 * beside the dataset (state.ts; nothing is written inside the dataset but the moves themselves). Every action holds
 * the state folder's lock (lock.ts) and re-reads the journal, so two windows, two processes or a reload see the same
 * history and never act on the same file at once. A state folder that is not usable makes the board read-only, with
 * the sentence `readOnly`. The extension wraps this with the VS Code file operations (host/controller.ts); unit tests use
 * node:fs.
 */
import type { CurationReport } from '@image-classifier/protocol';
import * as path from 'node:path';
import { type OpContext, checkOps, freePath, inverseOp, rollback, rollbackTail, runOps, statesAfter } from './apply';
import { type Decisions, DECISIONS_FILE, DecisionsError, DecisionsFile } from './decisions';
import { writeExport } from './export-files';
import { type FileOps, type FileState, fileState } from './file-ops';
import { type FileOp, JOURNAL_FILE, Journal, type JournalEntry, type JournalState, latestEntryFor, newEntryId, opPaths } from './journal';
import { withLock } from './lock';
import { labelProblem, moveTarget, placeOf, relProblem } from './paths';
import { COPIES_PREFIX, CurationError, type Places } from './places';
import { hasLegacy, migrateLegacy, placesFor, stateProblem } from './state';
import { outcomeOf, plural, refused, refusedBy, trashMessage } from './outcome';
import type { ActionOutcome, BoardActionKind, CurationController } from '../shared/types';

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

export class CurationCore implements CurationController {
  /** Problems found in the journal and decisions when last read (lines skipped, with the reason). */
  journalProblems: string[] = [];
  /** What opening did that the user should know once (an earlier version's folders moved out of the dataset). */
  notices: string[] = [];
  /** Set when the board cannot write its state: why, and what to do. Every action is refused with it. */
  readOnly?: string;
  readonly stateDir: string;
  private readonly journal: Journal;
  private readonly decisionsFile: DecisionsFile;
  private readonly ctx: OpContext;
  private state: JournalState = { entries: [], done: [], undone: [], problems: [], endsClean: true };
  private kept = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  /** How long an action waits for another board's lock before it is refused. */
  private lockWaitMs = 10_000;
  /** Problems and notices already said (each is said once). */
  private readonly said = new Set<string>();

  private constructor(
    readonly root: string,
    private readonly places: Places,
    ops: FileOps,
    private readonly now: () => Date,
  ) {
    this.stateDir = places.stateDir;
    this.journal = new Journal(path.join(places.stateDir, JOURNAL_FILE));
    this.decisionsFile = new DecisionsFile(path.join(places.stateDir, DECISIONS_FILE));
    this.ctx = { places, ops };
  }

  /**
   * Opens the curation state of `root`: checks the state folder (read-only with a sentence when it is not usable),
   * moves an earlier version's `.curation/` and `.trash/` out of the dataset, reads the journal and decisions.
   */
  static async open(
    root: string,
    ops: FileOps,
    now: () => Date = () => new Date(),
    options: { stateDir?: string; lockWaitMs?: number } = {},
  ): Promise<CurationCore> {
    const core = new CurationCore(root, await placesFor(root, options.stateDir), ops, now);
    if (options.lockWaitMs !== undefined) core.lockWaitMs = options.lockWaitMs;
    await core.prepare();
    await core.refresh();
    return core;
  }

  /** The folder the board's Export writes to (in the state folder). */
  get exportDir(): string {
    return path.join(this.stateDir, 'export');
  }

  /** Checks the state folder and moves an earlier version's folders out of the dataset (under the lock). */
  private async prepare(): Promise<void> {
    this.readOnly = await stateProblem(this.places);
    if (this.readOnly || !(await hasLegacy(this.places))) return;
    try {
      await withLock(this.stateDir, () => this.migrate(), this.lockWaitMs);
    } catch (e) {
      this.notices.push(`The board's old folders in the dataset could not be moved out yet (${(e as Error).message})`);
    }
  }

  /** Moves an earlier version's `.curation/` and `.trash/` out of the dataset (the caller holds the lock). */
  private async migrate(): Promise<void> {
    const m = await migrateLegacy(this.places);
    this.notices.push(...m.notes.filter((n) => !this.notices.includes(n)));
    this.readOnly = m.problem ?? (await stateProblem(this.places));
  }

  /** Re-reads the journal and the decisions; entries naming an unsafe path are skipped and reported. */
  async refresh(): Promise<Decisions | DecisionsError> {
    const checked = new Map<string, string | undefined>();
    const check = async (e: JournalEntry) => {
      for (const p of [...e.ops.flatMap(opPaths), ...e.files.map((f) => f.path)]) {
        const problem = await this.places.folderProblem(p as string, checked);
        if (problem) return problem;
      }
      return undefined;
    };
    try {
      this.state = await this.journal.load(check);
    } catch (e) {
      if (!this.readOnly) throw e;
      this.state = { entries: [], done: [], undone: [], problems: [], endsClean: true };
    }
    this.journalProblems = this.state.problems;
    try {
      const d = await this.decisionsFile.load();
      this.journalProblems = [...this.journalProblems, ...this.decisionsFile.problems];
      this.kept = new Set(d.keys());
      return d;
    } catch (e) {
      if (e instanceof DecisionsError) return e;
      throw e;
    }
  }

  /** Marks the current problems and notices as said (the controller shows them when the board opens). */
  markSaid(): string[] {
    const fresh = [...this.notices, ...this.journalProblems].filter((p) => !this.said.has(p));
    for (const p of fresh) this.said.add(p);
    return fresh;
  }

  canUndo(): boolean {
    return !this.readOnly && this.state.done.length > 0;
  }

  canRedo(): boolean {
    return !this.readOnly && this.state.undone.length > 0;
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
      if (path.resolve(dir).startsWith(this.stateDir)) {
        this.readOnly = (await stateProblem(this.places)) ?? this.readOnly;
        if (this.readOnly) throw new CurationError('READ_ONLY', this.readOnly);
      }
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

  /**
   * Plans then performs an action holding the state folder's lock; a plan step may answer with an outcome (a
   * refusal) instead. Problems newly found on the way come with the outcome as warnings.
   */
  private act(plan: () => Promise<Plan | ActionOutcome>): Promise<ActionOutcome> {
    return this.serial(async () => {
      let out: ActionOutcome;
      if (this.readOnly) out = refused(this.readOnly, 'READ_ONLY');
      else
        try {
          out = await withLock(
            this.stateDir,
            async () => {
              if (await hasLegacy(this.places)) await this.migrate();
              if (this.readOnly) return refused(this.readOnly, 'READ_ONLY');
              const p = await plan();
              return 'refusal' in p ? this.perform(p) : p;
            },
            this.lockWaitMs,
          );
        } catch (e) {
          if (!(e instanceof CurationError)) throw e;
          out = refusedBy(e, '');
        }
      const warnings = this.markSaid();
      return warnings.length ? { ...out, warnings } : out;
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
      let abs: string;
      try {
        abs = await this.places.safe(f);
      } catch (e) {
        if (e instanceof CurationError) return refusedBy(e, 'Cannot act on ');
        throw e;
      }
      const st = await fileState(this.ctx.ops, abs, f);
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
      ops.push({ op: 'trash', from: st.path, copy: `${COPIES_PREFIX}${id}/${st.path}` });
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
        const abs = await this.places.safe(file).catch((e) => e as CurationError);
        if (abs instanceof CurationError) return refusedBy(abs, 'Cannot keep ');
        if (!(await this.ctx.ops.stat(abs))) return refused(`${file} is not on disk any more. Nothing was changed.`);
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

  /** Checks, runs the operations, writes decisions and the journal entry; rolls everything back on a failure. */
  private async perform(plan: Plan): Promise<ActionOutcome> {
    let problem: string | undefined;
    try {
      problem = await checkOps(this.ctx, plan.ops, plan.expected);
    } catch (e) {
      if (e instanceof CurationError) return refusedBy(e, `${plan.refusal}: `);
      throw e;
    }
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
        message: plan.kind === 'trash' ? trashMessage(run.done, path.basename(this.stateDir)) : plan.message,
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
    return refused(`${what}: ${error}.${rollbackTail(rollbackFailures)}`);
  }

  private writeDecisions(done: FileOp[]): Promise<void> {
    return this.decisionsFile.apply(done);
  }
}
