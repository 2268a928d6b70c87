/**
 * `image-classifier curate` and `similar` end to end through the built CLI (run `npm run build` first), with
 * MobileNetV2 int8 from ../shared: usage errors, a small generated dataset with a broken file (exit 1, the rest
 * analysed, JSON and CSV reports), find-similar, and the curation-dev set scored by its evaluate.py.
 */
import { strict as assert } from 'node:assert';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { FIXTURE_IMAGES, pythonWithNumpy, SKIP_NO_SHARED, sharedDir } from '../../../test-fixtures/fixtures.js';
import { MOBILENET_INT8, BIN } from './server-client.js';

const shared = sharedDir();
const cacheDir = mkdtempSync(path.join(tmpdir(), 'ic-curate-cache-'));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, IMAGE_CLASSIFIER_CACHE_DIR: cacheDir }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

describe('image-classifier curate: usage', () => {
  test('a missing root, an unknown check or format is a usage error (exit 2)', async () => {
    for (const args of [
      ['curate'],
      ['curate', '.', '--checks', 'label,bogus'],
      ['curate', '.', '--format', 'xml'],
      ['similar', 'x.jpg'],
      ['find', 'dog'],
      ['find', '--in', '.'],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /image-classifier: /);
    }
  });

  test('--help prints the curate usage', async () => {
    const r = await cli(['curate', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--checks <list>/);
  });
});

describe('image-classifier curate and similar with MobileNetV2', { skip: shared ? false : SKIP_NO_SHARED }, () => {
  let root: string;
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'ic-curate-'));
    const photos = [
      path.join(FIXTURE_IMAGES, 'skimage_chelsea_cat.jpg'),
      path.join(FIXTURE_IMAGES, 'skimage_coffee.jpg'),
      path.join(shared!, 'images', 'skimage_astronaut.png'),
    ];
    for (const [i, f] of photos.entries()) {
      mkdirSync(path.join(root, `class${i}`));
      cpSync(f, path.join(root, `class${i}`, `a${path.extname(f)}`));
    }
    cpSync(photos[0]!, path.join(root, 'class1', 'copy.jpg'));
    writeFileSync(path.join(root, 'class2', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 1]));
    writeFileSync(path.join(root, 'class2', 'notes.txt'), 'not an image');
  });

  test('a broken file: exit 1, listed as unreadable, the rest analysed; JSON on stdout, CSV to --out', async () => {
    const csv = path.join(root, '..', `${path.basename(root)}.csv`);
    const r = await cli(['curate', root, '--model', MOBILENET_INT8, '--format', 'json', '--out', csv, '--no-progress']);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.version, 1);
    assert.equal(report.counts.files, 5);
    assert.equal(report.counts.unreadable, 1);
    assert.equal(report.files.find((f: { file: string }) => f.file === 'class2/broken.jpg').issues[0].type, 'unreadable');
    assert.deepEqual(report.skipped, [{ file: 'class2/notes.txt', reason: 'not an image file (unknown extension)' }]);
    const exact = report.duplicateGroups.find((g: { kind: string }) => g.kind === 'exact');
    assert.deepEqual(exact, { kind: 'exact', files: ['class0/a.jpg', 'class1/copy.jpg'], conflictingLabels: true, crossSplit: false });
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'file,label,split,label_quality,suggested_label,predicted,issue,score,detail');
    assert.ok(lines.some((l) => l.startsWith('class2/broken.jpg,class2,') && l.includes(',unreadable,')));
  });

  test('text summary with --checks duplicates', async () => {
    const r = await cli(['curate', root, '--model', MOBILENET_INT8, '--format', 'text', '--checks', 'duplicates', '--no-progress']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /Duplicate groups \(1\):/);
    assert.match(r.stdout, /exact {2}class0\/a\.jpg {2}class1\/copy\.jpg {2}\[CONFLICTING LABELS\]/);
    assert.doesNotMatch(r.stdout, /Label issues/);
  });

  test('similar: the nearest image to a copy is the original; the query itself is left out', async () => {
    const r = await cli([
      'similar',
      path.join(root, 'class1', 'copy.jpg'),
      '--in',
      root,
      '-k',
      '2',
      '--model',
      MOBILENET_INT8,
      '--format',
      'json',
      '--no-progress',
    ]);
    assert.equal(r.code, 1, r.stderr); // broken.jpg could not be embedded
    const out = JSON.parse(r.stdout);
    assert.equal(out.results.length, 2);
    assert.equal(out.results[0].file, 'class0/a.jpg');
    assert.ok(out.results[0].similarity > 0.999);
    assert.ok(!out.results.some((h: { file: string }) => h.file === 'class1/copy.jpg'));
  });

  test('find: the photos of a concept rank first (cat → the cat and its copy); an unknown noun names close matches', async () => {
    const r = await cli(['find', 'cats', '--in', root, '--model', MOBILENET_INT8, '--format', 'json', '--no-progress']);
    assert.equal(r.code, 1, r.stderr); // broken.jpg could not be read
    const out = JSON.parse(r.stdout);
    assert.equal(out.concept.synset, 'n02121620', JSON.stringify(out.concept)); // cat (feline): the sense holding most of the set's mass
    assert.deepEqual(
      out.results
        .slice(0, 2)
        .map((h: { file: string }) => h.file)
        .sort(),
      ['class0/a.jpg', 'class1/copy.jpg'],
    );
    assert.ok(out.results[0].mass > 0.5 && out.results[2].mass < 0.1, JSON.stringify(out.results));
    const text = await cli(['find', 'beverage', '--in', root, '--model', MOBILENET_INT8, '--format', 'text', '--no-progress']);
    assert.match(text.stdout.split('\n')[1] ?? '', /class1\/a\.jpg/, text.stdout); // the coffee cup
    const bad = await cli(['find', 'vegtable', '--in', root, '--model', MOBILENET_INT8, '--no-progress']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /INVALID_ARGUMENT: 'vegtable' is not a noun .*close matches: vegetable/);
  });

  test('the curation-dev set as text: the synset of each class, and why the top label issues are suspect', async () => {
    const dev = path.join(shared!, 'datasets', 'curation-dev', 'dataset');
    const r = await cli(['curate', dev, '--model', MOBILENET_INT8, '--format', 'text', '--checks', 'label', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /instrument +\d+ +\d+ +\d+ % +musical instrument n03800933 \(26, \d+ %\)/);
    assert.match(r.stdout, /windmill +\d+ +\d+ +\d+ % +none/);
    assert.match(r.stdout, /\n {6}the model sees .+ at \d+ %; \d+ of its 10 nearest images are in \w+\//);
  });

  test('the curation-dev set: exit 0, and evaluate.py scores the JSON report', async (t) => {
    const dev = path.join(shared!, 'datasets', 'curation-dev');
    const r = await cli(['curate', path.join(dev, 'dataset'), '--model', MOBILENET_INT8, '--format', 'json', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.counts.analysed, 104);
    // Confident learning's estimate of the real label errors, against the 10 the set was built with.
    const truth = JSON.parse(readFileSync(path.join(dev, 'truth.json'), 'utf8'));
    assert.equal(typeof report.counts.estimatedLabelErrors, 'number');
    assert.ok(
      Math.abs(report.counts.estimatedLabelErrors - truth.label_noise.length) <= 3,
      `estimated ${report.counts.estimatedLabelErrors} label errors; the set has ${truth.label_noise.length}`,
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'ic-curate-eval-'));
    const flagged = report.labelIssues.map((l: { file: string }) => l.file);
    const rest = report.files
      .filter((f: { file: string }) => !flagged.includes(f.file))
      .sort((a: { labelQuality: number }, b: { labelQuality: number }) => a.labelQuality - b.labelQuality)
      .map((f: { file: string }) => f.file);
    writeFileSync(path.join(dir, 'ranked.txt'), [...flagged, ...rest].join('\n'));
    writeFileSync(path.join(dir, 'groups.json'), JSON.stringify(report.duplicateGroups.map((g: { files: string[] }) => g.files)));
    let out: string;
    try {
      out = execFileSync(
        pythonWithNumpy(),
        [
          path.join(dev, 'evaluate.py'),
          '--suspects',
          path.join(dir, 'ranked.txt'),
          '--duplicates',
          path.join(dir, 'groups.json'),
          '--json',
        ],
        { encoding: 'utf8' },
      );
    } catch (e) {
      t.skip(`evaluate.py did not run: ${(e as Error).message.split('\n')[0]}`);
      return;
    }
    const s = JSON.parse(out);
    assert.ok(s.suspects.average_precision >= 0.95, JSON.stringify(s.suspects));
    assert.ok(s.suspects.at['10'].precision >= 0.9);
    assert.ok(s.duplicates.precision >= 0.97 && s.duplicates.recall >= 0.97, JSON.stringify(s.duplicates));
    assert.equal(s.duplicates.exact_pairs_found, '5/5');
  });
});
