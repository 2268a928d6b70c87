/** The curation building blocks: kNN search, the regression (primal = dual), confident learning, pHash, quality rules. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { FIXTURE_IMAGES } from '../../../test-fixtures/fixtures.js';
import {
  allNeighbours,
  crossValidatedProbabilities,
  dotRows,
  findLabelIssues,
  fitSoftmaxRegression,
  hammingDistance,
  imageFeatures,
  isNearDuplicate,
  type Matrix,
  normalizedMatrix,
  predictRow,
  qualityIssues,
  regressionPlan,
  queryNeighbours,
  seededRandom,
  stratifiedFolds,
  UnionFind,
} from '../src/index.js';

function clusters(perClass: number, classes: number, d: number, seed = 1): { m: Matrix; y: Int32Array } {
  const rand = seededRandom(seed);
  const rows: number[][] = [];
  const y: number[] = [];
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++) {
      rows.push(Array.from({ length: d }, (_, j) => (j % classes === c ? 1 : 0) + 0.6 * (rand() - 0.5)));
      y.push(c);
    }
  }
  return { m: normalizedMatrix(rows, d), y: Int32Array.from(y) };
}

describe('curation algorithms', () => {
  test('allNeighbours and queryNeighbours agree with a brute-force sort', () => {
    const { m } = clusters(23, 3, 16);
    const nb = allNeighbours(m, 5);
    for (let i = 0; i < m.n; i++) {
      const order = [...Array(m.n).keys()]
        .filter((j) => j !== i)
        .sort((a, b) => dotRows(m.data, i, m.data, b, m.d) - dotRows(m.data, i, m.data, a, m.d));
      assert.deepEqual(Array.from(nb.index.subarray(i * 5, i * 5 + 5)), order.slice(0, 5));
      const q = queryNeighbours(m, m.data.subarray(i * m.d, (i + 1) * m.d), 5, i).map((h) => h.index);
      assert.deepEqual(q, order.slice(0, 5));
    }
  });

  test('stratified folds are balanced per class and deterministic', () => {
    const y = Int32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2]);
    const f = stratifiedFolds(y, 3, 5, 0);
    assert.deepEqual(f, stratifiedFolds(y, 3, 5, 0));
    for (let c = 0; c < 2; c++) assert.equal(new Set(Array.from(f).filter((_, i) => y[i] === c)).size, 5);
  });

  test('the dual form of the regression gives the primal probabilities (with momentum too)', () => {
    const { m, y } = clusters(6, 3, 40); // 18 rows < 40 dims: the dual path
    const o = { iterations: 60, momentum: 0.9 };
    const cv = crossValidatedProbabilities(m, y, 3, 3, 7, o);
    const fold = stratifiedFolds(y, 3, 3, 7);
    for (let f = 0; f < 3; f++) {
      const train = [...Array(m.n).keys()].filter((i) => fold[i] !== f);
      const w = fitSoftmaxRegression(m, y, train, 3, o);
      for (let i = 0; i < m.n; i++) {
        if (fold[i] !== f) continue;
        const p = predictRow(w, m, i, 3);
        for (let c = 0; c < 3; c++) assert.ok(Math.abs(p[c]! - cv[i * 3 + c]!) < 1e-9, `row ${i} class ${c}`);
      }
    }
  });

  test('confident learning flags flipped labels first, with the right suggestion', () => {
    const { m, y } = clusters(15, 3, 24);
    const noisy = Int32Array.from(y);
    noisy[3] = 1;
    noisy[20] = 2;
    const r = findLabelIssues(m, noisy, 3, allNeighbours(m, 10));
    assert.deepEqual(new Set(r.issues.slice(0, 2)), new Set([3, 20]));
    assert.equal(r.suggested.get(3), 0);
    assert.equal(r.suggested.get(20), 1);
    assert.ok(r.quality[3]! < 0.5 && r.quality[0]! > 0.5);
  });

  test('pHash: a resized, re-encoded, brightened copy stays close; another photo does not', async () => {
    const cat = readFileSync(path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'));
    const a = await imageFeatures(cat);
    const copy = await sharp(cat).resize(200).modulate({ brightness: 1.2 }).jpeg({ quality: 35 }).toBuffer();
    const b = await imageFeatures(copy);
    const c = await imageFeatures(readFileSync(path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg')));
    assert.ok(hammingDistance(a.phash, b.phash) <= 6, `copy ${hammingDistance(a.phash, b.phash)}`);
    assert.ok(hammingDistance(a.phash, c.phash) > 20, `other ${hammingDistance(a.phash, c.phash)}`);
    assert.notEqual(a.pixelsSha256, b.pixelsSha256);
    assert.equal(a.bytesSha256.length, 64);
  });

  test('near-duplicate rule: the hash and the embedding must agree unless the cosine is very high', () => {
    assert.ok(isNearDuplicate(0.871, 0)); // a 60 % downscale at quality 50
    assert.ok(isNearDuplicate(0.941, 10)); // a 90 % crop, darkened
    assert.ok(!isNearDuplicate(0.891, 18)); // two different guitars
    assert.ok(!isNearDuplicate(0.7, 12));
    assert.ok(isNearDuplicate(0.98, 40));
  });

  test('the regression plan: defaults when small, momentum with a tenth of the steps when large, none when huge', () => {
    assert.deepEqual(regressionPlan(104, 5, 1280, {}), {});
    assert.deepEqual(regressionPlan(1000, 10, 1280, {}), { momentum: 0.9, iterations: 50 });
    assert.equal(regressionPlan(2000, 2000, 1280, {}), undefined);
  });

  test('union-find groups', () => {
    const u = new UnionFind(6);
    u.union(4, 1);
    u.union(1, 2);
    u.union(5, 3);
    assert.deepEqual(u.groups(), [
      [1, 2, 4],
      [3, 5],
    ]);
  });

  test('quality: dark, light, grayscale, low information, odd aspect ratio, odd size', async () => {
    const make = async (w: number, h: number, rgb: [number, number, number], noise = 0) => {
      const px = Buffer.alloc(w * h * 3);
      const rand = seededRandom(w * h);
      for (let i = 0; i < px.length; i++) px[i] = Math.max(0, Math.min(255, rgb[i % 3]! + Math.round((rand() - 0.5) * noise)));
      return imageFeatures(
        await sharp(px, { raw: { width: w, height: h, channels: 3 } })
          .png()
          .toBuffer(),
      );
    };
    const imgs = {
      dark: await make(64, 64, [8, 8, 12], 10),
      light: await make(64, 64, [252, 252, 250], 4),
      gray: await make(64, 64, [120, 120, 120], 0),
      wide: await make(200, 40, [100, 150, 60], 120),
      normal: await make(64, 64, [100, 150, 60], 160),
      huge: await make(500, 500, [90, 40, 160], 160), // 7.8× the median side: not odd
    };
    const q = qualityIssues(
      Object.entries(imgs).map(([file, f]) => ({ file, width: f.width, height: f.height, properties: f.properties })),
    );
    const has = (file: string, type: string) => q.some((e) => e.file === file && e.type === type);
    assert.ok(has('dark', 'dark'));
    assert.ok(has('light', 'light'));
    assert.ok(has('gray', 'grayscale') && has('gray', 'low_information'));
    assert.ok(has('wide', 'odd_aspect_ratio'));
    assert.ok(!q.some((e) => e.file === 'normal'), JSON.stringify(q.filter((e) => e.file === 'normal')));
    assert.ok(!has('huge', 'odd_size'), 'odd_size needs 10× the median');
  });
});
