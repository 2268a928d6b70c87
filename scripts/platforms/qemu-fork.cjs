/**
 * Preloaded (NODE_OPTIONS=--require) into a foreign-architecture Node that runs under qemu-user without binfmt_misc
 * (a container cannot register it): a child process started with this Node (`fork`, or `spawn` of process.execPath)
 * would be exec'd by the host kernel, which cannot run it, so it is started through the same emulator instead.
 * IMAGE_CLASSIFIER_QEMU names the emulator (qemu-aarch64-static); QEMU_LD_PREFIX, inherited, names the target's
 * C library folder. Used by scripts/platforms/ only; the product never loads it.
 */
const cp = require('node:child_process');

const qemu = process.env.IMAGE_CLASSIFIER_QEMU;
if (qemu) {
  const { fork, spawn } = cp;
  cp.fork = function qemuFork(modulePath, args, options) {
    let a = args;
    let o = options;
    if (!Array.isArray(a)) {
      o = a;
      a = [];
    }
    o = { ...(o ?? {}) };
    const node = o.execPath ?? process.execPath;
    o.execArgv = [node, ...(o.execArgv ?? process.execArgv)];
    o.execPath = qemu;
    return fork.call(cp, modulePath, a, o);
  };
  cp.spawn = function qemuSpawn(file, ...rest) {
    if (file !== process.execPath) return spawn.call(cp, file, ...rest);
    const [args, options] = Array.isArray(rest[0]) ? rest : [[], rest[0]];
    return spawn.call(cp, qemu, [file, ...args], options);
  };
}
