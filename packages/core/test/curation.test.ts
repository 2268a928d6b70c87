/**
 * Curation on generated datasets (tiny images made with sharp) and a stand-in engine whose embedding is the image's
 * 4×4 thumbnail, so that the bad-dataset cases run in seconds: empty root, one class, a one-image class, unreadable
 * and non-image files, symlink loops, 2,000 classes, splits with leakage, a flat folder, a file changed mid-run.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { curateDataset } from '../src/index.js';
import { thumbnailEngine } from './fake-engine.js';

const fake = thumbnailEngine;

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'curate-'));
}

/** A w×h PNG: a colour with a seeded pattern (distinct images for distinct seeds). */
async function png(file: string, rgb: [number, number, number], seed: number, w = 24, h = 24): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < w * h; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const n = (x >>> 24) % 40;
    for (let c = 0; c < 3; c++) px[i * 3 + c] = Math.max(0, Math.min(255, rgb[c]! + n - 20));
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(
    file,
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

const RED: [number, number, number] = [200, 40, 40];
const BLUE: [number, number, number] = [40, 40, 200];
const GREEN: [number, number, number] = [40, 200, 40];

async function threeClasses(root: string, per = 8): Promise<void> {
  for (let i = 0; i < per; i++) {
    await png(path.join(root, 'red', `r${i}.png`), RED, i + 1);
    await png(path.join(root, 'blue', `b${i}.png`), BLUE, i + 101);
    await png(path.join(root, 'green', `g${i}.png`), GREEN, i + 201);
  }
}

describe('curateDataset on generated datasets', () => {
  test('a missing root or a file as root is a clear error; an empty root an empty report', async () => {
    await assert.rejects(curateDataset('/nonexistent/dataset', fake), /not found/);
    const d = tmp();
    writeFileSync(path.join(d, 'x.txt'), 'x');
    await assert.rejects(curateDataset(path.join(d, 'x.txt'), fake), /not a folder/);
    const r = await curateDataset(tmp(), fake);
    assert.equal(r.version, 1);
    assert.equal(r.counts.files, 0);
    assert.deepEqual(r.files, []);
    assert.ok(r.warnings.some((w) => /No image files/.test(w)));
  });

  test('a misfiled image is found and a suggested label given; unreadable and non-image files are listed, the rest analysed', async () => {
    const root = tmp();
    await threeClasses(root);
    await png(path.join(root, 'red', 'oops.png'), BLUE, 999);
    writeFileSync(path.join(root, 'green', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    writeFileSync(path.join(root, 'blue', 'notes.txt'), 'not an image');
    const r = await curateDataset(root, fake);
    assert.equal(r.labelIssues[0]?.file, 'red/oops.png');
    assert.equal(r.labelIssues[0]?.suggestedLabel, 'blue');
    const broken = r.files.find((f) => f.file === 'green/broken.jpg')!;
    assert.equal(broken.issues[0]?.type, 'unreadable');
    assert.match(broken.issues[0]!.detail!, /DECODE_FAILED|corrupt|truncated/);
    assert.deepEqual(
      r.skipped.map((s) => s.file),
      ['blue/notes.txt'],
    );
    assert.equal(r.counts.unreadable, 1);
    assert.equal(r.counts.analysed, 25);
    assert.equal(r.classes.length, 3);
    // The 2-D map: one entry per file, null for the unreadable one, red and blue apart on it, the misfiled blue with blue.
    assert.equal(r.map?.method, 'pca');
    assert.equal(r.map.points.length, r.files.length);
    const at = (f: string) => r.map!.points[r.files.findIndex((x) => x.file === f)];
    assert.equal(at('green/broken.jpg'), null);
    for (const p of r.map.points)
      if (p)
        assert.ok(
          p.every((v) => Number.isFinite(v) && v >= 0 && v <= 1),
          String(p),
        );
    const centre = (prefix: string) => {
      const pts = r.files.flatMap((f, i) => (f.file.startsWith(prefix) && f.file !== 'red/oops.png' ? [r.map!.points[i]!] : []));
      return [0, 1].map((c) => pts.reduce((s, p) => s + p[c]!, 0) / pts.length);
    };
    const dist = (a: number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!);
    const [red, blue] = [centre('red/'), centre('blue/')];
    assert.ok(dist(red, blue) > 0.3, `red ${red} vs blue ${blue}`);
    assert.ok(dist(blue, at('red/oops.png')!) < dist(red, at('red/oops.png')!), 'the misfiled blue image sits with the blues');
  });

  test('one class: label check skipped with a message, duplicates and quality still run', async () => {
    const root = tmp();
    for (let i = 0; i < 5; i++) await png(path.join(root, 'only', `${i}.png`), RED, i + 1);
    await png(path.join(root, 'only', 'copy.png'), RED, 1);
    const r = await curateDataset(root, fake);
    assert.ok(r.warnings.some((w) => /only one class folder/.test(w)));
    assert.equal(r.labelIssues.length, 0);
    assert.deepEqual(r.duplicateGroups[0]?.files, ['only/0.png', 'only/copy.png']);
    assert.equal(r.duplicateGroups[0]?.kind, 'exact');
  });

  test('a class with one image is reported, never flagged', async () => {
    const root = tmp();
    await threeClasses(root, 5);
    await png(path.join(root, 'lonely', 'l.png'), [128, 128, 20], 7);
    const r = await curateDataset(root, fake);
    assert.ok(r.warnings.some((w) => /single image \(lonely\)/.test(w)));
    assert.ok(!r.labelIssues.some((l) => l.label === 'lonely'));
    assert.equal(r.classes.find((c) => c.name === 'lonely')?.files, 1);
  });

  test('symlink loops are reported, not followed forever', async () => {
    const root = tmp();
    await threeClasses(root, 3);
    symlinkSync(root, path.join(root, 'red', 'loop'));
    symlinkSync(path.join(root, 'nowhere'), path.join(root, 'blue', 'dangling'));
    const r = await curateDataset(root, fake);
    assert.equal(r.counts.files, 9);
    assert.ok(r.skipped.some((s) => s.file === 'red/loop' && /loop/.test(s.reason)));
    assert.ok(r.skipped.some((s) => s.file === 'blue/dangling' && /broken/.test(s.reason)));
  });

  test('splits are detected; a duplicate across splits is leakage', async () => {
    const root = tmp();
    for (const split of ['train', 'test']) {
      for (let i = 0; i < 4; i++) {
        await png(path.join(root, split, 'red', `${split}${i}.png`), RED, i + (split === 'test' ? 50 : 1));
        await png(path.join(root, split, 'blue', `${split}${i}.png`), BLUE, i + (split === 'test' ? 150 : 101));
      }
    }
    await png(path.join(root, 'test', 'red', 'leak.png'), RED, 1);
    const r = await curateDataset(root, fake, { checks: ['leakage', 'label'] });
    assert.deepEqual(r.layout.splits, ['test', 'train']);
    assert.equal(r.files.find((f) => f.file === 'train/red/train0.png')?.split, 'train');
    assert.equal(r.files.find((f) => f.file === 'train/red/train0.png')?.label, 'red');
    const leak = r.duplicateGroups.find((g) => g.files.includes('test/red/leak.png'));
    assert.equal(leak?.crossSplit, true);
    assert.ok(
      r.duplicateGroups.every((g) => g.crossSplit),
      '--checks leakage reports cross-split groups only',
    );
    assert.deepEqual(r.classes.find((c) => c.name === 'red')?.perSplit, { test: 5, train: 4 });
    assert.equal(r.counts.quality, 0, 'quality was not requested');
  });

  test('a flat folder gets duplicates, outliers, quality and the model labels', async () => {
    const root = tmp();
    for (let i = 0; i < 6; i++) await png(path.join(root, `${i}.png`), RED, i + 1);
    await png(path.join(root, 'dark.png'), [3, 3, 3], 9, 24, 24);
    await png(path.join(root, 'wide.png'), RED, 10, 96, 12);
    const r = await curateDataset(root, fake);
    assert.equal(r.layout.flat, true);
    assert.ok(r.warnings.some((w) => /no class folders/.test(w)));
    assert.equal(r.files[0]?.predicted?.label, 'thing');
    const types = (f: string) => r.files.find((x) => x.file === f)?.issues.map((i) => i.type) ?? [];
    assert.ok(types('dark.png').includes('dark'));
    assert.ok(types('wide.png').includes('odd_aspect_ratio'));
    assert.ok(types('dark.png').includes('outlier'));
  });

  test('a file changed during the run gets a "changed" issue', async () => {
    const root = tmp();
    await threeClasses(root, 3);
    let touched = false;
    const r = await curateDataset(root, fake, {
      onProgress: () => {
        if (touched) return;
        touched = true;
        const later = new Date(Date.now() + 60_000);
        for (const f of ['red/r0.png', 'red/r1.png', 'red/r2.png', 'blue/b0.png']) utimesSync(path.join(root, f), later, later);
      },
    });
    assert.ok(r.files.some((f) => f.issues.some((i) => i.type === 'changed')));
    assert.equal(r.counts.analysed, 9);
  });

  test('2,000 classes: analysed in reasonable time, the regression falls back to the kNN vote', async () => {
    const root = tmp();
    const px = Buffer.alloc(8 * 8 * 3);
    for (let c = 0; c < 2000; c++) {
      for (let i = 0; i < px.length; i++) px[i] = (c * 7 + i * (c % 13) + ((c * i) % 251)) & 255;
      mkdirSync(path.join(root, `class${c}`));
      writeFileSync(
        path.join(root, `class${c}`, 'a.png'),
        await sharp(px, { raw: { width: 8, height: 8, channels: 3 } })
          .png()
          .toBuffer(),
      );
    }
    const t0 = performance.now();
    const r = await curateDataset(root, fake, { checks: ['label', 'duplicates'] });
    const ms = performance.now() - t0;
    console.log(`2,000 classes × 1 image: ${ms.toFixed(0)} ms (${JSON.stringify(r.timingsMs)})`);
    assert.equal(r.classes.length, 2000);
    assert.equal(r.counts.analysed, 2000);
    assert.ok(r.warnings.some((w) => /kNN vote only/.test(w)));
    assert.ok(r.warnings.some((w) => /single image/.test(w)));
  });
});
