/**
 * The saved neighbour graph's integrity (ann-store.ts): every part carries its size and SHA-256 in a manifest written
 * last; reading verifies each part before parsing and says why a set is refused (torn, changed, missing manifest,
 * another version or width); the verified graph bytes can go to a private copy that is what gets loaded.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import {
  annStoreFiles,
  buildAnnIndex,
  checkAnnSnapshot,
  copyManifestGraph,
  copyVerifiedGraph,
  loadAnnIndex,
  loadUsearch,
  normalizedMatrix,
  persistAnnIndex,
  seededRandom,
} from '../src/index.js';

const D = 32;
const N = 400;

function matrix() {
  const rand = seededRandom(3);
  const vecs = Array.from({ length: N }, (_, i) => Float32Array.from({ length: D }, (_, j) => (i % 7 === j % 7 ? 1 : 0) + 0.3 * rand()));
  return { m: normalizedMatrix(vecs, D), ids: vecs.map((_, i) => `id-${i}`) };
}

describe('curation: the saved graph is verified before use', { skip: loadUsearch() === null && 'usearch does not load here' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ann-store-'));
  const file = path.join(dir, 'g.usearch');
  const f = annStoreFiles(file);
  const { m, ids } = matrix();
  const ann = buildAnnIndex(m, { exactMaxRows: 100, dims: 16 }, ids);
  let saved: ReturnType<typeof persistAnnIndex>;

  beforeEach(() => {
    saved = persistAnnIndex(ann, file, D);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('saved: graph, sidecars and a manifest with each part’s size and SHA-256; read back verified', () => {
    assert.ok(saved?.sha256 && saved.graphBytes === fs.statSync(file).size);
    const manifest = JSON.parse(fs.readFileSync(f.manifest, 'utf8'));
    for (const [part, p] of [
      ['graph', f.graph],
      ['f32', f.f32],
      ['json', f.json],
    ] as const) {
      assert.equal(manifest[part].bytes, fs.statSync(p).size, part);
      assert.match(manifest[part].sha256, /^[0-9a-f]{64}$/);
    }
    assert.deepEqual(
      fs.readdirSync(dir).filter((x) => x.endsWith('.tmp')),
      [],
    );
    const r = checkAnnSnapshot(file, D);
    assert.equal(r.reason, undefined);
    assert.deepEqual(r.snapshot?.ids, ids);
    assert.equal(r.snapshot?.sha256, saved.sha256);
  });

  test('nothing saved: neither a snapshot nor a reason', () => {
    assert.deepEqual(checkAnnSnapshot(path.join(dir, 'none.usearch'), D), {});
  });

  const refused: Array<[string, () => void, RegExp]> = [
    [
      'graph bytes changed, same size',
      () => {
        const b = fs.readFileSync(f.graph);
        b[b.length >> 1] ^= 0xff;
        fs.writeFileSync(f.graph, b);
      },
      /failed its checksum: its graph file/,
    ],
    ['graph truncated', () => fs.truncateSync(f.graph, 100), /torn: its graph file holds 100 bytes/],
    ['graph missing', () => fs.rmSync(f.graph), /torn: its graph file is missing/],
    [
      'vector sidecar changed',
      () => {
        const b = fs.readFileSync(f.f32);
        b[7] ^= 1;
        fs.writeFileSync(f.f32, b);
      },
      /failed its checksum: its vector sidecar/,
    ],
    [
      'key sidecar changed',
      () => fs.writeFileSync(f.json, fs.readFileSync(f.json, 'utf8').replace('id-0', 'id-X')),
      /failed its checksum: its key sidecar/,
    ],
    ['manifest missing', () => fs.rmSync(f.manifest), /no checksum manifest/],
    ['manifest unreadable', () => fs.writeFileSync(f.manifest, '{"version":2,'), /manifest is unreadable/],
    [
      'manifest of another version',
      () => {
        const mf = JSON.parse(fs.readFileSync(f.manifest, 'utf8'));
        fs.writeFileSync(f.manifest, JSON.stringify({ ...mf, version: 1 }));
      },
      /another version/,
    ],
  ];
  for (const [name, damage, why] of refused) {
    test(`refused with its reason: ${name}`, () => {
      damage();
      const r = checkAnnSnapshot(file, D, { copyTo: path.join(dir, 'copy') });
      assert.equal(r.snapshot, undefined);
      assert.match(r.reason ?? '', why);
      assert.equal(fs.existsSync(path.join(dir, 'copy')), false, 'no copy of a refused graph');
    });
  }

  test('another embedding width: refused with its reason', () => {
    assert.match(checkAnnSnapshot(file, D + 4).reason ?? '', /for 32-d embeddings, not 36-d/);
  });

  test('copyTo: the verified bytes go to a new private file, which loads; a file already there is never overwritten', () => {
    const copy = path.join(dir, 'private.load');
    const r = checkAnnSnapshot(file, D, { copyTo: copy });
    assert.equal(r.snapshot?.file, copy);
    assert.deepEqual(fs.readFileSync(copy), fs.readFileSync(file));
    assert.equal(fs.statSync(copy).mode & 0o077, 0, 'readable by its owner only');
    // The saved graph replaced after the check: the copy still holds the verified bytes.
    fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 0xee));
    const loaded = loadAnnIndex(m, r.snapshot!);
    assert.ok(loaded && !loaded.exact);
    assert.deepEqual(loaded.query(m.data.subarray(0, D), 5, 0), ann.query(m.data.subarray(0, D), 5, 0));
    const again = checkAnnSnapshot(file, D, { copyTo: copy });
    assert.match(again.reason ?? '', /failed its checksum/);
    persistAnnIndex(ann, file, D);
    const taken = checkAnnSnapshot(file, D, { copyTo: copy });
    assert.match(taken.reason ?? '', /could not be copied/);
    assert.ok(fs.existsSync(copy), 'the file already there is left alone');
    fs.rmSync(copy);
  });

  test('copyVerifiedGraph: copies only the bytes that were saved', () => {
    const copy = path.join(dir, 'again.load');
    assert.equal(copyVerifiedGraph(file, saved!.sha256!, saved!.graphBytes!, copy), undefined);
    assert.deepEqual(fs.readFileSync(copy), fs.readFileSync(file));
    fs.rmSync(copy);
    const b = fs.readFileSync(file);
    b[10] ^= 0x55;
    fs.writeFileSync(file, b);
    assert.match(copyVerifiedGraph(file, saved!.sha256!, saved!.graphBytes!, copy) ?? '', /failed its checksum/);
    assert.equal(fs.existsSync(copy), false);
  });

  test('copyManifestGraph: a copy of the graph as its manifest describes it, which checkAnnSnapshot accepts as verified', () => {
    const copy = path.join(dir, 'manifest.load');
    const r = copyManifestGraph(file, copy);
    assert.equal(r.reason, undefined);
    assert.equal(r.graph?.file, copy);
    assert.equal(r.graph?.sha256, saved!.sha256);
    assert.equal(r.graph?.dims, saved!.dims);
    assert.deepEqual(fs.readFileSync(copy), fs.readFileSync(file));
    const read = checkAnnSnapshot(file, D, { verifiedGraph: r.graph! });
    assert.equal(read.snapshot?.file, copy, 'the snapshot loads the verified copy');
    assert.ok(loadAnnIndex(m, read.snapshot!));
    // Saved again meanwhile (another window, same cache): the copy no longer matches the manifest.
    const other = buildAnnIndex(m, { exactMaxRows: 100, dims: 8 }, ids);
    persistAnnIndex(other, file, D);
    assert.match(checkAnnSnapshot(file, D, { verifiedGraph: r.graph! }).reason ?? '', /replaced while this run read it/);
    fs.rmSync(copy);
    const b = fs.readFileSync(file);
    b[b.length - 1] ^= 1;
    fs.writeFileSync(file, b);
    assert.match(copyManifestGraph(file, copy).reason ?? '', /failed its checksum: its graph file/);
    assert.equal(fs.existsSync(copy), false);
    fs.rmSync(annStoreFiles(file).manifest);
    assert.match(copyManifestGraph(file, copy).reason ?? '', /no checksum manifest/);
    assert.deepEqual(copyManifestGraph(path.join(dir, 'none.usearch'), copy), {});
  });
});
