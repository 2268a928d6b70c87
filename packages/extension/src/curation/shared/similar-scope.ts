/**
 * Where Find Similar Images searches: the curated dataset that holds the image;
 * for an image outside every curated dataset, the choices to offer: each curated dataset, then the image's own
 * folder (searched without an analysis). Never a folder the user did not curate or pick.
 */

export type SimilarScope = { kind: 'dataset'; root: string } | { kind: 'folder'; root: string };

/** Paths are absolute and `/`-separated. */
function contains(root: string, file: string): boolean {
  const r = root.replace(/\/+$/, '');
  return file.startsWith(`${r}/`);
}

function dirname(file: string): string {
  const i = file.lastIndexOf('/');
  return i <= 0 ? '/' : file.slice(0, i);
}

/**
 * The scope to search at once (the innermost curated dataset holding `image`), or the choices to ask about:
 * the curated datasets (nearest to the image first) and the image's folder. One choice is taken without asking.
 */
export function similarScopes(image: string, curatedRoots: readonly string[]): { direct?: SimilarScope; choices: SimilarScope[] } {
  const holding = curatedRoots.filter((r) => contains(r, image)).sort((a, b) => b.length - a.length);
  if (holding.length) return { direct: { kind: 'dataset', root: holding[0]! }, choices: [] };
  const folder = dirname(image);
  const shared = (r: string) => {
    let n = 0;
    const a = r.split('/');
    const b = folder.split('/');
    while (n < a.length && n < b.length && a[n] === b[n]) n++;
    return n;
  };
  const datasets = [...new Set(curatedRoots)]
    .sort((a, b) => shared(b) - shared(a) || a.localeCompare(b))
    .map((root): SimilarScope => ({ kind: 'dataset', root }));
  const choices: SimilarScope[] = [...datasets, { kind: 'folder', root: folder }];
  return choices.length === 1 ? { direct: choices[0]!, choices } : { choices };
}
