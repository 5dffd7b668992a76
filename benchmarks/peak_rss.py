"""Run a command and write its peak resident memory, in bytes, to a file.

    python peak_rss.py OUTFILE COMMAND [ARG...]

Exits with the command's status. Why a launcher: on Linux a child's
`ru_maxrss` starts from the high-water mark of the process it was forked
from, so a command started straight from the benchmark (which holds the
emulator and its 55 MB request bodies) would inherit that figure. Forked
from this small, freshly exec'd process instead, it reports its own peak.
Imports nothing but `os` and `sys` to stay small.
"""

import os
import sys


def main() -> int:
    out_path, argv = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    scale = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux kilobytes
    with open(out_path, "w") as out:
        out.write(str(usage.ru_maxrss * scale))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
