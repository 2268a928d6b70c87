// End-to-end test of the hover thumbnail's size (issue 18, point 10: "hover thumbnails clipped in a short hover"), in
// a real VS Code (code-server + Debian Chromium) with the packaged linux-x64 VSIX and MobileNetV2: a tall, a wide, a
// tiny and an ordinary photo, hovered in a JSON file in a normal and in a short window. For each hover it measures the
// thumbnail's rendered box against the hover's visible box (every clipping ancestor's client area) and asserts the
// whole picture is visible and not distorted (rendered aspect ratio ≈ the file's).
//
//   bash .ci/install-e2e.sh && npm run build      # once
//   node --test e2e/hover-thumbnail.test.mjs
//
// Env: IMAGE_CLASSIFIER_SHARED_DIR (default <repo>/../shared), E2E_VSIX, E2E_KEEP=1.
// Screenshots: e2e/.work/screenshots/hover-thumbnail-*.png.
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { waitFor } from './wait-for.cjs';
import { missingPrerequisites, warnSkipped } from './harness/setup.mjs';
import { makeTempDir } from './harness/processes.mjs';
import { explorerItem } from './harness/explorer.mjs';
import { hoverEditorText, hoverText } from './harness/hover.mjs';
import { runCommand } from './harness/commands.mjs';
import { screenshot } from './harness/screenshots.mjs';
import {
  ensureLabelsPaneExpanded,
  IMAGES,
  KEEP,
  MODEL_PREREQUISITE,
  PHOTOS_PREREQUISITE,
  packageExtensionVsix,
  REPO,
  removePackagedVsix,
  startExtensionWorkbench,
} from './workbench.mjs';

const missing = missingPrerequisites([MODEL_PREREQUISITE, PHOTOS_PREREQUISITE]);
warnSkipped('the hover thumbnail e2e tests', missing);

/** The test photos: name, size, made from which photo (cropped to the size's aspect ratio, never stretched). */
const PICTURES = [
  { name: 'tall.png', width: 90, height: 720, from: 'skimage_rocket.jpg' },
  { name: 'wide.png', width: 1800, height: 120, from: 'skimage_coffee.jpg' },
  { name: 'tiny.png', width: 12, height: 9, from: 'skimage_chelsea_cat.jpg' },
  { name: 'cat.jpg', width: 451, height: 300, from: 'skimage_chelsea_cat.jpg' },
];
/** A laptop's full-height window, and a short one (the hover goes above the line, over the tabs, to fit). */
const WINDOWS = [
  { name: 'normal', width: 1440, height: 900 },
  { name: 'short', width: 1440, height: 430 },
];

async function makeWorkspaceDir() {
  const sharp = createRequire(path.join(REPO, 'packages', 'core', 'package.json'))('sharp');
  const ws = await makeTempDir('ic-e2e-ws-hoverthumb-');
  await fsp.mkdir(path.join(ws, 'photos'));
  for (const p of PICTURES) {
    const img = sharp(path.join(IMAGES, p.from)).resize(p.width, p.height, { fit: 'cover' });
    await (p.name.endsWith('.png') ? img.png() : img.jpeg({ quality: 90 })).toFile(path.join(ws, 'photos', p.name));
  }
  // Blank lines first, so the hovered lines sit in the middle of the editor (the hover has room above and below).
  const lines = ['{', ...Array.from({ length: 6 }, (_, i) => `  "pad${i}": "",`)];
  for (const p of PICTURES) lines.push(`  "${p.name.replace(/\..*/, '')}": "photos/${p.name}",`);
  lines.push('  "end": ""', '}', '');
  await fsp.writeFile(path.join(ws, 'refs.json'), lines.join('\n'));
  return ws;
}

/**
 * The visible hover's thumbnail: its natural size, its rendered box, the part of the viewport that every clipping
 * ancestor (overflow other than visible, up to the document) leaves visible, and the hover's own box. Undefined until
 * the picture has loaded.
 */
function thumbnailGeometry(page) {
  return page.evaluate(() => {
    const hover = [...document.querySelectorAll('.monaco-hover')].find((h) => h.getClientRects().length > 0 && h.offsetParent !== null);
    const img = hover?.querySelector('img');
    if (!img?.complete || !img.naturalWidth) return undefined;
    const box = (r) => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom });
    const clips = [];
    const vis = { left: 0, top: 0, right: window.innerWidth, bottom: window.innerHeight };
    // Up to the first fixed-position ancestor (VS Code's overflowing hover widgets): the ones above it do not clip it.
    for (let el = img.parentElement; el && el !== document.documentElement; el = el.parentElement) {
      const s = getComputedStyle(el);
      if (s.overflowX !== 'visible' || s.overflowY !== 'visible') {
        const r = el.getBoundingClientRect();
        const left = r.left + el.clientLeft;
        const top = r.top + el.clientTop;
        clips.push(`${el.className.slice(0, 40)}: ${Math.round(left)},${Math.round(top)} ${el.clientWidth}×${el.clientHeight}`);
        vis.left = Math.max(vis.left, left);
        vis.top = Math.max(vis.top, top);
        vis.right = Math.min(vis.right, left + el.clientWidth);
        vis.bottom = Math.min(vis.bottom, top + el.clientHeight);
      }
      if (s.position === 'fixed') break;
    }
    return {
      natural: { width: img.naturalWidth, height: img.naturalHeight },
      img: box(img.getBoundingClientRect()),
      visible: vis,
      hover: box(hover.getBoundingClientRect()),
      clips,
      attrs: { width: img.getAttribute('width'), height: img.getAttribute('height') },
    };
  });
}

/**
 * Waits for the visible hover's thumbnail to load and settle, saves a screenshot, prints its geometry and returns what
 * is wrong with it: hidden by the hover (more than 1 px on a side), distorted (aspect ratio off by more than 6%), or
 * too small to see.
 */
async function checkThumbnail(page, p, shotName, shots) {
  const problems = [];
  // The picture loads after the hover shows and the hover lays itself out again: wait for two equal readings.
  let last = '';
  const g = await waitFor(
    async () => {
      const now = await thumbnailGeometry(page);
      const same = now && JSON.stringify(now) === last;
      last = JSON.stringify(now);
      return same ? now : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 300, what: `the ${p.name} thumbnail loaded and laid out` },
  );
  shots.push(await screenshot(page, `hover-thumbnail-${shotName}`));
  const w = g.img.right - g.img.left;
  const h = g.img.bottom - g.img.top;
  const hidden = {
    left: Math.max(0, g.visible.left - g.img.left),
    top: Math.max(0, g.visible.top - g.img.top),
    right: Math.max(0, g.img.right - g.visible.right),
    bottom: Math.max(0, g.img.bottom - g.visible.bottom),
  };
  const ratio = w / h / (g.natural.width / g.natural.height);
  console.log(
    `${shotName} ${p.name} (${g.natural.width}×${g.natural.height}): rendered ${w.toFixed(1)}×${h.toFixed(1)} ` +
      `(attrs ${JSON.stringify(g.attrs)} ${JSON.stringify(g.clips)}), hover ${(g.hover.right - g.hover.left).toFixed(0)}×${(g.hover.bottom - g.hover.top).toFixed(0)}, ` +
      `hidden ${JSON.stringify(hidden)}, aspect ratio rendered/file ${ratio.toFixed(3)}`,
  );
  if (Object.values(hidden).some((v) => v > 1)) problems.push(`${p.name}: px hidden by the hover ${JSON.stringify(hidden)}`);
  if (Math.abs(ratio - 1) > 0.06)
    problems.push(`${p.name}: distorted, rendered ${w.toFixed(1)}×${h.toFixed(1)} for ${g.natural.width}×${g.natural.height}`);
  if (Math.max(w, h) < 24) problems.push(`${p.name}: too small to see (${w.toFixed(1)}×${h.toFixed(1)})`);
  return problems;
}

describe('Image Classifier: the hover thumbnail fits the hover', { skip: missing.length > 0, timeout: 600_000 }, () => {
  let ws, vscode, page;
  const shots = [];

  before(async () => {
    let vsix;
    [vsix, ws] = await Promise.all([packageExtensionVsix(), makeWorkspaceDir()]);
    vscode = await startExtensionWorkbench({ vsix, workspaceDir: ws, extensionsPrefix: 'ic-e2e-exts-hoverthumb-' });
    page = vscode.page;
    page.setDefaultTimeout(30_000);
  });

  after(async () => {
    if (shots.length) console.log(`screenshots:\n  ${shots.join('\n  ')}`);
    await vscode?.stop();
    if (ws && !KEEP) await fsp.rm(ws, { recursive: true, force: true });
    await removePackagedVsix();
  });

  for (const win of WINDOWS.filter((w) => !process.env.E2E_WINDOW || w.name === process.env.E2E_WINDOW)) {
    test(`${win.name} window (${win.width}×${win.height}): tall, wide, tiny and ordinary photos are wholly visible and undistorted`, async () => {
      await page.setViewportSize({ width: win.width, height: win.height });
      await explorerItem(page, 'refs.json').then((r) => r.click());
      await page.locator('.editor-instance .monaco-editor').first().waitFor({ state: 'visible' });
      const problems = [];
      for (const p of PICTURES) {
        const key = p.name.replace(/\..*/, '');
        await hoverEditorText(page, `"${key}"`, p.name, { match: /\d+\.\d%|<0\.1%/, timeoutMs: 90_000 });
        problems.push(...(await checkThumbnail(page, p, `${win.name}-${key}`, shots)));
      }
      assert.deepEqual(problems, [], `every thumbnail wholly visible and undistorted in the ${win.name} window`);
    });
  }

  test('the Image Labels view: a row’s tooltip shows the wide and the tall photo whole and undistorted', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await runCommand(page, 'View: Close All Editors');
    const pane = await ensureLabelsPaneExpanded(page);
    const problems = [];
    for (const p of PICTURES.filter((x) => x.name === 'wide.png' || x.name === 'tall.png')) {
      const row = pane.locator('.monaco-list-row', { hasText: p.name }).first();
      await row.waitFor({ state: 'visible', timeout: 30_000 });
      await hoverText(page, row.locator('.label-name').first(), { match: /\d+\.\d%|<0\.1%/, timeoutMs: 30_000 });
      problems.push(...(await checkThumbnail(page, p, `labels-view-${p.name.replace(/\..*/, '')}`, shots)));
    }
    assert.deepEqual(problems, [], 'the tooltip thumbnails wholly visible and undistorted');
  });
});
