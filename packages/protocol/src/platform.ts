/**
 * What differs between the platforms VS Code runs on, as functions of the platform (a parameter, `process.platform`
 * by default), so that each rule can be tested on any machine with the others simulated (`path.win32`, case
 * folding). No native imports.
 *   paths and URIs   drive letters, backslashes and UNC paths on Windows; `file:///c%3A/…` URIs as VS Code writes them
 *   case             NTFS and APFS are case-insensitive by default: two dataset files differing only in case cannot
 *                    both exist there, and a move that only changes case targets the file itself
 *   signals          Windows has no SIGTERM (TerminateProcess ends a process without a handler): the server's orderly
 *                    shutdown comes from the `exit` notification or stdin closing; SIGINT/SIGBREAK are what a
 *                    Windows console delivers
 *   C library        GLIBC_TUNABLES means something to glibc alone (musl, macOS and Windows ignore it)
 *   renames          on Windows a file open in another process without FILE_SHARE_DELETE (an antivirus scanner, an
 *                    indexer, a memory map) cannot be renamed over for a moment: EPERM/EACCES/EBUSY, retried
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export type Platform = NodeJS.Platform;

/** The path functions of a platform: `path.win32` on Windows, `path.posix` elsewhere. */
export function pathFor(platform: Platform = process.platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** Whether the platform's default file system compares names without case (NTFS, APFS and HFS+ as formatted). */
export function caseInsensitiveFs(platform: Platform = process.platform): boolean {
  return platform === 'win32' || platform === 'darwin';
}

/**
 * The key under which the platform's default file system finds `p`: normalized separators and `..`, and on
 * case-insensitive systems case-folded (and Unicode-normalized: APFS and NTFS do not tell NFC from NFD apart).
 */
export function pathKey(p: string, platform: Platform = process.platform): string {
  const n = pathFor(platform).normalize(p);
  return caseInsensitiveFs(platform) ? n.normalize('NFC').toLowerCase() : n;
}

/** Whether two paths name the same entry on the platform's default file system (by name, not by inode). */
export function samePath(a: string, b: string, platform: Platform = process.platform): boolean {
  return pathKey(a, platform) === pathKey(b, platform);
}

/**
 * Paths (`/`-separated, relative) that differ only in case or Unicode form: groups of two or more. Such files can
 * live side by side on Linux, but not on Windows or macOS: a dataset copied there loses all but one of each group.
 */
export function caseCollisions(relPaths: Iterable<string>): string[][] {
  const byKey = new Map<string, string[]>();
  for (const p of relPaths) {
    const k = p.normalize('NFC').toLowerCase();
    const list = byKey.get(k);
    if (list) list.push(p);
    else byKey.set(k, [p]);
  }
  return [...byKey.values()].filter((g) => new Set(g).size > 1).map((g) => [...new Set(g)].sort());
}

/**
 * One warning per group of dataset files whose names differ only in case (caseCollisions): fine on Linux, but on
 * Windows and macOS one of each group overwrites the others when the dataset is copied there.
 */
export function caseCollisionWarnings(relPaths: Iterable<string>): string[] {
  return caseCollisions(relPaths).map(
    (g) =>
      `${g.join(' and ')} differ only in case: on Windows and macOS (case-insensitive file systems) only one of them can exist; rename one of them before moving the dataset there.`,
  );
}

/**
 * A move whose source and target are the same entry on the platform's file system: only the case (or Unicode form)
 * of a name changes. It must be a plain rename: a "target exists" check sees the source itself.
 */
export function isCaseOnlyMove(from: string, to: string, platform: Platform = process.platform): boolean {
  return from !== to && samePath(from, to, platform);
}

/** Whether `file` is `root` or under it, with the platform's path rules (Windows: drive letters, any case). */
export function isInside(file: string, root: string, platform: Platform = process.platform): boolean {
  const p = pathFor(platform);
  const rel = p.relative(root, file);
  if (rel === '') return true;
  return rel !== '..' && !rel.startsWith(`..${p.sep}`) && !p.isAbsolute(rel);
}

/**
 * A `file://` URI → an absolute path with the platform's rules: `file:///c%3A/Users/me/a%20b.jpg` → `c:\Users\me\a b.jpg`
 * on Windows (VS Code writes drive letters lower-case with an escaped colon), `file://server/share/x` → `\\server\share\x`.
 */
export function fileUriToPath(uri: string, platform: Platform = process.platform): string {
  const p = pathFor(platform);
  return p.resolve(fileURLToPath(uri, { windows: platform === 'win32' }));
}

/** The signals that ask the server to stop in order: Windows delivers SIGINT and SIGBREAK (a console), never SIGTERM. */
export function shutdownSignals(platform: Platform = process.platform): NodeJS.Signals[] {
  return platform === 'win32' ? ['SIGINT', 'SIGBREAK', 'SIGHUP'] : ['SIGTERM', 'SIGINT', 'SIGHUP'];
}

let glibcCached: boolean | undefined;
/** Whether this process runs on glibc (Node's own report says which glibc it found; absent on musl and elsewhere). */
export function runsOnGlibc(): boolean {
  if (glibcCached === undefined) {
    const report = (process.report as { excludeNetwork?: boolean; getReport?: () => unknown } | undefined) ?? {};
    try {
      report.excludeNetwork = true;
      const header = (report.getReport?.() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
      glibcCached = process.platform === 'linux' && typeof header?.glibcVersionRuntime === 'string';
    } catch {
      glibcCached = process.platform === 'linux';
    }
  }
  return glibcCached;
}

/** Error codes of a rename that Windows gives while another process holds the target (or source) open. */
export function renameIsTransient(code: string | undefined, platform: Platform = process.platform): boolean {
  return platform === 'win32' && (code === 'EPERM' || code === 'EACCES' || code === 'EBUSY');
}

export interface RenameOptions {
  platform?: Platform;
  /** Tries in all (default 6: about 1.5 s with the doubling delays). */
  attempts?: number;
  /** The first wait (ms), doubled after each try. */
  delayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * `rename(from, to)` replacing `to`, retried while Windows reports the target busy (see renameIsTransient); any
 * other error, and the last busy one, is thrown as it came.
 */
export async function renameReplacing(
  rename: (from: string, to: string) => Promise<void>,
  from: string,
  to: string,
  o: RenameOptions = {},
): Promise<void> {
  const attempts = Math.max(1, o.attempts ?? 6);
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let delay = o.delayMs ?? 25;
  for (let i = 1; ; i++) {
    try {
      await rename(from, to);
      return;
    } catch (e) {
      if (i >= attempts || !renameIsTransient((e as NodeJS.ErrnoException).code, o.platform ?? process.platform)) throw e;
      await sleep(delay);
      delay *= 2;
    }
  }
}
