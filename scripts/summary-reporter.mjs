/**
 * node:test reporter that prints one closing line: `N passed, N failed, N skipped (T s)` (leaf tests only;
 * suites are containers). Used beside the spec reporter by scripts/run-tests.mjs.
 */
export default async function* summary(source) {
  let passed = 0,
    failed = 0,
    skipped = 0,
    todo = 0;
  const failures = [];
  const t0 = Date.now();
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const d = ev.data;
    if (d.details?.type === 'suite') {
      // a suite that fails outside its tests (a hook, a throw at collection) still counts as a failure
      if (ev.type === 'test:fail' && d.details?.error?.failureType !== 'subtestsFailed') {
        failed++;
        failures.push(d.name);
      }
      continue;
    }
    if (d.skip) skipped++;
    else if (d.todo) todo++;
    else if (ev.type === 'test:pass') passed++;
    else {
      failed++;
      failures.push(d.name);
    }
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (failures.length) yield `\nFailed:\n${failures.map((n) => `  ✖ ${n}`).join('\n')}\n`;
  yield `\n${passed} passed, ${failed} failed, ${skipped} skipped${todo ? `, ${todo} todo` : ''} (${secs} s)\n`;
}
