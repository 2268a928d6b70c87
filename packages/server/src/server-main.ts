/**
 * Entry point of the inference server for bundling (the extension ships it as `server.js`, with core's
 * `inference-worker.js` beside it): `node server.js [--stdio | --node-ipc | --pipe=… | --socket=…] [--worker=…]`.
 */
import { takeClientProcessArg } from './client-process.js';

// Before vscode-languageserver loads (serve.js imports it): see client-process.ts.
takeClientProcessArg();
import('./serve.js')
  .then(({ serve }) => serve(process.argv.slice(2)))
  .catch((e: unknown) => {
    process.stderr.write(`image-classifier server: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  });
