// The Image Classifier extension in VS Code, as the UI suites (extension, editor, first-use, curation, remote) set it
// up: where the repository and the shared model/photos/datasets are, the packaged linux-x64 VSIX, a code-server with
// it installed and the model configured, a Chromium recording which requests VS Code's service worker answered, a
// suite's before/after around all that (workbenchSuite), a test that keeps a screenshot when it fails; and the few
// workbench gestures those suites share (clearing notifications, the Image Labels view).
import { execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { waitFor } from './wait-for.cjs';
import { E2E_DIR } from './harness/setup.mjs';
import { makeTempDir } from './harness/processes.mjs';
import { installExtension, startCodeServer } from './harness/code-server.mjs';
import { launchBrowser, openWorkbench, recordServiceWorkerRequests } from './harness/browser.mjs';
import { runCommand } from './harness/commands.mjs';
import { screenshot } from './harness/screenshots.mjs';

export const REPO = path.resolve(E2E_DIR, '..');
export const EXT_DIR = path.join(REPO, 'packages', 'extension');
export const SHARED = path.resolve(process.env.IMAGE_CLASSIFIER_SHARED_DIR || path.join(REPO, '..', 'shared'));
export const MODEL = path.join(SHARED, 'models', 'mobilenetv2-12-int8.onnx');
export const IMAGES = path.join(SHARED, 'images');
/** The curation dev set: `dataset/` (class folders) and `truth.json` (its planted label noise). */
export const CURATION_DEV = path.join(SHARED, 'datasets', 'curation-dev');
export const CURATION_DEV_DATASET = path.join(CURATION_DEV, 'dataset');
export const KEEP = process.env.E2E_KEEP === '1';

/** missingPrerequisites entries: the real-weights model, and the photos in shared/images. */
export const MODEL_PREREQUISITE = [MODEL, `the MobileNetV2 model at ${MODEL} (set IMAGE_CLASSIFIER_SHARED_DIR)`];
export const PHOTOS_PREREQUISITE = [path.join(IMAGES, 'skimage_chelsea_cat.jpg'), `the photos in ${IMAGES}`];

/** Copies photos of shared/images into `dir` (made when missing): `{ 'name in dir': 'file in shared/images' }`. */
export async function copyPhotos(dir, names) {
  await fsp.mkdir(dir, { recursive: true });
  for (const [to, from] of Object.entries(names)) await fsp.copyFile(path.join(IMAGES, from), path.join(dir, to));
}

/** An iPhone photo's container (an ftyp box saying heic) with nothing in it: no decoder here reads it. */
export function heicContainer() {
  const heic = Buffer.alloc(64);
  heic.write('\u0000\u0000\u0000\u0018ftypheic\u0000\u0000\u0000\u0000mif1heic', 0, 'latin1');
  return heic;
}

let vsixPromise;
/** Packages the extension (production bundle + vsce --target linux-x64) once per process, unless E2E_VSIX names one. */
export function packageExtensionVsix() {
  vsixPromise ??= buildVsix();
  return vsixPromise;
}

async function buildVsix() {
  if (process.env.E2E_VSIX) return path.resolve(process.env.E2E_VSIX);
  const out = path.join(await makeTempDir('ic-e2e-vsix-'), 'image-classifier-linux-x64.vsix');
  execFileSync(process.execPath, ['scripts/package.mjs', '--target=linux-x64', `--out=${out}`], { cwd: EXT_DIR, stdio: 'pipe' });
  return out;
}

/** Removes the VSIX packageExtensionVsix made (not one E2E_VSIX names; nothing with E2E_KEEP=1). */
export async function removePackagedVsix() {
  if (!vsixPromise || process.env.E2E_VSIX || KEEP) return;
  const vsix = await vsixPromise.catch(() => undefined);
  if (vsix) await fsp.rm(path.dirname(vsix), { recursive: true, force: true });
}

/**
 * Installs `vsix` into a fresh extensions folder (under a temp dir named `extensionsPrefix`…), starts code-server on
 * `workspaceDir` with the model configured, the dark theme and no command center (plus `userSettings`), launches
 * Chromium at 1440×900 recording the service worker's answers (recordServiceWorkerRequests) and, with `open`, opens
 * the workbench on the folder. What it started is stopped again when a step fails.
 * @returns {Promise<{extensionsDir: string, server: object, browser: object, page?: object,
 *   serviceWorker: ReturnType<typeof recordServiceWorkerRequests>, stop(): Promise<void>}>}
 */
export async function startExtensionWorkbench({ vsix, workspaceDir, extensionsPrefix, userSettings = {}, open = true }) {
  const extensionsDir = path.join(await makeTempDir(extensionsPrefix), 'extensions');
  let server;
  let browser;
  const stop = async () => {
    await browser?.close();
    await server?.stop();
    if (!KEEP) await fsp.rm(path.dirname(extensionsDir), { recursive: true, force: true });
  };
  try {
    await installExtension(vsix, extensionsDir);
    server = await startCodeServer({
      workspaceDir,
      extensionsDir,
      userSettings: {
        'imageClassifier.model': MODEL,
        ...userSettings,
        'workbench.colorTheme': 'Default Dark Modern',
        'window.commandCenter': false,
      },
    });
    browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
    const serviceWorker = recordServiceWorkerRequests(browser);
    const page = open ? await openWorkbench(browser, server.url, workspaceDir, { timeoutMs: 90_000 }) : undefined;
    return { extensionsDir, server, browser, page, serviceWorker, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Clears every notification and waits for the toasts to go. */
export async function clearNotifications(page) {
  await runCommand(page, 'Notifications: Clear All Notifications');
  await page
    .locator('.notifications-toasts .notification-list-item')
    .first()
    .waitFor({ state: 'hidden', timeout: 10_000 })
    .catch(() => {});
}

/** The "Image Labels" pane in the Explorer. */
export function labelsPane(page) {
  return page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Image Labels/i }) }).first();
}

/** Expands the Image Labels pane (when collapsed) and returns it. */
export async function ensureLabelsPaneExpanded(page) {
  const pane = labelsPane(page);
  await pane.waitFor({ state: 'visible' });
  const header = pane.locator('.pane-header').first();
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  await waitFor(async () => (await header.getAttribute('aria-expanded')) === 'true', { what: 'Image Labels pane expanded' });
  return pane;
}

/**
 * A UI suite's workbench, made in `before` and taken down in `after` (call it inside `describe`): the packaged VSIX
 * and the workspace from `workspace()` (made side by side), then startExtensionWorkbench on it with
 * `extensionsPrefix`, `userSettings` (an object, or a function called then) and `open`. `checkVsix(vsix)` runs
 * before the start; `beforeStop(vscode)` before the stop. `after` stops code-server and Chromium and removes the
 * workspace (kept with E2E_KEEP=1). The returned object's `ws` and `vscode` are set once its `before` has run.
 * @returns {{ws?: string, vscode?: Awaited<ReturnType<typeof startExtensionWorkbench>>}}
 */
export function workbenchSuite({ workspace, extensionsPrefix, userSettings = {}, open = true, checkVsix, beforeStop }) {
  const suite = {};
  before(async () => {
    let vsix;
    [vsix, suite.ws] = await Promise.all([packageExtensionVsix(), workspace()]);
    checkVsix?.(vsix);
    const settings = typeof userSettings === 'function' ? userSettings() : userSettings;
    suite.vscode = await startExtensionWorkbench({ vsix, workspaceDir: suite.ws, extensionsPrefix, userSettings: settings, open });
  });
  after(async () => {
    if (suite.vscode) {
      await beforeStop?.(suite.vscode);
      await suite.vscode.stop();
    }
    if (suite.ws && !KEEP) await fsp.rm(suite.ws, { recursive: true, force: true });
  });
  return suite;
}

/**
 * `test` for a UI suite: when the test fails, a screenshot of `page()` (when there is a page) is saved as
 * `shotName(name)` and named on stderr, `onFailure(name)` is called, and the failure goes on.
 */
export function screenshotOnFailure(page, shotName, { onFailure } = {}) {
  return (name, fn) =>
    test(name, async (t) => {
      try {
        await fn(t);
      } catch (e) {
        onFailure?.(name);
        const p = page();
        const shot = p ? await screenshot(p, shotName(name)).catch(() => undefined) : undefined;
        if (shot) console.error(`screenshot: ${shot}`);
        throw e;
      }
    });
}
