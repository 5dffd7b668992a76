"""Test helpers used across the suite: running the CLI (in-process or as a process) and PTY driving.

The fixtures that hand these out are in `conftest.py` (`mivid`, `mivid_process`);
the types are here so test modules can name them.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from mivid.sandbox import EmulatorServer, FakeClock

#: Terminal escape sequences (colour, cursor moves), to read what a person sees.
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def __repr__(self) -> str:  # shown by pytest when an assertion fails
        return f"Result(exit_code={self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


RunMivid = Callable[..., Result]
#: The `serve` fixture: `serve(emulator, keys=(ak, sk))` → the running server.
Serve = Callable[..., "EmulatorServer"]


class Sleepless:
    """A `mivid.clock.Clock` on the emulator's fake clock: sleeping moves it on at once."""

    def __init__(self, fake: FakeClock) -> None:
        self.fake = fake
        self.slept: list[float] = []

    def now(self) -> float:
        return self.fake()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.fake.advance(max(0.0, seconds))

    def wall(self) -> float:
        """The real date, moved on by every sleep taken here (the built-in sandbox's tasks age
        through them, and a run without this clock later in the test never goes back in time)."""
        return time.time() + sum(self.slept)


def environment(overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This process's environment with `overrides` (None removes a variable)."""
    environ = dict(os.environ)
    for name, value in (overrides or {}).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return environ


def run_process(
    *args: str,
    input: str | bytes | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 60,
    cwd: str | None = None,
) -> Result:
    """`python -m mivid ARGS` as a separate process (what only a real process shows)."""
    data = input.encode() if isinstance(input, str) else input
    completed = subprocess.run(
        [sys.executable, "-m", "mivid", *args],
        input=data if data is not None else b"",
        capture_output=True,
        env=environment(env),
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
    return Result(
        completed.returncode,
        completed.stdout.decode(errors="replace"),
        completed.stderr.decode(errors="replace"),
    )


def mivid_popen(*args: str, env: Mapping[str, str]) -> subprocess.Popen[str]:
    """`python -m mivid ARGS` started as a process with its stdout and stderr piped as text,
    for a test that must signal it (Ctrl-C) while it runs. Use it as a context manager."""
    return subprocess.Popen(
        [sys.executable, "-m", "mivid", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def kling_variables(server: EmulatorServer) -> dict[str, str]:
    """The variables that point mivid at `server` with the emulator's test keys."""
    return {
        "KLING_BASE_URL": server.url,
        "KLING_ACCESS_KEY": "test-ak",
        "KLING_SECRET_KEY": "test-sk",
    }


def finished_task(
    mivid: RunMivid,
    folder: Path,
    fake_clock: FakeClock,
    *options: str,
    env: Mapping[str, str | None] | None = None,
    after: float = 10,
) -> str:
    """`mivid create` of a fresh PNG in `folder` (`-q`, more `options`), then the emulator's
    clock moved on `after` seconds, so the task has ended: its id."""
    from imagefactory import make_png

    image = make_png(folder / "front.png")
    result = mivid("create", str(image), "--prompt", "a cat", "-q", *options, env=env)
    assert result.exit_code == 0, result
    fake_clock.advance(after)
    return str(result.stdout.strip())


def created_on_terminal(env: Mapping[str, str], folder: Path) -> str:
    """`mivid create` of a fresh PNG in `folder`, run on a terminal with `env`: the task id
    it printed (it must exit 0)."""
    from imagefactory import make_png

    image = make_png(folder / "front.png")
    made = InProcessTerminal(
        ["create", str(image), "--prompt", "a cat", "-q"], env=env, stdin=False
    )
    assert made.finish() == 0
    return made.text().strip().splitlines()[-1]


def slow_to_show(
    serve: Serve,
    fake_clock: FakeClock,
    seconds: float,
    *,
    processing_after: float = 1.0,
    succeed_after: float = 6.0,
) -> EmulatorServer:
    """A live-answering emulator on `fake_clock` whose new tasks stay "not found" for `seconds`
    (as the live service's may); the timings default to the Emulator's own."""
    from mivid.sandbox import Emulator

    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    return serve(
        Emulator(
            access_keys={"test-ak": "test-sk"},
            clock=fake_clock,
            answers="live",
            processing_after=processing_after,
            succeed_after=succeed_after,
            invisible_for=seconds,
        )
    )


def install_fake_opener(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A display and an `xdg-open` (in `folder`/bin, first on PATH) that writes what it was
    given to the file returned. It runs detached from mivid: wait for the file."""
    bin_dir, record = folder / "bin", folder / "opened.txt"
    bin_dir.mkdir()
    opener = bin_dir / "xdg-open"
    opener.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{record}"\n')
    opener.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("DISPLAY", ":0")
    return record


def error_lines(stderr: str) -> list[str]:
    """The `error: ` lines of a run's stderr, whole."""
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


@dataclass
class ServedSandbox:
    """`mivid sandbox serve` running as a process: its URL, and once stopped what it said."""

    process: subprocess.Popen[str]
    url: str = ""
    stderr: str = ""


@contextlib.contextmanager
def served_sandbox(*options: str) -> Iterator[ServedSandbox]:
    """`mivid sandbox serve --port 0 *options` as a person starts it, the URL it prints read
    from its stdout; stopped with Ctrl-C (SIGINT) when the block ends, its stderr kept."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mivid", "sandbox", "serve", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = ServedSandbox(process)
    try:
        assert process.stdout is not None
        served.url = process.stdout.readline().strip()
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        _, served.stderr = process.communicate(timeout=10)


class _Screen:
    """What a pseudo-terminal shows, read from its master side: `Terminal`'s and
    `InProcessTerminal`'s common part (they differ in what runs on the other side)."""

    master: int
    shown: bytes
    closed: bool

    def _open(
        self, env: Mapping[str, str | None] | None, columns: int
    ) -> tuple[dict[str, str], int]:
        """Open the terminal: the run's environment (a `columns`-wide xterm, `env` over this
        process's) and the slave side, for the run to have (and the caller to close)."""
        import pty

        self.master, slave = pty.openpty()
        self.shown = b""
        self.closed = False
        environ = environment({"TERM": "xterm-256color", "COLUMNS": str(columns), **(env or {})})
        return environ, slave

    def _alive(self) -> bool:
        """Whether more can come while nothing is ready to read."""
        return True

    def _pump(self, timeout: float) -> bool:
        """Take what the terminal has within `timeout`; False once nothing more can come."""
        if self.closed:
            return False
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return self._alive()
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the terminal closed with the run
            data = b""
        if not data:
            self.closed = True
            return False
        self.shown += data
        return True

    def read(self, seconds: float) -> bytes:
        """Everything the terminal shows within `seconds` (less when the run ends)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._pump(max(0.0, deadline - time.monotonic())):
            pass
        return self.shown

    def expect(self, text: str, timeout: float = 15) -> str:
        """Read until `text` is on the screen (no longer); fail the test if it never comes."""
        deadline = time.monotonic() + timeout
        while text not in self.text() and time.monotonic() < deadline:
            if not self._pump(0.1):
                self._pump(0)
                break
        assert text in self.text(), self.text()
        return self.text()

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def text(self) -> str:
        """The screen without escape sequences and carriage returns."""
        return ANSI.sub("", self.shown.decode(errors="replace")).replace("\r", "")

    def raw(self) -> str:
        return self.shown.decode(errors="replace")


class Terminal(_Screen):
    """mivid on a pseudo-terminal, as a person runs it.

    stdout is always the terminal; stdin is the terminal too unless `stdin=False`
    (then it is empty), and stderr unless `stderr=False` (then it is a pipe).
    `env` overrides this process's environment (None removes a variable).
    """

    def __init__(
        self,
        args: list[str],
        *,
        env: Mapping[str, str | None] | None = None,
        columns: int = 120,
        stdin: bool = True,
        stderr: bool = True,
        cwd: str | None = None,
    ) -> None:
        environ, slave = self._open(env, columns)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mivid", *args],
            env=environ,
            cwd=cwd,
            stdin=slave if stdin else subprocess.DEVNULL,
            stdout=slave,
            stderr=slave if stderr else subprocess.PIPE,
        )
        os.close(slave)

    def _alive(self) -> bool:
        return self.process.poll() is None

    def finish(self, timeout: float = 15) -> int:
        """Read to the end; the exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._pump(0.1):
            pass
        os.close(self.master)
        status: int = self.process.wait(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return status


class InProcessTerminal(_Screen):
    """mivid run in this process on a pseudo-terminal: what a person sees, with no new interpreter.

    The same interface as `Terminal` (`expect`, `type`, `read`, `finish`, `text`, `raw`):
    the run's stdout (and stdin, stderr unless told not) is a real terminal, its
    environment is this process's with TERM, COLUMNS and `env` (rich reads the run's,
    see `mivid.render.output`), and it talks to a served emulator over the socket, as a
    process would. What only a process shows (signals, start-up) needs `Terminal`.
    `cwd` changes this process's folder until `finish` (the `hermetic_environment`
    fixture restores it after the test, whatever happens).
    """

    def __init__(
        self,
        args: list[str],
        *,
        env: Mapping[str, str | None] | None = None,
        columns: int = 120,
        stdin: bool = True,
        stderr: bool = True,
        cwd: str | None = None,
    ) -> None:
        import io
        import threading

        from mivid.app import Streams
        from mivid.cli import run

        environ, slave = self._open(env, columns)
        self._files = [
            open(os.dup(slave), "w", encoding="utf-8", buffering=1),  # noqa: SIM115
            open(os.dup(slave), "w", encoding="utf-8", buffering=1) if stderr else io.StringIO(),  # noqa: SIM115
            open(os.dup(slave) if stdin else os.open(os.devnull, os.O_RDONLY), encoding="utf-8"),  # noqa: SIM115
        ]
        os.close(slave)
        out, err, given = self._files
        self.status: int | None = None
        if cwd is not None:
            os.chdir(cwd)

        def main() -> None:
            try:
                self.status = run(
                    list(args),
                    streams=Streams(stdin=given, stdout=out, stderr=err),
                    environ=environ,
                )
            finally:
                for stream in (out, err):
                    stream.flush()
                for stream in self._files:
                    stream.close()  # the last slave closed: the reader sees the end

        self.thread = threading.Thread(target=main, name="mivid-on-a-pty", daemon=True)
        self.thread.start()

    def finish(self, timeout: float = 15) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._pump(0.1):
            pass
        self.thread.join(max(0.0, deadline - time.monotonic()))
        os.close(self.master)
        assert not self.thread.is_alive(), f"still running after {timeout} s: {self.text()}"
        assert self.status is not None, self.text()
        return self.status


class QuietHandler(BaseHTTPRequestHandler):
    """A hand-written service's handler: `reply` answers whole, nothing is logged."""

    def reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def handler_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A hand-written service (`handler`) on 127.0.0.1, a free port; its base URL. For an
    answer the emulator never gives (a test's hostile or odd service)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()
