import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { classifiableGlob, classifiableWhenClause, isClassifiablePath } from '@image-classifier/protocol/formats';

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
  activationEvents: string[];
  contributes: { menus: Record<string, Array<{ command: string; when?: string }>> };
};
const menuItems = Object.entries(manifest.contributes.menus).flatMap(([menu, items]) => items.map((i) => ({ menu, ...i })));
const clauses = menuItems.flatMap((i) =>
  [...(i.when ?? '').matchAll(/resourceExtname\s*=~\s*\/[^/]*\/i?/g)].map((m) => ({ ...i, clause: m[0] })),
);

test('every resourceExtname clause in package.json is the format table’s (node scripts/sync-manifest.mjs)', () => {
  assert.ok(clauses.length >= 3, `expected the explorer, editor title and command palette clauses, found ${clauses.length}`);
  for (const c of clauses) assert.equal(c.clause, classifiableWhenClause(), `${c.menu} ${c.command}`);
});

test('the menus offer Classify Image on the files the table calls classifiable', () => {
  for (const menu of ['explorer/context', 'editor/title', 'editor/title/context', 'commandPalette']) {
    assert.ok(
      clauses.some((c) => c.menu === menu && c.command === 'imageClassifier.classifyImage'),
      `${menu} has a resourceExtname clause for Classify Image`,
    );
  }
  const re = new RegExp(/\/(.*)\/i$/.exec(classifiableWhenClause())![1]!, 'i');
  for (const ext of ['.jpg', '.JPEG', '.jfif', '.png', '.tiff', '.svg']) assert.equal(re.test(ext), isClassifiablePath(`a${ext}`), ext);
  for (const ext of ['.txt', '.heic', '.jpg.txt']) assert.equal(re.test(ext), false, ext);
});

test('one rule for Classify Image: every menu that offers it on a file uses the format table’s clause, and only it', () => {
  for (const item of menuItems.filter((i) => i.command === 'imageClassifier.classifyImage')) {
    assert.ok(item.when?.includes(classifiableWhenClause()), `${item.menu}: ${item.when}`);
    // No alternative that would offer it on other files (an `activeCustomEditorId == … ||` clause).
    assert.ok(!item.when?.includes('||'), `${item.menu}: ${item.when}`);
  }
});

test('the extension activates as soon as the workspace holds a classifiable image, and on startup otherwise', () => {
  assert.ok(manifest.activationEvents.includes(`workspaceContains:${classifiableGlob()}`), manifest.activationEvents.join(', '));
  assert.ok(manifest.activationEvents.includes('onStartupFinished'));
});
