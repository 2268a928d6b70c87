// End to end in a real VS Code (code-server + Chromium, the packaged VSIX): the extension pointed at a real NVIDIA
// Triton (PyTriton from PyPI, scripts/install-remote-server.sh) with `imageClassifier.backend: remote` classifies the
// cat photo with the remote MobileNetV2 and shows the same top-5 as the local model; the status bar says `remote`.
// Then the server is killed with the fallback on: the local model answers and the status bar says so.
//
//   bash .ci/install-e2e.sh && bash scripts/install-remote-server.sh && npm run build   # once
//   node --test e2e/remote.test.mjs
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { missingPrerequisites, warnSkipped } from './harness/setup.mjs';
import { freePort, makeTempDir } from './harness/processes.mjs';
import { runExplorerContextMenuItem } from './harness/explorer.mjs';
import { waitForNotification } from './harness/commands.mjs';
import { screenshot } from './harness/screenshots.mjs';
import {
  clearNotifications,
  IMAGES,
  KEEP,
  MODEL,
  MODEL_PREREQUISITE,
  PHOTOS_PREREQUISITE,
  removePackagedVsix,
  REPO,
  workbenchSuite,
} from './workbench.mjs';

const CLI = path.join(REPO, 'packages', 'server', 'bin', 'image-classifier.js');

/** The Triton venv's python, made by the install script (cached), or undefined. */
function remotePython() {
  const r = spawnSync('bash', [path.join(REPO, 'scripts', 'install-remote-server.sh')], { encoding: 'utf8', timeout: 20 * 60_000 });
  const py = r.stdout?.trim().split('\n').pop();
  return r.status === 0 && py && fs.existsSync(py) ? py : undefined;
}

const python = missingPrerequisites([MODEL_PREREQUISITE, PHOTOS_PREREQUISITE]).length ? undefined : remotePython();
const missing = [
  ...missingPrerequisites([MODEL_PREREQUISITE, PHOTOS_PREREQUISITE]),
  ...(python ? [] : ['the Triton environment (bash scripts/install-remote-server.sh)']),
];
warnSkipped('the remote-inference e2e tests', missing);

/** Exports MobileNetV2 for Triton and starts it; resolves once the model is ready. */
async function startTriton() {
  const repo = await makeTempDir('ic-e2e-triton-');
  execFileSync(process.execPath, [CLI, 'model', 'export-triton', repo, '--model', MODEL, '--name', 'mobilenet', '--no-progress']);
  const port = await freePort();
  const child = spawn(
    python,
    [
      path.join(REPO, 'deploy', 'pytriton', 'serve.py'),
      '--model',
      `mobilenet=${path.join(repo, 'mobilenet', '1', 'model.onnx')}`,
      '--threads',
      '1',
      '--http-port',
      String(port),
      '--grpc-port',
      String(await freePort()),
      '--metrics-port',
      String(await freePort()),
    ],
    { detached: true, stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 180_000;
  for (;;) {
    const ok = await fetch(`${url}/v2/models/mobilenet/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || Date.now() > end) throw new Error('Triton did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
  const kill = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  };
  return { url, kill, repo };
}

after(removePackagedVsix);

describe('Image Classifier in VS Code with a remote Triton server', { skip: missing.length > 0, timeout: 600_000 }, () => {
  let vscode;
  let page;
  let triton;
  let local;

  before(async () => {
    triton = await startTriton();
  });
  const suite = workbenchSuite({
    workspace: async () => {
      const dir = await makeTempDir('ic-e2e-remote-ws-');
      await fsp.mkdir(path.join(dir, 'photos'));
      for (const f of ['skimage_chelsea_cat.jpg', 'skimage_coffee.jpg'])
        await fsp.copyFile(path.join(IMAGES, f), path.join(dir, 'photos', f));
      // The local model's answer, the reference.
      const out = execFileSync(
        process.execPath,
        [CLI, 'classify', '--model', MODEL, '--format', 'jsonl', path.join(dir, 'photos', 'skimage_chelsea_cat.jpg')],
        {
          encoding: 'utf8',
        },
      );
      local = JSON.parse(out.trim());
      return dir;
    },
    extensionsPrefix: 'ic-e2e-remote-exts-',
    userSettings: () => ({
      'imageClassifier.backend': 'remote',
      'imageClassifier.remote.url': triton.url,
      'imageClassifier.remote.model': 'mobilenet',
      'imageClassifier.remote.timeoutMs': 5000,
      'imageClassifier.remote.fallbackToLocal': true,
    }),
  });
  before(() => {
    ({ vscode } = suite);
    ({ page } = vscode);
  });
  after(async () => {
    triton?.kill();
    if (triton && !KEEP) await fsp.rm(triton.repo, { recursive: true, force: true });
  });

  async function shotOnFailure(name, fn) {
    try {
      await fn();
    } catch (e) {
      const shot = await screenshot(page, `remote-fail-${name}`).catch(() => undefined);
      if (shot) console.error(`screenshot: ${shot}`);
      throw e;
    }
  }

  const status = (re) => page.locator('.statusbar-item', { hasText: re }).first();
  const expected = () => local.predictions.map((p) => `${p.label} ${(p.probability * 100).toFixed(1)}%`).join(' · ');

  test('the status bar names the remote model, and Classify Image shows the local model’s top-5', async () => {
    await shotOnFailure('classify', async () => {
      await status(/mobilenet v1 · remote/).waitFor({ state: 'visible', timeout: 120_000 });
      await runExplorerContextMenuItem(page, 'photos/skimage_chelsea_cat.jpg', 'Classify Image');
      const text = await waitForNotification(page, /skimage_chelsea_cat\.jpg:/, { timeoutMs: 60_000 });
      assert.ok(text.includes(`skimage_chelsea_cat.jpg: ${expected()}`), `remote: ${text}\nlocal: ${expected()}`);
    });
  });

  test('the server killed: with the fallback on, the local model answers and the status bar says so', async () => {
    await shotOnFailure('fallback', async () => {
      triton.kill();
      await clearNotifications(page);
      await runExplorerContextMenuItem(page, 'photos/skimage_coffee.jpg', 'Classify Image');
      const text = await waitForNotification(page, /skimage_coffee\.jpg:/, { timeoutMs: 90_000 });
      assert.match(text, /espresso/);
      await status(/local fallback/).waitFor({ state: 'visible', timeout: 30_000 });
    });
  });
});
