/**
 * The persistent result cache and the workspace-roots check, in process (no model needed).
 */
import { strict as assert } from 'node:assert';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { ClassifierError } from '@image-classifier/core';
import { ResultCache } from '../src/result-cache.js';
import { Roots } from '../src/roots.js';

function tmp(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

const value = (i: number) => ({ p: [{ index: i, label: `class ${i}`, probability: 0.5 }], w: 10 + i, h: 20 });

describe('ResultCache', () => {
  test('put / get / file index survive a reopen', () => {
    const dir = tmp('ic-rc-');
    const a = ResultCache.open<ReturnType<typeof value>>(dir);
    for (let i = 0; i < 100; i++) a.put(`m:${i}`, value(i));
    a.setHash('/x/a.jpg', 123, 456.5, 'h1');
    a.setModel('sig', { key: 'm', name: 'model' });
    assert.deepEqual(a.get('m:7'), value(7), 'readable before the flush');
    a.close();
    const b = ResultCache.open<ReturnType<typeof value>>(dir);
    assert.equal(b.entries, 100);
    for (let i = 0; i < 100; i++) assert.deepEqual(b.get(`m:${i}`), value(i));
    assert.equal(b.hashFor('/x/a.jpg', 123, 456.5), 'h1');
    assert.equal(b.hashFor('/x/a.jpg', 124, 456.5), undefined, 'size changed');
    assert.equal(b.hashFor('/x/a.jpg', 123, 457), undefined, 'mtime changed');
    assert.deepEqual(b.getModel('sig'), { key: 'm', name: 'model' });
    assert.equal(b.get('m:missing'), undefined);
    b.close();
  });

  test('a torn tail is cut, a corrupt record is dropped (never returned), and the log is repaired', () => {
    const dir = tmp('ic-rc-');
    const a = ResultCache.open<ReturnType<typeof value>>(dir);
    for (let i = 0; i < 10; i++) a.put(`m:${i}`, value(i));
    a.close();
    const file = a.file;
    const lines = readFileSync(file, 'utf8').split('\n');
    const i3 = lines.findIndex((l) => l.includes('"m:3"'));
    lines[i3] = lines[i3]!.replace('"index":3', '"index":4'); // a wrong answer if it were believed
    writeFileSync(file, lines.join('\n'));
    appendFileSync(file, 'deadbeef {"t":"r","k":"m:99","v":{"p":[');
    const logs: string[] = [];
    const b = ResultCache.open<ReturnType<typeof value>>(dir, (m) => logs.push(m));
    assert.equal(b.get('m:3'), undefined);
    assert.equal(b.get('m:99'), undefined);
    for (const i of [0, 1, 2, 4, 5, 9]) assert.deepEqual(b.get(`m:${i}`), value(i));
    assert.equal(b.stats.droppedLines, 1);
    assert.ok(b.stats.truncatedBytes > 0);
    assert.ok(b.stats.compacted);
    assert.ok(logs.some((l) => /dropped 1 corrupt/.test(l)));
    b.put('m:3', value(3));
    b.close();
    const c = ResultCache.open<ReturnType<typeof value>>(dir);
    assert.equal(c.stats.droppedLines, 0);
    assert.equal(c.stats.truncatedBytes, 0);
    assert.deepEqual(c.get('m:3'), value(3));
    assert.equal(c.entries, 10);
    c.close();
  });

  test('garbage or another version of the file: a fresh cache, no crash', () => {
    for (const content of ['not a log at all\n', '00000000 {"t":"h","v":999}\n', '\u0000\u0000\u0000', '']) {
      const dir = tmp('ic-rc-');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'results-v1.log'), content);
      const c = ResultCache.open<ReturnType<typeof value>>(dir);
      assert.equal(c.entries, 0);
      c.put('k', value(1));
      c.close();
      const d = ResultCache.open<ReturnType<typeof value>>(dir);
      assert.deepEqual(d.get('k'), value(1));
      d.close();
    }
  });

  test('a record moved under us (another server compacted) is a miss, not a wrong answer', () => {
    const dir = tmp('ic-rc-');
    const a = ResultCache.open<ReturnType<typeof value>>(dir);
    a.put('m:1', value(1));
    a.put('m:2', value(2));
    a.flush();
    // Another process rewrites the file with the records in another order.
    const b = ResultCache.open<ReturnType<typeof value>>(dir);
    b.clear();
    b.put('m:2', value(2));
    b.put('m:1', value(1));
    b.close();
    const got = a.get('m:1');
    assert.ok(got === undefined || got.p[0]!.index === 1);
    a.close();
  });

  test('clear forgets everything; the size on disk goes back to the header', () => {
    const dir = tmp('ic-rc-');
    const a = ResultCache.open<ReturnType<typeof value>>(dir);
    for (let i = 0; i < 50; i++) a.put(`m:${i}`, value(i));
    a.setHash('/f', 1, 2, 'h');
    assert.equal(a.clear(), 50);
    assert.equal(a.get('m:1'), undefined);
    assert.equal(a.hashFor('/f', 1, 2), undefined);
    a.close();
    assert.equal(readFileSync(a.file, 'utf8').split('\n').filter(Boolean).length, 1);
  });

  // How fast (npm run bench: "result cache at scale" in BENCHMARKS.md); here: that nothing is lost at that size.
  test('tens of thousands of entries survive a reopen', () => {
    const dir = tmp('ic-rc-');
    const a = ResultCache.open<ReturnType<typeof value>>(dir);
    for (let i = 0; i < 30000; i++) {
      a.put(`m:${i}`, value(i % 1000));
      a.setHash(`/data/img${i}.jpg`, 1000 + i, 1.7e12 + i, `h${i}`);
    }
    a.close();
    const b = ResultCache.open<ReturnType<typeof value>>(dir);
    assert.equal(b.entries, 30000);
    assert.deepEqual(b.get('m:29999'), value(29999 % 1000));
    assert.equal(b.hashFor('/data/img123.jpg', 1123, 1.7e12 + 123), 'h123');
    b.close();
  });
});

describe('Roots', () => {
  const base = tmp('ic-roots-');
  const ws = path.join(base, 'ws');
  const out = path.join(base, 'out');
  mkdirSync(path.join(ws, 'sub'), { recursive: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(ws, 'sub', 'a.jpg'), 'x');
  writeFileSync(path.join(out, 'b.jpg'), 'y');
  symlinkSync(path.join(out, 'b.jpg'), path.join(ws, 'link.jpg'));
  symlinkSync(path.join(ws, 'sub', 'a.jpg'), path.join(ws, 'inner-link.jpg'));
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof ClassifierError);
      return e.code;
    }
    return 'OK';
  };

  test('inside, outside, .., symlinks, URIs, relative paths', () => {
    const r = new Roots([pathToFileURL(ws).href]);
    assert.equal(r.resolve(path.join(ws, 'sub', 'a.jpg')).size, 1);
    assert.equal(r.resolve(pathToFileURL(path.join(ws, 'sub', 'a.jpg')).href).path, path.join(ws, 'sub', 'a.jpg'));
    assert.equal(
      code(() => r.resolve(path.join(ws, 'inner-link.jpg'))),
      'OK',
    );
    assert.equal(
      code(() => r.resolve(path.join(out, 'b.jpg'))),
      'OUTSIDE_WORKSPACE',
    );
    assert.equal(
      code(() => r.resolve(`${ws}/sub/../../out/b.jpg`)),
      'OUTSIDE_WORKSPACE',
    );
    assert.equal(
      code(() => r.resolve(`${ws}-evil/x.jpg`)),
      'OUTSIDE_WORKSPACE',
      'a sibling with the root as prefix',
    );
    assert.equal(
      code(() => r.resolve(path.join(ws, 'link.jpg'))),
      'OUTSIDE_WORKSPACE',
    );
    assert.equal(
      code(() => r.resolve(path.join(ws, 'nope.jpg'))),
      'FILE_NOT_FOUND',
    );
    assert.equal(
      code(() => r.resolve(path.join(ws, 'sub'))),
      'NOT_A_FILE',
    );
    assert.equal(
      code(() => r.resolve('sub/a.jpg')),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      code(() => r.resolve('https://x/y.jpg')),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      code(() => r.resolve(42)),
      'INVALID_ARGUMENT',
    );
  });

  test('no roots given: unrestricted; an empty list: nothing is readable', () => {
    assert.equal(
      code(() => new Roots(undefined).resolve(path.join(out, 'b.jpg'))),
      'OK',
    );
    assert.equal(
      code(() => new Roots([]).resolve(path.join(ws, 'sub', 'a.jpg'))),
      'OUTSIDE_WORKSPACE',
    );
  });
});
