// End-to-end tests of the curation board (Curate Dataset…) in a real VS Code (code-server + Debian Chromium), on
// the packaged linux-x64 VSIX, on a copy of ../shared/datasets/curation-dev/dataset with MobileNetV2 configured.
//
//   bash .ci/install-e2e.sh && npm run build      # once
//   node --test e2e/curation.test.mjs
//
// Env: IMAGE_CLASSIFIER_SHARED_DIR (default <repo>/../shared), E2E_VSIX (use this VSIX instead of packaging),
// E2E_KEEP=1 (keep temp dirs), E2E_TRACE_DUMP=<prefix> (write the raw Chromium traces of the scrolling check to
// <prefix>-<time>.json, to open in DevTools or Perfetto), E2E_TRACE_CATEGORIES=a,b (more trace categories for them).
// Screenshots: e2e/.work/screenshots/curation-*.png, docs/curation-board.png; figures of the 10,000-card check:
// e2e/.work/board-perf.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  boardFrame,
  cardsInView,
  focusedIndex,
  generatedReportMessage,
  listImages,
  measureBoard,
  sha,
  standaloneBoardPage,
  showTab,
  traceScroll,
} from './curation-helpers.mjs';
import { waitFor } from './wait-for.cjs';
import { missingPrerequisites, warnSkipped, WORK_DIR } from './harness/setup.mjs';
import { makeTempDir } from './harness/processes.mjs';
import { isOffHost, VSCODE_BUILTIN } from './harness/browser.mjs';
import { explorerItem, runExplorerContextMenuItem } from './harness/explorer.mjs';
import { runCommand } from './harness/commands.mjs';
import { screenshot } from './harness/screenshots.mjs';
import { sampleTextsDuring } from './harness/sampling.mjs';
import {
  CURATION_DEV,
  CURATION_DEV_DATASET,
  EXT_DIR,
  IMAGES,
  MODEL_PREREQUISITE,
  removePackagedVsix,
  REPO,
  screenshotOnFailure,
  SHARED,
  workbenchSuite,
} from './workbench.mjs';

const DATASET = CURATION_DEV_DATASET;
const TRUTH = path.join(CURATION_DEV, 'truth.json');
/** The traced scroll of the 10,000-card check: a brisk mouse-wheel scroll, 3 s long. */
const TRACE_SCROLL = { distance: 9000, speed: 3000 };

const missing = missingPrerequisites([MODEL_PREREQUISITE, [TRUTH, `the curation-dev dataset at ${path.dirname(TRUTH)}`]]);
warnSkipped('the curation board e2e tests', missing);

describe('Curation board in VS Code', { skip: missing.length > 0, timeout: 900_000 }, () => {
  let ws, ds, vscode, browser, page, frame;
  const truth = missing.length ? { label_noise: [] } : JSON.parse(fs.readFileSync(TRUTH, 'utf8'));
  const mislabelled = new Set(truth.label_noise.map((n) => n.file));
  /** The top suspect of the first analysis: { file, suggested }. */
  let top;

  const suite = workbenchSuite({
    workspace: async () => {
      const dir = await makeTempDir('ic-e2e-ws-curation-');
      await fsp.cp(DATASET, path.join(dir, 'dataset'), { recursive: true });
      return dir;
    },
    extensionsPrefix: 'ic-e2e-exts-curation-',
  });
  before(() => {
    ({ ws, vscode } = suite);
    ds = path.join(ws, 'dataset');
    ({ browser, page } = vscode);
  });

  const uiTest = screenshotOnFailure(
    () => page,
    (name) => `curation-fail-${name}`,
  );

  /** Clicks the card of `file` (current path) in the grid in view, so that the keys go to it. */
  async function clickCard(file) {
    await frame.locator(`.grid .cell[title="${file}"]`).first().click();
    await waitFor(async () => (await cardsInView(frame)).find((c) => c.title === file)?.focused, { what: `${file} focused` });
  }

  uiTest(
    'Curate Dataset on the folder opens the board with the label-issue grid, its progress in the status bar; the top suspect is truly mislabelled',
    async () => {
      // The status bar's texts while the dataset is read and analysed (sampled until the cards show).
      const statusTexts = new Set();
      await sampleTextsDuring(
        page,
        '.statusbar-item',
        statusTexts,
        async () => {
          await runExplorerContextMenuItem(page, 'dataset', 'Curate Dataset…');
          frame = await boardFrame(page, { timeoutMs: 60_000 });
          await frame.locator('.grid .cell.card').first().waitFor({ state: 'visible', timeout: 240_000 });
        },
        { everyMs: 100 },
      );
      // The status bar showed the run's progress (its stage and counts), then the model again.
      const progress = [...statusTexts].filter((t) => /^Curating dataset/.test(t));
      assert.ok(
        progress.some((t) => /^Curating dataset: \S.*\d+\s*\/\s*104\b/.test(t)),
        `the status bar showed the curate run's progress with its counts: ${JSON.stringify([...statusTexts])}`,
      );
      await waitFor(async () => !(await page.locator('.statusbar-item').allInnerTexts()).some((t) => /Curating/.test(t)), {
        what: 'the status bar to show the model again after the run',
      });
      const cards = await cardsInView(frame);
      top = { file: cards[0].title, suggested: cards[0].detail.split('→')[1].trim() };
      assert.ok(mislabelled.has(top.file), `the top suspect ${top.file} is one of the mislabelled files: ${[...mislabelled].join(', ')}`);
      const truthEntry = truth.label_noise.find((n) => n.file === top.file);
      assert.equal(top.suggested, truthEntry.true_class, `suggested ${top.suggested} for ${top.file}`);
      await frame.locator('.grid .cell.card img').first().waitFor({ state: 'visible', timeout: 30_000 });
      // The product shot: the Explorer shows the suspect's folder with its badges next to the board.
      await explorerItem(page, `dataset/${top.file}`);
      await screenshot(page, 'curation-grid');
      await fsp.copyFile(path.join(WORK_DIR, 'screenshots', 'curation-grid.png'), path.join(REPO, 'docs', 'curation-board.png'));
      // The Image Labels view: a group for the curated dataset with its open issue counts.
      const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Image Labels/i }) }).first();
      const header = pane.locator('.pane-header').first();
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      const rowText = () =>
        pane
          .locator('.monaco-list-row')
          .allInnerTexts()
          .then((t) => t.join('\n'));
      await waitFor(async () => /Curation: dataset[\s\S]*\d+ label issues?/.test(await rowText()), {
        what: 'the curation group in Image Labels',
      });
      await screenshot(page, 'curation-labels-view');
    },
  );

  uiTest('keyboard navigation moves the selection', async () => {
    await clickCard(top.file);
    assert.equal(await focusedIndex(frame), 0);
    await page.keyboard.press('ArrowRight');
    await waitFor(async () => (await focusedIndex(frame)) === 1, { what: 'ArrowRight → card 1' });
    const cols = await frame.evaluate(() => window.__board.views?.get?.('labels')?.grid.cols ?? 0);
    await page.keyboard.press('ArrowDown');
    const expected = cols > 0 ? Math.min(1 + cols, (await cardsInView(frame)).length - 1) : undefined;
    await waitFor(async () => (expected === undefined ? (await focusedIndex(frame)) > 1 : (await focusedIndex(frame)) === expected), {
      what: 'ArrowDown → one row down',
    });
    await page.keyboard.press('Home');
    await waitFor(async () => (await focusedIndex(frame)) === 0, { what: 'Home → card 0' });
  });

  uiTest('s on a card, and Find Similar Images in the Explorer, show the nearest images', async () => {
    await clickCard(top.file);
    await page.keyboard.press('s');
    await frame.locator('nav.tabs button[aria-selected="true"]', { hasText: /^Similar/ }).waitFor({ timeout: 60_000 });
    await waitFor(async () => (await cardsInView(frame))[0]?.title === top.file, { timeoutMs: 30_000, what: 'the card itself first' });
    assert.ok((await cardsInView(frame)).length >= 5, 'its neighbours follow');
    const image = (await fsp.readdir(path.join(ds, 'fish'))).sort()[0];
    await runExplorerContextMenuItem(page, `dataset/fish/${image}`, 'Find Similar Images');
    await waitFor(async () => (await cardsInView(frame))[0]?.title === `fish/${image}`, { timeoutMs: 60_000, what: `fish/${image} first` });
    await showTab(frame, 'Label issues');
  });

  uiTest('a name clash does not overwrite: the moved file gets a new name', async () => {
    const from = path.join(ds, top.file);
    const clash = path.join(ds, top.suggested, path.basename(top.file));
    const other = listImages(ds).find((f) => f.startsWith(`${top.suggested}/`));
    await fsp.copyFile(path.join(ds, other), clash);
    try {
      // (Done before any move: for a few seconds after its own renames the board takes events on their paths for
      // its own.) The board sees the new file (its watcher asks the report again) before the move.
      await waitFor(async () => /105 images analysed/.test(await frame.locator('.status').innerText()), {
        timeoutMs: 60_000,
        what: 'the board to re-query after the file appeared',
      });
      await moveOntoClash(from, clash);
    } finally {
      await fsp.rm(clash, { force: true });
    }
    await waitFor(async () => /104 images analysed/.test(await frame.locator('.status').innerText()), {
      timeoutMs: 60_000,
      what: 'the board to re-query after the file went',
    });
  });

  /** Moves the top suspect onto a name that is taken: it gets a name of its own; undo brings it back. */
  async function moveOntoClash(from, clash) {
    const [mine, theirs] = [sha(from), sha(clash)];
    const countBefore = listImages(path.join(ds, top.suggested)).length;
    await clickCard(top.file);
    await page.keyboard.press('m');
    await waitFor(() => !fs.existsSync(from), { timeoutMs: 20_000, what: `${top.file} moved` });
    const now = listImages(path.join(ds, top.suggested));
    assert.equal(now.length, countBefore + 1, `one more file in ${top.suggested}: ${now.join(', ')}`);
    assert.equal(sha(clash), theirs, 'the file already there is untouched');
    const moved = now.map((f) => path.join(ds, top.suggested, f)).find((f) => sha(f) === mine);
    assert.ok(moved && moved !== clash, `the moved file has its own name: ${moved}`);
    await page.keyboard.press('Control+z');
    await waitFor(() => fs.existsSync(from) && !fs.existsSync(moved), { timeoutMs: 20_000, what: 'undo of the clash move' });
  }

  uiTest('m moves the top suspect into the suggested class folder; Ctrl+Z brings it back, bytes unchanged', async () => {
    const from = path.join(ds, top.file);
    const before = sha(from);
    const to = path.join(ds, top.suggested, path.basename(top.file));
    await clickCard(top.file);
    await page.keyboard.press('m');
    await waitFor(() => fs.existsSync(to) && !fs.existsSync(from), { timeoutMs: 20_000, what: `${top.file} moved to ${top.suggested}/` });
    assert.equal(sha(to), before);
    await waitFor(async () => !(await cardsInView(frame)).some((c) => c.title === top.file), { what: 'the card to leave the grid' });
    await page.keyboard.press('Control+z');
    await waitFor(() => fs.existsSync(from) && !fs.existsSync(to), { timeoutMs: 20_000, what: `${top.file} back` });
    assert.equal(sha(from), before, 'bytes unchanged');
    await waitFor(async () => (await cardsInView(frame))[0]?.title === top.file, { what: 'the card back at the top' });
  });

  uiTest('a duplicate group: keep one, trash the rest; undo restores them', async () => {
    await showTab(frame, 'Duplicates');
    await frame.locator('.grid .cell.group').first().waitFor({ state: 'visible', timeout: 20_000 });
    await waitFor(
      () =>
        frame.evaluate(() =>
          [...document.querySelectorAll('.cell.group')]
            .slice(0, 2)
            .every((g) => [...g.querySelectorAll('.member')].every((m) => m.querySelector('img')?.complete)),
        ),
      { what: 'the first groups’ thumbnails' },
    );
    await screenshot(page, 'curation-duplicates');
    const group = frame.locator('.grid .cell.group').first();
    const keeper = await group.locator('.member.keeper').getAttribute('title');
    const others = await group.locator('.member.other').evaluateAll((els) => els.map((e) => e.title));
    assert.ok(others.length >= 1, 'the group has copies to trash');
    const bytes = Object.fromEntries(others.map((f) => [f, sha(path.join(ds, f))]));
    await group.locator('.group-head').click();
    await page.keyboard.press('Delete');
    await waitFor(() => others.every((f) => !fs.existsSync(path.join(ds, f))), { timeoutMs: 20_000, what: 'the other copies trashed' });
    assert.ok(fs.existsSync(path.join(ds, keeper)), `the kept copy ${keeper} stays`);
    assert.deepEqual(
      fs.readdirSync(ds).filter((n) => n.startsWith('.')),
      [],
      'the trash is not inside the dataset (no .trash or .curation for an image-folder loader to take as a class)',
    );
    await page.keyboard.press('Control+z');
    await waitFor(() => others.every((f) => fs.existsSync(path.join(ds, f))), { timeoutMs: 20_000, what: 'the copies restored' });
    for (const f of others) assert.equal(sha(path.join(ds, f)), bytes[f], `${f} restored byte for byte`);
  });

  uiTest('Export writes a CSV with a row for every label issue on the board', async () => {
    await showTab(frame, 'Label issues');
    const onBoard = await frame.evaluate(() => window.__board.model.cards('labels').map((c) => window.__board.model.pathOf(c.key)));
    await frame.locator('button.export').click();
    const csvPath = await waitFor(
      () => {
        // The board's state folder is beside the dataset (never inside it): <parent>/.<name>.curation/export.
        const dir = path.join(path.dirname(ds), `.${path.basename(ds)}.curation`, 'export');
        const f = fs.existsSync(dir) ? fs.readdirSync(dir).find((n) => n.endsWith('.csv')) : undefined;
        return f && path.join(dir, f);
      },
      { timeoutMs: 20_000, what: 'the exported CSV' },
    );
    const rows = fs.readFileSync(csvPath, 'utf8').trim().split(/\r?\n/);
    assert.match(rows[0], /file/i, `a header: ${rows[0]}`);
    for (const f of onBoard)
      assert.ok(
        rows.some((r) => r.includes(f)),
        `the CSV has a row for ${f}`,
      );
    assert.ok(rows.length - 1 >= onBoard.length, `${rows.length - 1} rows ≥ ${onBoard.length} label issues`);
  });

  uiTest('after a window reload the journal still undoes', async () => {
    const from = path.join(ds, top.file);
    const to = path.join(ds, top.suggested, path.basename(top.file));
    await clickCard(top.file);
    await page.keyboard.press('m');
    await waitFor(() => fs.existsSync(to) && !fs.existsSync(from), { timeoutMs: 20_000, what: 'moved before the reload' });
    await runCommand(page, 'Developer: Reload Window');
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible', timeout: 90_000 });
    // The board comes back by itself (its serializer); if the editor did not restore it, open it again.
    frame = await boardFrame(page, { timeoutMs: 45_000 }).catch(async () => {
      await runExplorerContextMenuItem(page, 'dataset', 'Curate Dataset…');
      return boardFrame(page, { timeoutMs: 60_000 });
    });
    await frame.locator('.grid .cell.card').first().waitFor({ state: 'visible', timeout: 120_000 });
    await frame.locator('.grid .cell.card').first().click();
    await page.keyboard.press('Control+z');
    await waitFor(() => fs.existsSync(from) && !fs.existsSync(to), { timeoutMs: 60_000, what: 'undo after the reload' });
  });

  uiTest('the Overview shows the classes and (when the report has one) the map', async () => {
    await showTab(frame, 'Overview');
    await frame.locator('.bars .bar-row').first().waitFor({ state: 'visible' });
    assert.equal(await frame.locator('.bars .bar-row').count(), truth.classes.length);
    const hasMap = await frame.evaluate(() => (window.__board.model.report.map?.points ?? []).filter(Boolean).length);
    if (hasMap) {
      const canvas = frame.locator('canvas.map');
      await canvas.waitFor({ state: 'visible' });
      await screenshot(page, 'curation-map');
      // A drag over the whole map selects every image into the grid (the Similar tab).
      // The Overview is redrawn when the report or an action's outcome arrives (after the reload's undo above, one may
      // still be on its way): take the canvas's box once it holds still.
      let last = '';
      const box = await waitFor(
        async () => {
          const b = await canvas.boundingBox();
          const key = JSON.stringify(b);
          const steady = b && key === last;
          last = key;
          return steady ? b : null;
        },
        { timeoutMs: 15_000, intervalMs: 200, what: 'the map canvas in place' },
      );
      await page.mouse.move(box.x + 2, box.y + 2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
      await page.mouse.move(box.x + box.width - 2, box.y + box.height - 2, { steps: 4 });
      await page.mouse.up();
      await frame.locator('nav.tabs button[aria-selected="true"]', { hasText: /^Similar/ }).waitFor({ timeout: 10_000 });
      const selected = await frame.evaluate(() => window.__board.model.cards('similar').length);
      assert.ok(selected >= hasMap - 5, `the drag selected ${selected} of ${hasMap} points`);
    } else {
      console.warn('*** the report has no 2-D map: the map is not checked ***');
      await screenshot(page, 'curation-map');
    }
  });

  uiTest('Enter opens the focused image beside the board', async () => {
    await showTab(frame, 'Label issues');
    const [first] = await cardsInView(frame);
    await clickCard(first.title);
    await page.keyboard.press('Enter');
    const name = path.basename(first.title);
    const tab = page.locator('.tabs-container .tab', { hasText: name }).first();
    await tab.waitFor({ state: 'visible', timeout: 30_000 });
    await tab.click({ button: 'middle' });
    await tab.waitFor({ state: 'detached', timeout: 10_000 });
  });

  uiTest('10,000 cards: first painted grid ≤ 1 s after the report, scrolling ≥ 50 fps', async (t) => {
    await showTab(frame, 'Label issues');
    // Main-thread figures: first paint after the report, and the frame rate of scrolling by script (scrollTop set in
    // every animation frame, so each frame waits for the board's script: the harshest way to scroll).
    const figures = await measureBoard(frame, generatedReportMessage(10_000));
    // Chromium's performance trace of a user's scroll (wheel events at 3,000 px/s for 3 s): its own frame
    // figures, as the DevTools Performance panel shows them.
    figures.emptyTrace = await traceScroll(page, frame, { ...TRACE_SCROLL, empty: true });
    figures.trace = await traceScroll(page, frame, TRACE_SCROLL);
    await screenshot(page, 'curation-10k-scrolled');
    // The same script on a page of its own in the same Chromium: what the board costs without the workbench.
    const alone = await browser.newPage();
    try {
      await alone.goto(`file://${standaloneBoardPage(WORK_DIR, EXT_DIR)}`);
      await alone.waitForFunction(() => !!window.__board);
      figures.standalone = await measureBoard(alone.mainFrame(), generatedReportMessage(10_000));
      figures.standalone.emptyTrace = await traceScroll(alone, alone.mainFrame(), { ...TRACE_SCROLL, empty: true });
      figures.standalone.trace = await traceScroll(alone, alone.mainFrame(), TRACE_SCROLL);
    } finally {
      await alone.close();
    }
    figures.date = new Date().toISOString();
    await fsp.mkdir(WORK_DIR, { recursive: true });
    fs.writeFileSync(path.join(WORK_DIR, 'board-perf.json'), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`board perf: ${JSON.stringify(figures)}`);
    assert.equal(figures.cards, 10_000);
    assert.ok(figures.cardsInDom < 200, `virtualized: ${figures.cardsInDom} cards in the DOM`);
    assert.ok(figures.reportToPaintMs <= 1000, `first paint ${figures.reportToPaintMs} ms`);
    for (const [where, f, empty] of [
      ['in VS Code', figures.trace, figures.emptyTrace],
      ['alone', figures.standalone.trace, figures.standalone.emptyTrace],
    ]) {
      const said = `scrolling ${where}: ${f.fps.toFixed(1)} frames a second moved the cards (an empty scroller: ${empty.fps.toFixed(1)}; ${f.vsyncsMissed} display frames missed, ${f.jankyFrames} janky, ${f.frames.partial} without the page's update)`;
      assert.ok(f.scrolledPx >= TRACE_SCROLL.distance * 0.9, `the gesture scrolled ${where} ${f.scrolledPx} px`);
      // A stall before the first or after the last frame of the scroll would not show in the frame rate.
      assert.ok(f.gestureMs <= f.nominalMs * 1.25 + 500, `the ${f.nominalMs} ms gesture took ${f.gestureMs} ms ${where}`);
      // As smooth as the renderer scrolls an empty element, always; and ≥ 50 fps where an empty one reaches 55.
      assert.ok(f.fps >= empty.fps * 0.9, said);
      if (empty.fps >= 55) assert.ok(f.fps >= 50, said);
      else {
        const note = `board scrolling fps ${where}: ≥ 50 NOT CHECKED: an empty scroller gets ${empty.fps.toFixed(1)} fps here (${said})`;
        console.warn(`*** ${note} ***`);
        t.diagnostic(note);
      }
      // The page kept up: frames presented without its update (the compositor moved stale content), frames with
      // cards not rastered yet, animation frames whose rows in the DOM did not cover the view: each ≤ 1 in 10 / 20.
      assert.ok(f.frames.partial <= f.scrollFrames / 10, said);
      assert.ok(
        f.frames.missingContent <= f.scrollFrames / 20,
        `scrolling ${where}: ${f.frames.missingContent} frames showed cards not painted yet`,
      );
      assert.ok(
        f.coverage.uncovered <= f.coverage.frames / 20,
        `scrolling ${where}: in ${f.coverage.uncovered} of ${f.coverage.frames} animation frames the rows did not cover the view`,
      );
    }
  });

  uiTest('the page made no request to any host but 127.0.0.1', async () => {
    // Webview resources (vscode-resource.vscode-cdn.net) are answered by VS Code's service worker: wait for those
    // still in flight (the 10,000-card check asks for many) to be answered before judging.
    await waitFor(() => [...vscode.serviceWorker.inFlight].every((u) => !isOffHost(u)), {
      timeoutMs: 60_000,
      what: 'requests in flight to settle',
    });
    // VS Code's built-in image preview (opened by Enter) sometimes asks for its own media before its webview's
    // service worker is in control; those few are VS Code's, not the board's, and carry the same host.
    assert.deepEqual(
      vscode.serviceWorker.offHostNetworkRequests().filter((u) => !VSCODE_BUILTIN.test(u)),
      [],
    );
    for (const u of browser.offHostRequests()) assert.match(new URL(u).hostname, /\.vscode-resource\.vscode-cdn\.net$/, u);
  });
});

// Both suites share the packaged VSIX: it goes when the file's tests are done.
after(removePackagedVsix);

const FORMATS = path.join(SHARED, 'formats', 'images');
const missingFormats = missingPrerequisites([
  MODEL_PREREQUISITE,
  [path.join(FORMATS, 'derived_coffee_8bit.bmp'), `the format samples in ${FORMATS}`],
  [path.join(IMAGES, 'skimage_coffee.jpg'), `the photos in ${IMAGES}`],
]);
warnSkipped('the curation formats e2e test', missingFormats);

describe('Curation board: formats and unreadable files', { skip: missingFormats.length > 0, timeout: 600_000 }, () => {
  let ws, ds, vscode, page;

  /** Class folders holding a JPEG, a BMP, a WebP, a PNG and a truncated JPEG. */
  async function formatsWorkspace() {
    const dir = await makeTempDir('ic-e2e-ws-formats-');
    const ds = path.join(dir, 'dataset');
    const put = async (rel, from) => {
      await fsp.mkdir(path.dirname(path.join(ds, rel)), { recursive: true });
      await fsp.copyFile(from, path.join(ds, rel));
    };
    await put('cups/coffee.jpg', path.join(IMAGES, 'skimage_coffee.jpg'));
    await put('cups/coffee.bmp', path.join(FORMATS, 'derived_coffee_8bit.bmp'));
    await put('cats/chelsea.jpg', path.join(IMAGES, 'skimage_chelsea_cat.jpg'));
    await put('cats/chelsea.webp', path.join(IMAGES, 'derived_chelsea.webp'));
    await put('cats/astronaut.png', path.join(IMAGES, 'skimage_astronaut.png'));
    // A JPEG cut after 4,000 bytes: its header reads, its pixels do not.
    await fsp.writeFile(path.join(ds, 'cats/broken.jpg'), (await fsp.readFile(path.join(IMAGES, 'skimage_coffee.jpg'))).subarray(0, 4000));
    return dir;
  }
  const suite = workbenchSuite({ workspace: formatsWorkspace, extensionsPrefix: 'ic-e2e-exts-formats-' });
  before(() => {
    ({ ws, vscode } = suite);
    ds = path.join(ws, 'dataset');
    ({ page } = vscode);
  });

  test('a BMP is curated like any image, the Overview names the one unreadable file, and a trash leaves only the class folders', async () => {
    try {
      await runExplorerContextMenuItem(page, 'dataset', 'Curate Dataset…');
      const frame = await boardFrame(page, { timeoutMs: 60_000 });
      await waitFor(() => frame.evaluate(() => !!window.__board.model.report), { timeoutMs: 120_000, what: 'the report' });
      const files = await frame.evaluate(() => window.__board.model.report.files);
      const bmp = files.find((f) => f.file === 'cups/coffee.bmp');
      assert.ok(bmp, 'the BMP is in the report');
      assert.deepEqual(
        bmp.issues.filter((i) => i.type === 'unreadable'),
        [],
        `the BMP was read: ${JSON.stringify(bmp.issues)}`,
      );
      const broken = files.find((f) => f.file === 'cats/broken.jpg');
      assert.ok(
        broken?.issues.some((i) => i.type === 'unreadable'),
        'the truncated JPEG is unreadable',
      );

      // The Overview says how many files could not be read and names them (as text).
      await showTab(frame, 'Overview');
      const section = frame.locator('.overview .unreadable');
      await section.waitFor({ state: 'visible', timeout: 20_000 });
      assert.equal((await section.locator('h2').innerText()).trim(), '1 file could not be read');
      const items = await section.locator('li').allInnerTexts();
      assert.equal(items.length, 1, items.join('\n'));
      assert.match(items[0], /^cats\/broken\.jpg [A-Z_]+ \S/, items[0]);
      assert.ok(!items[0].includes(ws) && !/Vips/.test(items[0]), `paths relative to the dataset, no libvips loader name: ${items[0]}`);
      assert.equal(items[0].split('broken.jpg').length, 2, `the file named once, not again in the reason: ${items[0]}`);
      // The summary line and the class bars count the same thing: images analysed, the unreadable one apart.
      const summary = (await frame.locator('.overview .summary').innerText()).trim();
      const bars = await frame.locator('.overview .bar-count').allInnerTexts();
      const analysed = bars.reduce((n, t) => n + Number(/^(\d+)/.exec(t)?.[1] ?? Number.NaN), 0);
      const unread = bars.reduce((n, t) => n + Number(/(\d+) unreadable/.exec(t)?.[1] ?? 0), 0);
      assert.match(summary, new RegExp(`^${analysed} images analysed · 1 unreadable · `), `${summary} / ${bars.join(' | ')}`);
      assert.equal(unread, 1, `the bars count the unreadable file apart: ${bars.join(' | ')}`);
      await screenshot(page, 'curation-formats-overview');

      // The BMP's card: it and its JPEG twin are a duplicate group, each member with its thumbnail.
      await showTab(frame, 'Duplicates');
      const member = frame.locator('.grid .cell.group .member[title="cups/coffee.bmp"]');
      await member.waitFor({ state: 'visible', timeout: 20_000 });
      await waitFor(() => member.evaluate((m) => (m.querySelector('img')?.naturalWidth ?? 0) > 0), { what: 'the BMP’s thumbnail' });
      await screenshot(page, 'curation-formats-bmp-card');

      // Trash the group's other copy: the dataset folder keeps exactly its class folders; the board's state is beside it.
      const group = frame.locator('.grid .cell.group', { has: frame.locator('.member[title="cups/coffee.bmp"]') });
      const others = await group.locator('.member.other').evaluateAll((els) => els.map((e) => e.title));
      assert.ok(others.length >= 1, 'the group has a copy to trash');
      await group.locator('.group-head').click();
      await page.keyboard.press('Delete');
      await waitFor(() => others.every((f) => !fs.existsSync(path.join(ds, f))), { timeoutMs: 20_000, what: 'the copy trashed' });
      assert.deepEqual(fs.readdirSync(ds).sort(), ['cats', 'cups'], 'the dataset folder holds its class folders and nothing else');
      assert.ok(fs.existsSync(path.join(ws, '.dataset.curation')), 'the board’s state folder is beside the dataset');
    } catch (e) {
      const shot = await screenshot(page, 'curation-fail-formats').catch(() => undefined);
      if (shot) console.error(`screenshot: ${shot}`);
      throw e;
    }
  });
});
