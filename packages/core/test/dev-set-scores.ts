/**
 * Scoring a curation report against a dev set's truth file (curation-dev.test.ts, curation-hard.test.ts): files are
 * compared by `class/file` (the truth files name them so), duplicate groups as the set of file pairs they make.
 */

/** `class/file`: the last two path segments, as a dev set's truth names a file. */
export const key = (p: string): string => p.split('/').slice(-2).join('/');

/** Every unordered pair of files within each group, as `a|b` of their keys (a < b). */
export function pairs(groups: string[][]): Set<string> {
  const out = new Set<string>();
  for (const g of groups) {
    const s = g.map(key).sort();
    for (let i = 0; i < s.length; i++) for (let j = i + 1; j < s.length; j++) out.add(`${s[i]}|${s[j]}`);
  }
  return out;
}
