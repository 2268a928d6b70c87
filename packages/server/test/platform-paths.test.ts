/**
 * The server's platform-dependent paths with the platform simulated: the stop signals it listens for (Windows has no
 * SIGTERM) and the workspace-roots check with Windows paths (drive letters in any case, another drive outside).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shutdownOnSignals } from '../src/lifecycle.js';
import { inside } from '../src/roots.js';

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGBREAK'] as const;

/** The listeners shutdownOnSignals(…, platform) adds, by signal; removed again. */
function listenersAdded(platform: NodeJS.Platform): Record<string, number> {
  const before = new Map(SIGNALS.map((s) => [s, process.listeners(s)]));
  shutdownOnSignals(async () => {}, platform);
  const added: Record<string, number> = {};
  for (const s of SIGNALS) {
    const fresh = process.listeners(s).filter((l) => !before.get(s)!.includes(l));
    added[s] = fresh.length;
    for (const l of fresh) process.removeListener(s, l);
  }
  return added;
}

test('the server stops in order on SIGTERM/SIGINT/SIGHUP, on Windows on SIGINT/SIGBREAK/SIGHUP (no SIGTERM there)', () => {
  assert.deepEqual(listenersAdded('linux'), { SIGTERM: 1, SIGINT: 1, SIGHUP: 1, SIGBREAK: 0 });
  assert.deepEqual(listenersAdded('darwin'), { SIGTERM: 1, SIGINT: 1, SIGHUP: 1, SIGBREAK: 0 });
  assert.deepEqual(listenersAdded('win32'), { SIGTERM: 0, SIGINT: 1, SIGHUP: 1, SIGBREAK: 1 });
});

test('workspace roots with Windows paths: the drive letter and names in any case are inside, another drive is not', () => {
  const root = 'C:\\Users\\Me\\ws';
  assert.equal(inside('c:\\users\\me\\ws\\cats\\a.jpg', root, 'win32'), true);
  assert.equal(inside('C:/Users/Me/ws/a.jpg', root, 'win32'), true);
  assert.equal(inside('C:\\Users\\Me\\ws2\\a.jpg', root, 'win32'), false);
  assert.equal(inside('D:\\Users\\Me\\ws\\a.jpg', root, 'win32'), false);
  assert.equal(inside('C:\\Users\\Me\\ws\\..\\x.jpg', root, 'win32'), false);
  assert.equal(inside('/home/me/WS/a.jpg', '/home/me/ws', 'linux'), false);
});
