/**
 * A dataset with two files whose names differ only in case (possible on Linux, impossible on Windows and macOS):
 * curation analyses both and its report warns, naming them. Runs with a stand-in engine (the image's 4×4 thumbnail).
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { curateDataset } from '../src/index.js';
import { thumbnailEngine } from './fake-engine.js';

const fake = thumbnailEngine;

async function png(file: string, value: number): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const px = Buffer.alloc(16 * 16 * 3, value);
  for (let i = 0; i < px.length; i += 7) px[i] = (value * 31 + i) % 256;
  writeFileSync(
    file,
    await sharp(px, { raw: { width: 16, height: 16, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

test('two files differing only in case: both analysed on a case-sensitive file system, and the report warns', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'curate-case-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  await png(path.join(root, 'cats', 'IMG_1.png'), 200);
  await png(path.join(root, 'cats', 'img_1.png'), 100);
  for (let i = 0; i < 4; i++) {
    await png(path.join(root, 'cats', `c${i}.png`), 180 + i);
    await png(path.join(root, 'dogs', `d${i}.png`), 20 + i);
  }
  const sensitive = (() => {
    try {
      writeFileSync(path.join(root, 'probe.txt'), 'a');
      writeFileSync(path.join(root, 'PROBE.txt'), 'b');
      return true;
    } finally {
      rmSync(path.join(root, 'probe.txt'), { force: true });
      rmSync(path.join(root, 'PROBE.txt'), { force: true });
    }
  })();
  if (!sensitive) return t.skip('SKIPPED: this file system is case-insensitive: the two files cannot both exist here');
  const r = await curateDataset(root, fake);
  assert.ok(r.files.some((f) => f.file === 'cats/IMG_1.png') && r.files.some((f) => f.file === 'cats/img_1.png'));
  const w = r.warnings.filter((x) => /differ only in case/.test(x));
  assert.deepEqual(w, [
    'cats/IMG_1.png and cats/img_1.png differ only in case: on Windows and macOS (case-insensitive file systems) only one of them can exist; rename one of them before moving the dataset there.',
  ]);
});
