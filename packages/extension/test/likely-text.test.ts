import assert from 'node:assert/strict';
import { test } from 'node:test';
import { likelyText } from '../src/webview/likely-text';

test('likelyText: an estimate above the files flagged says which number is which, never "12; all 11 flagged"', () => {
  assert.equal(likelyText(12, 11), "Likely about 12 real label errors (confident learning's estimate); 11 files flagged, all shown");
  assert.equal(likelyText(11, 11), "Likely about 11 real label errors (confident learning's estimate); 11 files flagged, all shown");
  assert.equal(likelyText(1, 1), "Likely about 1 real label error (confident learning's estimate); 1 file flagged, shown");
});

test('likelyText: an estimate below the files flagged names both', () => {
  assert.equal(likelyText(18, 51), "Likely about 18 real label errors (confident learning's estimate) among the 51 files flagged");
  assert.equal(likelyText(0, 3), "Likely about 0 real label errors (confident learning's estimate) among the 3 files flagged");
});

test('likelyText: nothing flagged', () => {
  assert.equal(likelyText(2, 0), "No files flagged (confident learning's estimate: 2 real label errors)");
});
