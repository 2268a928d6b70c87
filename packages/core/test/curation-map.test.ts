/** The curation report's 2-D map (map.ts): PCA of the embeddings to [0, 1]², aligned with the report's files. */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { embeddingMap, type Extracted, mapOfFiles, normalizedMatrix, seededRandom } from '../src/index.js';

/** Two clusters of `per` unit vectors in d dims around orthogonal centres (noise well under the separation). */
function twoClusters(per: number, d: number): { rows: number[][]; y: number[] } {
  const rand = seededRandom(3);
  const rows: number[][] = [];
  const y: number[] = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < per; i++) {
      rows.push(Array.from({ length: d }, (_, j) => (j % 2 === c ? 1 : 0) + 0.4 * (rand() - 0.5)));
      y.push(c);
    }
  }
  return { rows, y };
}

describe('the 2-D embedding map', () => {
  test('two well-separated clusters land in separated regions, every point finite in [0, 1]', () => {
    const { rows, y } = twoClusters(150, 64);
    const xy = embeddingMap(normalizedMatrix(rows, 64));
    assert.equal(xy.length, 600);
    for (const v of xy) assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, String(v));
    // The first component is the clusters' separation: one cluster entirely below the other on x.
    const xs = (c: number) => y.flatMap((l, i) => (l === c ? [xy[i * 2]!] : []));
    const [a, b] = [xs(0), xs(1)];
    const gap = Math.min(Math.min(...b) - Math.max(...a), Math.min(...a) - Math.max(...b));
    const separated = Math.max(...a) < Math.min(...b) || Math.max(...b) < Math.min(...a);
    assert.ok(separated, `clusters overlap on x (gap ${gap})`);
    // Both ends of the axis are used (min-max scaling).
    assert.equal(Math.min(...a, ...b), 0);
    assert.equal(Math.max(...a, ...b), 1);
  });

  test('the same input gives the same map; a sample smaller than n still separates', () => {
    const { rows, y } = twoClusters(300, 32);
    const m = normalizedMatrix(rows, 32);
    assert.deepEqual(embeddingMap(m), embeddingMap(m));
    const xy = embeddingMap(m, 50);
    const mean = (c: number) => y.reduce((s, l, i) => s + (l === c ? xy[i * 2]! : 0), 0) / 300;
    assert.ok(Math.abs(mean(0) - mean(1)) > 0.5, `${mean(0)} vs ${mean(1)}`);
  });

  test('degenerate inputs: no rows, one row, identical rows, a NaN row: no NaN anywhere', () => {
    assert.equal(embeddingMap(normalizedMatrix([], 8)).length, 0);
    assert.deepEqual([...embeddingMap(normalizedMatrix([[1, 2, 3]], 3))], [0.5, 0.5]);
    // One dimension: x separates +1 from −1 (its sign is arbitrary), y has nothing to show.
    const line = [...embeddingMap(normalizedMatrix([[1], [-1], [2]], 1))];
    assert.deepEqual([line[1], line[3], line[5]], [0.5, 0.5, 0.5]);
    assert.deepEqual([line[0], line[4]].sort(), [line[0], line[0]]);
    assert.equal(Math.abs(line[0]! - line[2]!), 1);
    assert.deepEqual(
      [
        ...embeddingMap(
          normalizedMatrix(
            [
              [1, 0],
              [1, 0],
              [1, 0],
            ],
            2,
          ),
        ),
      ],
      [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    );
    const xy = embeddingMap(
      normalizedMatrix(
        [
          [1, 0, 0],
          [0, 1, 0],
          [Number.NaN, 0, 0],
          [0, 0, 1],
        ],
        3,
      ),
    );
    for (const v of xy) assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, String(v));
    assert.deepEqual([xy[4], xy[5]], [0.5, 0.5]);
  });

  test('mapOfFiles: one entry per extracted file, in order, null where the file was not analysed', () => {
    const entry = (file: string) => ({ entry: { file, path: `/d/${file}` } }) as unknown as Extracted;
    const extracted = ['a.png', 'bad.png', 'b.png', 'c.png'].map(entry);
    const xy = Float32Array.from([0, 1, 0.25, 0.5, 1, 0]);
    const map = mapOfFiles(extracted, ['a.png', 'b.png', 'c.png'], xy);
    assert.deepEqual(map, { method: 'pca', points: [[0, 1], null, [0.25, 0.5], [1, 0]] });
    assert.equal(mapOfFiles(extracted, ['a.png'], xy), undefined, 'a misaligned map is dropped, never misattributed');
    assert.equal(mapOfFiles(extracted, [], undefined), undefined);
  });
});
