import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
const require = createRequire(import.meta.url);
const core = require('../packages/core/dist/index.js');
const RESNET = '/work/shared/models/resnet50-torchvision-seed0.onnx';
const dir = process.env.DIR ?? '/tmp/bimgs'; const files = readdirSync(dir).map(f => dir + '/' + f);
const opt = '/tmp/optcache';
const cfgs = JSON.parse(process.env.CFGS ?? '{}');
const session = await core.ModelSession.load(RESNET, { optimizedModelCacheDir: opt });
const engines = {};
for (const [k, o] of Object.entries(cfgs)) engines[k] = await core.Classifier.create({ modelPath: RESNET, preprocessMode: 'fast', maxBatch: 8, ...o, session: { optimizedModelCacheDir: opt, ...(o.session ?? {}) } });
const tensor = (await core.preprocessImage(readFileSync(files[0]), files[0], { mode: 'fast' })).tensor;
const per = tensor.length; const raw8 = new Float32Array(per * 8); for (let i = 0; i < 8; i++) raw8.set(tensor, i * per);
const runs = { raw: async () => { for (let b = 0; b < files.length / 8; b++) await session.run(raw8, 8); } };
for (const k in engines) runs[k] = () => Promise.all(files.map((f) => engines[k].classifyFile(f)));
const ips = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
for (const k in runs) await runs[k]();
for (let r = 0; r < +(process.env.R ?? 4); r++) for (const k in runs) {
  const t0 = performance.now(); await runs[k](); ips[k].push((files.length * 1000) / (performance.now() - t0));
  await new Promise((r) => setTimeout(r, 30));
}
const med = xs => [...xs].sort((a,b)=>a-b)[Math.floor(xs.length/2)];
for (const k in ips) console.log(k.padEnd(14), med(ips[k]).toFixed(1), 'img/s', (med(ips[k]) / med(ips.raw)).toFixed(3), 'x raw  all:', ips[k].map(x=>x.toFixed(1)).join(' '));
process.exit(0);
