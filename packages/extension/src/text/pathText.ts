/** Text helpers for paths in messages. */

export interface RootForMessages {
  /** The folder's file system path (`/home/me/photos`). */
  path: string;
  /** Its URI (`file:///home/me/photos`). */
  uri: string;
  /** Prefix for paths inside it ('' in a single-folder workspace, the folder's name otherwise). */
  name: string;
}

/**
 * Rewrites absolute paths and file: URIs under one of `roots` as workspace-relative paths (`photos/cat.jpg`, or
 * `Folder/photos/cat.jpg` with several folders). Percent-escapes in URIs are decoded. Other text is left alone.
 */
export function relativizePaths(message: string, roots: readonly RootForMessages[]): string {
  let out = message;
  // Longest roots first, so a nested folder wins over its parent.
  for (const r of [...roots].sort((a, b) => b.path.length - a.path.length)) {
    const prefix = r.name ? `${r.name}/` : '';
    const uriRoot = r.uri.replace(/\/$/, '');
    out = out.replace(new RegExp(`${escapeRe(uriRoot)}/([^\\s"'\`<>)]+)`, 'g'), (_all, rest: string) => {
      try {
        return prefix + decodeURIComponent(rest);
      } catch {
        return prefix + rest;
      }
    });
    const fsRoot = r.path.replace(/[\\/]$/, '');
    out = out.replace(new RegExp(`${escapeRe(fsRoot)}[\\\\/]`, 'g'), prefix);
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
