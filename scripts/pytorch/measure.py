#!/usr/bin/env python3
"""Runs one command and reports, as one JSON object on stdout, what a caller of it sees:

    python3 scripts/pytorch/measure.py <command> [args...]

  wallMs            spawn → the process is reaped
  cpuMs             user + system CPU of the process and every descendant it reaped (wait4's rusage)
  firstLineMs       spawn → the first complete line on its stdout (the first answer)
  lastLineMs        spawn → the last complete line on its stdout
  exitAfterLastMs   the last line → the process reaped (what a script calling it waits for after its answer)
  lines, code       lines read, exit status; stderr's last 2000 characters when the status is not 0 or 1
"""
import json
import os
import subprocess
import sys
import tempfile
import time


def main():
    cmd = sys.argv[1:]
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
    fd = p.stdout.fileno()
    first = last = None
    lines = 0
    while True:
        chunk = os.read(fd, 1 << 16)
        now = time.perf_counter()
        if not chunk:
            break
        n = chunk.count(b"\n")
        if n:
            lines += n
            last = now
            if first is None:
                first = now
    _pid, status, usage = os.wait4(p.pid, 0)
    end = time.perf_counter()
    p.returncode = os.waitstatus_to_exitcode(status)
    ms = lambda t: None if t is None else round((t - t0) * 1000, 1)
    out = {
        "wallMs": ms(end),
        "cpuMs": round((usage.ru_utime + usage.ru_stime) * 1000, 1),
        "firstLineMs": ms(first),
        "lastLineMs": ms(last),
        "exitAfterLastMs": None if last is None else round((end - last) * 1000, 1),
        "lines": lines,
        "code": p.returncode,
    }
    if p.returncode not in (0, 1):
        err.seek(0)
        out["stderr"] = err.read().decode("utf8", "replace")[-2000:]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
