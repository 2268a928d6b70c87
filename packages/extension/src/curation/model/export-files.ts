/**
 * Writing the export next to nothing it could overwrite: each file goes to a free name in the folder chosen (an
 * existing `curation-issues.csv` makes it `curation-issues (1).csv`). Where the report's files are now is worked out
 * from the journal's entries written after the report was made (moves, trashes and their undos).
 */
import * as path from 'node:path';
import type { CurationReport } from '@image-classifier/protocol';
import { buildExport } from './export';
import type { FileOps } from './file-ops';
import type { JournalEntry } from './journal';
import { withSuffix } from './paths';

/** Report path → current path (null = trashed) after the entries made at or after `since` (ISO time). */
export function locationsSince(entries: JournalEntry[], since: string): Map<string, string | null> {
  const start = Date.parse(since);
  const origin = new Map<string, string>(); // current path → report path
  const moveTo = (from: string, to: string) => {
    const o = origin.get(from) ?? from;
    origin.delete(from);
    origin.set(to, o);
  };
  for (const e of entries) {
    if (!(Date.parse(e.at) >= start)) continue;
    for (const op of e.ops) {
      if (op.op === 'rename') moveTo(op.from, op.to);
      else if (op.op === 'trash') moveTo(op.from, op.copy);
      else if (op.op === 'restore') moveTo(op.copy, op.to);
    }
  }
  const out = new Map<string, string | null>();
  for (const [now, was] of origin) if (now !== was) out.set(was, now.startsWith('.') ? null : now);
  return out;
}

export async function writeExport(
  ops: FileOps,
  report: CurationReport,
  dir: string,
  opts: { kept: ReadonlySet<string>; entries: JournalEntry[]; now: Date },
): Promise<string[]> {
  const files = buildExport(report, { kept: opts.kept, locations: locationsSince(opts.entries, report.createdAt), now: opts.now });
  const written: string[] = [];
  for (const f of files) {
    let n = 0;
    let target = path.join(dir, f.name);
    while (await ops.stat(target)) target = path.join(dir, withSuffix(f.name, ++n));
    await ops.createFile(target, new TextEncoder().encode(f.text));
    written.push(target);
  }
  return written;
}
