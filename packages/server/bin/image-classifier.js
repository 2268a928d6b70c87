#!/usr/bin/env node

// `classify` and `model info` load ONNX Runtime sessions, whose cold start is dominated by page faults unless glibc's
// malloc is tuned (see packages/protocol/src/launch.ts); the tunables only apply from process start, so on Linux the
// command re-runs itself once with them (about 0.1 s, against ~0.7 s saved on ResNet50); without huge pages, which cost
// a short run more than they save (launch.ts: CLI_MALLOC_TUNABLES). `serve` is started by a client that sets the
// environment itself (the extension does). IMAGE_CLASSIFIER_MALLOC_TUNING=0 turns this off.
const args = process.argv.slice(2);
const launch = require('@image-classifier/protocol/launch');
const heavy = args[0] === 'classify' || (args[0] === 'model' && args[1] === 'info');
if (heavy && launch.mallocTuningMissing(process.env, process.platform, undefined, launch.CLI_MALLOC_TUNABLES)) {
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, __filename, ...args], {
    stdio: 'inherit',
    env: launch.cliRerunEnv(process.env, args),
  });
  // Ctrl-C reaches the child through the terminal's process group: only keep this process alive until it exits.
  process.on('SIGINT', () => {});
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
  child.on('error', (e) => {
    process.stderr.write(`image-classifier: could not start: ${e.message}\n`);
    process.exit(2);
  });
} else {
  // `classify` runs its model in a worker thread: start it (and ONNX Runtime's load) before this program's own
  // modules load, so both threads work from the start (core's engine/worker-prestart.ts).
  const prestart =
    args[0] === 'classify' && !args.includes('--help') && !args.includes('-h') ? require('@image-classifier/core/prestart') : undefined;
  prestart?.prestartInferenceWorker();
  require('../dist/cli.js')
    .main(args)
    // A worker nothing took (a usage error, a model that did not load) is stopped once ONNX Runtime has loaded in it.
    .then(async (code) => {
      await prestart?.settlePrestartedWorker();
      return code;
    })
    .then((code) => {
      process.exitCode = code;
      // classify and model: everything they start is awaited and closed before main() returns (records written,
      // tensors dumped, caches written, the inference thread and decoders stopped). Flush stdout and stderr, then
      // exit, rather than wait for whatever handle might still be open: the answer is the last thing that
      // happens. The other commands (serve, curate, similar) end when their own work does.
      if (heavy || args[0] === 'model') flushThenExit(code);
    });
}

/** Exits once everything written to stdout and stderr has been handed to the OS. */
function flushThenExit(code) {
  let left = 2;
  const done = () => {
    if (--left === 0) process.exit(code);
  };
  for (const s of [process.stdout, process.stderr]) {
    if (s.destroyed || !s.writable) done();
    else s.write('', done);
  }
}
