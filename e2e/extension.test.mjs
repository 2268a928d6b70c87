// End-to-end tests of the Image Classifier extension in a real VS Code (code-server + Debian Chromium), on the
// packaged linux-x64 VSIX installed into a clean extensions folder, with the real-weights MobileNetV2 model.
//
//   bash .ci/install-e2e.sh && npm run build      # once
//   node --test e2e/extension.test.mjs
//
// Env: IMAGE_CLASSIFIER_SHARED_DIR (default <repo>/../shared), E2E_VSIX (use this VSIX instead of packaging),
// E2E_KEEP=1 (keep temp dirs). Screenshots: e2e/.work/screenshots/ (on failure), docs/screenshot.png (product).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { waitFor } from './wait-for.cjs';
import { E2E_DIR, missingPrerequisites, warnSkipped } from './harness/setup.mjs';
import { makeTempDir } from './harness/processes.mjs';
import { installExtension } from './harness/code-server.mjs';
import { explorerItem, rightClickExplorerItem, runExplorerContextMenuItem } from './harness/explorer.mjs';
import { hoverExplorerItem, hoverText } from './harness/hover.mjs';
import { runCommand, waitForNotification } from './harness/commands.mjs';
import { screenshot } from './harness/screenshots.mjs';
import { runInHostTests } from './harness/in-host.mjs';
import {
  clearNotifications,
  ensureLabelsPaneExpanded,
  EXT_DIR,
  IMAGES,
  KEEP,
  labelsPane,
  MODEL,
  MODEL_PREREQUISITE,
  packageExtensionVsix,
  PHOTOS_PREREQUISITE,
  removePackagedVsix,
  REPO,
  screenshotOnFailure,
  workbenchSuite,
} from './workbench.mjs';

/** ImageNet classes 281–285: tabby, tiger cat, Persian cat, Siamese cat, Egyptian cat. */
const CAT_LABELS = ['tabby, tabby cat', 'tiger cat', 'Persian cat', 'Siamese cat, Siamese', 'Egyptian cat'];
const CAT_RE = /Egyptian cat|tabby|tiger cat|Persian cat|Siamese cat/;

const missing = missingPrerequisites([MODEL_PREREQUISITE, PHOTOS_PREREQUISITE]);
warnSkipped('the extension e2e tests', missing);

/** Keeps the activation figures of this run for `npm run bench` (BENCHMARKS.md): bench-out/extension.json. */
function recordActivation(lines, vsix) {
  const line = lines.find((l) => /activation: activate\(\)/.test(l));
  if (!line) return;
  const num = (re) => Number(re.exec(line)?.[1] ?? NaN);
  const size = (f) => (fs.existsSync(f) ? fs.statSync(f).size : null);
  const dist = path.join(EXT_DIR, 'dist');
  const record = {
    date: new Date().toISOString(),
    host: 'code-server (VS Code server + web workbench), extension host on Node ' + (/node v?([\d.]+)/i.exec(line)?.[1] ?? '24'),
    activateMs: num(/activate\(\) ([\d.]+) ms;/),
    bundleLoadMs: num(/loading the bundle ([\d.]+) ms/),
    loadAndActivateWallMs: num(/total ([\d.]+) ms wall clock/),
    loadAndActivateCpuMs: num(/main-thread CPU ([\d.]+) ms/),
    extensionJsBytes: size(path.join(dist, 'extension.js')),
    clientJsBytes: size(path.join(dist, 'client.js')),
    serverJsBytes: size(path.join(dist, 'server', 'server.js')),
    vsixBytes: size(vsix),
  };
  fs.mkdirSync(path.join(REPO, 'bench-out'), { recursive: true });
  fs.writeFileSync(path.join(REPO, 'bench-out', 'extension.json'), JSON.stringify(record, null, 2));
}

/** The temp workspace: photos, a Markdown file and a text file, and 200 photo variants made with sharp. */
async function makeWorkspaceDir() {
  const ws = await makeTempDir('ic-e2e-ws-');
  await fsp.mkdir(path.join(ws, 'photos'));
  for (const f of ['skimage_chelsea_cat.jpg', 'skimage_coffee.jpg', 'skimage_rocket.jpg', 'skimage_astronaut.png']) {
    await fsp.copyFile(path.join(IMAGES, f), path.join(ws, 'photos', f));
  }
  await fsp.writeFile(path.join(ws, 'readme.txt'), 'Photos for the classifier.\n');
  await fsp.writeFile(
    path.join(ws, 'notes.md'),
    '# Notes\n\nOur coffee:\n\n![coffee](photos/skimage_coffee.jpg)\n\nThe rocket: ![rocket](photos/skimage_rocket.jpg)\n',
  );
  // 200 variants (crops, flips, tints, sizes) for the cancellation test, generated with sharp.
  const { default: sharp } = await import('sharp');
  const many = path.join(ws, 'many');
  await fsp.mkdir(many);
  const sources = [
    'skimage_chelsea_cat.jpg',
    'skimage_coffee.jpg',
    'skimage_rocket.jpg',
    'skimage_astronaut.png',
    'skimage_camera_gray.png',
  ];
  const jobs = [];
  for (let i = 0; i < 200; i++) {
    const src = path.join(IMAGES, sources[i % sources.length]);
    const width = 900 + (i % 7) * 80;
    let img = sharp(src)
      .resize({ width })
      .rotate((i % 4) * 90);
    if (i % 3 === 0) img = img.flop();
    if (i % 5 === 1) img = img.modulate({ brightness: 0.8 + (i % 9) * 0.05, hue: (i * 17) % 360 });
    jobs.push(img.jpeg({ quality: 85 }).toFile(path.join(many, `variant-${String(i).padStart(3, '0')}.jpg`)));
    if (jobs.length >= 16) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
  return ws;
}

/** Pids of processes running the server from `extensionsDir` (found from outside, as a user would with ps). */
function serverPids(extensionsDir) {
  const pids = [];
  for (const ent of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${ent}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (cmd.some((a) => a.startsWith(extensionsDir) && a.endsWith(path.join('dist', 'server', 'server.js')))) pids.push(Number(ent));
  }
  return pids;
}

const statusBarModel = (page) => page.locator('.statusbar-item', { hasText: /MobileNetV2 · CPU/ }).first();

/** Number in the view's description ("12 images"), or 0. */
async function labelsCount(page) {
  const d = await labelsPane(page)
    .locator('.pane-header .description')
    .first()
    .innerText()
    .catch(() => '');
  const m = /(\d+) image/.exec(d);
  return m ? Number(m[1]) : 0;
}

after(removePackagedVsix);

describe('Image Classifier extension in VS Code', { skip: missing.length > 0, timeout: 480_000 }, () => {
  let vscode, browser, page, extensionsDir;
  const failures = [];
  /** Requests to hosts other than loopback that really went out (not answered by VS Code's service worker). */
  const offHost = () => vscode.serviceWorker.offHostNetworkRequests();

  // Webviews (the built-in image preview) load their resources from https://*.vscode-resource.vscode-cdn.net/…:
  // VS Code's service worker answers those from the workbench; they never reach the network.
  const suite = workbenchSuite({
    workspace: makeWorkspaceDir,
    extensionsPrefix: 'ic-e2e-exts-',
    checkVsix: (vsix) => {
      const vsixMb = fs.statSync(vsix).size / 1e6;
      console.log(`VSIX ${path.basename(vsix)}: ${vsixMb.toFixed(1)} MB`);
      assert.ok(vsixMb <= 70, `the VSIX is ${vsixMb.toFixed(1)} MB (> 70 MB)`);
    },
    beforeStop: async () => {
      if (page && failures.length) await screenshot(page, `extension-failure-${Date.now()}`).catch(() => {});
      // Checked here too, in case the test that asserts it did not run.
      const off = offHost();
      if (off.length) console.error(`requests to hosts other than 127.0.0.1: ${off.join(', ')}`);
    },
  });
  before(() => {
    ({ vscode } = suite);
    ({ browser, page, extensionsDir } = vscode);
  });

  /** A test that saves a screenshot when it fails. */
  const uiTest = screenshotOnFailure(
    () => page,
    (name) => `fail-${name}`,
    { onFailure: (name) => failures.push(name) },
  );

  uiTest('the model loads and the status bar says so', async () => {
    await statusBarModel(page).waitFor({ state: 'visible', timeout: 90_000 });
    assert.equal(serverPids(extensionsDir).length, 1, 'one server process runs from the installed extension');
  });

  uiTest('Classify Image is not offered on a text file', async () => {
    await rightClickExplorerItem(page, 'readme.txt');
    const labels = await page.locator('.monaco-menu .action-item .action-label').allInnerTexts();
    assert.ok(labels.length > 3, `a context menu opened (${labels.join(' | ')})`);
    assert.ok(!labels.some((l) => /Classify (Image|Folder)/.test(l)), `no Classify item on a text file: ${labels.join(' | ')}`);
    await page.keyboard.press('Escape');
    await page.locator('.context-view .monaco-menu').waitFor({ state: 'hidden' });
  });

  uiTest('right-click the cat photo → Classify Image → a notification naming a cat class', async () => {
    await runExplorerContextMenuItem(page, 'photos/skimage_chelsea_cat.jpg', 'Classify Image');
    const text = await waitForNotification(page, /skimage_chelsea_cat\.jpg:/, { timeoutMs: 60_000 });
    const top1 = /skimage_chelsea_cat\.jpg:\s*(.+?)\s+\d+(\.\d)?%/.exec(text)?.[1];
    assert.ok(top1 && CAT_LABELS.includes(top1), `top-1 is a cat class (281–285): ${text}`);
    assert.match(text, /Egyptian cat/);
  });

  uiTest('hovering the classified file in the Explorer shows its labels', async () => {
    // The badge is there first; then its tooltip.
    const row = await explorerItem(page, 'photos/skimage_chelsea_cat.jpg');
    await row.locator('.monaco-decoration-itemdetails, .label-description-container, .monaco-icon-label').first().waitFor();
    const text = await hoverExplorerItem(page, 'photos/skimage_chelsea_cat.jpg');
    assert.match(text, /Egyptian cat \d+\.\d%/, text);
    assert.match(text, / · /, text);
  });

  uiTest('the image preview offers Classify Image in its title bar', async () => {
    await clearNotifications(page);
    await explorerItem(page, 'photos/skimage_rocket.jpg').then((r) => r.click());
    const action = page.locator('.editor-actions .action-item a[aria-label="Classify Image"]').first();
    await action.waitFor({ state: 'visible', timeout: 30_000 });
    await action.click();
    const text = await waitForNotification(page, /skimage_rocket\.jpg:/, { timeoutMs: 60_000 });
    assert.match(text, /\d+\.\d%/, text);
    await runCommand(page, 'View: Close All Editors');
  });

  uiTest('Classify Folder → progress, then the Image Labels view groups the photos', async () => {
    await clearNotifications(page);
    await runExplorerContextMenuItem(page, 'photos', 'Classify Folder');
    const done = await waitForNotification(page, /Classified 4 images in 'photos'/, { timeoutMs: 90_000 });
    assert.match(done, /images\/s/);
    await ensureLabelsPaneExpanded(page);
    const pane = labelsPane(page);
    const rowFor = (text) => pane.locator('.monaco-list-row', { hasText: text }).first();
    await rowFor(/^\s*Egyptian cat/).waitFor({ state: 'visible', timeout: 20_000 });
    await rowFor(/^\s*espresso/).waitFor({ state: 'visible' });
    await rowFor(/skimage_chelsea_cat\.jpg/).waitFor({ state: 'visible' });
    await rowFor(/skimage_coffee\.jpg/).waitFor({ state: 'visible' });
    // The cat sits under the cat label, the coffee under espresso: each file row follows its group's row.
    const rows = await pane.locator('.monaco-list-row').evaluateAll((els) =>
      // Image rows read "97.6%  name.jpg" (the confidence first): the name is what follows.
      els.map((r) => ({
        name: (r.querySelector('.label-name')?.textContent ?? '').trim().replace(/^(\d+\.\d%|<0\.1%)\s+/, ''),
        level: r.getAttribute('aria-level'),
      })),
    );
    const groupOf = (file) => {
      const i = rows.findIndex((r) => r.name === file);
      for (let j = i - 1; j >= 0; j--) if (rows[j].level === '1') return rows[j].name;
      return undefined;
    };
    const dump = rows.map((r) => `${r.level}:${r.name}`).join(' | ');
    assert.equal(groupOf('skimage_chelsea_cat.jpg'), 'Egyptian cat', dump);
    assert.equal(groupOf('skimage_coffee.jpg'), 'espresso', dump);
    await waitFor(async () => (await labelsCount(page)) === 4, { what: 'the view to count 4 images' });
  });

  uiTest('hovering an image path in a Markdown file shows a thumbnail and the labels', async () => {
    await explorerItem(page, 'notes.md').then((r) => r.click());
    const editor = page.locator('.editor-instance .monaco-editor').first();
    await editor.waitFor({ state: 'visible' });
    // The link's own span exists once the Markdown grammar has tokenized the line (before, the line is re-rendered).
    const target = editor.locator('.view-line span span', { hasText: /^photos\/skimage_coffee\.jpg$/ }).first();
    await target.waitFor({ state: 'visible' });
    // The editor re-renders the line as link detection and decorations arrive: a span can go away mid-hover.
    for (let attempt = 0; ; attempt++) {
      try {
        await hoverText(page, target, { timeoutMs: 30_000 });
        break;
      } catch (e) {
        if (attempt >= 4 || !/not visible|not attached/.test(e.message)) throw e;
      }
    }
    // The hover says "Loading..." until the providers answer.
    const hover = page.locator('.monaco-hover:visible').first();
    const text = await waitFor(
      async () => {
        const t = await hover.innerText();
        return /espresso/.test(t) ? t : undefined;
      },
      { timeoutMs: 20_000, what: 'the hover to show the labels' },
    );
    assert.match(text, /\d+\.\d%/, text);
    const img = page.locator('.monaco-hover:visible img').first();
    await img.waitFor({ state: 'visible', timeout: 10_000 });
    await waitFor(() => img.evaluate((el) => el.complete && el.naturalWidth > 0), { what: 'the thumbnail to load', timeoutMs: 10_000 });
    // The product shot for the README: Explorer badges, the Image Labels view, the hover with its thumbnail.
    await fsp.mkdir(path.join(REPO, 'docs'), { recursive: true });
    await page.screenshot({ path: path.join(REPO, 'docs', 'screenshot.png') });
    await page.mouse.move(5, 5);
  });

  uiTest('Classify Folder on 200 images is cancelled midway and keeps its partial results', async () => {
    await clearNotifications(page);
    const before = await labelsCount(page);
    await runExplorerContextMenuItem(page, 'many', 'Classify Folder');
    const progress = page.locator('.notifications-toasts .notification-list-item', { hasText: /Classifying 'many'/ }).first();
    await progress.waitFor({ state: 'visible', timeout: 30_000 });
    // Cancel once some images are done (the progress message reads "n/200 · x images/s").
    await waitFor(
      async () => {
        const m = /(\d+)\/200/.exec(await progress.innerText());
        return m && Number(m[1]) >= 10;
      },
      { timeoutMs: 90_000, intervalMs: 50, what: 'the first images of 200 to be classified' },
    );
    await progress.locator('.monaco-button', { hasText: /^Cancel$/ }).click();
    const text = await waitForNotification(page, /Cancelled: \d+ of 200 images in 'many'/, { timeoutMs: 30_000 });
    const kept = Number(/Cancelled: (\d+) of 200/.exec(text)[1]);
    assert.ok(kept >= 10 && kept < 200, `cancelled midway: ${text}`);
    await waitFor(async () => (await labelsCount(page)) === before + kept, {
      timeoutMs: 10_000,
      what: `the view to count ${before} + ${kept} images`,
    });
  });

  uiTest('a killed server is restarted and classification works again', async () => {
    await clearNotifications(page);
    const [pid] = serverPids(extensionsDir);
    assert.ok(pid, 'the server process is found');
    process.kill(pid, 'SIGKILL');
    const newPid = await waitFor(() => serverPids(extensionsDir).find((p) => p !== pid), {
      timeoutMs: 30_000,
      what: 'a new server process',
    });
    assert.notEqual(newPid, pid);
    await statusBarModel(page).waitFor({ state: 'visible', timeout: 60_000 });
    await runExplorerContextMenuItem(page, 'photos/skimage_chelsea_cat.jpg', 'Classify Image');
    const text = await waitForNotification(page, /skimage_chelsea_cat\.jpg:/, { timeoutMs: 60_000 });
    assert.match(text, CAT_RE);
  });

  uiTest('the page made no request to any host but 127.0.0.1', async () => {
    assert.deepEqual(offHost(), []);
    for (const u of browser.offHostRequests()) assert.match(new URL(u).hostname, /\.vscode-resource\.vscode-cdn\.net$/, u);
  });
});

describe('Image Classifier extension: in-host API tests (smoke-test driver)', { skip: missing.length > 0, timeout: 300_000 }, () => {
  test('commands, settings reload, activation time', async () => {
    const vsix = await packageExtensionVsix();
    const ws = await makeTempDir('ic-e2e-ws-inhost-');
    const extRoot = await makeTempDir('ic-e2e-exts-inhost-');
    try {
      await fsp.mkdir(path.join(ws, 'photos'));
      for (const f of ['skimage_chelsea_cat.jpg', 'skimage_coffee.jpg', 'skimage_rocket.jpg']) {
        await fsp.copyFile(path.join(IMAGES, f), path.join(ws, 'photos', f));
      }
      // The packaged extension, unpacked by VS Code itself, is the extension under test.
      await installExtension(vsix, path.join(extRoot, 'installed'));
      const [dirName] = (await fsp.readdir(path.join(extRoot, 'installed'))).filter((d) => d.startsWith('image-classifier.'));
      const r = await runInHostTests({
        extensionDevelopmentPath: path.join(extRoot, 'installed', dirName),
        extensionTestsPath: path.join(E2E_DIR, 'inhost', 'index.cjs'),
        workspaceDir: ws,
        extensionsDir: path.join(extRoot, 'empty'),
        userSettings: { 'imageClassifier.model': MODEL },
        screenshotName: 'inhost-end',
        timeoutMs: 180_000,
      });
      const lines = r.console.filter((l) => /INHOST/.test(l));
      console.log(lines.join('\n'));
      assert.equal(r.timedOut, false, `in-host tests timed out\n${r.console.slice(-30).join('\n')}`);
      assert.equal(
        r.exitCode,
        0,
        `in-host tests failed\n${r.console
          .filter((l) => /INHOST|Error|assert/i.test(l))
          .slice(-40)
          .join('\n')}`,
      );
      assert.ok(
        lines.some((l) => /INHOST-OK/.test(l)),
        'the in-host suite reported success',
      );
      // Webview resources (Show Model Info's Markdown preview) use *.vscode-resource.vscode-cdn.net URLs that VS Code's
      // service worker answers from the workbench, as the UI suite above checks; nothing else may leave the host.
      assert.deepEqual(
        r.offHostRequests.filter((u) => !/\.vscode-resource\.vscode-cdn\.net$/.test(new URL(u).hostname)),
        [],
      );
      recordActivation(lines, vsix);
    } finally {
      if (!KEEP) {
        await fsp.rm(ws, { recursive: true, force: true });
        await fsp.rm(extRoot, { recursive: true, force: true });
      }
    }
  });
});
