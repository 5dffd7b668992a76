"""Run a command and write its peak resident memory, in bytes, to a file (and its times).

    python peak_rss.py OUTFILE COMMAND [ARG...]

Exits with the command's status. OUTFILE gets one line, four numbers: peak
RSS in bytes, then the command's wall-clock, user CPU and system CPU seconds
(from fork to reaping, and as `wait4` reports them: the command and the
children it waited for, nothing of this launcher). Why a launcher: on Linux a
child's `ru_maxrss` starts from the high-water mark of the process it was
forked from, so a command started straight from the benchmark (which holds
the emulator and its 55 MB request bodies) would inherit that figure. Forked
from this small, freshly exec'd process instead, it reports its own peak.
Imports nothing but `os`, `sys` and `time` to stay small.
"""

import os
import sys
import time


def main() -> int:
    out_path, argv = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    scale = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux kilobytes
    with open(out_path, "w") as out:
        out.write(f"{usage.ru_maxrss * scale} {wall:.6f} {usage.ru_utime:.6f} {usage.ru_stime:.6f}")
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
