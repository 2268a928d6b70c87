/**
 * The editor's process, watched through the orderly shutdown. vscode-languageserver watches it too (the
 * `--clientProcessId` argument, read when that library loads, or initialize's `processId`) and calls `process.exit`
 * when it is gone, which in the middle of a batch aborts the process (see lifecycle.ts). So the entry points take
 * the argument out of `process.argv` before the library loads, the message decoder takes `processId` out of
 * initialize (serve.ts), and this module checks every 3 s whether that process is still there.
 */

const ARG = '--clientProcessId';
const CHECK_MS = 3000;

let pid: number | undefined;
let onGone: ((pid: number) => void) | undefined;
let timer: NodeJS.Timeout | undefined;

/** Removes `--clientProcessId <pid>` / `--clientProcessId=<pid>` from `argv` and remembers the pid. */
export function takeClientProcessArg(argv: string[] = process.argv): void {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === ARG) {
      noteClientProcess(Number(argv[i + 1]));
      argv.splice(i, 2);
      i--;
    } else if (a.startsWith(`${ARG}=`)) {
      noteClientProcess(Number(a.slice(ARG.length + 1)));
      argv.splice(i, 1);
      i--;
    }
  }
}

/** The client's process id, from the command line or initialize (the first one wins). */
export function noteClientProcess(p: unknown): void {
  if (pid !== undefined || typeof p !== 'number' || !Number.isInteger(p) || p <= 0) return;
  pid = p;
  start();
}

/** `f` runs once when the client's process is gone. */
export function onClientProcessGone(f: (pid: number) => void): void {
  onGone = f;
  start();
}

function start(): void {
  if (timer || pid === undefined || !onGone) return;
  timer = setInterval(() => {
    try {
      process.kill(pid!, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') return; // EPERM: there, another user's
      clearInterval(timer);
      onGone?.(pid!);
    }
  }, CHECK_MS);
  timer.unref();
}
