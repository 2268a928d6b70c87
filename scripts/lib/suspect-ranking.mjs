/**
 * The full suspect ranking of a curation report, as cleanlab's evaluation (`evaluate.py`) scores it: the flagged
 * label issues (most suspect first), then every other file with a label quality, lowest first. One helper for the
 * dev-set tests (core/test/curation-dev, curation-hard) and the bench script (bench-curation-dev.mjs).
 * @param {{ labelIssues: { file: string }[], files: { file: string, labelQuality?: number }[] }} r
 * @returns {string[]} report paths
 */
export function suspectRanking(r) {
  const flagged = r.labelIssues.map((l) => l.file);
  const set = new Set(flagged);
  const rest = r.files
    .filter((f) => f.labelQuality !== undefined && !set.has(f.file))
    .sort((a, b) => /** @type {number} */ (a.labelQuality) - /** @type {number} */ (b.labelQuality))
    .map((f) => f.file);
  return [...flagged, ...rest];
}
