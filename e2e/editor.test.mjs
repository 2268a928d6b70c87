// End-to-end tests of the editor experience (issue 12) on files with everyday names, in a real VS Code
// (code-server + Debian Chromium) with the packaged linux-x64 VSIX and the real-weights MobileNetV2 model:
// startup timing, hovers on image paths in Markdown, HTML, JSON, YAML, TypeScript and Python, skipped files in
// Classify Folder and the Image Labels view, one rule for Classify Image on every surface, topK everywhere, the
// view's rows, Show Model Info rendered, error messages naming files workspace-relative.
//
//   bash .ci/install-e2e.sh && npm run build      # once
//   node --test e2e/editor.test.mjs
//
// Env: IMAGE_CLASSIFIER_SHARED_DIR (default <repo>/../shared), E2E_VSIX (use this VSIX instead of packaging),
// E2E_KEEP=1. Screenshots: e2e/.work/screenshots/editor-*.png. Startup figures: e2e/.work/startup-timing.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe } from 'node:test';

import { waitFor } from './wait-for.cjs';
import { missingPrerequisites, warnSkipped, WORK_DIR } from './harness/setup.mjs';
import { makeTempDir } from './harness/processes.mjs';
import { VSCODE_BUILTIN, workbenchUrl } from './harness/browser.mjs';
import { explorerItem, rightClickExplorerItem, runExplorerContextMenuItem } from './harness/explorer.mjs';
import { hoverEditorText, hoverExplorerItem } from './harness/hover.mjs';
import { openCommandPalette, runCommand, waitForNotification } from './harness/commands.mjs';
import { screenshot } from './harness/screenshots.mjs';
import {
  clearNotifications,
  copyPhotos,
  heicContainer,
  ensureLabelsPaneExpanded,
  MODEL_PREREQUISITE,
  PHOTOS_PREREQUISITE,
  removePackagedVsix,
  screenshotOnFailure,
  workbenchSuite,
} from './workbench.mjs';
/** A topK that no surface shows by accident (not the default 5, not a short list's 3). */
const TOP_K = 4;
/**
 * How far behind the extension's activation the status item may appear. The extension's own part is loading the
 * bundle and activate() (~0.1 s idle; the item is shown inside activate()); the rest is the extension host → workbench
 * round trip, which took 1.4 s at a load average of 13.6 and 2.7 s at 16.4 on this 2-core machine shared with other
 * runs. The issue asks for ≤ 1 s after the workbench is usable, but code-server starts the extension host only after
 * the workbench is up and it boots in seconds here (7–15 s measured): those figures are printed and written to
 * e2e/.work/startup-timing.json, and only what the extension controls is asserted.
 */
const STATUS_MARGIN_MS = Number(process.env.E2E_STATUS_MARGIN_MS || 5000);

const CAT = /Egyptian cat|tabby|tiger cat|Persian cat|Siamese cat|lynx/;
const COFFEE = /espresso|cup|coffee mug/;
const PCT = /\d+\.\d%|<0\.1%/g;

const missing = missingPrerequisites([MODEL_PREREQUISITE, PHOTOS_PREREQUISITE]);
warnSkipped('the editor e2e tests', missing);

/** Photos with the names phones and browsers give them, an unreadable HEIC, a corrupt JPEG, and files that name them. */
async function makeWorkspaceDir() {
  const ws = await makeTempDir('ic-e2e-ws-editor-');
  const photos = path.join(ws, 'photos');
  await copyPhotos(photos, {
    'my photo (1).jpg': 'skimage_chelsea_cat.jpg',
    '猫 cat.webp': 'derived_chelsea.webp',
    'coffee.jpg': 'skimage_coffee.jpg',
  });
  // An iPhone photo's container: no decoder here, skipped with the reason.
  await fsp.writeFile(path.join(photos, 'IMG_0001.heic'), heicContainer());
  await fsp.writeFile(path.join(photos, 'broken.jpg'), Buffer.from('\xff\xd8\xff\xe0 not really a JPEG', 'latin1'));
  await fsp.mkdir(path.join(ws, 'docs'));
  await fsp.writeFile(
    path.join(ws, 'docs', 'notes.md'),
    [
      '# Notes',
      '',
      'Escaped: ![](../photos/my%20photo%20(1).jpg)',
      '',
      'Angled: ![](<../photos/my photo (1).jpg>)',
      '',
      'Query: ![coffee](/photos/coffee.jpg?raw=1#top)',
      '',
      'Html: <img src="../photos/猫 cat.webp" alt="猫">',
      '',
      'Heic: ![](../photos/IMG_0001.heic)',
      '',
    ].join('\n'),
  );
  await fsp.writeFile(path.join(ws, 'page.html'), '<p>\n  <img src="photos/my photo (1).jpg?v=2" alt="cat">\n</p>\n');
  await fsp.writeFile(path.join(ws, 'data.json'), '{\n  "cover": "photos/\\u732b cat.webp",\n  "mug": "photos/coffee.jpg"\n}\n');
  await fsp.writeFile(path.join(ws, 'config.yaml'), 'cover: photos/my photo (1).jpg\nmug: "./photos/coffee.jpg"\n');
  await fsp.writeFile(path.join(ws, 'app.ts'), "export const hero = 'photos/my%20photo%20(1).jpg#top';\n");
  await fsp.writeFile(path.join(ws, 'script.py'), `from PIL import Image\nimg = Image.open(r"${photos}/猫 cat.webp")\n`);
  return ws;
}

/** Milliseconds since `t0` of a `YYYY-MM-DD HH:MM:SS.mmm` log time stamp (local time, this machine). */
function logMs(line, t0) {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})/.exec(line);
  return m ? new Date(`${m[1]}T${m[2]}`).getTime() - t0 : Number.NaN;
}

/** From code-server's extension host log: when it started, when it activated this extension (and why), onStartupFinished. */
function extensionHostTimes(userDataDir, t0) {
  const logs = path.join(userDataDir, 'logs');
  for (const session of fs.existsSync(logs) ? fs.readdirSync(logs) : []) {
    const file = path.join(logs, session, 'exthost1', 'remoteexthost.log');
    if (!fs.existsSync(file)) continue;
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const started = lines.find((l) => /Extension host with pid \d+ started/.test(l));
    const ours = lines.find((l) => /_doActivateExtension image-classifier\.image-classifier/.test(l));
    const finished =
      lines.find((l) => /activationEvent: 'onStartupFinished'/.test(l)) ?? lines.find((l) => /Eager extensions activated/.test(l));
    const ownDir = path.join(logs, session, 'exthost1', 'image-classifier.image-classifier');
    const ownLines = (fs.existsSync(ownDir) ? fs.readdirSync(ownDir) : []).flatMap((f) =>
      fs.readFileSync(path.join(ownDir, f), 'utf8').split('\n'),
    );
    // The extension's own log line, written as activate() returns (the status item is shown inside activate()).
    const activated = ownLines.find((l) => /Activated in [\d.]+ ms/.test(l));
    if (!started || !ours || !finished || !activated) return undefined;
    return {
      activateReturnedMs: logMs(activated, t0),
      startedMs: logMs(started, t0),
      activatedMs: logMs(ours, t0),
      activationEvent: /activationEvent: '([^']*)'/.exec(ours)?.[1] ?? '',
      startupFinishedMs: logMs(finished, t0),
    };
  }
  return undefined;
}

const statusItem = (page, text) => page.locator('.statusbar-item', { hasText: text }).first();

/** The workspace folder's pane header in the Explorer (its name is the folder's). */
const foldersHeader = (page) => page.locator('.pane-header', { has: page.locator('h3.title', { hasText: /^ic-e2e-ws-editor-/ }) }).first();

/** Collapses the Explorer's folder tree so the Image Labels view gets the height (its list renders visible rows only). */
async function showLabelsPaneOnly(page) {
  const header = foldersHeader(page);
  if ((await header.getAttribute('aria-expanded')) === 'true') await header.click();
  await waitFor(async () => (await header.getAttribute('aria-expanded')) === 'false', { what: 'the folder tree collapsed' });
  return ensureLabelsPaneExpanded(page);
}

async function showExplorerFolders(page) {
  const header = foldersHeader(page);
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  await waitFor(async () => (await header.getAttribute('aria-expanded')) === 'true', { what: 'the folder tree expanded' });
}

/** The labels of the Explorer context menu on `target` (closed again). */
async function explorerMenuLabels(page, target) {
  await rightClickExplorerItem(page, target);
  const labels = await page.locator('.monaco-menu .action-item .action-label').allInnerTexts();
  await page.keyboard.press('Escape');
  await page.locator('.context-view .monaco-menu').waitFor({ state: 'hidden' });
  return labels.map((l) => l.trim());
}

/** True when the command palette offers `title` for the active editor (the palette is closed again). */
async function paletteOffers(page, title) {
  await openCommandPalette(page);
  await page.locator('.quick-input-widget .quick-input-box input').fill(`>${title}`);
  const row = page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row .label-name')
    .filter({ hasText: new RegExp(`^\\s*${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) })
    .first();
  // The palette lists matching commands at once; a command its `when` hides never comes.
  const offered = await row.waitFor({ state: 'visible', timeout: 5000 }).then(
    () => true,
    () => false,
  );
  await page.keyboard.press('Escape');
  return offered;
}

describe('Image Classifier: the editor experience on real files', { skip: missing.length > 0, timeout: 600_000 }, () => {
  let ws, vscode, server, browser, page;
  const shots = [];

  after(() => {
    if (shots.length) console.log(`screenshots:\n  ${shots.join('\n  ')}`);
  });
  // Webviews (image and Markdown previews) load resources from https://*.vscode-resource.vscode-cdn.net/…, which
  // VS Code's service worker answers from the workbench: they never reach the network. The workbench is opened by
  // the startup test, which times it.
  const suite = workbenchSuite({
    workspace: makeWorkspaceDir,
    extensionsPrefix: 'ic-e2e-exts-editor-',
    userSettings: { 'imageClassifier.topK': TOP_K },
    open: false,
  });
  before(() => {
    ({ ws, vscode } = suite);
    ({ server, browser } = vscode);
  });
  after(removePackagedVsix);

  /** A test that saves a screenshot when it fails. */
  const uiTest = screenshotOnFailure(
    () => page,
    (name) => `editor-fail-${name}`,
  );

  async function shot(name) {
    shots.push(await screenshot(page, `editor-${name}`));
  }

  uiTest('startup: activation on workspaceContains, the status item at once, then the model ready (figures printed)', async () => {
    page = await browser.newPage();
    page.setDefaultTimeout(30_000);
    const t0 = Date.now();
    const at = (p) => p.then(() => Date.now() - t0);
    const nav = page.goto(workbenchUrl(server.url, ws), { timeout: 90_000, waitUntil: 'domcontentloaded' });
    const usable = at(nav.then(() => page.locator('.explorer-folders-view').waitFor({ state: 'visible', timeout: 90_000 })));
    const status = at(statusItem(page, /Image Classifier|MobileNetV2/).waitFor({ state: 'visible', timeout: 120_000 }));
    const ready = at(statusItem(page, /MobileNetV2 · CPU/).waitFor({ state: 'visible', timeout: 120_000 }));
    const [usableMs, statusMs, readyMs] = await Promise.all([usable, status, ready]);
    // What the extension host's log says (its clock is this machine's): when it started, when it activated us and why.
    const host = await waitFor(() => extensionHostTimes(server.userDataDir, t0), { what: 'the extension host log' });
    const figures = {
      date: new Date().toISOString(),
      host: 'code-server 4.139 (VS Code 1.139 server + web workbench), headless Chromium, 2 shared cores',
      loadAverage: (await fsp.readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' '),
      workbenchUsableMs: usableMs,
      extensionHostStartedMs: host.startedMs,
      activatedMs: host.activatedMs,
      activateReturnedMs: host.activateReturnedMs,
      activationEvent: host.activationEvent,
      onStartupFinishedMs: host.startupFinishedMs,
      statusVisibleMs: statusMs,
      modelReadyMs: readyMs,
      statusAfterWorkbenchMs: statusMs - usableMs,
      statusAfterActivationMs: statusMs - host.activatedMs,
      readyAfterWorkbenchMs: readyMs - usableMs,
    };
    console.log(`startup figures (ms from opening the workbench URL): ${JSON.stringify(figures, null, 2)}`);
    await fsp.mkdir(WORK_DIR, { recursive: true });
    await fsp.writeFile(path.join(WORK_DIR, 'startup-timing.json'), `${JSON.stringify(figures, null, 2)}\n`);
    assert.match(host.activationEvent, /^workspaceContains:/, 'activated because the workspace has images');
    assert.ok(host.activatedMs <= host.startupFinishedMs, 'activated no later than onStartupFinished');
    // The part the extension controls: from its activation (bundle load, activate(), the item shown inside it) to the
    // item on screen. activate()'s own cost is asserted by the in-host suite (≤ 50 ms); here the host's load dominates.
    assert.ok(statusMs - host.activatedMs <= STATUS_MARGIN_MS, `the status item came ${statusMs - host.activatedMs} ms after activation`);
    assert.ok(readyMs >= statusMs);
  });

  uiTest('Markdown: parentheses, %20, <…>, a query string and <img> each get one thumbnail and the labels', async () => {
    await explorerItem(page, 'docs/notes.md').then((r) => r.click());
    await page.locator('.editor-instance .monaco-editor').first().waitFor({ state: 'visible' });
    const cases = [
      ['Escaped:', 'photo%20(1)', CAT],
      ['Angled:', 'photo (1)', CAT],
      ['Query:', 'coffee.jpg', COFFEE],
      ['Html:', 'cat.webp', CAT],
    ];
    for (const [line, at, labels] of cases) {
      // Exactly one picture: ours, or VS Code's own preview of the link (then none of ours). VS Code's part comes from
      // its Markdown language server, which may still be starting at the first hover: hover again (up to 3 times).
      const imgs = page.locator('.monaco-hover:visible img');
      for (let attempt = 1; ; attempt++) {
        const hover = await hoverEditorText(page, line, at, { match: labels, timeoutMs: 60_000 });
        const text = await hover.innerText();
        assert.equal(text.match(PCT)?.length, TOP_K, `${line} ${TOP_K} labels (topK): ${text}`);
        const seen = await waitFor(async () => (await imgs.count()) >= 1, { timeoutMs: 10_000, what: `a thumbnail in the ${line} hover` })
          .then(() => true)
          .catch((e) => {
            if (attempt >= 3) throw e;
            return false;
          });
        if (seen) break;
      }
      const alts = await imgs.evaluateAll((els) => els.map((e) => e.getAttribute('alt') ?? ''));
      assert.equal(alts.length, 1, `${line} one thumbnail, found ${alts.length}: ${JSON.stringify(alts)}`);
      assert.ok(!alts[0].includes('\\'), `alt text without stray backslashes: ${alts[0]}`);
      if (line === 'Html:') await shot('hover-markdown-img');
    }
    const heic = await hoverEditorText(page, 'Heic:', 'IMG_0001', { match: /HEVC/ });
    assert.match(await heic.innerText(), /Not classified: HEIC images are compressed with HEVC/);
    await shot('hover-markdown-heic');
  });

  uiTest('HTML, JSON, YAML, TypeScript and Python strings: the labels on hover', async () => {
    const cases = [
      ['page.html', 'img src', 'photo (1)', CAT],
      ['data.json', '"cover"', 'cat.webp', CAT],
      ['data.json', '"mug"', 'coffee.jpg', COFFEE],
      ['config.yaml', 'cover:', 'photo (1)', CAT],
      ['config.yaml', 'mug:', 'coffee', COFFEE],
      ['app.ts', 'hero', 'photo%20(1)', CAT],
      ['script.py', 'Image.open', 'cat.webp', CAT],
    ];
    for (const [file, line, at, labels] of cases) {
      await explorerItem(page, file).then((r) => r.click());
      const hover = await hoverEditorText(page, line, at, { match: labels, timeoutMs: 60_000 });
      const text = await hover.innerText();
      assert.equal(text.match(PCT)?.length, TOP_K, `${file} ${line}: ${TOP_K} labels: ${text}`);
      const imgs = await page.locator('.monaco-hover:visible img').count();
      assert.equal(imgs, 1, `${file} ${line}: one thumbnail`);
      if (file === 'data.json' && line === '"cover"') await shot('hover-json');
      if (file === 'script.py') await shot('hover-python');
    }
    await runCommand(page, 'View: Close All Editors');
  });

  uiTest('Classify Folder: the counts, why two were skipped, and a "Could not classify" group', async () => {
    await clearNotifications(page);
    await runExplorerContextMenuItem(page, 'photos', 'Classify Folder');
    const done = await waitForNotification(page, /Classified 3 of 5 images in 'photos'/, { timeoutMs: 90_000 });
    assert.match(
      done,
      /Skipped 2: 1 HEIC \(HEVC\) file \(HEIC images are compressed with HEVC[^)]*\); 1 could not be read \(DECODE_FAILED\)/,
    );
    assert.match(done, /Could not classify/);
    const pane = await showLabelsPaneOnly(page);
    const row = (re) => pane.locator('.monaco-list-row', { hasText: re }).first();
    await row(/Could not classify/).waitFor({ state: 'visible', timeout: 20_000 });
    const heic = await row(/IMG_0001\.heic/).innerText();
    assert.match(heic, /HEVC/, heic);
    const broken = await row(/broken\.jpg/).innerText();
    assert.ok(!broken.includes(ws), `the reason names no absolute path: ${broken}`);
    assert.ok(broken.length > 'broken.jpg'.length + 5, `a reason is shown: ${broken}`);
    await shot('view-could-not-classify');
  });

  uiTest('the Image Labels view puts the confidence first, so a narrow view cuts the name, not the number', async () => {
    const pane = await showLabelsPaneOnly(page);
    const names = await waitFor(
      async () => {
        const all = await pane.locator('.monaco-list-row[aria-level="2"] .label-name').allInnerTexts();
        return all.filter((n) => /\.(jpg|webp)$/.test(n.trim())).length >= 3 ? all : undefined;
      },
      { what: 'three classified images in the view' },
    );
    for (const n of names.filter((n) => /\.(jpg|webp)$/.test(n.trim()) && !/broken/.test(n))) assert.match(n.trim(), /^\d+\.\d% {2}\S/, n);
    await shot('view-labels');
    await showExplorerFolders(page);
  });

  uiTest('topK on every surface: Explorer tooltip and the Classify Image notification show topK labels', async () => {
    await showExplorerFolders(page);
    const tip = await hoverExplorerItem(page, 'photos/coffee.jpg', { match: / · / });
    assert.equal(
      tip
        .split('\n')
        .find((l) => / · /.test(l))
        ?.match(PCT)?.length,
      TOP_K,
      tip,
    );
    await clearNotifications(page);
    await runExplorerContextMenuItem(page, 'photos/coffee.jpg', 'Classify Image');
    const text = await waitForNotification(page, /coffee\.jpg:/, { timeoutMs: 60_000 });
    assert.equal(
      text
        .split('\n')
        .find((l) => /coffee\.jpg:/.test(l))
        ?.match(PCT)?.length,
      TOP_K,
      text,
    );
  });

  uiTest('palette, title bar and Explorer menu agree: offered on a JPEG, on none of them for a HEIC', async () => {
    await runCommand(page, 'View: Close All Editors');
    await showExplorerFolders(page);
    assert.ok((await explorerMenuLabels(page, 'photos/coffee.jpg')).includes('Classify Image'));
    await explorerItem(page, 'photos/coffee.jpg').then((r) => r.click());
    const titleAction = page.locator('.editor-actions .action-item a[aria-label="Classify Image"]').first();
    await titleAction.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await paletteOffers(page, 'Image Classifier: Classify Image'), true, 'the palette offers it on the JPEG preview');
    // From the palette, with no text editor active: it classifies the image preview's file.
    await clearNotifications(page);
    await runCommand(page, 'Image Classifier: Classify Image');
    assert.match(await waitForNotification(page, /coffee\.jpg:/, { timeoutMs: 60_000 }), COFFEE);
    await runCommand(page, 'View: Close All Editors');

    assert.ok(!(await explorerMenuLabels(page, 'photos/IMG_0001.heic')).includes('Classify Image'));
    await explorerItem(page, 'photos/IMG_0001.heic').then((r) => r.click());
    await page.locator('.editor-instance').first().waitFor({ state: 'visible' });
    await page.locator('.tabs-container .tab.active', { hasText: 'IMG_0001.heic' }).waitFor({ state: 'visible' });
    assert.equal(await titleAction.isVisible(), false, 'no title-bar action on the HEIC');
    assert.equal(await paletteOffers(page, 'Image Classifier: Classify Image'), false, 'the palette does not offer it on the HEIC');
    await runCommand(page, 'View: Close All Editors');
  });

  uiTest('an error names the file workspace-relative, not by its absolute path', async () => {
    await clearNotifications(page);
    await runExplorerContextMenuItem(page, 'photos/broken.jpg', 'Classify Image');
    const text = await waitForNotification(page, /broken\.jpg/, { timeoutMs: 60_000 });
    console.log(`error notification: ${text.replace(/\n/g, ' | ')}`);
    assert.ok(!text.includes(ws), `no absolute path: ${text}`);
  });

  uiTest('Show Model Info opens a rendered Markdown preview, not its source', async () => {
    await runCommand(page, 'View: Close All Editors');
    await runCommand(page, 'Image Classifier: Show Model Info');
    await page
      .locator('.tabs-container .tab.active', { hasText: /Preview\]? Image Classifier Model/ })
      .waitFor({ state: 'visible', timeout: 30_000 });
    // The preview is a webview (an iframe); no text editor shows the table's source.
    const source = await page.locator('.editor-instance .view-line', { hasText: '|:--|' }).count();
    assert.equal(source, 0, 'the Markdown source is not shown');
    const frame = await waitFor(
      async () => {
        for (const f of page.frames()) {
          const t = await f
            .locator('body')
            .innerText({ timeout: 500 })
            .catch(() => '');
          if (/MobileNetV2/.test(t) && /Execution provider/.test(t)) return t;
        }
        return undefined;
      },
      { timeoutMs: 30_000, what: 'the rendered model info' },
    );
    assert.ok(!frame.includes('|:--|'), frame);
    await shot('model-info');
  });

  uiTest('the page made no request to any host but 127.0.0.1', async () => {
    // VS Code's built-in extensions (the Markdown preview's mermaid chunks, the image preview) sometimes ask for their
    // own media before their webview's service worker is in control: VS Code's requests, not this extension's.
    assert.deepEqual(
      vscode.serviceWorker.offHostNetworkRequests().filter((u) => !VSCODE_BUILTIN.test(u)),
      [],
    );
  });
});
