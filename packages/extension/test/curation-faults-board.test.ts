/**
 * Fault injection on the board's own logic (issue 17, points 1, 8, 9, 10, 11): `CurationCore` with `NodeFileOps`,
 * outside VS Code, on a temporary dataset with a folder `outside` beside it that nothing may touch. A hostile
 * journal or decisions file, a symbolic link out of the root, two boards at once, a replayed journal line, and state
 * files of the wrong kind. Every file outside the dataset is compared byte for byte before and after.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CurationCore } from '../src/curation/model/dataset-actions';
import { NodeFileOps } from '../src/curation/model/file-ops';
import { type Dataset, exists, hashOf, makeDataset, openCore, write } from './curation-helpers';

const HERE = __dirname;

/** Every file under `dir` (dot files too, links not followed) with its sha256, or `-> target` for a link. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) out.push(`${r} -> link`);
      else if (e.isDirectory()) walk(r);
      else out.push(`${r} ${hashOf(dir, r)}`);
    }
  };
  if (existsSync(dir)) walk('');
  return out.sort();
}

/** The board's state folder beside the dataset (this version), else the dataset's own .curation (earlier versions). */
function stateFile(root: string, name: string): string {
  const beside = path.join(path.dirname(root), `.${path.basename(root)}.curation`);
  return existsSync(beside) ? path.join(beside, name) : path.join(root, '.curation', name);
}

/** A folder beside the dataset with files that must never change. */
function outsideOf(ds: Dataset): string {
  const outside = path.join(path.dirname(ds.root), 'outside');
  write(outside, 'victim.txt', 'an outside file');
  write(outside, 'victim2.txt', 'another outside file');
  write(outside, 'photo.jpg', randomBytes(100));
  return outside;
}

test('17.1 hostile journal: entries whose paths leave the dataset (.., absolute, through a link) are reported and skipped, the rest kept', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const outside = outsideOf(ds);
  const a = await openCore(ds, true);
  assert.equal((await a.move(['train/dogs/c.jpg'], 'cats')).ok, true);
  symlinkSync(outside, path.join(ds.root, 'train', 'escape'));
  const at = new Date().toISOString();
  const hostile = [
    // Undo would move a dataset file out, to ../outside/exfil.jpg.
    { op: 'rename', from: '../outside/exfil.jpg', to: 'train/cats/a.jpg' },
    // Undo would pull ../outside/victim.txt into the dataset.
    { op: 'rename', from: 'train/cats/victim.txt', to: '../outside/victim.txt' },
    // Undo would send ../outside/victim2.txt to the OS trash.
    { op: 'restore', copy: '.curation/trash/x1/train/cats/q.jpg', to: '../outside/victim2.txt' },
    // Undo would copy /etc/passwd into the dataset.
    { op: 'trash', from: 'train/cats/passwd.jpg', copy: '../../../../../../../../../../etc/passwd' },
    // Undo would move train/dogs/a.jpg out through the symbolic link train/escape.
    { op: 'rename', from: 'train/escape/exfil2.jpg', to: 'train/dogs/a.jpg' },
    // An absolute path; a "copy kept for undo" that climbs out of the board's folder (undo would pull it in).
    { op: 'rename', from: '/tmp/abs.jpg', to: 'train/cats/b.jpg' },
    { op: 'trash', from: 'val/cats/new.jpg', copy: '.curation/trash/../../../outside/photo.jpg' },
  ];
  const lines = hostile.map((op, i) =>
    JSON.stringify({ v: 1, id: `hostile-${i}`, at, kind: 'move', ops: [op], files: [], message: `Hostile ${i}.` }),
  );
  appendFileSync(stateFile(ds.root, 'journal.jsonl'), `${lines.join('\n')}\n`);
  const outsideBefore = tree(outside);
  const datasetBefore = tree(ds.root);

  const core = await openCore(ds, true);
  const undos = [];
  for (let i = 0; i < hostile.length + 2; i++) undos.push(await core.undo());
  const said = undos.map((u) => `${u.ok ? 'ok' : 'refused'}: ${u.message}`).join(' | ');
  assert.deepEqual(tree(outside), outsideBefore, `nothing outside the dataset changed (${said})`);
  assert.deepEqual(readdirSync(ds.osTrash), [], 'no outside file went to the trash');
  for (const f of ['train/cats/passwd.jpg', 'train/cats/victim.txt', 'val/cats/new.jpg'])
    assert.ok(!exists(ds.root, f), `no outside file came in as ${f}`);
  assert.deepEqual(
    undos.map((u) => u.ok),
    [true, ...Array(hostile.length + 1).fill(false)],
    `only the real move is undone: ${said}`,
  );
  assert.match(undos[0]!.message, /^Undid: moved 1 file to “cats”/);
  assert.ok(exists(ds.root, 'train/dogs/c.jpg'), 'the rest of the journal is kept: the real move was undone');
  const redo = await core.redo();
  assert.equal(redo.ok, true, redo.message);
  assert.deepEqual(tree(outside), outsideBefore);
  assert.deepEqual(tree(ds.root), datasetBefore, 'the dataset is as before');
  for (let i = 0; i < hostile.length; i++)
    assert.ok(
      core.journalProblems.some((p) => p.includes(`hostile-${i}`)),
      `entry hostile-${i} is reported: ${core.journalProblems.join(' | ')}`,
    );
});

test('17.1 hostile decisions.json: keys that leave the dataset are reported and ignored, and written back unchanged', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const a = await openCore(ds);
  await a.keepLabel(['train/cats/a.jpg']);
  const file = stateFile(ds.root, 'decisions.json');
  writeFileSync(
    file,
    '{"version":1,"keep":{"../outside/x.jpg":{"at":"","label":"cats"},"/etc/passwd":{"at":"","label":"x"},"train/cats/a.jpg":{"at":"","label":"cats"}}}',
  );
  const core = await openCore(ds);
  assert.deepEqual([...core.keptFiles()], ['train/cats/a.jpg']);
  assert.equal(core.journalProblems.filter((p) => /decisions\.json/.test(p)).length, 2, core.journalProblems.join(' | '));
  assert.equal((await core.keepLabel(['train/dogs/c.jpg'])).ok, true);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /"\.\.\/outside\/x\.jpg"/, 'an ignored entry is not lost');
  assert.match(text, /"train\/dogs\/c\.jpg"/);
});

test('17.8 two boards moving the same file at once: it ends in exactly one class folder, the other board says it was moved', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const a = await openCore(ds);
  const b = await openCore(ds);
  const runs = 20;
  for (let i = 0; i < runs; i++) {
    const f = `train/cats/r${i}.jpg`;
    write(ds.root, f, randomBytes(64));
    const [ra, rb] = await Promise.all([a.move([f], 'fish'), b.move([f], 'birds')]);
    const at = ['train/cats', 'train/fish', 'train/birds'].filter((d) => exists(ds.root, `${d}/r${i}.jpg`));
    assert.equal(at.length, 1, `run ${i}: the file is in ${at.join(' and ')} (${ra.message} | ${rb.message})`);
    assert.equal([ra, rb].filter((r) => r.ok).length, 1, `run ${i}: ${ra.message} | ${rb.message}`);
    const [winner, loser] = ra.ok ? [ra, rb] : [rb, ra];
    assert.equal(at[0], winner === ra ? 'train/fish' : 'train/birds');
    assert.match(loser.message, /not on disk any more .*Nothing was changed\.$/);
  }
  const entries = readFileSync(stateFile(ds.root, 'journal.jsonl'), 'utf8').trim().split('\n');
  assert.equal(entries.length, runs, 'one journal entry per file, by the board that moved it');
});

test('17.8 NodeFileOps.rename racing itself: the file is never left in two places, and the loser says why', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const ops = new NodeFileOps();
  for (let i = 0; i < 30; i++) {
    const from = path.join(ds.root, `x${i}.jpg`);
    writeFileSync(from, randomBytes(32));
    const [y, z] = [path.join(ds.root, 'y', `x${i}.jpg`), path.join(ds.root, 'z', `x${i}.jpg`)];
    const rs = await Promise.allSettled([ops.rename(from, y), ops.rename(from, z)]);
    assert.equal([existsSync(y), existsSync(z)].filter(Boolean).length, 1, `run ${i}: in both or neither`);
    assert.equal(existsSync(from), false);
    for (const r of rs)
      if (r.status === 'rejected')
        assert.match((r.reason as Error).message, /moved or removed by someone else meanwhile; the new name .* was removed again|ENOENT/);
  }
});

test('17.8 two processes moving the same files at once: each file ends in exactly one place (the lock is cross-process)', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const files = Array.from({ length: 12 }, (_, i) => `train/cats/p${i}.jpg`);
  for (const f of files) write(ds.root, f, randomBytes(64));
  const barrier = path.dirname(ds.root);
  const core = path.join(HERE, '../src/curation/model/dataset-actions.ts');
  const fileOps = path.join(HERE, '../src/curation/model/file-ops.ts');
  // Each child says `ready <i>` and waits for the file `go-<i>`: both start each move at the same moment.
  const readyCount = new Map<number, number>();
  const child = (label: string) =>
    new Promise<string>((resolve, reject) => {
      const script = `const { CurationCore } = require(${JSON.stringify(core)}); const { NodeFileOps } = require(${JSON.stringify(fileOps)});
        const fs = require('node:fs');
        (async () => {
          const c = await CurationCore.open(${JSON.stringify(ds.root)}, new NodeFileOps());
          const files = ${JSON.stringify(files)}; const out = [];
          for (let i = 0; i < files.length; i++) {
            console.error('ready ' + i);
            while (!fs.existsSync(${JSON.stringify(barrier)} + '/go-' + i)) await new Promise((r) => setTimeout(r, 1));
            out.push((await c.move([files[i]], ${JSON.stringify(label)})).ok);
          }
          console.log(JSON.stringify(out));
        })();`;
      const p = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (d) => (text += d));
      p.stderr.on('data', (d) => {
        for (const line of String(d).split('\n')) {
          const m = /^ready (\d+)$/.exec(line.trim());
          if (!m) {
            if (line.trim()) process.stderr.write(`${line}\n`);
            continue;
          }
          const i = Number(m[1]);
          readyCount.set(i, (readyCount.get(i) ?? 0) + 1);
          if (readyCount.get(i) === 2) writeFileSync(path.join(barrier, `go-${i}`), '');
        }
      });
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`child exited ${code}`))));
    });
  const [fish, birds] = (await Promise.all([child('fish'), child('birds')])).map((o) => JSON.parse(o) as boolean[]);
  for (let i = 0; i < files.length; i++) {
    const at = ['train/cats', 'train/fish', 'train/birds'].filter((d) => exists(ds.root, `${d}/p${i}.jpg`));
    assert.equal(at.length, 1, `p${i}.jpg is in ${at.join(' and ')}`);
    assert.equal(Number(fish![i]) + Number(birds![i]), 1, `exactly one process moved p${i}.jpg`);
  }
});

test('17.8 the lock: a stale one (its process is gone) is taken over; a live one makes the action wait, then refuse with its holder', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const core = await CurationCore.open(ds.root, new NodeFileOps(), undefined, { lockWaitMs: 300 });
  assert.equal((await core.keepLabel(['train/cats/a.jpg'])).ok, true);
  const lock = stateFile(ds.root, 'journal.lock');
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  writeFileSync(lock, JSON.stringify({ pid: dead, host: (await import('node:os')).hostname(), at: 'earlier' }));
  const r = await core.move(['train/cats/a.jpg'], 'dogs');
  assert.equal(r.ok, true, r.message);
  assert.equal(existsSync(lock), false, 'released after the action');
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), at: 'now' }));
  const before = tree(ds.root);
  const held = await core.move(['train/dogs/a.jpg'], 'cats');
  assert.equal(held.ok, false);
  assert.equal(held.code, 'LOCKED');
  assert.match(held.message, new RegExp(`Another board \\(process ${process.pid} on this machine .*try again.*Nothing was changed\\.$`));
  assert.deepEqual(tree(ds.root), before);
  assert.ok(existsSync(lock), "another board's lock is never removed");
});

test('17.9 a duplicated journal line: the replayed id is refused and reported, the second undo never re-applies the move', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const a = await openCore(ds);
  assert.equal((await a.move(['train/dogs/c.jpg'], 'cats')).ok, true);
  const file = stateFile(ds.root, 'journal.jsonl');
  appendFileSync(file, readFileSync(file, 'utf8'));
  const b = await openCore(ds);
  const u1 = await b.undo();
  assert.equal(u1.ok, true, u1.message);
  assert.ok(exists(ds.root, 'train/dogs/c.jpg'));
  const u2 = await b.undo();
  assert.ok(exists(ds.root, 'train/dogs/c.jpg') && !exists(ds.root, 'train/cats/c.jpg'), `the move was not re-applied (${u2.message})`);
  assert.deepEqual([u2.ok, u2.message], [false, 'Nothing to undo.']);
  assert.ok(
    b.journalProblems.some((p) => /repeats the entry id .* refused/.test(p)),
    b.journalProblems.join(' | '),
  );
  // A replayed undo line: one redo, not two.
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  appendFileSync(file, `${lines[lines.length - 1]}\n`);
  const c = await openCore(ds);
  assert.equal((await c.redo()).ok, true);
  assert.ok(exists(ds.root, 'train/cats/c.jpg'));
  assert.equal((await c.redo()).ok, false);
  assert.equal((await c.undo()).ok, true);
  assert.equal((await c.undo()).ok, false);
  assert.ok(exists(ds.root, 'train/dogs/c.jpg'));
});

test('17.10 state of the wrong kind: the board opens read-only with a sentence, never fails, changes nothing', async (t) => {
  const cases: [string, (ds: Dataset, state: string) => void, RegExp | undefined][] = [
    // An earlier version's `.curation` that is a file: not the board's folder, left alone; the board works.
    ['.curation is a file', (ds) => write(ds.root, '.curation', 'a file named .curation'), undefined],
    [
      '.curation/journal.jsonl is a folder',
      (ds) => mkdirSync(path.join(ds.root, '.curation', 'journal.jsonl'), { recursive: true }),
      /journal\.jsonl is not a file/,
    ],
    ['the state folder is a file', (_ds, state) => write(path.dirname(state), path.basename(state), 'x'), /is a file\. Move or remove it/],
    [
      'its journal.jsonl is a folder',
      (_ds, state) => mkdirSync(path.join(state, 'journal.jsonl'), { recursive: true }),
      /journal\.jsonl should be a file but is a folder/,
    ],
    [
      'its trash is a link out',
      (ds, state) => {
        mkdirSync(state, { recursive: true });
        symlinkSync(outsideOf(ds), path.join(state, 'trash'));
      },
      /trash should be a folder but is a symbolic link/,
    ],
  ];
  for (const [name, arrange, readOnly] of cases) {
    const ds = makeDataset();
    t.after(ds.cleanup);
    const state = path.join(path.dirname(ds.root), '.dataset.curation');
    arrange(ds, state);
    const before = tree(path.dirname(ds.root));
    let core: CurationCore;
    try {
      core = await openCore(ds);
    } catch (e) {
      assert.fail(`${name}: the board failed to open (${(e as Error).message})`);
    }
    if (!readOnly) {
      assert.equal(core.readOnly, undefined, name);
      assert.equal((await core.move(['train/cats/a.jpg'], 'dogs')).ok, true, name);
      assert.equal(readFileSync(path.join(ds.root, '.curation'), 'utf8'), 'a file named .curation', `${name}: left alone`);
      assert.ok(
        core.notices.some((n) => /\.curation is not the board's folder/.test(n)),
        `${name}: said`,
      );
      continue;
    }
    assert.match(core.readOnly ?? '', readOnly, name);
    assert.match(core.readOnly ?? '', /read-only/);
    for (const r of [
      await core.move(['train/cats/a.jpg'], 'dogs'),
      await core.trash(['train/cats/b.jpg']),
      await core.keepLabel(['train/cats/a.jpg']),
    ]) {
      assert.deepEqual([r.ok, r.code, r.message], [false, 'READ_ONLY', core.readOnly], name);
    }
    assert.equal(core.canUndo(), false);
    assert.deepEqual(tree(path.dirname(ds.root)), before, `${name}: nothing changed, inside or beside the dataset`);
  }
});

test('17.11 a class folder (or a source folder, or a file) that is a symbolic link out of the root: refused with UNSAFE_PATH, nothing written outside', async (t) => {
  const ds = makeDataset();
  t.after(ds.cleanup);
  const outside = outsideOf(ds);
  symlinkSync(outside, path.join(ds.root, 'train', 'fish'));
  symlinkSync(outside, path.join(ds.root, 'train', 'linked'));
  symlinkSync(path.join(outside, 'victim.txt'), path.join(ds.root, 'train', 'cats', 'link.jpg'));
  const outsideBefore = tree(outside);
  const datasetBefore = tree(ds.root);
  const core = await openCore(ds, true);
  const cases = [
    ['move into a linked class folder', await core.move(['train/cats/a.jpg'], 'fish')],
    ['move out of a linked folder', await core.move(['train/linked/photo.jpg'], 'cats')],
    ['trash through a linked folder', await core.trash(['train/linked/victim.txt'])],
    ['trash a linked file', await core.trash(['train/cats/link.jpg'])],
    ['keep through a linked folder', await core.keepLabel(['train/linked/photo.jpg'])],
  ] as const;
  for (const [name, r] of cases) {
    assert.equal(r.ok, false, `${name}: ${r.message}`);
    assert.equal(r.code, 'UNSAFE_PATH', `${name}: ${r.message}`);
    assert.match(r.message, /is a symbolic link .*the board never reads or writes through links.*Nothing was changed\.$/, name);
  }
  assert.deepEqual(tree(outside), outsideBefore, 'nothing written, moved or removed outside the root');
  assert.deepEqual(tree(ds.root), datasetBefore);
  assert.deepEqual(readdirSync(ds.osTrash), []);
  assert.ok(lstatSync(path.join(ds.root, 'train', 'fish')).isSymbolicLink());
});
