import assert from 'node:assert/strict';
import { test } from 'node:test';
import { badgeFor, labelLine, modelDisplayName, percent, providerDisplayName, shortLabel, toCsv, toJson } from '../src/text/format';
import { classifiableGlob, isClassifiablePath } from '@image-classifier/protocol/formats';

const preds = [
  { index: 281, label: 'tabby, tabby cat', probability: 0.9224 },
  { index: 282, label: 'tiger cat', probability: 0.041 },
  { index: 285, label: 'Egyptian cat', probability: 0.0199 },
  { index: 287, label: 'lynx, catamount', probability: 0.005 },
];

test('labelLine: the Explorer tooltip line', () => {
  assert.equal(labelLine(preds), 'tabby, tabby cat 92.2% · tiger cat 4.1% · Egyptian cat 2.0%');
  assert.equal(labelLine(preds, 1), 'tabby, tabby cat 92.2%');
  assert.equal(labelLine([]), '');
});

test('percent', () => {
  assert.equal(percent(1), '100.0%');
  assert.equal(percent(0.00049), '<0.1%');
  assert.equal(percent(0), '0.0%');
  assert.equal(percent(NaN), '?');
});

test('badgeFor: at most two characters', () => {
  assert.equal(badgeFor('Egyptian cat'), 'EC');
  assert.equal(badgeFor('espresso'), 'Es');
  assert.equal(badgeFor('tabby, tabby cat'), 'Ta');
  assert.equal(badgeFor("jack-o'-lantern"), 'JO');
  assert.equal(badgeFor('a'), 'A');
  assert.equal(badgeFor('...'), '?');
  for (const l of ['Egyptian cat', 'espresso', 'X', 'über straße', '日本 猫']) assert.ok(Array.from(badgeFor(l)).length <= 2, l);
});

test('shortLabel, display names', () => {
  assert.equal(shortLabel('tabby, tabby cat'), 'tabby');
  assert.equal(modelDisplayName('resnet50-v1-12'), 'ResNet50');
  assert.equal(modelDisplayName('/m/mobilenetv2-12-int8.onnx'), 'MobileNetV2');
  assert.equal(modelDisplayName('my-model'), 'my-model');
  assert.equal(modelDisplayName(undefined), 'model');
  assert.equal(providerDisplayName('cpu'), 'CPU');
  assert.equal(providerDisplayName('CUDAExecutionProvider'), 'CUDA');
  assert.equal(providerDisplayName(undefined), 'CPU');
});

test('toCsv quotes fields and pads missing predictions', () => {
  const csv = toCsv([
    { path: 'a, "b".jpg', predictions: preds.slice(0, 2), model: 'm' },
    { path: 'c.png', predictions: preds.slice(0, 1) },
  ]);
  const lines = csv.trimEnd().split('\n');
  assert.equal(lines[0], 'path,model,label1,probability1,index1,label2,probability2,index2');
  assert.equal(lines[1], '"a, ""b"".jpg",m,"tabby, tabby cat",0.922400,281,tiger cat,0.041000,282');
  assert.equal(lines[2], 'c.png,,"tabby, tabby cat",0.922400,281,,,');
  assert.deepEqual(JSON.parse(toJson([{ path: 'c.png', predictions: preds.slice(0, 1), model: 'm' }])), [
    { path: 'c.png', model: 'm', predictions: [preds[0]] },
  ]);
});

test('image extensions (protocol format table, as the extension uses it)', () => {
  for (const p of ['a.jpg', 'a.JPEG', 'a.jpe', 'a.jfif', 'b.png', 'c.webp', 'd.gif', 'e.avif', 'f.tif', 'g.TIFF', 'h.svg']) {
    assert.ok(isClassifiablePath(p), p);
  }
  for (const p of ['a.txt', 'a.jpg.txt', 'png', 'a.heic']) assert.ok(!isClassifiablePath(p), p);
  assert.match(classifiableGlob(), /^\*\*\/\*\.\{jpg,JPG,jpeg,JPEG,/);
});
