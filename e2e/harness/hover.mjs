// Hovers: on any element (the hover's text once it matches), on an Explorer row (path and decoration tooltip) and on
// text in an editor. VS Code sometimes ignores one synthetic mouse move, so each helper moves away and back until a
// hover shows.
import { waitFor } from '../wait-for.cjs';
import { explorerItem } from './explorer.mjs';

const HOVER = '.monaco-hover:visible, .workbench-hover:visible';

/**
 * Moves the pointer to a neutral spot, the bottom middle of the editor area (no hover providers on an empty editor or
 * the watermark), and waits (3 s at most) for the `hover` locator to hide.
 */
async function moveAwayFromHover(page, hover) {
  const neutral = await page
    .locator('.part.editor')
    .boundingBox()
    .catch(() => null);
  await page.mouse.move(neutral ? neutral.x + neutral.width / 2 : 700, neutral ? neutral.y + neutral.height - 5 : 450, { steps: 2 });
  await hover.waitFor({ state: 'hidden', timeout: 3000 }).catch(() => {});
}

/**
 * Hovers `target` (a locator) and returns the text of the hover that opens (`.monaco-hover` /
 * `.workbench-hover`). VS Code sometimes ignores a single synthetic mouse move (a hover that was just hidden,
 * a menu that just closed), so the pointer is moved away and back in small steps until a hover shows.
 * With `match` (RegExp or substring) it keeps re-hovering until the hover text matches (e.g. a decoration
 * tooltip that an extension adds asynchronously).
 */
export async function hoverText(page, target, { match, timeoutMs = 20_000, attemptMs = 4000 } = {}) {
  const hover = page.locator(HOVER).first();
  const deadline = Date.now() + timeoutMs;
  let lastText;
  await target.scrollIntoViewIfNeeded();
  for (;;) {
    await moveAwayFromHover(page, hover);
    const box = await target.boundingBox();
    if (!box) throw new Error('hover target is not visible');
    await page.mouse.move(box.x + Math.min(box.width / 2, 20), box.y + box.height / 2, { steps: 5 });
    try {
      await hover.waitFor({ state: 'visible', timeout: Math.min(attemptMs, Math.max(1, deadline - Date.now())) });
      await waitFor(async () => (await hover.innerText()).trim().length > 0, { timeoutMs: 2000, what: 'hover text' });
      const text = (await hover.innerText()).trim();
      if (!match || (typeof match === 'string' ? text.includes(match) : match.test(text))) return text;
      lastText = text;
      if (Date.now() >= deadline) throw new Error(`hover text ${JSON.stringify(text)} did not match ${match} within ${timeoutMs} ms`);
    } catch (e) {
      if (Date.now() >= deadline) {
        throw new Error(
          `no hover${match ? ` matching ${match}` : ''} appeared within ${timeoutMs} ms` +
            `${lastText ? ` (last: ${JSON.stringify(lastText)})` : ''}: ${e.message}`,
        );
      }
    }
  }
}

/** Hovers the Explorer row's label and returns the hover's text (path, plus any FileDecoration tooltip). */
export async function hoverExplorerItem(page, name, opts = {}) {
  const row = await explorerItem(page, name);
  return hoverText(page, row.locator('.label-name').first(), opts);
}

/**
 * Screen point of the characters `at` on the first visible editor line whose text contains `line` (spaces as the
 * editor renders them, non-breaking, are read as spaces): the middle of `at` (or of its `offset`-th character).
 */
export async function editorTextPoint(page, line, at, { offset } = {}) {
  return page.evaluate(
    ({ line, at, offset }) => {
      const norm = (s) => s.replace(/\u00a0/g, ' ');
      for (const el of document.querySelectorAll('.editor-instance .monaco-editor .view-line')) {
        const text = norm(el.textContent ?? '');
        if (!text.includes(line)) continue;
        const i = text.indexOf(at, text.indexOf(line));
        if (i < 0) continue;
        const target = i + (offset ?? Math.floor(at.length / 2));
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        let seen = 0;
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const len = n.textContent.length;
          if (seen + len > target) {
            const r = document.createRange();
            r.setStart(n, target - seen);
            r.setEnd(n, target - seen + 1);
            const b = r.getBoundingClientRect();
            return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
          }
          seen += len;
        }
      }
      return null;
    },
    { line, at, offset },
  );
}

/**
 * Hovers the text `at` on the editor line containing `line` and returns the hover element's locator once its text
 * matches `match` (the hover says "Loading..." until every provider answered). Re-hovers as hoverText does.
 */
export async function hoverEditorText(page, line, at, { match, timeoutMs = 30_000 } = {}) {
  const hover = page.locator('.monaco-hover:visible').first();
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    await moveAwayFromHover(page, hover);
    const p = await waitFor(() => editorTextPoint(page, line, at), { timeoutMs: 10_000, what: `"${at}" on the line "${line}"` });
    await page.mouse.move(p.x, p.y, { steps: 4 });
    try {
      await hover.waitFor({ state: 'visible', timeout: 4000 });
      const text = await waitFor(
        async () => {
          const t = (await hover.innerText()).trim();
          last = t;
          return (typeof match === 'string' ? t.includes(match) : match.test(t)) ? t : undefined;
        },
        { timeoutMs: Math.max(1000, Math.min(15_000, deadline - Date.now())), intervalMs: 200, what: `a hover matching ${match}` },
      );
      if (text) return hover;
    } catch (e) {
      if (Date.now() >= deadline) throw new Error(`no hover matching ${match} on "${at}" (last: ${JSON.stringify(last)}): ${e.message}`);
    }
  }
}
