/** The search box's note (no DOM, unit-tested): an error sentence cut around its close matches. */

/** "…; close matches: fish, dish." → the text before, the matches (each shown as a link), the text after. */
export function closeMatchParts(message: string): { before: string; matches: string[]; after: string } {
  const m = /^(.*close matches: )(.+?)(\.?)$/s.exec(message);
  if (!m) return { before: message, matches: [], after: '' };
  return { before: m[1]!, matches: m[2]!.split(', '), after: m[3]! };
}
