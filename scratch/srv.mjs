import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const require = createRequire(import.meta.url);
const rpc = require('vscode-jsonrpc/node');
const launch = require('../packages/core/dist/launch.js');
const core = require('../packages/core/dist/index.js');
const RESNET = '/work/shared/models/resnet50-torchvision-seed0.onnx';
const dir = process.env.DIR ?? '/tmp/bimgs'; const files = readdirSync(dir).map(f => dir + '/' + f);
const cacheDir = mkdtempSync('/tmp/icc-');
const child = spawn(process.execPath, [...(process.env.NODEARGS ? process.env.NODEARGS.split(' ') : []), '../packages/server/bin/image-classifier.js', 'serve', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...launch.engineProcessEnv(process.env) } });
const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
let ready; const readyP = new Promise(r => ready = r);
conn.onNotification('imageClassifier/status', s => { if (s.state === 'ready') ready(); });
conn.onNotification('$/progress', () => {});
conn.listen();
await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: { window: { workDoneProgress: true } }, initializationOptions: { model: RESNET, cacheDir, roots: [dir], maxBatch: 8, preprocessing: 'fast', ...(JSON.parse(process.env.OPTS ?? '{}')) } });
await conn.sendNotification('initialized', {});
await readyP;
function threads() {
  const m = {};
  for (const t of readdirSync(`/proc/${child.pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${child.pid}/task/${t}/stat`, 'utf8');
      const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      m[t] = { comm, ticks: +f[11] + +f[12] };
    } catch {}
  }
  return m;
}
const session = await core.ModelSession.load(RESNET, { optimizedModelCacheDir: '/tmp/optcache' });
const tensor = (await core.preprocessImage(readFileSync(files[0]), files[0], { mode: 'fast' })).tensor;
const per = tensor.length; const raw8 = new Float32Array(per * 8); for (let i = 0; i < 8; i++) raw8.set(tensor, i * per);
const rawRun = async () => { const t0 = performance.now(); for (let b = 0; b < files.length / 8; b++) await session.run(raw8, 8); return files.length*1000/(performance.now()-t0); };
let n = 0;
const folder = async () => { const t0 = performance.now(); const r = await conn.sendRequest('imageClassifier/classifyBatch', { uris: files.map(f => pathToFileURL(f).href), force: true, workDoneToken: 'x' + (n++) }); if (r.items.some(i => i.error)) throw new Error(JSON.stringify(r.items.find(i=>i.error))); return files.length*1000/(performance.now()-t0); };
await folder(); await rawRun();
const raw = [], srv = [];
const before = threads();
for (let i = 0; i < +(process.env.R ?? 4); i++) { raw.push(await rawRun()); await new Promise(r => setTimeout(r, 30)); srv.push(await folder()); await new Promise(r => setTimeout(r, 30)); }
const after = threads();
const byComm = {};
for (const t in after) { const d = after[t].ticks - (before[t]?.ticks ?? 0); const k = after[t].comm; byComm[k] = (byComm[k] ?? 0) + d; }
const nimg = files.length * srv.length;
console.log('raw', raw.map(x=>x.toFixed(1)).join(' '), 'server', srv.map(x=>x.toFixed(1)).join(' '), 'ratio best', (Math.max(...srv)/Math.max(...raw)).toFixed(3));
console.log('server thread CPU ms per image:', Object.entries(byComm).filter(([,v])=>v>0).map(([k,v]) => `${k}=${(v*10/nimg).toFixed(2)}`).join(' '));
await conn.sendRequest('shutdown'); await conn.sendNotification('exit'); process.exit(0);
