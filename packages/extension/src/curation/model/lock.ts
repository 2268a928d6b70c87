/**
 * The lock on a dataset's curation state while an action runs, across windows and processes: `<state>/journal.lock`,
 * created with O_EXCL (`wx`) and holding `{pid, host, at}`. A second board waits for it (polling) and then re-reads
 * the journal and the files, so it acts on what the first one left. A lock whose process is gone (same host, the
 * pid answers ESRCH) is stale and taken over: it is renamed aside first and checked to be the one judged stale, so
 * two windows never both take it. A lock held longer than the wait gives a refusal naming the holder.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CurationError } from './places';

export const LOCK_FILE = 'journal.lock';

interface Holder {
  pid: number;
  host: string;
  at: string;
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) === 'EPERM';
  }
}

function parseHolder(text: string): Holder | undefined {
  try {
    const o = JSON.parse(text) as Partial<Holder>;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? { pid: o.pid, host: o.host, at: String(o.at ?? '') } : undefined;
  } catch {
    return undefined;
  }
}

/** Takes a stale lock away (renamed aside, checked to be the same text, removed); false when it changed meanwhile. */
async function takeStale(file: string, text: string): Promise<boolean> {
  const aside = `${file}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await fs.rename(file, aside);
  } catch {
    return false;
  }
  const now = await fs.readFile(aside, 'utf8').catch(() => '');
  if (now !== text) {
    // Someone else's fresh lock was renamed: put it back (never over a newer one).
    await fs.link(aside, file).catch(() => undefined);
    await fs.unlink(aside).catch(() => undefined);
    return false;
  }
  await fs.unlink(aside).catch(() => undefined);
  return true;
}

/** Why the lock at `file` is held and not stale, or undefined after a stale one was taken away. */
async function judge(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (errno(e) === 'ENOENT') return undefined;
    throw new CurationError('LOCKED', `${file} is not a lock file (${(e as Error).message}); remove it to use the board`);
  }
  const h = parseHolder(text);
  const st = await fs.stat(file).catch(() => undefined);
  const age = st ? Date.now() - st.mtimeMs : 0;
  // A lock being written (empty for a moment) is fresh; one left empty or torn for a minute is stale.
  const stale = h ? h.host === os.hostname() && !alive(h.pid) : age > 60_000;
  if (stale) {
    await takeStale(file, text);
    return undefined;
  }
  return h ? `process ${h.pid} on ${h.host === os.hostname() ? 'this machine' : h.host} (since ${h.at})` : 'another window';
}

/** Runs `fn` holding the lock of the state folder `dir` (created when missing); waits up to `waitMs` for it. */
export async function withLock<T>(dir: string, fn: () => Promise<T>, waitMs = 10_000): Promise<T> {
  const file = path.join(dir, LOCK_FILE);
  await fs.mkdir(dir, { recursive: true }).catch((e: Error) => {
    throw new CurationError('READ_ONLY', `The board cannot create its state folder ${dir} (${e.message}); nothing was changed`);
  });
  const me = JSON.stringify({
    pid: process.pid,
    host: os.hostname(),
    at: new Date().toISOString(),
    nonce: Math.random().toString(36).slice(2),
  });
  const start = Date.now();
  let holder: string | undefined;
  for (;;) {
    try {
      const fh = await fs.open(file, 'wx');
      try {
        await fh.writeFile(me);
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      if (errno(e) !== 'EEXIST') throw e;
    }
    holder = await judge(file);
    if (holder === undefined) continue;
    if (Date.now() - start > waitMs)
      throw new CurationError(
        'LOCKED',
        `Another board (${holder}) is changing this dataset's curation state; try again in a moment. If no other window is open, delete ${file}`,
      );
    await sleep(20 + Math.random() * 30);
  }
  try {
    return await fn();
  } finally {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    if (text === me) await fs.unlink(file).catch(() => undefined);
  }
}
