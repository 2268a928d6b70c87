// In-host API tests of the Image Classifier extension, run inside VS Code's extension host by the smoke-test
// driver (what @vscode/test-electron would run): see runInHostTests in ../harness/in-host.mjs and ../extension.test.mjs.
// Each line this prints starts with INHOST so that the e2e test can pick them out of the browser console.
const assert = require('node:assert');
const fs = require('node:fs');
const _path = require('node:path');
const vscode = require('vscode');
const { waitFor } = require('../wait-for.cjs');

const EXT_ID = 'image-classifier.image-classifier';
const CAT_LABELS = ['tabby, tabby cat', 'tiger cat', 'Persian cat', 'Siamese cat, Siamese', 'Egyptian cat'];

function log(msg) {
  console.log(`INHOST ${msg}`);
}

/** Polls `fn` until it returns a truthy value (see ../wait-for.cjs, shared with the harness). */
function poll(fn, what, timeoutMs = 30000) {
  return waitFor(fn, { what, timeoutMs });
}

exports.run = async function run() {
  const folder = vscode.workspace.workspaceFolders[0].uri;
  const cat = vscode.Uri.joinPath(folder, 'photos', 'skimage_chelsea_cat.jpg');
  const coffee = vscode.Uri.joinPath(folder, 'photos', 'skimage_coffee.jpg');
  const cfg = () => vscode.workspace.getConfiguration('imageClassifier');
  const ext = vscode.extensions.getExtension(EXT_ID);
  assert.ok(ext, `${EXT_ID} is installed`);
  const api = await ext.activate();

  const tests = [];
  const t = (name, fn) => tests.push({ name, fn });

  t('activation takes at most 50 ms', async () => {
    const ms = await vscode.commands.executeCommand('imageClassifier.activationTime', { silent: true });
    const cpu = api.loadAndActivationCpuMs;
    log(
      `activation: activate() ${ms.toFixed(2)} ms; loading the bundle ${api.codeLoadingTimeMs.toFixed(2)} ms ` +
        `(vscode API object ${api.vscodeApiMs.toFixed(2)} ms); ` +
        `total ${api.loadAndActivationTimeMs.toFixed(2)} ms wall clock; main-thread CPU ${cpu.toFixed(2)} ms (activate() ${api.activationCpuMs.toFixed(2)} ms)`,
    );
    assert.equal(typeof ms, 'number');
    // Wall clock on this 2-core machine includes being preempted by Chromium and code-server, busy starting the
    // workbench at that very moment (seen: 17–136 ms wall for 16–30 ms of work); the extension host main
    // thread's CPU time is the work itself. Without process.threadCpuUsage (Node < 23.9), wall clock it is.
    if (cpu > 0) assert.ok(cpu <= 50, `loading the bundle + activate() took ${cpu} ms of main-thread CPU`);
    else assert.ok(api.loadAndActivationTimeMs <= 50, `loading the bundle + activate() took ${api.loadAndActivationTimeMs} ms`);
  });

  t('every command is registered', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    const pkg = ext.packageJSON;
    for (const c of pkg.contributes.commands) assert.ok(all.has(c.command), `${c.command} registered`);
  });

  t('the server starts and loads the configured model', async () => {
    await api.whenServerReady();
    assert.ok(api.server.pid > 0, 'server pid');
    assert.equal(api.server.state, 'ready');
  });

  t('Classify Image (command with a URI) returns a cat and stores it', async () => {
    const r = await vscode.commands.executeCommand('imageClassifier.classifyImage', cat);
    assert.ok(r?.predictions, 'a result');
    assert.equal(r.predictions.length, 5, 'topK default 5');
    assert.ok(CAT_LABELS.includes(r.predictions[0].label), `top-1 ${r.predictions[0].label}`);
    assert.match(r.model, /mobilenet/i);
    const stored = api.results().find((x) => x.uri === cat.toString());
    assert.ok(stored && CAT_LABELS.includes(stored.label), 'stored for the view and decorations');
  });

  t('topK setting reloads without a window reload', async () => {
    await cfg().update('topK', 2, vscode.ConfigurationTarget.Global);
    try {
      const r = await poll(async () => {
        const x = await vscode.commands.executeCommand('imageClassifier.view.classifyAgain', { kind: 'image', result: { uri: coffee } });
        return x && x.predictions.length === 2 ? x : undefined;
      }, 'two predictions');
      assert.equal(r.predictions[0].label, 'espresso');
    } finally {
      await cfg().update('topK', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  t('preprocessing setting reaches the server (didChangeConfiguration)', async () => {
    await cfg().update('preprocessing', 'fast', vscode.ConfigurationTarget.Global);
    try {
      await poll(async () => {
        const info = await vscode.commands.executeCommand('imageClassifier.showModelInfo');
        return info && info.preprocessing === 'fast';
      }, 'modelInfo.preprocessing = fast');
      const r = await vscode.commands.executeCommand('imageClassifier.classifyImage', cat);
      assert.ok(CAT_LABELS.includes(r.predictions[0].label), `fast preprocessing still finds a cat: ${r.predictions[0].label}`);
    } finally {
      await cfg().update('preprocessing', undefined, vscode.ConfigurationTarget.Global);
    }
    await poll(
      async () => (await vscode.commands.executeCommand('imageClassifier.showModelInfo')).preprocessing === 'exact',
      'back to exact',
    );
  });

  t('Show Model Info describes the model', async () => {
    const info = await vscode.commands.executeCommand('imageClassifier.showModelInfo');
    assert.equal(info.state, 'ready');
    assert.match(info.name, /mobilenetv2/i);
    assert.equal(info.classes, 1000);
    // Rendered: the Markdown preview (a webview tab) of the model info document, not its source in a text editor.
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'imageclassifier-info');
    assert.ok(doc, 'the model info document is open');
    // One document, refreshed in place on every Show Model Info (its preview follows it).
    await poll(async () => /MobileNetV2/.test(doc.getText()) && /\| State \| ready \|/.test(doc.getText()), 'the refreshed model info');
    await poll(async () => {
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
      return tab && tab.input instanceof vscode.TabInputWebview && /Preview/.test(tab.label);
    }, 'the Markdown preview tab');
    assert.ok(vscode.window.activeTextEditor?.document.uri.scheme !== 'imageclassifier-info', 'no text editor shows the source');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  t('Export Labels writes CSV and JSON and never overwrites', async () => {
    const csv = vscode.Uri.joinPath(folder, 'labels-export.csv');
    const json = vscode.Uri.joinPath(folder, 'labels-export.json');
    await vscode.commands.executeCommand('imageClassifier.exportLabels', csv);
    const text = fs.readFileSync(csv.fsPath, 'utf8');
    assert.match(text.split('\n')[0], /^path,model,label1,probability1,index1/);
    assert.match(text, /photos\/skimage_chelsea_cat\.jpg/);
    fs.writeFileSync(csv.fsPath, 'keep me\n');
    await vscode.commands.executeCommand('imageClassifier.exportLabels', csv);
    assert.equal(fs.readFileSync(csv.fsPath, 'utf8'), 'keep me\n', 'an existing file is not overwritten');
    await vscode.commands.executeCommand('imageClassifier.exportLabels', json);
    const rows = JSON.parse(fs.readFileSync(json.fsPath, 'utf8'));
    assert.ok(rows.some((r) => /skimage_coffee/.test(r.path) && r.predictions[0].label === 'espresso'));
  });

  t('Copy Label copies the top label', async () => {
    await vscode.commands.executeCommand('imageClassifier.view.copyLabel', { kind: 'group', label: 'espresso', items: [] });
    assert.equal(await vscode.env.clipboard.readText(), 'espresso');
  });

  t('Clear Cache answers with a count', async () => {
    const r = await vscode.commands.executeCommand('imageClassifier.clearCache');
    assert.ok(r && typeof r.removed === 'number', JSON.stringify(r));
  });

  t('Restart Server gives a new process that classifies', async () => {
    const before = api.server.pid;
    const pid = await vscode.commands.executeCommand('imageClassifier.restartServer');
    assert.ok(pid && pid !== before, `new pid ${pid} (was ${before})`);
    const r = await vscode.commands.executeCommand('imageClassifier.classifyImage', coffee);
    assert.equal(r.predictions[0].label, 'espresso');
  });

  t('a model that does not exist is reported in words, and fixing the setting recovers', async () => {
    const original = cfg().inspect('model').globalValue;
    await cfg().update('model', '/nonexistent/model.onnx', vscode.ConfigurationTarget.Global);
    try {
      await poll(() => api.server.state === 'error', 'error state');
      await assert.rejects(
        vscode.commands.executeCommand('imageClassifier.view.classifyAgain', { kind: 'image', result: { uri: cat } }).then((r) => {
          if (r === undefined) throw new Error('reported to the user');
        }),
      );
    } finally {
      await cfg().update('model', original, vscode.ConfigurationTarget.Global);
    }
    await poll(() => api.server.state === 'ready', 'ready again with the configured model', 60000);
    const r = await vscode.commands.executeCommand('imageClassifier.classifyImage', cat);
    assert.ok(CAT_LABELS.includes(r.predictions[0].label));
  });

  t('a changed image is classified again and a deleted one leaves the results', async () => {
    const changing = vscode.Uri.joinPath(folder, 'photos', 'changing.jpg');
    fs.copyFileSync(coffee.fsPath, changing.fsPath);
    const r = await vscode.commands.executeCommand('imageClassifier.classifyImage', changing);
    assert.equal(r.predictions[0].label, 'espresso');
    // Same name, now the cat: the FileSystemWatcher's change event re-classifies it.
    fs.copyFileSync(cat.fsPath, changing.fsPath);
    // The file watcher coalesces events that come close together (create + change → create); should the change
    // land in the same batch as the create of a file not classified yet, touching it again is what a user would see.
    let touched = Date.now();
    await poll(() => {
      const x = api.results().find((e) => e.uri === changing.toString());
      if (Date.now() - touched > 5000) {
        touched = Date.now();
        fs.utimesSync(changing.fsPath, new Date(), new Date());
      }
      return x && CAT_LABELS.includes(x.label);
    }, 'the changed file to be re-classified as a cat');
    fs.unlinkSync(changing.fsPath);
    await poll(() => !api.results().some((e) => e.uri === changing.toString()), 'the deleted file to leave the results');
  });

  t('autoClassify = visibleFiles classifies an image when it is opened', async () => {
    const rocket = vscode.Uri.joinPath(folder, 'photos', 'skimage_rocket.jpg');
    assert.ok(!api.results().some((e) => e.uri === rocket.toString()), 'not classified yet');
    await cfg().update('autoClassify', 'visibleFiles', vscode.ConfigurationTarget.Global);
    try {
      await vscode.commands.executeCommand('vscode.open', rocket);
      await poll(() => api.results().some((e) => e.uri === rocket.toString()), 'the opened image to be classified');
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    } finally {
      await cfg().update('autoClassify', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  t('Clear Results empties the view', async () => {
    await vscode.commands.executeCommand('imageClassifier.clearResults');
    assert.equal(api.results().length, 0);
  });

  let failed = 0;
  for (const { name, fn } of tests) {
    const t0 = Date.now();
    try {
      await fn();
      log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      log(`FAIL ${name}: ${e?.message}`);
    }
  }
  if (failed) throw new Error(`INHOST ${failed} of ${tests.length} in-host tests failed`);
  log(`INHOST-OK ${tests.length} tests`);
};
