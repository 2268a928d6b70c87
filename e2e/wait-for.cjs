// One polling helper for both sides of the e2e suites: the harness (ESM, on the test runner's Node) imports it, and the
// in-host test modules (CommonJS, inside VS Code's extension host) require it.

/** Polls `fn` until it returns a truthy value; throws after `timeoutMs` (with the last error `fn` threw, if any). */
exports.waitFor = async function waitFor(fn, { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${lastErr.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
};
