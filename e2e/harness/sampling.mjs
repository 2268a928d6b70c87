// Reading what the workbench shows while something runs: texts that come and go (status bar items, progress
// toasts) are sampled every few milliseconds, so a test can judge what appeared along the way.

/**
 * Runs `work()` while the texts of `selector` on `page` are read every `everyMs`: each text that `keep(text)` accepts
 * (all, by default) is added to the Set `into` as `map(text)` (trimmed, by default). Returns what `work` returns;
 * the sampling stops when it settles, either way.
 */
export async function sampleTextsDuring(page, selector, into, work, { everyMs = 50, keep = () => true, map = (t) => t.trim() } = {}) {
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const t of await page
        .locator(selector)
        .allInnerTexts()
        .catch(() => []))
        if (keep(t)) into.add(map(t));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  try {
    return await work();
  } finally {
    sampling = false;
    await sampler;
  }
}
