/**
 * The Label issues toolbar's sentence on confident learning's estimate of the real label errors beside the number of
 * files flagged. The estimate is counted over the whole dataset, so it can be above the files flagged: the sentence
 * says which number is which, and whether every flagged file is shown.
 */
export function likelyText(estimate: number, flagged: number): string {
  const errors = `${estimate} real label error${estimate === 1 ? '' : 's'}`;
  const files = `${flagged} file${flagged === 1 ? '' : 's'} flagged`;
  if (flagged === 0) return `No files flagged (confident learning's estimate: ${errors})`;
  if (estimate < flagged) return `Likely about ${errors} (confident learning's estimate) among the ${files}`;
  return `Likely about ${errors} (confident learning's estimate); ${files}, ${flagged === 1 ? 'shown' : 'all shown'}`;
}
