import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relativizePaths } from '../src/text/pathText';
import { altText } from '../src/text/markdownText';

const one = [{ path: '/home/me/ws', uri: 'file:///home/me/ws', name: '' }];

test('error messages name files workspace-relative, not by absolute path or URI', () => {
  assert.equal(relativizePaths('Cannot decode /home/me/ws/photos/a.jpg: bad marker', one), 'Cannot decode photos/a.jpg: bad marker');
  assert.equal(relativizePaths('file:///home/me/ws/photos/my%20cat.jpg is empty', one), 'photos/my cat.jpg is empty');
  assert.equal(relativizePaths('/home/me/other/a.jpg stays', one), '/home/me/other/a.jpg stays');
  const two = [
    { path: '/home/me/ws', uri: 'file:///home/me/ws', name: 'ws' },
    { path: '/home/me/ws/nested', uri: 'file:///home/me/ws/nested', name: 'nested' },
  ];
  assert.equal(relativizePaths('/home/me/ws/nested/x.png and /home/me/ws/y.png', two), 'nested/x.png and ws/y.png');
});

test('thumbnail alt text carries no Markdown escapes', () => {
  assert.equal(altText('猫 cat.jpg'), '猫 cat.jpg');
  assert.equal(altText('my photo (1).jpg'), 'my photo (1).jpg');
  assert.equal(altText('a[1]\\b.png'), 'a 1  b.png');
});
