// End-to-end test of the curation board's concept search box in a real VS Code (code-server + Debian Chromium), on
// the packaged linux-x64 VSIX, on a copy of ../shared/datasets/curation-dev/dataset with MobileNetV2 configured:
// what the box finds is what `image-classifier find <noun> --in <dataset>` finds, in the same order.
//
//   bash .ci/install-e2e.sh && npm run build      # once
//   node --test e2e/curation-find.test.mjs
//
// Env: IMAGE_CLASSIFIER_SHARED_DIR (default <repo>/../shared), E2E_VSIX, E2E_KEEP=1 (as in curation.test.mjs).
// Screenshots: e2e/.work/screenshots/curation-find-*.png.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { promisify } from 'node:util';

import { boardFrame, listImages, showTab } from './curation-helpers.mjs';
import { waitFor } from './wait-for.cjs';
import { missingPrerequisites, warnSkipped } from './harness/setup.mjs';
import { makeTempDir } from './harness/processes.mjs';
import { runExplorerContextMenuItem } from './harness/explorer.mjs';
import { notificationTexts } from './harness/commands.mjs';
import { screenshot } from './harness/screenshots.mjs';
import {
  CURATION_DEV_DATASET,
  MODEL,
  MODEL_PREREQUISITE,
  REPO,
  removePackagedVsix,
  screenshotOnFailure,
  workbenchSuite,
} from './workbench.mjs';

const DATASET = CURATION_DEV_DATASET;
const FILES = 104;
/** The least mass under the concept for the board to show an image (FIND_MIN_MASS in the board's model). */
const MIN_MASS = 0.01;

const missing = missingPrerequisites([MODEL_PREREQUISITE, [path.join(DATASET, 'fish'), `the curation-dev dataset at ${DATASET}`]]);
warnSkipped('the curation find-by-concept e2e tests', missing);

/** `image-classifier find <noun> --in <dir> --format json`: every file, highest mass first. */
async function cliFind(noun, dir) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      path.join(REPO, 'packages/server/bin/image-classifier.js'),
      'find',
      noun,
      '--in',
      dir,
      '--model',
      MODEL,
      '--top',
      '1000',
      '--format',
      'json',
      '--no-progress',
    ],
    { maxBuffer: 1 << 24 },
  );
  return JSON.parse(stdout);
}

/** What the board shows of the search: the tab, the Similar grid's cards (current paths, masses), the texts. */
function searchState(frame) {
  return frame.evaluate(() => {
    const b = window.__board;
    const status = document.querySelector('.status');
    return {
      tab: b.state.tab,
      concept: b.model.similar.concept,
      title: b.model.similar.title,
      cards: b.model.cards('similar').map((c) => ({ file: b.model.pathOf(c.key), mass: c.score, scoreText: c.scoreText })),
      labelCards: b.model.cards('labels').map((c) => c.key),
      tabLabel: document.querySelector('nav.tabs button[data-tab="similar"]')?.textContent ?? '',
      hint: document.querySelector('.toolbar .hint')?.textContent ?? '',
      status: status.textContent,
      statusError: status.classList.contains('error'),
      note: document.querySelector('.find-note').textContent,
      noteError: document.querySelector('.find-note').classList.contains('error'),
      matches: [...document.querySelectorAll('.find-note button.match')].map((b) => b.textContent),
      box: document.querySelector('input.find').value,
      focus: document.activeElement?.className ?? '',
      domCards: [...document.querySelectorAll('.grid .cell.card')].map((el) => el.title),
    };
  });
}

describe('Curation board: find by concept in VS Code', { skip: missing.length > 0, timeout: 900_000 }, () => {
  let ds, page, frame, box, filesBefore;
  /** The Label issues tab's cards before any search. */
  let labelsBefore;

  const suite = workbenchSuite({
    workspace: async () => {
      const dir = await makeTempDir('ic-e2e-ws-find-');
      await fsp.cp(DATASET, path.join(dir, 'dataset'), { recursive: true });
      return dir;
    },
    extensionsPrefix: 'ic-e2e-exts-find-',
  });
  before(() => {
    ds = path.join(suite.ws, 'dataset');
    filesBefore = listImages(ds);
    ({ page } = suite.vscode);
  });
  after(removePackagedVsix);

  const uiTest = screenshotOnFailure(
    () => page,
    (name) => `curation-find-fail-${name.slice(0, 40)}`,
  );

  /**
   * Types `noun` over what the box holds (selected, so it is replaced as a user retypes, never emptied), presses
   * Enter and waits for the answer (a result or an error).
   */
  async function search(noun) {
    await box.click();
    await box.selectText();
    await box.pressSequentially(noun);
    await box.press('Enter');
    return waitFor(
      async () => {
        const s = await searchState(frame);
        const answered = s.noteError ? s.note.includes(`'${noun}'`) : s.concept?.noun === noun && !/^Finding/.test(s.note);
        return answered && s;
      },
      { timeoutMs: 60_000, what: `the board's answer to '${noun}'` },
    );
  }

  /**
   * The board's cards for `noun` against `image-classifier find --format json` on the same folder: the same sense,
   * and every file the CLI finds with mass ≥ MIN_MASS on the board, no other, in the CLI's order, each with the CLI's
   * mass (within 1e-4): the server sums each image's whole output row, as the CLI does. The count the board says
   * (the toolbar, the tab, the note) is the number of cards.
   */
  async function assertMatchesCli(noun, s) {
    const cli = await cliFind(noun, ds);
    assert.equal(s.concept.synset, cli.concept.synset, `${noun}: the same sense`);
    const expected = cli.results.filter((r) => r.mass >= MIN_MASS);
    const shown = s.cards.map((c) => c.file);
    console.log(
      `'${noun}' → ${cli.concept.name} ${cli.concept.synset}: board ${shown.length}, CLI ${expected.length} with ≥ ${MIN_MASS}\n` +
        s.cards
          .map((c, i) => `  ${c.file} ${c.mass.toFixed(4)} | CLI ${cli.results[i]?.file} ${cli.results[i]?.mass.toFixed(4)}`)
          .join('\n'),
    );
    assert.deepEqual(
      shown,
      expected.map((r) => r.file),
      `'${noun}': every file at ≥ ${MIN_MASS} by the CLI, in its order`,
    );
    for (const [i, c] of s.cards.entries())
      assert.ok(Math.abs(c.mass - expected[i].mass) <= 1e-4, `${c.file}: board ${c.mass}, CLI ${expected[i].mass}`);
    const n = shown.length;
    assert.match(
      s.hint,
      new RegExp(
        `^'${noun}' → ${cli.concept.name} \\(${cli.concept.synset}, \\d+ ImageNet classes\\).*: ${n} of ${FILES} images, most probable first`,
      ),
    );
    assert.equal(s.tabLabel, `Similar (${n})`);
    assert.equal(s.note, `${n} image${n === 1 ? '' : 's'} under '${noun}'.`);
    assert.equal(s.noteError, false);
    assert.equal(s.tab, 'similar');
    return cli;
  }

  uiTest('Curate Dataset opens the board with its label issues', async () => {
    await runExplorerContextMenuItem(page, 'dataset', 'Curate Dataset…');
    frame = await boardFrame(page, { timeoutMs: 60_000 });
    await frame.locator('.grid .cell.card').first().waitFor({ state: 'visible', timeout: 240_000 });
    await waitFor(async () => /104 images analysed/.test(await frame.locator('.status').innerText()), { what: 'the analysis' });
    box = frame.locator('input.find');
    labelsBefore = (await searchState(frame)).labelCards;
    assert.ok(labelsBefore.length > 0);
  });

  uiTest("'fish' in the search box: the fish photos, ranked by mass as the CLI ranks them, counted as shown", async () => {
    const s = await search('fish');
    await assertMatchesCli('fish', s);
    assert.ok(s.cards.slice(0, 12).filter((c) => c.file.startsWith('fish/')).length >= 10, 'the fish/ folder first');
    assert.match(s.cards[0].scoreText, /^\d+(\.\d)?% fish$/);
    assert.equal(s.focus, 'find', 'the focus stays in the box');
    assert.equal(s.status, `${FILES} images analysed.`, 'the status line is the board’s own');
    await frame.locator('.grid .cell.card img').first().waitFor({ state: 'visible', timeout: 30_000 });
    await screenshot(page, 'curation-find-fish');
  });

  uiTest("a hypernym: 'structure' spans monument/ and windmill/", async () => {
    const s = await search('structure');
    await assertMatchesCli('structure', s);
    const top = s.cards.slice(0, 25).map((c) => c.file.split('/')[0]);
    assert.ok(top.includes('monument') && top.includes('windmill'), `monument/ and windmill/ in the top 25: ${top.join(', ')}`);
    await frame.locator('.grid .cell.card img').first().waitFor({ state: 'visible', timeout: 30_000 });
    await screenshot(page, 'curation-find-structure');
  });

  uiTest(
    'a noun not in the hierarchy: the sentence beside the box with close matches as links, the results stay, no notification',
    async () => {
      const shown = (await searchState(frame)).cards;
      const q = await search('qwertyzzz');
      assert.ok(q.noteError);
      assert.match(q.note, /^'qwertyzzz' is not a noun with ImageNet classes below it in WordNet; close matches: \w[\w ]*(, \w[\w ]*)*\.$/);
      assert.equal(q.matches.length, 5, q.note);
      assert.deepEqual(q.cards, shown, 'the last results stay in view');
      assert.equal(q.tab, 'similar');
      assert.equal(q.statusError, false, 'the status line is the board’s own');
      const fsh = await search('fsh');
      assert.ok(fsh.matches.includes('fish'), fsh.note);
      await screenshot(page, 'curation-find-unknown');
      const wale = await search('wale');
      assert.ok(wale.matches.includes('whale'), wale.note);
      // A close match is a link: it searches that noun.
      await frame.locator('.find-note button.match', { hasText: /^whale$/ }).click();
      const whale = await waitFor(
        async () => {
          const s = await searchState(frame);
          return s.concept?.noun === 'whale' && s;
        },
        { what: "the search for 'whale'" },
      );
      assert.equal(whale.box, 'whale');
      assert.equal(whale.concept.synset, 'n02062744');
      const toasts = (await notificationTexts(page)).join('\n');
      assert.doesNotMatch(toasts, /qwertyzzz|fsh|wale/, `no notification for a noun the hierarchy lacks: ${toasts}`);
    },
  );

  uiTest('Escape in the box, or emptying it, puts back the tab and the cards shown before the search', async () => {
    await box.click();
    await page.keyboard.press('Escape');
    const s = await waitFor(
      async () => {
        const s = await searchState(frame);
        return s.tab === 'labels' && s;
      },
      { what: 'the Label issues tab back' },
    );
    assert.equal(s.box, '');
    assert.equal(s.note, '');
    assert.deepEqual(s.labelCards, labelsBefore);
    assert.equal(s.status, `${FILES} images analysed.`);
    assert.equal(s.concept, undefined, 'the Similar tab shows what it showed before the search');
    assert.equal(s.cards.length, 0);
    await search('fish');
    await box.fill('');
    await waitFor(async () => (await searchState(frame)).tab === 'labels', { what: 'the Label issues tab back after emptying the box' });
    // Enter in an empty box searches nothing.
    await box.press('Enter');
    assert.equal((await searchState(frame)).tab, 'labels');
    await screenshot(page, 'curation-find-cleared');
  });

  uiTest('typing fast: only the last search is shown; / focuses the box, ArrowDown goes to the cards', async () => {
    await frame.evaluate(() => {
      window.__found = [];
      window.addEventListener('message', (e) => e.data?.type === 'found' && window.__found.push(e.data.noun));
    });
    await box.click();
    await box.pressSequentially('device');
    await box.press('Enter');
    await box.selectText();
    await box.pressSequentially('fish');
    await box.press('Enter');
    await waitFor(async () => (await searchState(frame)).concept?.noun === 'fish', { what: "the answer to 'fish'" });
    // The first search was cancelled (no answer) or its answer is dropped: give it time to arrive, then look again.
    await waitFor(() => frame.evaluate(() => window.__found.includes('device')), { timeoutMs: 5000, what: "'device'" }).catch(() => {});
    const s = await searchState(frame);
    console.log(`answers the board received: ${await frame.evaluate(() => window.__found.join(', '))}`);
    assert.equal(
      s.concept.noun,
      'fish',
      `the last search stays in view (answers received: ${await frame.evaluate(() => window.__found.join(', '))})`,
    );
    assert.match(s.hint, /^'fish' →/);
    // An answer to an older search that arrives late (as the host would post it) is dropped.
    // (The same message with the latest search's number is shown: the control.)
    const post = (older) =>
      frame.evaluate(async (older) => {
        const b = window.__board;
        const concept = { synset: 'n03183080', name: 'device', imagenetClasses: 130 };
        const items = [{ file: 'tool/IMG_2684.jpg', mass: 1 }];
        const message = { type: 'found', seq: b.findBox.seq - older, noun: 'device', concept, otherSenses: [], items, searched: 104 };
        // The board's own listener runs first (it was added first); this one then lets its work finish.
        await new Promise((done) => {
          window.addEventListener('message', () => setTimeout(done, 0), { once: true });
          window.postMessage(message, '*');
        });
        return b.model.similar.concept?.noun;
      }, older);
    assert.equal(await post(1), 'fish', 'a late answer to an older search is dropped');
    assert.equal(await post(0), 'device', 'the answer to the latest search is shown');
    await search('fish');
    // Keyboard: ArrowDown from the box to the grid; `/` back to the box.
    await box.press('ArrowDown');
    await waitFor(async () => (await searchState(frame)).focus.includes('grid'), { what: 'the grid focused' });
    await page.keyboard.press('/');
    await waitFor(async () => (await searchState(frame)).focus === 'find', { what: 'the box focused by /' });
    // Every key typed into the box stayed there: no card was moved, kept or trashed.
    assert.deepEqual(listImages(ds), filesBefore);
    assert.deepEqual(fs.readdirSync(ds).sort(), ['fish', 'instrument', 'monument', 'tool', 'windmill']);
    await page.keyboard.press('Escape');
    await showTab(frame, 'Label issues');
  });
});
