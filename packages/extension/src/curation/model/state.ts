/**
 * The board's state folder for a dataset: `<parent>/.<name>.curation/`, beside the dataset's real path (hidden, so
 * Hugging Face's `imagefolder` and the curation scan of the parent skip it; never inside the dataset, where
 * torchvision's `ImageFolder` would take it for a class). It holds `journal.jsonl`, `decisions.json`, `trash/`,
 * `trash-copies/`, `export/` and, while an action runs, `journal.lock`. On the same file system as the dataset (its
 * parent), so trashing into `trash/` is a rename, not a copy.
 *
 * Earlier versions kept `<root>/.curation/` and `<root>/.trash/` inside the dataset: `migrateLegacy` moves every file
 * there into the state folder (never over an existing one: a taken name gets a ` (n)` suffix) and removes the emptied
 * folders, so nothing is left for an image-folder loader to take as a class. A folder there holding a symbolic link or
 * a special file, or a `journal.jsonl` / `decisions.json` that is not a file, is left untouched and the board is
 * read-only until the user fixes it (the sentence says what to do).
 */
import { createHash } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CURATION_DIR, TRASH_FOLDER, withSuffix } from './paths';
import { COPIES_AREA, Places, TRASH_AREA } from './places';

export const STATE_GITIGNORE = `# Written by the Image Classifier curation board for the dataset folder beside this one.
# decisions.json can travel with the dataset; the undo history, the trash and the copies kept for undo stay here.
journal.jsonl
journal.lock
trash/
trash-copies/
`;

/** The .gitignore earlier versions wrote into `<root>/.curation/` (removed when unchanged, moved otherwise). */
const LEGACY_GITIGNORE = `# Written by the Image Classifier curation board. decisions.json travels with the dataset;
# the undo history and the copies kept for undo stay on this machine.
journal.jsonl
trash/
`;

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;
const lstat = (p: string) =>
  fs.lstat(p).catch((e) => {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return undefined;
    throw e;
  });

/** `<parent>/.<name>.curation` for a dataset at `realRoot`; undefined for the file system's root. */
export function stateDirFor(realRoot: string): string | undefined {
  const parent = path.dirname(realRoot);
  return parent === realRoot ? undefined : path.join(parent, `.${path.basename(realRoot)}.curation`);
}

/** The places of a dataset opened at `root` (its real path resolved when it exists). */
export async function placesFor(root: string, stateDir?: string): Promise<Places> {
  const realRoot = await fs.realpath(root).catch(() => path.resolve(root));
  return new Places(root, realRoot, stateDir ?? stateDirFor(realRoot) ?? '');
}

/** Creates the state folder with its .gitignore (an existing .gitignore is left alone). */
export async function ensureStateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, '.gitignore'), STATE_GITIGNORE, { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}

const READ_ONLY = 'The board is read-only until then: it shows the report but moves, trashes and records nothing.';

/** Why the board cannot keep its state (a sentence ending in what to do), or undefined when it can. */
export async function stateProblem(places: Places): Promise<string | undefined> {
  if (!places.stateDir)
    return `${places.realRoot} is the file system's root: there is no folder beside it for the board's state. ${READ_ONLY}`;
  const dir = places.stateDir;
  const st = await lstat(dir);
  if (!st) {
    const parent = path.dirname(dir);
    const writable = await fs.access(parent, constants.W_OK).then(
      () => true,
      () => false,
    );
    return writable ? undefined : `The board keeps its state beside the dataset, in ${dir}, but ${parent} is not writable. ${READ_ONLY}`;
  }
  if (st.isSymbolicLink())
    return `${dir} (the board's state folder) is a symbolic link; the board keeps its state only in a real folder. Replace it with a folder or remove it. ${READ_ONLY}`;
  if (!st.isDirectory()) return `${dir} should be the board's state folder but is a file. Move or remove it. ${READ_ONLY}`;
  const expect: [string, 'file' | 'folder'][] = [
    ['journal.jsonl', 'file'],
    ['decisions.json', 'file'],
    [TRASH_AREA, 'folder'],
    [COPIES_AREA, 'folder'],
    ['export', 'folder'],
  ];
  for (const [name, kind] of expect) {
    const s = await lstat(path.join(dir, name));
    if (!s) continue;
    const ok = !s.isSymbolicLink() && (kind === 'file' ? s.isFile() : s.isDirectory());
    if (!ok)
      return `${path.join(dir, name)} should be a ${kind} but is ${s.isSymbolicLink() ? 'a symbolic link' : s.isDirectory() ? 'a folder' : 'not one'}. Move or remove it. ${READ_ONLY}`;
  }
  return undefined;
}

interface Move {
  from: string;
  to: string;
}

/** Every file under `dir` with where it goes; a problem sentence when something there is not a plain file/folder. */
async function plan(dir: string, target: (rel: string) => string, moves: Move[], rel = ''): Promise<string | undefined> {
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      const p = await plan(dir, target, moves, r);
      if (p) return p;
    } else if (e.isFile()) moves.push({ from: path.join(dir, ...r.split('/')), to: target(r) });
    else return `${path.join(dir, ...r.split('/'))} is ${e.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}`;
  }
  return undefined;
}

async function sameBytes(a: string, b: string): Promise<boolean> {
  const h = async (p: string) =>
    createHash('sha256')
      .update(await fs.readFile(p))
      .digest('hex');
  return (await h(a)) === (await h(b));
}

/** Moves `from` to `to` or its first free ` (n)` variant, never replacing a file; returns where it went. */
async function moveNoReplace(from: string, to: string): Promise<string> {
  await fs.mkdir(path.dirname(to), { recursive: true });
  for (let n = 0; ; n++) {
    const target = n === 0 ? to : withSuffix(to, n);
    try {
      await fs.link(from, target);
    } catch (e) {
      if (errno(e) === 'EEXIST') continue;
      // No hard links here (another file system, or none supported): a verified exclusive copy.
      try {
        await fs.copyFile(from, target, constants.COPYFILE_EXCL);
      } catch (c) {
        if (errno(c) === 'EEXIST') continue;
        throw c;
      }
      if (!(await sameBytes(from, target))) throw new Error(`the copy of ${from} at ${target} does not match its bytes`);
      // The journal checks a copy's mtime before undo: keep the original's.
      const st = await fs.stat(from);
      await fs.utimes(target, st.atime, st.mtime);
    }
    await fs.unlink(from);
    return target;
  }
}

/** Removes the empty folders under (and including) `dir`, deepest first. */
async function pruneTree(dir: string): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await pruneTree(path.join(dir, e.name));
  await fs.rmdir(dir).catch(() => undefined);
}

export interface Migration {
  /** What was moved or left, in words (shown once). */
  notes: string[];
  /** Set when the old folders could not be moved safely: the board is read-only (a sentence). */
  problem?: string;
}

/** Moves `<root>/.curation/` and `<root>/.trash/` (earlier versions' state) into the state folder. */
export async function migrateLegacy(places: Places): Promise<Migration> {
  const notes: string[] = [];
  const legacy = path.join(places.root, CURATION_DIR);
  const legacyTrash = path.join(places.root, TRASH_FOLDER);
  const moves: Move[] = [];
  const state = places.stateDir;
  for (const [dir, target] of [
    [legacy, (r: string) => path.join(state, ...(r.startsWith('trash/') ? [COPIES_AREA, r.slice(6)] : [r]))],
    [legacyTrash, (r: string) => path.join(state, TRASH_AREA, r)],
  ] as const) {
    const st = await lstat(dir);
    if (!st) continue;
    if (!st.isDirectory() || st.isSymbolicLink()) {
      notes.push(`${dir} is not the board's folder (${st.isSymbolicLink() ? 'a symbolic link' : 'a file'}); it was left alone`);
      continue;
    }
    for (const name of ['journal.jsonl', 'decisions.json']) {
      const s = dir === legacy ? await lstat(path.join(dir, name)) : undefined;
      if (s && !s.isFile())
        return {
          notes,
          problem: `${path.join(dir, name)} is not a file, so the board cannot move its old state out of the dataset. Move or remove it. ${READ_ONLY}`,
        };
    }
    const bad = await plan(dir, target, moves);
    if (bad)
      return {
        notes,
        problem: `${bad}: the board moves its old folder ${dir} out of the dataset only when it holds plain files and folders. Move or remove it. ${READ_ONLY}`,
      };
  }
  if (!moves.length && !(await lstat(legacy))?.isDirectory() && !(await lstat(legacyTrash))?.isDirectory()) return { notes };
  await ensureStateDir(state);
  let moved = 0;
  for (const m of moves) {
    if (m.from === path.join(legacy, '.gitignore') && (await fs.readFile(m.from, 'utf8').catch(() => '')) === LEGACY_GITIGNORE) {
      await fs.unlink(m.from); // the one the board wrote, unchanged: the state folder has its own
      continue;
    }
    try {
      const at = await moveNoReplace(m.from, m.to);
      moved++;
      if (at !== m.to) notes.push(`${m.from} was moved to ${at} (${path.basename(m.to)} was taken there)`);
    } catch (e) {
      notes.push(`${m.from} could not be moved to ${m.to} (${(e as Error).message}); it was left in place`);
    }
  }
  for (const dir of [legacy, legacyTrash]) if ((await lstat(dir))?.isDirectory()) await pruneTree(dir);
  notes.unshift(
    `Moved the board's ${moved} old file${moved === 1 ? '' : 's'} from the dataset's .curation/ and .trash/ folders to ${state}`,
  );
  for (const dir of [legacy, legacyTrash])
    if ((await lstat(dir))?.isDirectory()) notes.push(`${dir} is still there (it holds files that could not be moved)`);
  return { notes };
}

/** True when the dataset holds something named `.curation` or `.trash` (an earlier version's folders to move out). */
export async function hasLegacy(places: Places): Promise<boolean> {
  for (const name of [CURATION_DIR, TRASH_FOLDER]) if (await lstat(path.join(places.root, name))) return true;
  return false;
}
