import assert from 'node:assert/strict';
import { test } from 'node:test';
import { similarScopes } from '../src/curation/shared/similar-scope';

test('an image inside a curated dataset is searched there, the innermost dataset first, without asking', () => {
  assert.deepEqual(similarScopes('/ws/dataset/fish/a.jpg', ['/ws/dataset', '/ws/other']), {
    direct: { kind: 'dataset', root: '/ws/dataset' },
    choices: [],
  });
  assert.deepEqual(similarScopes('/ws/data/train/fish/a.jpg', ['/ws/data', '/ws/data/train']).direct, {
    kind: 'dataset',
    root: '/ws/data/train',
  });
  // A sibling folder whose name starts the same is not "inside".
  assert.equal(similarScopes('/ws/dataset2/a.jpg', ['/ws/dataset']).direct, undefined);
});

test('an image outside every curated dataset: its own folder at once when nothing was curated (never the workspace)', () => {
  assert.deepEqual(similarScopes('/ws/photos/coffee.jpg', []), {
    direct: { kind: 'folder', root: '/ws/photos' },
    choices: [{ kind: 'folder', root: '/ws/photos' }],
  });
});

test('an image outside every curated dataset with datasets curated: a choice, the datasets first, then its folder', () => {
  const r = similarScopes('/ws/photos/coffee.jpg', ['/ws/zoo/dataset', '/ws/dataset']);
  assert.equal(r.direct, undefined);
  assert.deepEqual(r.choices, [
    { kind: 'dataset', root: '/ws/dataset' },
    { kind: 'dataset', root: '/ws/zoo/dataset' },
    { kind: 'folder', root: '/ws/photos' },
  ]);
});
