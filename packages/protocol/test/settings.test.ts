import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeSettings, SETTING_DEFAULTS, SETTING_LIMITS } from '../src/settings.js';

/** normalizeSettings of one key's value: what survives, the problems, the refused keys. */
function one(key: string, value: unknown, cores = 2) {
  return normalizeSettings({ [key]: value }, { cores });
}

describe('normalizeSettings', () => {
  test('absent, null, or valid values pass as they are, with no problem', () => {
    assert.deepEqual(normalizeSettings(undefined), { settings: {}, problems: [], refused: [] });
    assert.deepEqual(normalizeSettings(null), { settings: {}, problems: [], refused: [] });
    const good = {
      model: '/m/model.onnx',
      labels: '/m/labels.txt',
      cacheDir: '/tmp/cache',
      topK: 3,
      threads: 4,
      maxBatch: 16,
      maxDelayMs: 0,
      maxQueue: 100,
      maxImagePixels: 1000,
      preprocessing: 'fast',
      graphOptimizationLevel: 'basic',
      executionProviders: ['cuda', 'cpu'],
      roots: ['/home/me/ws', 'C:\\ws', 'file:///x'],
    };
    const r = normalizeSettings({ ...good, unknownKey: 1, threads: null }, { cores: 2 });
    const { threads: _, ...expected } = good;
    assert.deepEqual(r.settings, expected);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.refused, []);
  });

  test('not an object: the defaults, one problem', () => {
    for (const v of ['x', 42, true, ['a'], () => 1]) {
      const r = normalizeSettings(v);
      assert.deepEqual(r.settings, {});
      assert.equal(r.problems.length, 1, String(v));
      assert.match(r.problems[0]!, /settings must be an object/);
    }
  });

  test('roots: a string (never walked character by character), an object, a number, relative or empty entries', () => {
    for (const v of ['/home/me/ws', '/', {}, { 0: '/' }, 7, true]) {
      const r = one('roots', v);
      assert.equal(r.settings.roots, undefined, JSON.stringify(v));
      assert.deepEqual(r.refused, ['roots']);
      assert.match(r.problems[0]!, /^roots: must be a list of absolute paths/);
    }
    const mixed = one('roots', ['/ok', 'relative', '', 3, null, '/a\0b', '../up']);
    assert.deepEqual(mixed.settings.roots, ['/ok']);
    assert.deepEqual(mixed.refused, []);
    assert.match(mixed.problems[0]!, /6 entries are not absolute paths/);
    const none = one('roots', ['relative', 3]);
    assert.equal(none.settings.roots, undefined, 'none usable: the server falls back (workspace folders or nothing)');
    assert.deepEqual(none.refused, ['roots']);
    assert.deepEqual(one('roots', []).settings.roots, [], 'an explicit empty list stays (nothing readable)');
  });

  test('strings: a number, an object, a NUL byte are refused (cacheDir: 123 cannot crash the server)', () => {
    for (const key of ['model', 'modelSha256', 'defaultModelUrl', 'labels', 'cacheDir']) {
      for (const v of [123, {}, ['/x'], true, 'a\0b']) {
        const r = one(key, v);
        assert.equal((r.settings as Record<string, unknown>)[key], undefined, `${key} ${JSON.stringify(v)}`);
        assert.deepEqual(r.refused, [key]);
        assert.match(r.problems[0]!, new RegExp(`^${key}: must be a string`));
      }
    }
  });

  test('integers: strings, NaN, fractions, Infinity and out-of-range values are refused with the default named', () => {
    const keys = Object.keys(SETTING_LIMITS) as Array<keyof typeof SETTING_LIMITS>;
    for (const key of keys) {
      const [lo, hi] = SETTING_LIMITS[key];
      const hostile: unknown[] = ['abc', '8', Number.NaN, 1.5, Number.POSITIVE_INFINITY, lo - 1, hi + 1, {}, [], true];
      for (const v of hostile) {
        const r = one(key, v, 4096);
        assert.equal(r.settings[key], undefined, `${key} ${String(v)}`);
        assert.deepEqual(r.refused, [key]);
        assert.match(r.problems[0]!, new RegExp(`^${key}: must be`));
        assert.match(r.problems[0]!, new RegExp(`using ${SETTING_DEFAULTS[key]}\\.$`));
      }
      assert.equal(one(key, lo, 4096).settings[key], lo);
      assert.equal(one(key, hi, 4096).settings[key], hi);
    }
  });

  test('the cases from the field: maxBatch "abc", topK 0 and "x", threads 4096 on 2 cores', () => {
    const r = normalizeSettings({ maxBatch: 'abc', topK: 0, threads: 4096 }, { cores: 2 });
    assert.deepEqual(r.settings, {});
    assert.deepEqual(r.refused.sort(), ['maxBatch', 'threads', 'topK']);
    assert.ok(r.problems.some((p) => /^threads: must be between 0 and 4 \(got 4096\)/.test(p)));
    assert.ok(r.problems.some((p) => /^maxBatch: must be an integer \(got "abc"\); using 8\./.test(p)));
    assert.ok(r.problems.some((p) => /^topK: must be between 1 and 1000 \(got 0\); using 5\./.test(p)));
    assert.equal(one('topK', 'x').refused[0], 'topK');
  });

  test('threads: bounded by twice the cores; 0 (all cores) allowed', () => {
    assert.equal(one('threads', 8, 4).settings.threads, 8);
    assert.equal(one('threads', 9, 4).settings.threads, undefined);
    assert.equal(one('threads', 0, 4).settings.threads, 0);
    assert.equal(one('threads', 2, 0).settings.threads, 2, 'cores unknown: the static bound');
    assert.equal(one('threads', 1025, 0).settings.threads, undefined);
  });

  test('enums and provider lists: anything else is refused', () => {
    assert.equal(one('preprocessing', 'slow').settings.preprocessing, undefined);
    assert.equal(one('preprocessing', 1).settings.preprocessing, undefined);
    assert.equal(one('graphOptimizationLevel', 'max').settings.graphOptimizationLevel, undefined);
    for (const v of ['cpu', [1], [''], ['x'.repeat(64)], Array(17).fill('cpu'), {}]) {
      assert.equal(one('executionProviders', v).settings.executionProviders, undefined, JSON.stringify(v));
      assert.deepEqual(one('executionProviders', v).refused, ['executionProviders']);
    }
  });

  test('a long hostile value is shortened in the problem line', () => {
    const r = one('topK', 'x'.repeat(10_000));
    assert.ok(r.problems[0]!.length < 200);
  });
});
