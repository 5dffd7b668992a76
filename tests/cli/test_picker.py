"""A missing id: a menu of recent tasks on a terminal, a usage error (exit 2) at once in a pipe."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from helpers import RunMivid, Terminal
from imagefactory import make_png
from mivid.sandbox import EmulatorServer, FakeClock


@pytest.mark.parametrize("command", ["get", "wait", "download", "open"])
def test_a_missing_id_in_a_pipe_exits_2_at_once(
    command: str, mivid: RunMivid, kling_env: EmulatorServer
) -> None:
    started = time.monotonic()
    result = mivid(command, input="")
    assert result.exit_code == 2, result
    assert time.monotonic() - started < 10
    assert result.stdout == ""
    assert "error: ID: missing" in result.stderr
    assert f"mivid {command} -" in result.stderr
    assert kling_env.emulator.received == []  # nothing sent, no menu fetched


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
