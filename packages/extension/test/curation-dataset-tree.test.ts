/**
 * Issue 18, points 3 and 9 (trash part): the board keeps its state and trash out of the dataset tree, so a curated,
 * trashed, exported dataset loads in torchvision's own `ImageFolder` (Debian `python3-torchvision`) and under Hugging
 * Face `imagefolder`'s rules with exactly its class folders; an earlier version's in-dataset `.curation/` and `.trash/`
 * are moved out without losing a file; undo removes the empty folders its action made.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import type { CurationReport } from '@image-classifier/protocol';
import { CurationCore } from '../src/curation/model/dataset-actions';
import { NodeFileOps } from '../src/curation/model/file-ops';
import { exists, makeDataset, openCore, stateDir, write } from './curation-helpers';

// ---- a tiny PNG encoder (RGB, no filter), so PIL really opens the files ----------------------------------------
const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(td.length + 8);
  out.writeUInt32BE(data.length, 0);
  td.copy(out, 4);
  out.writeUInt32BE(crc32(td), td.length + 4);
  return out;
}
/** An 8×8 RGB PNG of one colour. */
function png(r: number, g: number, b: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(8, 0);
  ihdr.writeUInt32BE(8, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: 8 }, () => [r, g, b]).flat())]);
  const raw = Buffer.concat(Array.from({ length: 8 }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- the loaders ------------------------------------------------------------------------------------------------
/** A python3 that imports torchvision (Debian's python3-torchvision lives in /usr/bin/python3's dist-packages). */
const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torchvision'], { encoding: 'utf8' }).status === 0);
const SKIP_NO_TORCHVISION =
  'SKIPPED: no python3 with torchvision (apt-get install python3-torchvision; .ci/install-e2e.sh installs it): the ImageFolder check did not run';
if (!PYTHON) console.warn(`curation-dataset-tree: ${SKIP_NO_TORCHVISION}`);

/** torchvision.datasets.ImageFolder(root): its classes and sample count (every image opened once). */
function imageFolder(root: string): { classes: string[]; n: number; opened: number } {
  const code = `import json, sys
from torchvision.datasets import ImageFolder
d = ImageFolder(sys.argv[1])
print(json.dumps({"classes": d.classes, "n": len(d), "opened": sum(1 for i in range(len(d)) if d[i][0].size == (8, 8))}))`;
  const r = spawnSync(PYTHON!, ['-c', code, root], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ImageFolder failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const HF_IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.tif', '.tiff', '.webp']);

/**
 * Hugging Face `imagefolder`'s rules (datasets' data_files + FolderBasedBuilder), for a folder without split names:
 * every file under the root except those in or named like hidden (`.x`) or special (`__x`) entries; images by
 * extension; the label of a file is its parent folder's name, and labels are added when there are two or more and
 * every image is at the same depth.
 */
function hfImagefolder(root: string): { labels: string[]; n: number; addLabels: boolean } {
  const labels = new Set<string>();
  const depths = new Set<number>();
  let n = 0;
  const walk = (rel: string[]) => {
    for (const e of readdirSync(path.join(root, ...rel), { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name.startsWith('__')) continue;
      if (e.isDirectory()) walk([...rel, e.name]);
      else if (HF_IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) {
        n++;
        labels.add(rel[rel.length - 1] ?? '');
        depths.add(rel.length + 1);
      }
    }
  };
  walk([]);
  return { labels: [...labels].sort(), n, addLabels: labels.size > 1 && depths.size === 1 };
}

/** Every image in the tree (dot folders included: what a loader could take). */
function allImages(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.png'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

function reportOf(root: string, files: string[]): CurationReport {
  return {
    version: 1,
    root,
    createdAt: '2000-01-01T00:00:00.000Z',
    model: { name: 'm', embeddingDims: 4 },
    checks: ['label'],
    layout: { splits: [], classes: 2, flat: false },
    counts: {
      files: files.length,
      analysed: files.length,
      unreadable: 0,
      skipped: 0,
      labelIssues: 0,
      duplicateGroups: 0,
      outliers: 0,
      quality: 0,
    },
    files: files.map((f) => ({ file: f, label: f.split('/')[0]!, issues: [] })),
    labelIssues: [],
    duplicateGroups: [],
    outliers: [],
    quality: [],
    classes: [],
    skipped: [],
    warnings: [],
    settings: {},
    timingsMs: { scan: 0, extract: 0, analyse: 0, total: 0 },
  };
}

test('18.3 a curated, trashed, exported dataset (old in-dataset state migrated) loads in ImageFolder and HF imagefolder with exactly its classes', {
  skip: PYTHON ? false : SKIP_NO_TORCHVISION,
}, async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const root = path.join(path.dirname(ds.root), 'pets');
  const colours: Record<string, number[]> = { cats: [200, 40, 40], dogs: [40, 200, 40] };
  for (const [cls, [r, g, b]] of Object.entries(colours))
    for (let i = 1; i <= 4; i++) write(root, `${cls}/${cls[0]}${i}.png`, png(r! + i, g!, b!));
  // An earlier version's state inside the dataset: a trash whose copy is in .curation/trash, an old .trash/, decisions,
  // an export, a .gitignore.
  const old = png(1, 2, 3);
  write(root, '.curation/trash/old1/cats/old.png', old);
  const copy = statSync(path.join(root, '.curation/trash/old1/cats/old.png'));
  const entry = {
    v: 1,
    id: 'old1',
    at: '2026-01-01T00:00:00.000Z',
    kind: 'trash',
    ops: [{ op: 'trash', from: 'cats/old.png', copy: '.curation/trash/old1/cats/old.png' }],
    files: [
      {
        path: '.curation/trash/old1/cats/old.png',
        size: old.length,
        mtimeMs: Math.trunc(copy.mtimeMs),
        sha256: sha(path.join(root, '.curation/trash/old1/cats/old.png')),
      },
    ],
    message: 'Moved 1 file to the trash.',
  };
  write(root, '.curation/journal.jsonl', `${JSON.stringify(entry)}\n`);
  write(root, '.curation/decisions.json', '{"version":1,"keep":{"dogs/d1.png":{"at":"","label":"dogs"}}}\n');
  write(
    root,
    '.curation/.gitignore',
    '# Written by the Image Classifier curation board. decisions.json travels with the dataset;\n# the undo history and the copies kept for undo stay on this machine.\njournal.jsonl\ntrash/\n',
  );
  write(root, '.curation/export/clean-files.txt', 'old export\n');
  write(root, '.trash/dogs/y.png', png(9, 9, 9));
  const legacy = Object.fromEntries(
    [
      '.curation/trash/old1/cats/old.png',
      '.curation/journal.jsonl',
      '.curation/decisions.json',
      '.curation/export/clean-files.txt',
      '.trash/dogs/y.png',
    ].map((f) => [f, sha(path.join(root, f))]),
  );
  // The control: torchvision takes the dot folders for classes (what this test guards against).
  assert.deepEqual(imageFolder(root).classes, ['.curation', '.trash', 'cats', 'dogs']);

  const core = await CurationCore.open(root, new NodeFileOps(ds.osTrash));
  const state = stateDir(root);
  // The old journal goes on working: its trash is undone from the (moved) copy.
  const u = await core.undo();
  assert.equal(u.ok, true, u.message);
  assert.ok(exists(root, 'cats/old.png'));
  assert.equal((await core.trash(['cats/c1.png'])).ok, true);
  const remote = await CurationCore.open(root, new NodeFileOps());
  assert.equal((await remote.trash(['dogs/d2.png'])).ok, true);
  assert.equal((await core.move(['cats/c2.png'], 'birds')).ok, true);
  assert.equal((await core.undo()).ok, true);
  assert.equal((await core.move(['dogs/d3.png'], 'cats')).ok, true);
  assert.equal((await core.keepLabel(['cats/c3.png'])).ok, true);
  // Where the board's Export writes (earlier versions: <root>/.curation/export).
  const exportDir = core.exportDir ?? path.join(root, '.curation', 'export');
  const written = await core.exportReport(
    reportOf(
      root,
      allImages(root).filter((f) => !f.startsWith('.')),
    ),
    exportDir,
  );

  const tv = imageFolder(root);
  assert.deepEqual(tv.classes, ['cats', 'dogs'], 'torchvision ImageFolder finds exactly the class folders');
  const images = allImages(root);
  assert.equal(images.length, 7, images.join(', '));
  assert.equal(tv.n, images.length);
  assert.equal(tv.opened, images.length, 'every sample opens');
  assert.deepEqual(hfImagefolder(root), { labels: ['cats', 'dogs'], n: images.length, addLabels: true });
  assert.deepEqual(readdirSync(root).sort(), ['cats', 'dogs'], 'the dataset folder holds its class folders and nothing else');

  // Nothing was lost: the old state is in the state folder, byte for byte, and in use.
  assert.equal(core.stateDir, state);
  assert.match(core.notices.join(' | '), /Moved the board's 5 old files from the dataset's \.curation\/ and \.trash\/ folders/);
  const moved: Record<string, string> = {
    '.curation/trash/old1/cats/old.png': 'trash-copies/old1/cats/old.png',
    '.curation/export/clean-files.txt': 'export/clean-files.txt',
    '.trash/dogs/y.png': 'trash/dogs/y.png',
  };
  for (const [from, to] of Object.entries(moved)) assert.equal(sha(path.join(state, to)), legacy[from], `${from} → ${to}, same bytes`);
  assert.ok(readFileSync(path.join(state, 'journal.jsonl'), 'utf8').startsWith(JSON.stringify(entry)), 'the old journal, continued');
  assert.ok(core.keptFiles().has('dogs/d1.png'), 'the old decisions are used (and kept in decisions.json)');
  assert.match(readFileSync(path.join(state, 'decisions.json'), 'utf8'), /"dogs\/d1\.png"/);
  assert.ok(existsSync(path.join(state, 'trash/dogs/d2.png')), 'no OS trash: into the state folder beside the dataset');
  assert.ok(
    written.every((w) => w.startsWith(`${state}${path.sep}export${path.sep}`)),
    written.join(', '),
  );
  const hfReal = spawnSync(PYTHON!, ['-c', 'import datasets'], { encoding: 'utf8' });
  if (hfReal.status !== 0)
    console.warn(
      'curation-dataset-tree: Hugging Face datasets is not installed: its imagefolder rules were checked as re-implemented here',
    );
});

test('18.3 migration never loses a file: a name taken in the state folder gets a suffix; a link in the old folder leaves it untouched, read-only', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const state = stateDir(ds.root);
  write(state, 'decisions.json', '{"version":1,"keep":{}}\n');
  write(ds.root, '.curation/decisions.json', '{"version":1,"keep":{"train/cats/a.jpg":{"at":"","label":"cats"}}}\n');
  write(ds.root, '.trash/train/cats/z.jpg', 'old trashed');
  write(ds.root, '.curation/.gitignore', 'edited by the user\n');
  write(state, 'trash/train/cats/z.jpg', 'newer trashed');
  const core = await openCore(ds);
  assert.equal(core.readOnly, undefined);
  assert.equal(readFileSync(path.join(state, 'decisions.json'), 'utf8'), '{"version":1,"keep":{}}\n', 'the state folder wins');
  assert.match(readFileSync(path.join(state, 'decisions (1).json'), 'utf8'), /train\/cats\/a\.jpg/, 'the old one is kept beside it');
  assert.equal(readFileSync(path.join(state, 'trash/train/cats/z (1).jpg'), 'utf8'), 'old trashed');
  assert.equal(readFileSync(path.join(state, 'trash/train/cats/z.jpg'), 'utf8'), 'newer trashed');
  assert.match(core.notices.join(' | '), /decisions \(1\)\.json \(decisions\.json was taken there\)/);
  assert.equal(readFileSync(path.join(state, '.gitignore (1)'), 'utf8'), 'edited by the user\n', 'an edited old .gitignore is kept');
  assert.equal(existsSync(path.join(ds.root, '.curation')) || existsSync(path.join(ds.root, '.trash')), false);

  const ds2 = makeDataset();
  t.after(ds2.cleanup);
  write(ds2.root, '.trash/train/cats/x.jpg', 'old');
  symlinkSync('/etc/hostname', path.join(ds2.root, '.trash/train/cats/link.jpg'));
  const ro = await openCore(ds2);
  assert.match(
    ro.readOnly ?? '',
    /link\.jpg is a symbolic link: the board moves its old folder .*\.trash out of the dataset only when it holds plain files and folders.*read-only/,
  );
  assert.equal(readFileSync(path.join(ds2.root, '.trash/train/cats/x.jpg'), 'utf8'), 'old', 'nothing moved');
  assert.equal((await ro.move(['train/cats/a.jpg'], 'dogs')).code, 'READ_ONLY');
});

test('18.9 undo removes the empty folders its action made (in the trash and new class folders); folders the user had stay', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const state = stateDir(ds.root);
  mkdirSync(path.join(ds.root, 'train', 'empty'));
  const core = await openCore(ds, false);
  assert.equal((await core.trash(['train/cats/b.jpg'])).ok, true);
  assert.ok(existsSync(path.join(state, 'trash/train/cats/b.jpg')));
  assert.equal((await core.undo()).ok, true);
  assert.deepEqual(readdirSync(path.join(state, 'trash')), [], 'no empty trash/train/cats/ left behind');
  assert.equal((await core.move(['val/cats/d.jpg'], 'birds')).ok, true);
  assert.ok(exists(ds.root, 'val/birds/d.jpg'));
  assert.ok(exists(ds.root, 'val/cats'), 'the emptied class folder the user had stays');
  assert.equal((await core.undo()).ok, true);
  assert.equal(exists(ds.root, 'val/birds'), false, 'the class folder the move made is gone again');
  assert.equal((await core.redo()).ok, true);
  assert.ok(exists(ds.root, 'val/birds/d.jpg'));
  assert.equal((await core.undo()).ok, true);
  assert.equal(exists(ds.root, 'val/birds'), false);
  // A folder the move made that holds something else by the time of the undo stays.
  assert.equal((await core.move(['val/cats/d.jpg'], 'fish')).ok, true);
  write(ds.root, 'val/fish/mine.jpg', 'added by the user');
  assert.equal((await core.undo()).ok, true);
  assert.ok(exists(ds.root, 'val/fish/mine.jpg'));
  assert.ok(exists(ds.root, 'train/empty'), "the user's own empty folder is never removed");
  rmSync(path.join(ds.root, 'val/fish'), { recursive: true });
});
