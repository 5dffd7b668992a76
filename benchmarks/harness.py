"""What every benchmark figure is made with: children run and measured, servers, the table.

Shared by run.py (the figures of issue 6) and scale.py (those of issue 16).
Every client measured runs as a subprocess (so none shares the benchmark's
GIL) in an environment whose homes are inside the benchmark's temporary
folder; servers it talks to run in processes of their own (`serve`).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MB = 1_000_000
MIB = 1024 * 1024

# -- running a child ------------------------------------------------------------------


@dataclass(frozen=True)
class Child:
    """One finished subprocess: how long it took, its peak memory, what it said."""

    seconds: float
    peak_rss: int  # bytes; 0 when not measured
    status: int
    stdout: bytes
    stderr: bytes
    finished_at: float  # time.time() when it was reaped
    cpu: float = 0.0  # user + system seconds; 0 when not measured

    def check(self, what: str) -> Child:
        if self.status != 0:
            tail = self.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise BenchmarkError(f"{what} exited {self.status}: {' / '.join(tail)}")
        return self


class BenchmarkError(Exception):
    """A run that could not be measured (the command failed)."""


def wait_or_kill(process: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    """Wait for a measured child; past `timeout`, kill it and fail the benchmark naming `what`."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise BenchmarkError(f"{what} took more than {timeout:.0f} s") from None


def run_child(
    argv: Sequence[str], env: dict[str, str], *, memory: bool = False, timeout: float = 180
) -> Child:
    """Run `argv` to completion and time it; with `memory`, through peak_rss.py for its peak RSS.

    Memory runs take a little longer (the launcher starts first): time them apart.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
            if memory:
                argv = [sys.executable, str(HERE / "peak_rss.py"), rss.name, *argv]
            started = time.perf_counter()
            process = subprocess.Popen(
                list(argv), env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )
            wait_or_kill(process, timeout, argv[-1])
            seconds = time.perf_counter() - started
            finished_at = time.time()
            peak = int((rss.read() or "0").split()[0]) if memory else 0
        out.seek(0)
        err.seek(0)
        return Child(
            seconds=seconds,
            peak_rss=peak,
            status=process.returncode,
            stdout=out.read(),
            stderr=err.read(),
            finished_at=finished_at,
        )


def run_measured(
    argv: Sequence[str],
    env: dict[str, str],
    *,
    terminal: tuple[int, int] | None = None,
    stdin: bytes | None = None,
    timeout: float = 180,
) -> Child:
    """Run `argv` through peak_rss.py: its own wall time, CPU time and peak RSS, in one run.

    stdout is a file (not a terminal: what a pipe gets), or with `terminal`
    (columns, rows) a pseudo-terminal of that size, drained as the command
    writes. The times are the launcher's, from fork to reaping the command:
    none of the launcher's own start-up is in them.
    """
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(tempfile.TemporaryFile())
        err = stack.enter_context(tempfile.TemporaryFile())
        feed = stack.enter_context(tempfile.TemporaryFile())
        rss = stack.enter_context(tempfile.NamedTemporaryFile("r", suffix=".rss"))
        feed.write(stdin or b"")
        feed.seek(0)
        launcher = [sys.executable, str(HERE / "peak_rss.py"), rss.name, *argv]
        drained: list[bytes] = []
        reader: threading.Thread | None = None
        if terminal is None:
            process = subprocess.Popen(launcher, env=env, stdin=feed, stdout=out, stderr=err)
        else:
            master, slave, reader = _terminal(terminal, drained)
            stack.callback(os.close, master)
            child_env = {
                **env,
                "TERM": env.get("TERM", "xterm-256color"),
                "COLUMNS": str(terminal[0]),
                "LINES": str(terminal[1]),
            }
            try:
                process = subprocess.Popen(
                    launcher, env=child_env, stdin=feed, stdout=slave, stderr=err
                )
            finally:
                os.close(slave)
            reader.start()
        wait_or_kill(process, timeout, " ".join(argv[-3:]))
        finished_at = time.time()
        if reader is not None:
            reader.join(timeout=30)
        fields = (rss.read() or "0 0 0 0").split()
        out.seek(0)
        err.seek(0)
        return Child(
            seconds=float(fields[1]),
            peak_rss=int(fields[0]),
            status=process.returncode,
            stdout=b"".join(drained) if terminal is not None else out.read(),
            stderr=err.read(),
            finished_at=finished_at,
            cpu=float(fields[2]) + float(fields[3]),
        )


def _terminal(size: tuple[int, int], drained: list[bytes]) -> tuple[int, int, threading.Thread]:
    """A pseudo-terminal of `size` (columns, rows): master, slave, a thread draining the master.

    Drained as it comes: a terminal buffers only a few kilobytes, and a command
    drawing a 10 000-row table would otherwise block on its writes.
    """
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    columns, rows = size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # EIO: every writer has closed the terminal
                return
            if not chunk:
                return
            drained.append(chunk)

    return master, slave, threading.Thread(target=drain, name="pty-drain", daemon=True)


def interleaved(
    runs: dict[str, Callable[[], Child]],
    *,
    repeats: int,
    warmup: int = 2,
    least: int | None = None,
    budget: float | None = None,
) -> dict[str, list[Child]]:
    """Run each command `warmup + repeats` times, in turn, so drift hits all alike.

    With a `budget` (seconds), stop after `least` measured rounds once the
    measured rounds have taken that long: slow commands get fewer repeats, and
    fast ones (where a small difference matters) more.
    """
    results: dict[str, list[Child]] = {name: [] for name in runs}
    started = time.perf_counter()
    for round_ in range(warmup + repeats):
        if round_ == warmup:
            started = time.perf_counter()
        measured = round_ - warmup
        if (
            budget is not None
            and measured >= (least if least is not None else 1)
            and time.perf_counter() - started >= budget
        ):
            break
        for name, run in runs.items():
            child = run()
            if round_ >= warmup:
                results[name].append(child)
    return results


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# -- servers in processes of their own -------------------------------------------------


@dataclass
class Served:
    """A server process and the URL it printed."""

    url: str
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def serve(argv: Sequence[str], env: dict[str, str], *, timeout: float = 60) -> Iterator[Served]:
    """Start a server that prints its URL as its first line of stdout; stop it with SIGINT."""
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            list(argv), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err
        )
        try:
            assert process.stdout is not None
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                ready = selector.select(timeout)
            line = process.stdout.readline().decode().strip() if ready else ""
            if not line.startswith("http"):
                process.kill()
                process.wait()
                err.seek(0)
                tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
                raise BenchmarkError(f"{argv[-1]} did not start: {' / '.join(tail) or line}")
            yield Served(line, process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stdout is not None:
                process.stdout.close()


def resident_memory(pid: int) -> int:
    """A live process's resident set now, in bytes (Linux: /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError as exc:
        raise BenchmarkError(f"cannot read the memory of process {pid}: {exc}") from exc
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise BenchmarkError(f"no VmRSS in /proc/{pid}/status")


# -- environment ----------------------------------------------------------------------


def client_environment(
    home: Path, base_url: str, access_key: str, secret_key: str
) -> dict[str, str]:
    """The benchmark's environment minus the user's mivid/Kling settings, homes in `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KLING_", "MIVID_"))}
    # Bytecode cached as on any ordinary install (a shell with PYTHONDONTWRITEBYTECODE
    # would otherwise recompile mivid's sources on every run), kept out of the tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        PYTHONPYCACHEPREFIX=str(home / ".cache" / "pycache"),
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local/state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local/share"),
        KLING_BASE_URL=base_url,
        KLING_ACCESS_KEY=access_key,
        KLING_SECRET_KEY=secret_key,
    )
    return env


def mivid_command() -> list[str]:
    """The `mivid` script next to this interpreter (what users run), else `python -m mivid`."""
    script = Path(sys.executable).with_name("mivid")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "mivid"]


# -- the figures ----------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    measured: str
    baseline: str
    ratio: float | None
    target: str
    passed: bool
    note: str = ""
    #: A miss fails the run (exit 1). Scale figures are reported only, unless --strict.
    gating: bool = True


def failed_figure(name: str, target: str, why: str, *, gating: bool = True) -> Figure:
    return Figure(name, "—", "—", None, target, False, note=why, gating=gating)


def result_word(figure: Figure) -> str:
    if figure.passed:
        return "pass"
    return "FAIL" if figure.gating else "MISS"


def print_table(figures: Sequence[Figure]) -> None:
    header = ("figure", "measured", "baseline", "ratio", "target", "result")
    rows = [
        (
            f.name,
            f.measured,
            f.baseline,
            "—" if f.ratio is None else f"{f.ratio:.2f}×",
            f.target,
            result_word(f),
        )
        for f in figures
    ]
    print_rows(header, rows)
    notes = [f"  {f.name}: {f.note}" for f in figures if f.note]
    if notes:
        print("\nnotes:")
        print("\n".join(notes))


def print_rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell, a rule under the header."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
