import { makeJpegFolder } from '../scripts/bench-images.mjs';
import { createRequire } from 'node:module';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
const require = createRequire(import.meta.url);
const core = require('../packages/core/dist/index.js');
const sharp = require('sharp');
const dir = '/tmp/bimgs';
let files = existsSync(dir) ? readdirSync(dir).map(f=>dir+'/'+f) : await makeJpegFolder('/work/shared', dir, 64);
const bufs = files.map(f => readFileSync(f));
if (process.env.CONC) sharp.concurrency(+process.env.CONC);
console.log('sharp concurrency', sharp.concurrency(), 'simd', sharp.simd());
async function time(name, fn, n = 3) {
  for (let r = 0; r < n; r++) {
    const c0 = process.cpuUsage(); const t0 = performance.now();
    for (const b of bufs) await fn(b);
    const dt = performance.now() - t0; const cu = process.cpuUsage(c0);
    console.log(name, (dt / bufs.length).toFixed(2), 'ms wall/img', ((cu.user + cu.system) / 1000 / bufs.length).toFixed(2), 'ms cpu/img');
  }
}
await time('metadata', b => sharp(b).metadata());
await time('decode raw only', b => sharp(b).raw().toBuffer());
await time('fast preprocess', b => core.preprocessImage(b, 'x', { mode: 'fast' }));
await time('exact preprocess', b => core.preprocessImage(b, 'x', { mode: 'exact' }));
await time('sharp resize+extract', b => sharp(b, {ignoreIcc:true}).resize(341,256,{fit:'fill',kernel:'linear'}).extract({left:58,top:16,width:224,height:224}).raw().toBuffer());
