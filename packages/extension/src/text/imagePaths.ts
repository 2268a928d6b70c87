/**
 * Image paths written in text: which strings under the cursor may name an image file, and how a written reference
 * becomes a file path. Used by the hover for languages without a link provider (JSON, YAML, JS/TS, Python, plain
 * text…) and to clean the text of links a provider found. Handles quotes and string escapes, `<…>` destinations,
 * balanced parentheses (`my photo (1).jpg`), spaces, percent-escapes, unicode, `?query` / `#fragment` suffixes and
 * `file://` URIs.
 */
import { KNOWN_IMAGE_EXTENSIONS } from '@image-classifier/protocol/formats';

export interface PathCandidate {
  /** The written reference, cleaned: the path to resolve (relative, absolute, or a file system path). */
  path: string;
  /** Its columns in the line (the written text, query and fragment included). */
  start: number;
  end: number;
}

const EXTENSIONS = KNOWN_IMAGE_EXTENSIONS.map((e) => e.slice(1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
/** An image extension that ends a name, optionally followed by `?query` / `#fragment`. */
const EXTENSION_END = new RegExp(`\\.(?:${EXTENSIONS})(?![\\p{L}\\p{N}_])((?:[?#][^\\s"'\`<>()]*)?)`, 'giu');
/** Characters that never belong to an unquoted path: where a scan to the left stops. */
const HARD_STOP = /["'`<>[\]{}|*=,;]/;
const WORD = /[\p{L}\p{N}]/u;
/** At most this many start positions are tried for one unquoted name (`a b c d.jpg` → `d.jpg`, `c d.jpg`, …). */
const MAX_STARTS = 8;

/** True when a written reference names an image file the table knows (by its extension, query/fragment aside). */
export function looksLikeImage(ref: string): boolean {
  return isKnownImage(stripSuffix(ref));
}

/** True when `p` itself (nothing dropped) ends in an image extension the table knows. */
export function isKnownImage(p: string): boolean {
  return new RegExp(`\\.(?:${EXTENSIONS})$`, 'i').test(p);
}

/** Drops `?query` and `#fragment` (the first `?` or `#` after the last path separator). */
function stripSuffix(ref: string): string {
  const slash = Math.max(ref.lastIndexOf('/'), ref.lastIndexOf('\\'));
  const tail = ref.slice(slash + 1);
  const cut = tail.search(/[?#]/);
  return cut < 0 ? ref : ref.slice(0, slash + 1 + cut);
}

/** Undoes JSON / JS / Python string escapes (`\\`, `\"`, `\/`, `\u732b`, `\u{1F431}`, `\x41`). */
export function unescapeString(s: string): string {
  return s.replace(/\\(u\{([0-9a-fA-F]+)\}|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|[\\/"'`])/g, (all, _e, cp, u4, x2) => {
    const hex = cp ?? u4 ?? x2;
    if (hex) {
      const n = Number.parseInt(hex, 16);
      return n <= 0x10ffff ? String.fromCodePoint(n) : all;
    }
    return all.slice(1);
  });
}

/** `<…>` unwrapped, a `file://` URI turned into a path; undefined for other URI schemes (http, data, …). */
function unwrapRef(written: string): string | undefined {
  let ref = written.trim();
  if (ref.startsWith('<') && ref.endsWith('>')) ref = ref.slice(1, -1).trim();
  const fileUri = /^file:\/\/([^/]*)(\/.*)$/i.exec(ref);
  if (fileUri) return fileUri[1] && fileUri[1] !== 'localhost' ? `//${fileUri[1]}${fileUri[2]}` : fileUri[2]!;
  if (/^[a-z][\w+.-]+:/i.test(ref) && !/^[a-z]:[\\/]/i.test(ref)) return undefined;
  return ref;
}

/**
 * A written reference → the path it names: `<…>` unwrapped, `file://` URIs turned into paths, `?query` /
 * `#fragment` dropped, percent-escapes decoded. Undefined for other URI schemes (http, data, …) and non-images.
 */
export function cleanImageRef(written: string): string | undefined {
  let ref = unwrapRef(written);
  if (ref === undefined) return undefined;
  ref = stripSuffix(ref);
  if (/%[0-9a-f]{2}/i.test(ref)) {
    try {
      ref = decodeURIComponent(ref);
    } catch {
      /* a literal `%` in a name: keep as written */
    }
  }
  // `/C:/Users/…` from a Windows file URI.
  if (/^\/[a-z]:\//i.test(ref)) ref = ref.slice(1);
  return ref && isKnownImage(ref) ? ref : undefined;
}

/**
 * Every path a written reference may name, the literal one first: a name that holds `#` or `?` itself
 * (`IMG 2024-05-01 #3.png`) is read as written before it is read as a URL with a fragment or query (which
 * cleanImageRef gives). The caller keeps the first that exists on disk, so a file that exists wins.
 */
export function imageRefReadings(written: string): string[] {
  const out: string[] = [];
  const ref = unwrapRef(written);
  if (ref !== undefined && stripSuffix(ref) !== ref && isKnownImage(ref)) out.push(ref.replace(/^\/([a-z]:\/)/i, '$1'));
  const url = cleanImageRef(written);
  if (url !== undefined && !out.includes(url)) out.push(url);
  return out;
}

/** True when every `(` has its `)` and no `)` comes first. */
function balanced(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function add(out: PathCandidate[], written: string, start: number, end: number, isString = false): void {
  for (const path of imageRefReadings(isString ? unescapeString(written) : written)) {
    if (!out.some((c) => c.path === path && c.start === start)) out.push({ path, start, end });
  }
}

/** True when the character at `i` stops a scan to the left: a hard stop, except an apostrophe inside a word (`x&y'q`). */
function stopsScan(line: string, i: number): boolean {
  const c = line[i]!;
  if (c === "'" && WORD.test(line[i - 1] ?? '') && WORD.test(line[i + 1] ?? '')) return false;
  return HARD_STOP.test(c);
}

/** Quoted strings ("…", '…', `…`) around `character` whose content names an image. */
function quoted(line: string, character: number, out: PathCandidate[]): void {
  const re = /(["'`])((?:\\.|(?!\1)[^\\\n])*)\1/g;
  for (let m; (m = re.exec(line)); ) {
    if (character < m.index || character > m.index + m[0].length) continue;
    add(out, m[2]!, m.index + 1, m.index + 1 + m[2]!.length, true);
  }
}

/** `<…>` destinations (CommonMark allows spaces and parentheses inside) around `character`. */
function angled(line: string, character: number, out: PathCandidate[]): void {
  const re = /<([^<>\n]+)>/g;
  for (let m; (m = re.exec(line)); ) {
    if (character < m.index || character > m.index + m[0].length) continue;
    add(out, m[1]!, m.index + 1, m.index + 1 + m[1]!.length);
  }
}

/**
 * Unquoted names ending in an image extension around `character`: for each, every plausible start to the left
 * (after a space or a parenthesis, before a character no path holds), longest first, kept only when its parentheses
 * balance. The caller keeps the first that exists on disk.
 */
function unquoted(line: string, character: number, out: PathCandidate[]): void {
  EXTENSION_END.lastIndex = 0;
  let previousEnd = 0;
  for (let m; (m = EXTENSION_END.exec(line)); previousEnd = m.index + m[0].length) {
    const nameEnd = m.index + m[0].length - (m[1]?.length ?? 0);
    const end = m.index + m[0].length;
    if (character > end) continue;
    // A name does not reach back over another image name (`a.jpg and b.png`).
    let stop = nameEnd - 1;
    while (stop > previousEnd && !stopsScan(line, stop - 1)) stop--;
    const starts: number[] = [];
    for (let i = nameEnd - 1; i > stop && starts.length < MAX_STARTS; i--) {
      if (/[\s(]/.test(line[i - 1]!)) starts.push(i);
    }
    starts.push(stop);
    for (const start of starts.sort((a, b) => a - b)) {
      if (character < start) continue;
      const written = line.slice(start, nameEnd);
      if (!written.trim() || /^\s|\s$/.test(written) || !balanced(written)) continue;
      add(out, line.slice(start, end), start, end);
      // A Markdown backslash escape (`my\ photo\(1\).jpg`) as well.
      if (written.includes('\\')) add(out, written.replace(/\\([!-/:-@[-`{-~])/g, '$1'), start, end);
    }
  }
}

/**
 * Every reading of the text under `character` as an image reference, most specific first: quoted strings, `<…>`
 * destinations, then unquoted names (longest first). Empty when nothing there ends in an image extension.
 */
export function imagePathCandidates(line: string, character: number): PathCandidate[] {
  if (line.length > 10_000) return [];
  const out: PathCandidate[] = [];
  quoted(line, character, out);
  angled(line, character, out);
  unquoted(line, character, out);
  return out;
}
