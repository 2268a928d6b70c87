/**
 * The benchmarks' folder of ImageNet-sized photos: 500×375 JPEGs made from ../shared/images by crops, scales, flips
 * and qualities 85–95, so each file decodes differently. Used by scripts/bench.mjs and scripts/bench-server.mjs.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'package.json'));

/** Writes `count` photos into `dir` (emptied first); returns their paths in order. */
export async function makeJpegFolder(sharedDir, dir, count) {
  const sharp = require('sharp');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const photos = readdirSync(path.join(sharedDir, 'images')).filter((f) => f.startsWith('skimage_'));
  const files = [];
  for (let i = 0; i < count; i++) {
    const src = path.join(sharedDir, 'images', photos[i % photos.length]);
    const m = await sharp(src).metadata();
    const scale = 0.7 + ((i * 7) % 13) / 43;
    const cw = Math.max(64, Math.floor(m.width * scale));
    const ch = Math.max(64, Math.floor(m.height * scale));
    const left = (i * 13) % Math.max(1, m.width - cw + 1);
    const top = (i * 29) % Math.max(1, m.height - ch + 1);
    let p = sharp(src).extract({ left, top, width: cw, height: ch });
    if (i % 2) p = p.flop();
    if (i % 3 === 2) p = p.flip();
    const file = path.join(dir, `img${String(i).padStart(4, '0')}.jpg`);
    await p
      .resize(500, 375, { fit: 'fill' })
      .jpeg({ quality: 85 + (i % 11) })
      .toFile(file);
    files.push(file);
  }
  return files;
}
