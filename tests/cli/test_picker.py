"""A missing id: a menu of recent tasks on a terminal, a usage error (exit 2) at once in a pipe."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from imagefactory import make_png
from mivid.sandbox import EmulatorServer, FakeClock

RunMivid = Callable[..., Any]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.mark.parametrize("command", ["get", "wait", "download", "open"])
def test_a_missing_id_in_a_pipe_exits_2_at_once(
    command: str, mivid_process: RunMivid, kling_env: EmulatorServer
) -> None:
    started = time.monotonic()
    result = mivid_process(command, input="", timeout=20)
    assert result.exit_code == 2, result
    assert time.monotonic() - started < 10
    assert result.stdout == ""
    assert "error: ID: missing" in result.stderr
    assert f"mivid {command} -" in result.stderr
    assert kling_env.emulator.received == []  # nothing sent, no menu fetched


class Terminal:
    """mivid with stdin, stdout and stderr on one pseudo-terminal, as a person runs it."""

    def __init__(self, args: list[str]) -> None:
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mivid", *args], stdin=slave, stdout=slave, stderr=slave, env=env
        )
        os.close(slave)
        self.shown = b""

    def expect(self, text: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.text() and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.shown += os.read(self.master, 65536)
                except OSError:
                    break
        assert text in self.text(), self.text()
        return self.text()

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def finish(self) -> int:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    break
                if not data:
                    break
                self.shown += data
            elif self.process.poll() is not None:
                break
        os.close(self.master)
        return self.process.wait(timeout=10)

    def text(self) -> str:
        return ANSI.sub("", self.shown.decode(errors="replace")).replace("\r", "")


def made(mivid: RunMivid, tmp_path: Path, prompt: str) -> str:
    image = make_png(tmp_path / "front.png")
    result = mivid("create", str(image), "--prompt", prompt, "-q")
    assert result.exit_code == 0, result
    return str(result.stdout.strip())


def test_get_without_an_id_on_a_terminal_offers_the_recent_tasks(
    mivid: RunMivid, kling_env: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    older = made(mivid, tmp_path, "an old lighthouse")
    newer = made(mivid, tmp_path, "a new bridge\nat night")
    terminal = Terminal(["get"])
    menu = terminal.expect("Pick a task to get [1-2, q to quit]:")
    lines = menu.splitlines()
    first = next(line for line in lines if line.lstrip().startswith("1 "))
    second = next(line for line in lines if line.lstrip().startswith("2 "))
    assert newer in first and "a new bridge at night" in first and "submitted" in first
    assert older in second and "an old lighthouse" in second and "just now" in second
    terminal.type("7")
    terminal.expect("`7` is not a number from 1 to 2")
    terminal.type("2")
    assert terminal.finish() == 0, terminal.text()
    assert f"task {older}" in terminal.text()  # the panel of the task picked
    assert "prompt" in terminal.text() and "an old lighthouse" in terminal.text()


def test_quitting_the_picker_exits_130(
    mivid: RunMivid, kling_env: EmulatorServer, tmp_path: Path
) -> None:
    made(mivid, tmp_path, "a cat")
    terminal = Terminal(["wait"])
    terminal.expect("Pick a task to wait")
    terminal.type("q")
    assert terminal.finish() == 130


def test_download_offers_only_finished_tasks(
    mivid: RunMivid, kling_env: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    done = made(mivid, tmp_path, "finished one")
    fake_clock.advance(60)
    running = made(mivid, tmp_path, "still running")
    out = tmp_path / "out"
    terminal = Terminal(["download", "-o", str(out), "--json"])
    menu = terminal.expect("Pick a task to download [1-1, q to quit]:")
    assert done in menu and running not in menu
    terminal.type("1")
    assert terminal.finish() == 0, terminal.text()
    assert (out / f"{done}.mp4").is_file() and (out / f"{done}.json").is_file()
    saved = json.loads(terminal.text()[terminal.text().index("[\n") :])
    assert saved[0]["task_id"] == done
