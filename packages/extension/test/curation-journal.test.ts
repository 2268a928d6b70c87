import assert from 'node:assert/strict';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseJournal, replayJournal } from '../src/curation/model/journal';
import { exists, hashOf, journalText, makeDataset, openCore, snapshot, stateDir, write } from './curation-helpers';

test('curation undo/redo: move, move, undo, redo, a new action clears redo, undo back to the first', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const before = snapshot(ds.root);
  const hc = hashOf(ds.root, 'train/dogs/c.jpg');
  const core = await openCore(ds);
  assert.equal(core.canUndo(), false);
  const m1 = await core.move(['train/dogs/c.jpg'], 'cats');
  assert.equal(m1.ok, true, m1.message);
  assert.deepEqual(m1.changes, [{ from: 'train/dogs/c.jpg', to: 'train/cats/c.jpg' }]);
  assert.equal(hashOf(ds.root, 'train/cats/c.jpg'), hc);
  const m2 = await core.move(['val/cats/d.jpg'], 'birds');
  assert.deepEqual(m2.changes, [{ from: 'val/cats/d.jpg', to: 'val/birds/d.jpg' }], 'same split, class folder created');
  assert.ok(exists(ds.root, 'val/birds/d.jpg'));
  const u1 = await core.undo();
  assert.equal(u1.ok, true, u1.message);
  assert.match(u1.message, /^Undid: moved 1 file to “birds”/);
  assert.deepEqual(u1.changes, [{ from: 'val/birds/d.jpg', to: 'val/cats/d.jpg' }]);
  assert.equal(core.canRedo(), true);
  const r1 = await core.redo();
  assert.equal(r1.ok, true, r1.message);
  assert.ok(exists(ds.root, 'val/birds/d.jpg') && !exists(ds.root, 'val/cats/d.jpg'));
  assert.equal((await core.undo()).ok, true);
  assert.equal((await core.move(['train/cats/b.jpg'], 'dogs')).ok, true);
  assert.equal(core.canRedo(), false, 'a new action clears redo');
  assert.equal((await core.redo()).ok, false);
  for (let i = 0; i < 2; i++) assert.equal((await core.undo()).ok, true);
  assert.equal(core.canUndo(), false);
  const none = await core.undo();
  assert.deepEqual([none.ok, none.message], [false, 'Nothing to undo.']);
  assert.deepEqual(snapshot(ds.root), before, 'back to the first action: every file where it was, same bytes');
});

test('curation reload: a new controller over the same root continues undoing and redoing', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const before = snapshot(ds.root);
  const a = await openCore(ds);
  await a.move(['train/dogs/c.jpg'], 'cats');
  await a.move(['train/cats/b.jpg'], 'dogs');
  await a.undo();
  const b = await openCore(ds);
  assert.deepEqual([b.canUndo(), b.canRedo()], [true, true]);
  assert.equal((await b.redo()).ok, true);
  assert.ok(exists(ds.root, 'train/dogs/b.jpg'));
  const c = await openCore(ds);
  assert.equal((await c.undo()).ok, true);
  assert.equal((await c.undo()).ok, true);
  assert.equal(c.canUndo(), false);
  assert.deepEqual(snapshot(ds.root), before);
  const lines = journalText(ds.root)
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((e) => e.kind),
    ['move', 'move', 'undo', 'redo', 'undo', 'undo'],
  );
  const first = lines[0];
  assert.equal(first.v, 1);
  assert.deepEqual(first.ops, [{ op: 'rename', from: 'train/dogs/c.jpg', to: 'train/cats/c.jpg' }]);
  assert.equal(first.files[0].path, 'train/cats/c.jpg');
  assert.equal(first.files[0].sha256, hashOf(ds.root, 'train/dogs/c.jpg'));
  assert.equal(typeof first.files[0].size, 'number');
  assert.equal(typeof first.files[0].mtimeMs, 'number');
  assert.match(
    readFileSync(path.join(stateDir(ds.root), '.gitignore'), 'utf8'),
    /^journal\.jsonl$\n^journal\.lock$\n^trash\/$\n^trash-copies\/$/m,
    'journal and trash copies stay local',
  );
});

test('curation clash: a move never overwrites, it suffixes " (1)", " (2)" before the extension', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const cats = hashOf(ds.root, 'train/cats/a.jpg');
  const dogs = hashOf(ds.root, 'train/dogs/a.jpg');
  write(ds.root, 'train/birds/a.jpg', 'bird');
  const core = await openCore(ds);
  const m = await core.move(['train/dogs/a.jpg'], 'cats');
  assert.deepEqual(m.changes, [{ from: 'train/dogs/a.jpg', to: 'train/cats/a (1).jpg' }]);
  assert.match(m.message, /suffix/);
  assert.equal(hashOf(ds.root, 'train/cats/a.jpg'), cats, 'the file already there is untouched');
  assert.equal(hashOf(ds.root, 'train/cats/a (1).jpg'), dogs);
  const m2 = await core.move(['train/birds/a.jpg'], 'cats');
  assert.deepEqual(m2.changes, [{ from: 'train/birds/a.jpg', to: 'train/cats/a (2).jpg' }]);
  // Two files with one name in one batch get distinct names too.
  write(ds.root, 'train/x/sub1/z.jpg', '1');
  write(ds.root, 'train/x/sub2/z.jpg', '2');
  const m3 = await core.move(['train/x/sub1/z.jpg', 'train/x/sub2/z.jpg'], 'dogs');
  assert.deepEqual(
    m3.changes.map((c) => c.to),
    ['train/dogs/z.jpg', 'train/dogs/z (1).jpg'],
  );
  assert.equal(readFileSync(path.join(ds.root, 'train/dogs/z (1).jpg'), 'utf8'), '2');
  assert.equal((await core.undo()).ok, true);
  assert.equal(readFileSync(path.join(ds.root, 'train/x/sub2/z.jpg'), 'utf8'), '2');
});

async function refusedWithNothingChanged(
  ds: ReturnType<typeof makeDataset>,
  what: () => Promise<{ ok: boolean; message: string }>,
  re: RegExp,
) {
  const files = snapshot(ds.root);
  const journal = journalText(ds.root);
  const r = await what();
  assert.equal(r.ok, false, r.message);
  assert.match(r.message, re);
  assert.match(r.message, /Nothing was changed\.$/);
  assert.deepEqual(snapshot(ds.root), files, 'no file moved');
  assert.equal(journalText(ds.root), journal, 'no journal entry');
}

test('curation refusal: undo of a file edited, touched or deleted since, or whose place is taken, changes nothing', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const core = await openCore(ds);
  await core.move(['train/dogs/c.jpg', 'train/cats/b.jpg'], 'birds');
  const moved = path.join(ds.root, 'train/birds/c.jpg');
  const original = readFileSync(moved);
  writeFileSync(moved, 'edited');
  await refusedWithNothingChanged(ds, () => core.undo(), /Cannot undo “Moved 2 files to “birds””: train\/birds\/c\.jpg was edited since/);
  writeFileSync(moved, original);
  utimesSync(moved, new Date(2001, 1, 1), new Date(2001, 1, 1));
  await refusedWithNothingChanged(ds, () => core.undo(), /modification time changed/);
  const gone = path.join(ds.root, 'train/birds/b.jpg');
  const saved = readFileSync(gone);
  (await import('node:fs')).unlinkSync(gone);
  await refusedWithNothingChanged(ds, () => core.undo(), /is gone|was edited|modification/);
  assert.ok(exists(ds.root, 'train/birds/c.jpg'), 'the other file of the action was not undone either');
  writeFileSync(gone, saved);
  // Destination taken: a new file where the moved one came from.
  const core2 = await openCore(ds);
  await core2.move(['val/cats/d.jpg'], 'dogs');
  write(ds.root, 'val/cats/d.jpg', 'a new file with the old name');
  await refusedWithNothingChanged(ds, () => core2.undo(), /val\/cats\/d\.jpg is taken now/);
  (await import('node:fs')).unlinkSync(path.join(ds.root, 'val/cats/d.jpg'));
  assert.equal((await core2.undo()).ok, true);
  write(ds.root, 'val/dogs/d.jpg', 'taken');
  await refusedWithNothingChanged(ds, () => core2.redo(), /Cannot redo .*val\/dogs\/d\.jpg is taken now/);
});

test('curation torn journal: a truncated last line is reported and skipped, the rest kept; later entries still append', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const a = await openCore(ds);
  await a.move(['train/dogs/c.jpg'], 'cats');
  await a.move(['train/cats/b.jpg'], 'dogs');
  const file = path.join(stateDir(ds.root), 'journal.jsonl');
  const text = readFileSync(file, 'utf8');
  const lines = text.trimEnd().split('\n');
  // A crash in the middle of writing the second entry: half of its line, no line break.
  writeFileSync(file, `${lines[0]}\n${lines[1]!.slice(0, 40)}`);
  const b = await openCore(ds);
  assert.deepEqual(b.journalProblems, ['line 2 is incomplete (a write torn by a crash); it was skipped']);
  assert.equal(b.canUndo(), true, 'the first entry is kept');
  // The second move happened on disk but its entry is torn: undoing the first still works.
  const u = await b.undo();
  assert.equal(u.ok, true, u.message);
  assert.ok(exists(ds.root, 'train/dogs/c.jpg'));
  const c = await openCore(ds);
  assert.deepEqual(c.journalProblems, ['line 2 is not valid JSON; it was skipped'], 'the fragment stays on its own line');
  assert.deepEqual([c.canUndo(), c.canRedo()], [false, true]);
  assert.equal((await c.redo()).ok, true);
});

test('curation torn journal: a garbage line in the middle is reported and skipped, the entries around it kept', () => {
  const e = (id: string) => JSON.stringify({ v: 1, id, at: '2026-12-01T00:00:00.000Z', kind: 'keep', ops: [], files: [], message: id });
  const parsed = parseJournal(`${e('a')}\n\u0000\u0000garbage{\n{"v":1,"id":"x"}\n{"v":2,"id":"y"}\n${e('b')}\n`);
  assert.deepEqual(
    parsed.entries.map((x) => x.id),
    ['a', 'b'],
  );
  assert.deepEqual(parsed.problems, [
    'line 2 is not valid JSON; it was skipped',
    'line 3 is not a journal entry; it was skipped',
    'line 4 was written by a newer version (v2); it was skipped',
  ]);
  assert.equal(parsed.endsClean, true);
  const undo = (id: string, target: string) => ({ ...JSON.parse(e(id)), kind: 'undo', target });
  const replay = replayJournal([...parsed.entries, undo('u1', 'b'), undo('u2', 'b')]);
  assert.deepEqual(replay.done, ['a']);
  assert.deepEqual(replay.undone, ['b']);
  assert.equal(replay.problems.length, 1, 'an undo of something not on top is reported, not applied');
});

test('curation journal: appending after a torn tail keeps both the fragment and the new entry readable', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  write(stateDir(ds.root), 'journal.jsonl', '{"v":1,"id":"tor');
  const core = await openCore(ds);
  assert.equal(core.journalProblems.length, 1);
  assert.equal((await core.move(['train/dogs/c.jpg'], 'cats')).ok, true);
  const again = await openCore(ds);
  assert.equal(again.canUndo(), true);
  assert.deepEqual(again.journalProblems, ['line 1 is not valid JSON; it was skipped']);
});
