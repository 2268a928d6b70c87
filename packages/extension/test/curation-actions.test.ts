import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CurationCore } from '../src/curation/model/dataset-actions';
import { NodeFileOps } from '../src/curation/model/file-ops';
import { exists, hashOf, journalText, makeDataset, openCore, snapshot, stateDir, statePath, write } from './curation-helpers';

test('curation trash (OS trash): a verified copy is kept, undo restores the bytes (sha256 equal), redo trashes again', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const h = hashOf(ds.root, 'train/cats/a.jpg');
  const core = await openCore(ds, true);
  const r = await core.trash(['train/cats/a.jpg', 'train/cats/a.jpg']);
  assert.equal(r.ok, true, r.message);
  assert.deepEqual(r.changes, [{ from: 'train/cats/a.jpg' }], 'duplicates in the selection count once');
  assert.match(
    r.message,
    /^Moved 1 file to the trash \(a copy is kept in \.dataset\.curation\/trash-copies\/ beside the dataset, for undo\)\.$/,
  );
  assert.equal(exists(ds.root, 'train/cats/a.jpg'), false);
  assert.equal(readdirSync(ds.osTrash).length, 1, 'the file went to the (stand-in) OS trash');
  const entry = JSON.parse(journalText(ds.root).trim());
  assert.equal(entry.ops[0].op, 'trash');
  assert.equal(
    hashOf(path.dirname(ds.root), path.relative(path.dirname(ds.root), statePath(ds.root, entry.ops[0].copy))),
    h,
    'the saved copy has the same bytes',
  );
  const u = await core.undo();
  assert.equal(u.ok, true, u.message);
  assert.deepEqual(u.changes, [{ from: entry.ops[0].copy, to: 'train/cats/a.jpg' }]);
  assert.equal(hashOf(ds.root, 'train/cats/a.jpg'), h, 'restored byte for byte');
  assert.equal((await core.redo()).ok, true);
  assert.equal(exists(ds.root, 'train/cats/a.jpg'), false);
  assert.equal((await core.undo()).ok, true);
  assert.equal(hashOf(ds.root, 'train/cats/a.jpg'), h);
  // The saved copy edited behind the journal's back: the undo is refused, nothing changes.
  await core.redo();
  writeFileSync(statePath(ds.root, entry.ops[0].copy), 'tampered');
  const refused = await core.undo();
  assert.equal(refused.ok, false);
  assert.match(refused.message, /the copy saved for undo is not usable .*Nothing was changed\.$/);
  assert.equal(exists(ds.root, 'train/cats/a.jpg'), false);
});

test('curation trash (no OS trash, remote): files go to <state>/trash/<path> beside the dataset, said so; a clash there gets a suffix; undo restores', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const before = snapshot(ds.root);
  // An earlier version's in-dataset .trash/: moved into the state folder when the board opens.
  write(ds.root, '.trash/train/dogs/c.jpg', 'an older trashed file');
  const st = stateDir(ds.root);
  const core = await openCore(ds, false);
  const r = await core.trash(['train/cats/b.jpg', 'train/dogs/c.jpg']);
  assert.equal(r.ok, true, r.message);
  assert.match(r.message, /into \.dataset\.curation\/trash\/ beside the dataset \(there is no OS trash here\)/);
  assert.deepEqual(r.changes, [{ from: 'train/cats/b.jpg' }, { from: 'train/dogs/c.jpg' }]);
  assert.ok(exists(st, 'trash/train/cats/b.jpg'));
  assert.equal(readFileSync(path.join(st, 'trash/train/dogs/c.jpg'), 'utf8'), 'an older trashed file', 'never overwritten');
  assert.ok(exists(st, 'trash/train/dogs/c (1).jpg'));
  const u = await core.undo();
  assert.equal(u.ok, true, u.message);
  assert.deepEqual(snapshot(ds.root), before);
  // Undo refuses when the original path is taken again.
  await core.redo();
  write(ds.root, 'train/cats/b.jpg', 'new');
  const refused = await core.undo();
  assert.equal(refused.ok, false);
  assert.match(refused.message, /train\/cats\/b\.jpg is taken now.*Nothing was changed\.$/);
  assert.ok(exists(st, 'trash/train/dogs/c (1).jpg'), 'the other file stayed trashed too');
});

test('curation keep/unkeep: journaled and undoable; decisions.json is sorted, one entry per line, versioned', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const clock = { t: Date.parse('2026-12-01T10:00:00.000Z') };
  const core = await CurationCore.open(ds.root, new NodeFileOps(), () => new Date(clock.t++));
  const k = await core.keepLabel(['train/dogs/c.jpg', 'train/cats/a.jpg']);
  assert.equal(k.ok, true, k.message);
  assert.deepEqual(k.decisions, [
    { file: 'train/dogs/c.jpg', keep: true },
    { file: 'train/cats/a.jpg', keep: true },
  ]);
  assert.deepEqual([...core.keptFiles()].sort(), ['train/cats/a.jpg', 'train/dogs/c.jpg']);
  const file = path.join(stateDir(ds.root), 'decisions.json');
  assert.equal(
    readFileSync(file, 'utf8'),
    [
      '{',
      '  "version": 1,',
      '  "keep": {',
      '    "train/cats/a.jpg": {"at":"2026-12-01T10:00:00.000Z","label":"cats"},',
      '    "train/dogs/c.jpg": {"at":"2026-12-01T10:00:00.000Z","label":"dogs"}',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  assert.equal((await core.unkeepLabel(['train/cats/a.jpg'])).ok, true);
  assert.deepEqual([...core.keptFiles()], ['train/dogs/c.jpg']);
  assert.equal((await core.undo()).ok, true, 'undo the unkeep');
  assert.equal(core.keptFiles().has('train/cats/a.jpg'), true);
  assert.equal((await core.undo()).ok, true, 'undo the keep');
  assert.equal(core.keptFiles().size, 0);
  assert.match(readFileSync(file, 'utf8'), /"keep": \{\}/);
  assert.equal((await core.redo()).ok, true);
  assert.equal(core.keptFiles().size, 2);
  // A moved file loses its decision; undoing the move brings it back.
  const m = await core.move(['train/dogs/c.jpg'], 'cats');
  assert.deepEqual(m.decisions, [{ file: 'train/dogs/c.jpg', keep: false }]);
  assert.deepEqual([...core.keptFiles()], ['train/cats/a.jpg']);
  await core.undo();
  assert.deepEqual([...core.keptFiles()].sort(), ['train/cats/a.jpg', 'train/dogs/c.jpg']);
  const keepEntry = JSON.parse(journalText(ds.root).split('\n')[0]!);
  assert.deepEqual(
    keepEntry.files.map((f: { path: string }) => f.path),
    ['train/dogs/c.jpg', 'train/cats/a.jpg'],
    'a keep entry records the state of its files',
  );
  const reopened = await openCore(ds);
  assert.equal(reopened.keptFiles().size, 2, 'read back from decisions.json');
});

test('curation decisions.json that is not valid is never overwritten: keep is refused with the reason', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  write(stateDir(ds.root), 'decisions.json', '{"version":1,"keep":{"a.jpg":');
  const core = await openCore(ds);
  const r = await core.keepLabel(['train/cats/a.jpg']);
  assert.equal(r.ok, false);
  assert.match(r.message, /decisions\.json is not valid JSON .*fix or remove it\. Nothing was changed\.$/);
  assert.equal(readFileSync(path.join(stateDir(ds.root), 'decisions.json'), 'utf8'), '{"version":1,"keep":{"a.jpg":');
});

test('curation bad input: paths outside the dataset, missing files and bad class names are refused with a reason', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const core = await openCore(ds);
  const cases: [Promise<{ ok: boolean; message: string }>, RegExp][] = [
    [core.move(['../outside.jpg'], 'cats'), /not a plain path inside the dataset folder/],
    [core.move(['/etc/passwd'], 'cats'), /not a path relative to the dataset folder/],
    [core.move(['.curation/journal.jsonl'], 'cats'), /hidden/],
    [core.move(['train/cats/nope.jpg'], 'dogs'), /train\/cats\/nope\.jpg is not on disk any more/],
    [core.move(['train/cats/a.jpg'], 'a/b'), /contains a path separator/],
    [core.move(['train/cats/a.jpg'], 'val'), /split folder name/],
    [core.move(['train/cats/a.jpg'], ''), /empty/],
    [core.move(['train/cats/a.jpg'], 'cats'), /Already in “cats”/],
    [core.move(['train/cats/a.jpg', 'val/cats/d.jpg'], 'cats'), /Already in “cats”/],
    [core.move([], 'cats'), /No files were selected/],
    [core.trash(['train/cats/gone.jpg']), /not on disk/],
  ];
  for (const [p, re] of cases) {
    const r = await p;
    assert.equal(r.ok, false, r.message);
    assert.match(r.message, re);
  }
  assert.equal(journalText(ds.root), '', 'nothing was journaled');
});

test('curation rollback: an operation failing halfway undoes the ones done; nothing is journaled', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const before = snapshot(ds.root);
  class FailingSecondRename extends NodeFileOps {
    n = 0;
    override async rename(from: string, to: string): Promise<void> {
      if (++this.n === 2) throw new Error('disk full');
      return super.rename(from, to);
    }
  }
  const core = await CurationCore.open(ds.root, new FailingSecondRename());
  const r = await core.move(['train/cats/a.jpg', 'train/cats/b.jpg'], 'dogs');
  assert.equal(r.ok, false);
  assert.match(
    r.message,
    /rename of train\/cats\/b\.jpg failed \(disk full\)\. What had been done was rolled back: nothing was changed\.$/,
  );
  assert.deepEqual(snapshot(ds.root), before);
  assert.equal(journalText(ds.root), '');
  assert.equal(core.canUndo(), false);
});

test('curation actions run one at a time: concurrent calls do not interleave', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const core = await openCore(ds);
  const [a, b] = await Promise.all([core.move(['train/cats/a.jpg'], 'birds'), core.move(['train/dogs/a.jpg'], 'birds')]);
  assert.equal(a.ok && b.ok, true);
  assert.deepEqual([a.changes[0]!.to, b.changes[0]!.to], ['train/birds/a.jpg', 'train/birds/a (1).jpg']);
  assert.equal(journalText(ds.root).trim().split('\n').length, 2);
});

test('curation NodeFileOps: rename and createFile never replace an existing file', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const ops = new NodeFileOps();
  const h = hashOf(ds.root, 'train/dogs/a.jpg');
  await assert.rejects(ops.rename(path.join(ds.root, 'train/cats/a.jpg'), path.join(ds.root, 'train/dogs/a.jpg')), /EEXIST/);
  await assert.rejects(ops.createFile(path.join(ds.root, 'train/dogs/a.jpg'), new Uint8Array([1])), /EEXIST/);
  assert.equal(hashOf(ds.root, 'train/dogs/a.jpg'), h);
  assert.ok(exists(ds.root, 'train/cats/a.jpg'));
});
