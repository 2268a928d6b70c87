// The Image Classifier extension in VS Code, as the UI suites (extension, editor, curation) set it up: where the
// repository and the shared model/photos are, the packaged linux-x64 VSIX, a code-server with it installed and the
// model configured, a Chromium recording which requests VS Code's service worker answered; and the few workbench
// gestures those suites share (clearing notifications, the Image Labels view).
import { execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';

import {
  E2E_DIR,
  installExtension,
  launchBrowser,
  makeTempDir,
  openWorkbench,
  recordServiceWorkerRequests,
  runCommand,
  startCodeServer,
  waitFor,
} from './harness.mjs';

export const REPO = path.resolve(E2E_DIR, '..');
export const EXT_DIR = path.join(REPO, 'packages', 'extension');
export const SHARED = path.resolve(process.env.IMAGE_CLASSIFIER_SHARED_DIR || path.join(REPO, '..', 'shared'));
export const MODEL = path.join(SHARED, 'models', 'mobilenetv2-12-int8.onnx');
export const IMAGES = path.join(SHARED, 'images');
export const KEEP = process.env.E2E_KEEP === '1';

/** missingPrerequisites entries: the real-weights model, and the photos in shared/images. */
export const MODEL_PREREQUISITE = [MODEL, `the MobileNetV2 model at ${MODEL} (set IMAGE_CLASSIFIER_SHARED_DIR)`];
export const PHOTOS_PREREQUISITE = [path.join(IMAGES, 'skimage_chelsea_cat.jpg'), `the photos in ${IMAGES}`];

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
