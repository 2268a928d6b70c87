import { readFileSync } from 'node:fs';
import { PreprocessPool, IMAGENET_PREPROCESS, tensorElements, preprocessImage } from './src/index.js';
(async () => {
const config = IMAGENET_PREPROCESS as any;
const bomb = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9000" height="9000"><filter id="f"><feTurbulence baseFrequency="0.9" numOctaves="10"/><feGaussianBlur stdDeviation="50"/></filter><rect width="9000" height="9000" filter="url(#f)"/></svg>');
const slow = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9000" height="9000"><filter id="f"><feTurbulence baseFrequency="0.9" numOctaves="8"/><feGaussianBlur stdDeviation="50"/></filter>' + '<rect width="9000" height="9000" filter="url(#f)"/>'.repeat(8) + '</svg>');
const plain = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9999" height="9999"><rect width="9999" height="9999" fill="red"/></svg>');
for (const [n, b] of [['bomb', bomb], ['slow', slow], ['plain', plain]] as const) {
  const t = Date.now();
  try { const r = await preprocessImage(b, n, { preprocessing: 'exact', config }); console.log(n, 'ok', r.width, r.height, Date.now() - t); }
  catch (e: any) { console.log(n, e.code, e.message, Date.now() - t); }
}
const pool = new PreprocessPool(2, undefined, { decodeTimeoutMs: 300 });
const jpg = readFileSync('/work/wt-svg/test-fixtures/images/skimage_coffee.jpg');
const t = Date.now();
const run = (b: Buffer, n: string) => pool.run(b, n, { preprocessing: 'exact', config }, new Float32Array(tensorElements(config)), () => {}).then((r) => console.log(n, 'ok', Date.now() - t), (e) => console.log(n, e.code, e.message, Date.now() - t));
await Promise.all([run(slow, 'slow1'), run(slow, 'slow2'), run(jpg, 'jpg'), run(jpg, 'jpg2')]);
await run(jpg, 'jpg3');
const t2 = Date.now(); run(slow, 'slow3'); await new Promise((r) => setTimeout(r, 100)); await pool.close(); console.log('closed', Date.now() - t2, process.memoryUsage().rss / 1e6);

})();