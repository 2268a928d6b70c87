import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitWith } from '../src/webview/fit-text';

// A stand-in for the canvas: every code point 1 unit wide.
const byChar = (s: string) => Array.from(s).length;

test('text that fits is left whole', () => {
  assert.equal(fitWith('img-00001.jpg', 13, byChar), 'img-00001.jpg');
  assert.equal(fitWith('', 0, byChar), '');
});

test('longer text is cut at the end with an ellipsis, as long as still fits', () => {
  const out = fitWith('instrument → monument', 10, byChar);
  assert.equal(out, 'instrumen…');
  assert.equal(byChar(out), 10);
});

test('a file name is cut in the middle, keeping its end (number, extension)', () => {
  const out = fitWith('IMG_20231224_123456_0042.jpg', 13, byChar, 'middle');
  assert.equal(out, 'IMG_20…42.jpg');
  assert.ok(out.endsWith('.jpg'));
  assert.equal(byChar(out), 13);
});

test('never cuts inside a surrogate pair', () => {
  const out = fitWith('🐱🐱🐱🐱🐱🐱', 4, byChar);
  assert.equal(out, '🐱🐱🐱…');
  assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(out), 'no lone high surrogate');
});

test('never cuts between a letter and its combining accent (file names from macOS are often decomposed)', () => {
  const name = 'cafe\u0301-cafe\u0301-cafe\u0301.jpg'; // "café-café-café.jpg", each é as e + U+0301
  for (const width of [4, 5, 6, 7, 8, 9]) {
    for (const mode of ['end', 'middle'] as const) {
      const out = fitWith(name, width, byChar, mode);
      if (out === name) continue;
      const [head, tail] = out.split('…');
      assert.ok(name.startsWith(head) && !name.slice(head.length).startsWith('\u0301'), `${JSON.stringify(out)}: the head lost an accent`);
      if (mode === 'middle')
        assert.ok(name.endsWith(tail) && !tail.startsWith('\u0301'), `${JSON.stringify(out)}: the tail starts with a bare accent`);
    }
  }
});

test('a width too small for any character leaves the ellipsis alone', () => {
  assert.equal(fitWith('abcdef', 1, byChar), '…');
  assert.equal(fitWith('abcdef', 0, byChar, 'middle'), '…');
});

test('a proportional measure: the cut text fits the width', () => {
  const wide = (s: string) => [...s].reduce((w, c) => w + (/[A-Z_]/.test(c) ? 9 : 6), 0);
  for (const width of [40, 77, 120, 153]) {
    const out = fitWith('A_Very_Long_Folder_Label → another_label', width, wide);
    assert.ok(wide(out) <= width || out === '…', `${out} (${wide(out)}) in ${width}`);
  }
});
