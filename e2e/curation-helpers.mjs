// Helpers of the curation-board e2e suite (e2e/curation.test.mjs): the board's webview frame, its cards, files on
// disk, and the generated 10,000-file report of the performance check.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from './wait-for.cjs';

/** The curation board's frame (webviews sit in nested iframes): the one whose document has the board. */
export async function boardFrame(page, { timeoutMs = 60_000 } = {}) {
  return waitFor(
    async () => {
      for (const f of page.frames()) {
        const ok = await f.evaluate(() => !!document.querySelector('nav.tabs') && !!window.__board).catch(() => false);
        if (ok) return f;
      }
      return undefined;
    },
    { timeoutMs, intervalMs: 250, what: 'the curation board webview' },
  );
}

/** The cards (or duplicate groups) in the DOM of the tab in view: index, report key, title (path), detail. */
export function cardsInView(frame) {
  return frame.evaluate(() =>
    [...document.querySelectorAll('.grid .cell')]
      .map((el) => ({
        index: Number(el.dataset.index),
        key: el.dataset.key,
        title: el.title,
        // The whole text (a card shows it cut with an ellipsis where it is longer than the card is wide).
        detail: el.querySelector('.detail')?.dataset.text ?? '',
        focused: el.classList.contains('focused'),
        selected: el.classList.contains('selected'),
      }))
      .sort((a, b) => a.index - b.index),
  );
}

export async function focusedIndex(frame) {
  return frame.evaluate(() => Number(document.querySelector('.grid .cell.focused')?.dataset.index ?? -1));
}

export async function showTab(frame, title) {
  await frame.locator('nav.tabs button', { hasText: new RegExp(`^${title}`) }).click();
  await frame.locator('nav.tabs button[aria-selected="true"]', { hasText: new RegExp(`^${title}`) }).waitFor();
}

export const sha = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Image files under `dir` (relative paths), hidden folders left out. */
export function listImages(dir, rel = '') {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listImages(dir, r));
    else out.push(r);
  }
  return out.sort();
}

/** A report of `n` generated files in 10 classes (placeholders: no images behind them), as the host would send it. */
export function generatedReportMessage(n) {
  const classes = Array.from({ length: 10 }, (_, i) => `class${i}`);
  const files = [];
  const labelIssues = [];
  for (let i = 0; i < n; i++) {
    const label = classes[i % 10];
    const file = `${label}/img-${String(i).padStart(5, '0')}.jpg`;
    const suggested = classes[(i + 3) % 10];
    files.push({
      file,
      label,
      width: 640,
      height: 480,
      suggestedLabel: suggested,
      labelQuality: i / n,
      issues: [{ type: 'label', score: i / n }],
    });
    labelIssues.push({ file, label, suggestedLabel: suggested, score: i / n });
  }
  const report = {
    version: 1,
    root: '/generated',
    createdAt: new Date().toISOString(),
    model: { name: 'generated', embeddingDims: 2 },
    checks: ['label'],
    layout: { splits: [], classes: 10, flat: false },
    counts: { files: n, analysed: n, unreadable: 0, skipped: 0, labelIssues: n, duplicateGroups: 0, outliers: 0, quality: 0 },
    files,
    labelIssues,
    duplicateGroups: [],
    outliers: [],
    quality: [],
    classes: classes.map((name) => ({ name, files: n / 10, labelIssues: n / 10, relativeSize: 1 })),
    skipped: [],
    warnings: [],
    settings: {},
    timingsMs: { scan: 0, extract: 0, analyse: 0, total: 0 },
  };
  return { type: 'report', rootUri: 'file:///generated', report, facts: {}, kept: [], changes: [], canUndo: false, canRedo: false };
}

/**
 * In the board's frame: first the frame rate of scrolling a plain, empty scroller of the grid's size (what this
 * machine's renderer can do at all, now), then sends `message` as the host would, waits for the first painted grid,
 * and scrolls the grid for `ms` (a fixed distance per frame) counting animation frames. Returns the figures.
 */
export async function measureBoard(frame, message, ms = 3000) {
  await frame.evaluate(mountEmptyScroller);
  return frame.evaluate(
    async ({ message, ms }) => {
      /** Scrolls `el` by 120 px per animation frame for `ms`; the frame times. */
      const scrollFrames = (el, ms) =>
        new Promise((done) => {
          const frames = [];
          const step = (t) => {
            frames.push(t);
            el.scrollTop += 120;
            if (t - frames[0] < ms) requestAnimationFrame(step);
            else done(frames);
          };
          requestAnimationFrame(step);
        });
      const fpsOf = (frames) => ((frames.length - 1) * 1000) / (frames.at(-1) - frames[0]);
      const board = window.__board;
      const plain = document.querySelector('.empty-scroller');
      const baselineFps = fpsOf(await scrollFrames(plain, Math.min(ms, 2000)));
      plain.remove();
      // The generated files have no images behind them. Where the board already has thumbnails (in VS Code, those
      // of the dev set), each card shows one of them, so that scrolling draws images as it would on a real dataset;
      // elsewhere the cards show empty placeholders. (No new thumbnail requests either way.)
      const real = [...(board.thumbs.urls?.values() ?? [])];
      board.thumbs.url = real.length ? (file) => real[Number(/(\d+)\.jpg$/.exec(file)?.[1] ?? 0) % real.length] : () => undefined;
      delete board.perf.reportToPaintMs;
      window.postMessage(message, '*');
      const t0 = performance.now();
      while (board.perf.reportToPaintMs === undefined && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 5));
      const grid = document.querySelector('.grid');
      const stats = board.views.get('labels').grid.stats;
      const [paints0, paintMs0] = [stats.paints, stats.paintMs];
      const frames = await scrollFrames(grid, ms);
      const gaps = frames.slice(1).map((t, i) => t - frames[i]);
      const sorted = [...gaps].sort((a, b) => a - b);
      return {
        cards: board.model.cards('labels').length,
        reportToPaintMs: board.perf.reportToPaintMs,
        baselineFps,
        scrollMs: frames.at(-1) - frames[0],
        frames: frames.length,
        fps: fpsOf(frames),
        p95FrameMs: sorted[Math.floor(sorted.length * 0.95)],
        maxFrameMs: sorted.at(-1),
        scrolledPx: grid.scrollTop,
        gridPaints: stats.paints - paints0,
        gridPaintMsPerPaint: (stats.paintMs - paintMs0) / Math.max(1, stats.paints - paints0),
        cardsInDom: document.querySelectorAll('.grid .cell').length,
        thumbnails: real.length,
      };
    },
    { message, ms },
  );
}

/**
 * The board's script on its own page (file://, a stand-in for VS Code's webview API that answers no thumbnails),
 * for the 10,000-card check without the workbench around it. Returns the page's file.
 * Its elements are those of the webview page (packages/extension/src/curation/host/html.ts): the board looks each one up.
 */
export function standaloneBoardPage(dir, extDir) {
  const url = (p) => new URL(`file://${path.join(extDir, p)}`).href;
  const html = `<!DOCTYPE html><html><head><link rel="stylesheet" href="${url('media/board.css')}"></head><body>
<header class="bar"><nav class="tabs"></nav><span class="status"></span><span class="spacer"></span>
<button class="undo">Undo</button><button class="redo">Redo</button><button class="export">Export</button></header>
<div class="findbar"><input class="find" type="search"><span class="find-note"></span></div>
<section class="classes"></section><main class="content"></main>
<script>window.acquireVsCodeApi = () => ({ postMessage() {}, getState() {}, setState() {} });</script>
<script src="${url('dist/media/board.js')}"></script></body></html>`;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'board-standalone.html');
  fs.writeFileSync(file, html);
  return file;
}

/**
 * Scrolls the board's grid the way a user's mouse wheel does, while Chromium records a performance trace, and
 * reads Chromium's own smoothness figures from it: `Input.synthesizeScrollGesture` (the gesture Chromium's
 * smoothness benchmarks use: wheel events at `speed` px/s, through the browser's input pipeline to whichever
 * thread scrolls) over `distance` px, and the trace's `FrameSequenceTrackerV3` record of that scroll (frames
 * expected at the display's rate, frames dropped, frames shown with content missing: "checkerboarded"), its
 * `ScrollJankV4` verdicts (janky scroll updates) and `PipelineReporter`s (which thread scrolled). For the grid, also
 * samples in every animation frame whether the rows in the DOM cover the view (`coverage`).
 * @param {import('playwright-core').Page} page the top-level page
 * @param {import('playwright-core').Frame} frame the board's frame (a webview's nested iframe, or the page's own)
 */
export async function traceScroll(page, frame, { distance = 9000, speed = 3000, empty = false } = {}) {
  // `empty`: an empty scroller of the grid's size over it instead (what this renderer does at all, now).
  const selector = empty ? '.empty-scroller' : '.grid';
  if (empty) await frame.evaluate(mountEmptyScroller);
  const cdp = await page.context().newCDPSession(page);
  try {
    const box = await frame.locator(selector).boundingBox();
    if (!box) throw new Error('the board has no grid in view');
    const events = [];
    cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
    const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
    await cdp.send('Tracing.start', {
      traceConfig: {
        includedCategories: [
          'benchmark',
          'disabled-by-default-devtools.timeline.frame',
          ...(process.env.E2E_TRACE_CATEGORIES?.split(',') ?? []),
        ],
      },
    });
    const topBefore = await frame.evaluate((sel) => document.querySelector(sel).scrollTop, selector);
    if (!empty) await frame.evaluate(startCoverageSampler);
    const t0 = Date.now();
    await cdp.send('Input.synthesizeScrollGesture', {
      x: Math.round(box.x + box.width / 2),
      y: Math.round(box.y + box.height / 2),
      yDistance: -distance,
      speed,
      gestureSourceType: 'mouse',
    });
    const gestureMs = Date.now() - t0;
    const coverage = empty ? undefined : await frame.evaluate(() => window.__coverage.stop());
    // The reporters write their last frames a little after the last scroll update.
    await new Promise((r) => setTimeout(r, 1000));
    await cdp.send('Tracing.end');
    await complete;
    if (process.env.E2E_TRACE_DUMP) fs.writeFileSync(`${process.env.E2E_TRACE_DUMP}-${Date.now()}.json`, JSON.stringify(events));
    const scrolledPx = (await frame.evaluate((sel) => document.querySelector(sel).scrollTop, selector)) - topBefore;
    return { gestureMs, nominalMs: (distance * 1000) / speed, scrolledPx, speed, coverage, ...smoothnessOf(events) };
  } finally {
    if (empty) await frame.evaluate(() => document.querySelector('.empty-scroller')?.remove()).catch(() => {});
    await cdp.detach().catch(() => {});
  }
}

/**
 * In the board's frame (run by frame.evaluate): an empty scroller (`.empty-scroller`) over the grid, of its size,
 * 400,000 px tall inside: what this renderer scrolls at all, the baseline of the board's figures.
 */
function mountEmptyScroller() {
  const r = document.querySelector('.grid').getBoundingClientRect();
  const plain = document.createElement('div');
  plain.className = 'empty-scroller';
  plain.style.cssText = `position:fixed;left:${r.left}px;top:${r.top}px;width:${r.width}px;height:${r.height}px;overflow:auto;background:var(--vscode-editor-background, #fff)`;
  // Built through the CSSOM: the board's Content-Security-Policy refuses style attributes in markup.
  const tall = document.createElement('div');
  tall.style.height = '400000px';
  plain.append(tall);
  document.body.append(plain);
}

/**
 * In the board's frame (run by frame.evaluate): in every animation frame until `window.__coverage.stop()`, whether
 * the grid's rows in the DOM cover what is in view (the virtualization kept up) — a row is one `.grid-row` placed by
 * `translate(x, y)` with its height set. stop() answers { frames, uncovered }.
 */
function startCoverageSampler() {
  const grid = document.querySelector('.grid');
  const c = { frames: 0, uncovered: 0, running: true };
  const gap = 12;
  const step = () => {
    if (!c.running) return;
    c.frames++;
    const top = grid.scrollTop;
    const bottom = Math.min(top + grid.clientHeight, grid.scrollHeight);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const row of grid.querySelectorAll('.grid-row')) {
      const y = Number(/translate\([^,]+,\s*([-\d.]+)px\)/.exec(row.style.transform)?.[1]);
      lo = Math.min(lo, y);
      hi = Math.max(hi, y + Number.parseFloat(row.style.height));
    }
    if (!(lo <= top + gap && hi >= bottom - gap)) c.uncovered++;
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
  window.__coverage = {
    stop: () => {
      c.running = false;
      return { frames: c.frames, uncovered: c.uncovered };
    },
  };
}

/**
 * Chromium's smoothness figures of the scroll in a trace (see traceScroll):
 * - `fps`: frames that moved the content, per second: Chromium's scroll-jank reporter (`ScrollJankV4`) marks each
 *   presented frame that carried scroll updates, and how many display frames (vsyncs) passed since the previous one;
 *   `vsyncsMissed` adds up those gaps, `jankyFrames` are the ones it judged janky.
 * - `frames`: the `PipelineReporter`s' verdict on every display frame of the scroll (presented whole, presented
 *   partly — the compositor moved the content without the page's main-thread update —, dropped), and the frames
 *   shown with content missing (tiles not rastered or recorded yet: blank cards).
 * - `tracker`: the `FrameSequenceTrackerV3` record of the scroll where the trace has it (expected/dropped frames).
 */
export function smoothnessOf(events) {
  const jank = events.filter((x) => x.name === 'ScrollJankV4' && x.ph === 'b' && x.args?.scroll_jank_v4);
  if (jank.length < 2) {
    throw new Error('the trace has no scroll frames (ScrollJankV4, Chromium 145 and later) of the gesture: did it scroll?');
  }
  // The renderer that scrolled: the one with the most scroll frames.
  const perPid = new Map();
  for (const x of jank) perPid.set(x.pid, (perPid.get(x.pid) ?? 0) + 1);
  const pid = [...perPid].sort((a, b) => b[1] - a[1])[0][0];
  const frames = jank.filter((x) => x.pid === pid).sort((a, b) => a.ts - b.ts);
  const [t0, t1] = [frames[0].ts, frames.at(-1).ts];
  const sequenceMs = (t1 - t0) / 1000;
  let vsyncs = 0;
  for (const x of frames.slice(1)) vsyncs += x.args.scroll_jank_v4.vsyncs_since_previous_frame ?? 1;
  const within = (x) => x.pid === pid && x.ts >= t0 && x.ts <= t1;
  // One verdict per display frame (a frame can have a second, "forked", report).
  const bySequence = new Map();
  for (const x of events) {
    if (x.name !== 'PipelineReporter' || x.ph !== 'b' || !within(x)) continue;
    const r = x.args?.frame_reporter ?? x.args?.chrome_frame_reporter;
    if (!r) continue;
    const seen = bySequence.get(r.frame_sequence) ?? { states: new Set(), missing: false };
    seen.states.add(r.state);
    seen.missing ||= !!(r.checkerboarded_needs_raster || r.checkerboarded_needs_record || r.has_missing_content);
    bySequence.set(r.frame_sequence, seen);
  }
  const verdicts = { presented: 0, partial: 0, dropped: 0, missingContent: 0, scrollState: {} };
  for (const f of bySequence.values()) {
    if (f.states.has('STATE_PRESENTED_ALL')) verdicts.presented++;
    else if (f.states.has('STATE_PRESENTED_PARTIAL')) verdicts.partial++;
    else if (f.states.has('STATE_DROPPED')) verdicts.dropped++;
    if (f.missing) verdicts.missingContent++;
  }
  for (const x of events) {
    if (x.name !== 'PipelineReporter' || x.ph !== 'b' || !within(x)) continue;
    const st = (x.args?.frame_reporter ?? x.args?.chrome_frame_reporter)?.scroll_state;
    if (st && st !== 'SCROLL_NONE') verdicts.scrollState[st] = (verdicts.scrollState[st] ?? 0) + 1;
  }
  let tracker;
  for (const x of events) {
    if (x.name !== 'FrameSequenceTrackerV3' || x.ph !== 'b' || x.pid !== pid || !/Scroll/.test(x.args?.name ?? '')) continue;
    const d = x.args.args?.data;
    if (d && (!tracker || d.expected > tracker.expected)) {
      tracker = {
        name: x.args.name,
        expected: d.expected,
        dropped: d.dropped_v3,
        checkerboarded: d.checkerboarded,
        missingContent: d.missing_content,
      };
    }
  }
  return {
    sequenceMs,
    scrollFrames: frames.length,
    fps: ((frames.length - 1) * 1000) / sequenceMs,
    vsyncsMissed: vsyncs - (frames.length - 1),
    jankyFrames: frames.filter((x) => x.args.scroll_jank_v4.is_janky).length,
    frames: verdicts,
    tracker,
  };
}
