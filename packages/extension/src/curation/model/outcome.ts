/** The sentences and change lists of the curation actions' outcomes. */
import type { FileOp } from './journal';
import { COPIES_AREA, type CurationError, type CurationErrorCode, isStatePath, TRASH_AREA } from './places';
import type { ActionOutcome } from '../shared/types';

export const refused = (message: string, code?: CurationErrorCode): ActionOutcome => ({
  ok: false,
  message,
  changes: [],
  decisions: [],
  ...(code ? { code } : {}),
});
/** A CurationError as a refusal: its sentence after `prefix`, nothing changed. */
export const refusedBy = (e: CurationError, prefix: string): ActionOutcome =>
  refused(/\.$/.test(e.message) ? `${prefix}${e.message}` : `${prefix}${e.message}. Nothing was changed.`, e.code);
export const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** What an outcome reports for the operations done. */
export function outcomeOf(done: FileOp[]): Pick<ActionOutcome, 'changes' | 'decisions'> {
  const changes: ActionOutcome['changes'] = [];
  const decisions: ActionOutcome['decisions'] = [];
  for (const op of done) {
    if (op.op === 'rename') changes.push(isStatePath(op.to) ? { from: op.from } : { from: op.from, to: op.to });
    else if (op.op === 'trash') changes.push({ from: op.from });
    else if (op.op === 'restore') changes.push({ from: op.copy, to: op.to });
    else decisions.push({ file: op.file, keep: op.after !== null });
  }
  return { changes, decisions };
}

export function trashMessage(done: FileOp[], state: string): string {
  const os = done.filter((o) => o.op === 'trash').length;
  const folder = done.filter((o) => o.op === 'rename').length;
  const parts: string[] = [];
  if (os) parts.push(`Moved ${plural(os, 'file')} to the trash (a copy is kept in ${state}/${COPIES_AREA}/ beside the dataset, for undo)`);
  if (folder)
    parts.push(
      `${os ? 'moved' : 'Moved'} ${plural(folder, 'file')} into ${state}/${TRASH_AREA}/ beside the dataset (there is no OS trash here)`,
    );
  return `${parts.join('; ')}.`;
}
