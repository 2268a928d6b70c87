/**
 * Stand-ins for the other helpers' parts of the curation board, with their contract's signatures (see
 * docs/board-contract in the lead's notes): B's createCurationController, C's requestThumbnails and
 * CurationExplorer. The lead deletes this file at merge. The controller here is minimal but real (WorkspaceEdit
 * renames, a `.trash/` folder, decisions.json, a journal file) so that the board can be used before B lands.
 */
import * as vscode from 'vscode';
import type { CurationReport } from '@image-classifier/protocol';
import type { ServerManager } from '../server';
import type { ActionOutcome, CurationController } from './types';

interface StubStep {
  kind: 'move' | 'trash' | 'keep' | 'unkeep';
  pairs: { from: string; to: string }[];
  files: string[];
}

const dirOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const baseOf = (p: string) => p.slice(p.lastIndexOf('/') + 1);

class StubController implements CurationController {
  readonly root: string;
  private done: StubStep[] = [];
  private undone: StubStep[] = [];
  private kept = new Set<string>();
  constructor(private readonly rootUri: vscode.Uri) {
    this.root = rootUri.fsPath;
  }
  private uri(rel: string): vscode.Uri {
    return vscode.Uri.joinPath(this.rootUri, ...rel.split('/'));
  }
  private async exists(rel: string): Promise<boolean> {
    return vscode.workspace.fs.stat(this.uri(rel)).then(
      () => true,
      () => false,
    );
  }
  async load(): Promise<this> {
    const read = async (name: string) =>
      JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(this.uri(`.curation/${name}`))));
    this.kept = new Set<string>(
      await read('decisions.json').then(
        (d) => d.keep ?? [],
        () => [],
      ),
    );
    const j = await read('stub-journal.json').catch(() => undefined);
    if (j) [this.done, this.undone] = [j.done ?? [], j.undone ?? []];
    return this;
  }
  private async save(): Promise<void> {
    const write = (name: string, v: unknown) =>
      vscode.workspace.fs.writeFile(this.uri(`.curation/${name}`), new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`));
    await write('decisions.json', { keep: [...this.kept].sort() });
    await write('stub-journal.json', { done: this.done, undone: this.undone });
  }
  /** A free name next to `want`: `a.jpg`, `a (1).jpg`, `a (2).jpg`… */
  private async free(want: string): Promise<string> {
    const dot = want.lastIndexOf('.');
    const [stem, ext] = dot > want.lastIndexOf('/') ? [want.slice(0, dot), want.slice(dot)] : [want, ''];
    let candidate = want;
    for (let i = 1; await this.exists(candidate); i++) candidate = `${stem} (${i})${ext}`;
    return candidate;
  }
  private async rename(pairs: { from: string; to: string }[]): Promise<string | undefined> {
    for (const p of pairs) if (!(await this.exists(p.from))) return `${p.from} is no longer there: nothing was changed.`;
    const edit = new vscode.WorkspaceEdit();
    for (const p of pairs) edit.renameFile(this.uri(p.from), this.uri(p.to), { overwrite: false });
    return (await vscode.workspace.applyEdit(edit)) ? undefined : 'The rename was refused: nothing was changed.';
  }
  private async run(step: StubStep, message: string, journal = true): Promise<ActionOutcome> {
    const refused = await this.rename(step.pairs);
    if (refused) return { ok: false, message: refused, changes: [], decisions: [] };
    const keep = step.kind === 'keep' ? true : step.kind === 'unkeep' ? false : undefined;
    for (const f of step.files) if (keep !== undefined) keep ? this.kept.add(f) : this.kept.delete(f);
    if (journal) [this.done, this.undone] = [[...this.done, step], []];
    await this.save();
    const changes = step.pairs.map((p) => (step.kind === 'trash' ? { from: p.from } : { from: p.from, to: p.to }));
    const decisions = keep === undefined ? [] : step.files.map((file) => ({ file, keep }));
    return { ok: true, message, changes, decisions };
  }
  async move(files: string[], toLabel: string): Promise<ActionOutcome> {
    const pairs: StubStep['pairs'] = [];
    for (const from of files) {
      const split = dirOf(dirOf(from));
      const to = await this.free(`${split ? `${split}/` : ''}${toLabel}/${baseOf(from)}`);
      pairs.push({ from, to });
    }
    const renamed = pairs.filter((p) => baseOf(p.to) !== baseOf(p.from)).length;
    const note = renamed ? ` (${renamed} renamed: a file of that name was there)` : '';
    return this.run({ kind: 'move', pairs, files }, `Moved ${files.length} file(s) to ${toLabel}${note}.`);
  }
  async trash(files: string[]): Promise<ActionOutcome> {
    const pairs = [];
    for (const from of files) pairs.push({ from, to: await this.free(`.trash/${from}`) });
    return this.run({ kind: 'trash', pairs, files }, `Moved ${files.length} file(s) to .trash/ in the dataset.`);
  }
  keepLabel(files: string[]): Promise<ActionOutcome> {
    return this.run({ kind: 'keep', pairs: [], files }, `Kept the label of ${files.length} file(s).`);
  }
  unkeepLabel(files: string[]): Promise<ActionOutcome> {
    return this.run({ kind: 'unkeep', pairs: [], files }, `Removed the keep decision of ${files.length} file(s).`);
  }
  private inverse(s: StubStep): StubStep {
    const kind = s.kind === 'keep' ? 'unkeep' : s.kind === 'unkeep' ? 'keep' : s.kind;
    return { kind, files: s.files, pairs: s.pairs.map((p) => ({ from: p.to, to: p.from })) };
  }
  async undo(): Promise<ActionOutcome> {
    const step = this.done.at(-1);
    if (!step) return { ok: false, message: 'Nothing to undo.', changes: [], decisions: [] };
    const inv = this.inverse(step);
    const out = await this.run(inv.kind === 'trash' ? { ...inv, kind: 'move' } : inv, `Undid: ${step.kind}.`, false);
    if (out.ok) [this.done, this.undone] = [this.done.slice(0, -1), [...this.undone, step]];
    if (out.ok) await this.save();
    return out;
  }
  async redo(): Promise<ActionOutcome> {
    const step = this.undone.at(-1);
    if (!step) return { ok: false, message: 'Nothing to redo.', changes: [], decisions: [] };
    const out = await this.run(step, `Redid: ${step.kind}.`, false);
    if (out.ok) [this.done, this.undone] = [[...this.done, step], this.undone.slice(0, -1)];
    if (out.ok) await this.save();
    return out;
  }
  canUndo(): boolean {
    return this.done.length > 0;
  }
  canRedo(): boolean {
    return this.undone.length > 0;
  }
  keptFiles(): ReadonlySet<string> {
    return this.kept;
  }
  async exportReport(report: CurationReport, dir: string): Promise<string[]> {
    const rows = ['file,label,suggested_label,issue_types,score,decision'];
    for (const f of report.files.filter((x) => x.issues.length)) {
      const types = f.issues.map((i) => i.type).join(';');
      const score = f.labelQuality ?? f.issues[0]?.score ?? '';
      rows.push([f.file, f.label ?? '', f.suggestedLabel ?? '', types, score, this.kept.has(f.file) ? 'keep' : ''].join(','));
    }
    const out = vscode.Uri.joinPath(vscode.Uri.file(dir), 'curation-issues.csv');
    await vscode.workspace.fs.writeFile(out, new TextEncoder().encode(`${rows.join('\n')}\n`));
    return [out.fsPath];
  }
}

export async function createCurationController(root: vscode.Uri): Promise<CurationController> {
  return new StubController(root).load();
}

/** C's thumbnails result (protocol's ThumbnailsResult, in part): one item per URI, `path` = the WebP's absolute path. */
export interface ThumbnailsResult {
  items: { uri: string; path?: string }[];
  /** The folder the thumbnails are cached in (a localResourceRoot of the board). */
  dir: string;
}

export async function requestThumbnails(_client: ServerManager, uris: string[], _size: number): Promise<ThumbnailsResult> {
  return { items: uris.map((uri) => ({ uri })), dir: '' };
}

export class CurationExplorer implements vscode.Disposable {
  update(_root: vscode.Uri, _report: CurationReport | undefined, _kept: ReadonlySet<string>): void {}
  dispose(): void {}
}
