#!/usr/bin/env node

// `classify` and `model info` load ONNX Runtime sessions, whose cold start is dominated by page faults unless glibc's
// malloc is tuned (see packages/protocol/src/launch.ts); the tunables only apply from process start, so on Linux the
// command re-runs itself once with them (about 0.1 s, against ~0.7 s saved on ResNet50). `serve` is started by a
// client that sets the environment itself (the extension does). IMAGE_CLASSIFIER_MALLOC_TUNING=0 turns this off.
const args = process.argv.slice(2);
const launch = require('@image-classifier/protocol/launch');
const heavy = args[0] === 'classify' || (args[0] === 'model' && args[1] === 'info');
if (heavy && launch.mallocTuningMissing()) {
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, __filename, ...args], {
    stdio: 'inherit',
    env: launch.engineProcessEnv(process.env),
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
  require('../dist/cli.js')
    .main(args)
    .then((code) => {
      process.exitCode = code;
    });
}
