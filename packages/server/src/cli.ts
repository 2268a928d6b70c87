/**
 * `image-classifier`: the engine without an editor.
 *
 *   image-classifier classify [options] <file|folder>...     cli/classify.ts
 *   image-classifier model info [--model …]                  cli/model.ts
 *   image-classifier model download [--url …] [--sha256 …]   cli/model.ts
 *   image-classifier serve [--stdio | --node-ipc | --pipe=… | --socket=…]   serve.ts
 *
 * Exit codes: 0 all images classified, 1 some image failed, 2 usage error or model that cannot be loaded.
 *
 * Each command's modules load when it runs: `classify` loads the engine alone (core's `engine` entry), not the
 * curation commands, the model export or the server, so that its model starts loading sooner (`require`, not
 * `import()`, which would start Node's ES module loader first).
 */
import { takeClientProcessArg } from './client-process.js';
import { EXIT_OK, EXIT_USAGE, failWith, type Io, USAGE, UsageError } from './cli/common.js';
import { SERVER_VERSION } from './version.js';

export { EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE } from './cli/common.js';

export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.stdout.write(USAGE);
      return command ? EXIT_OK : EXIT_USAGE;
    }
    if (command === '--version' || command === '-v') {
      io.stdout.write(`image-classifier ${SERVER_VERSION}\n`);
      return EXIT_OK;
    }
    if (command === 'serve') {
      // Before vscode-languageserver loads: see client-process.ts.
      takeClientProcessArg();
      const { serve } = await import('./serve.js');
      await serve(rest.filter((a) => !a.startsWith('--clientProcessId')));
      return EXIT_OK;
    }
    if (command === 'curate' || command === 'similar' || command === 'find') {
      const { curationCommand } = require('./cli/curate.js') as typeof import('./cli/curate.js');
      return await curationCommand(command, rest, io)!;
    }
    if (command !== 'classify' && command !== 'model') throw new UsageError(`Unknown command '${command}'.`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(USAGE);
      return EXIT_OK;
    }
    if (command === 'classify') {
      const { classifyCommand } = require('./cli/classify.js') as typeof import('./cli/classify.js');
      return await classifyCommand(rest, io);
    }
    const { modelCommand } = require('./cli/model.js') as typeof import('./cli/model.js');
    return await modelCommand(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`image-classifier: ${e.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    return failWith(io, e);
  }
}
