/**
 * Entry point of the inference server for bundling (the extension ships it as `server.js`, with core's
 * `inference-worker.js` beside it): `node server.js [--stdio | --node-ipc | --pipe=… | --socket=…] [--worker=…]`.
 */
import { serve } from './serve.js';

serve(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`image-classifier server: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
