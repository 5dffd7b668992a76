"""A missing id: a menu of recent tasks on a terminal, a usage error (exit 2) at once in a pipe."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from helpers import InProcessTerminal, RunMivid
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
    terminal = InProcessTerminal(["get"])
    menu = terminal.expect("Pick tasks to get [1-2, several as `1 3` or `2-4`; q to quit]:")
    lines = menu.splitlines()
    first = next(line for line in lines if line.lstrip().startswith("1 "))
    second = next(line for line in lines if line.lstrip().startswith("2 "))
    assert newer in first and "a new bridge at night" in first and "submitted" in first
    assert older in second and "an old lighthouse" in second and "just now" in second
    terminal.type("7")
    terminal.expect("`7`: give numbers from 1 to 2")
    terminal.type("2")
    assert terminal.finish() == 0, terminal.text()
    assert f"task {older}" in terminal.text()  # the panel of the task picked
    assert "prompt" in terminal.text() and "an old lighthouse" in terminal.text()


@pytest.mark.parametrize("answer", ["q", "", "\x04"], ids=["q", "enter", "ctrl-d"])
def test_quitting_the_picker_picks_nothing_and_is_no_interruption(
    mivid: RunMivid, kling_env: EmulatorServer, tmp_path: Path, answer: str
) -> None:
    """Issue 15.21: `q` and Ctrl-D printed `interrupted` (exit 130)."""
    made(mivid, tmp_path, "a cat")
    terminal = InProcessTerminal(["wait"])
    terminal.expect("Wait for it? [1 for yes; q to quit]:")  # one task: no range
    if answer == "\x04":
        import os

        os.write(terminal.master, b"\x04")
    else:
        terminal.type(answer)
    assert terminal.finish() == 0, terminal.text()
    assert "nothing picked" in terminal.text()
    assert "interrupted" not in terminal.text()


def test_wait_offers_only_unfinished_tasks_and_several_can_be_picked(
    mivid: RunMivid, kling_env: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    done = made(mivid, tmp_path, "finished one")
    fake_clock.advance(60)
    running = [made(mivid, tmp_path, f"still running {n}") for n in range(3)]
    terminal = InProcessTerminal(["wait", "-q", "--timeout", "0"])
    menu = terminal.expect("Pick tasks to wait [1-3, several as `1 3` or `2-4`; q to quit]:")
    assert done not in menu and all(task_id in menu for task_id in running)
    terminal.type("1-2")
    assert terminal.finish() == 6, terminal.text()  # both still run: timed out at once
    assert f"mivid wait {running[2]} {running[1]}" in terminal.text()


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("2", [2]),
        ("1 3", [1, 3]),
        ("1,3", [1, 3]),
        ("2-4", [2, 3, 4]),
        ("3-1", [3, 2, 1]),
        ("1 1-2", [1, 2]),
        ("0", None),
        ("5", None),
        ("1-9", None),
        ("a", None),
        ("1-", None),
    ],
)
def test_picks_are_numbers_and_ranges(text: str, numbers: list[int] | None) -> None:
    from mivid.commands.picker import parse_picks

    assert parse_picks(text, 4) == numbers


def test_open_takes_one_pick_only(
    mivid: RunMivid, kling_env: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    made(mivid, tmp_path, "one")
    made(mivid, tmp_path, "two")
    fake_clock.advance(60)
    terminal = InProcessTerminal(["open", "--print"])
    terminal.expect("Pick a task to open [1-2; q to quit]:")
    terminal.type("1 2")
    terminal.expect("`1 2`: give one number from 1 to 2")
    terminal.type("q")
    assert terminal.finish() == 0


def test_the_sandbox_banner_is_said_once_around_the_picker(mivid: RunMivid) -> None:
    created = mivid("--sandbox", "create", "https://example.com/a.png", "-p", "x", "-q")
    assert created.exit_code == 0
    terminal = InProcessTerminal(["--sandbox", "get"], env={"NO_COLOR": "1"})
    terminal.expect("Get it? [1 for yes; q to quit]:")
    terminal.type("1")
    assert terminal.finish() == 0, terminal.text()
    assert terminal.text().count("sandbox: offline emulator") == 1, terminal.text()


def test_download_offers_only_finished_tasks(
    mivid: RunMivid, kling_env: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    done = made(mivid, tmp_path, "finished one")
    fake_clock.advance(60)
    running = made(mivid, tmp_path, "still running")
    out = tmp_path / "out"
    terminal = InProcessTerminal(["download", "-d", str(out), "--json"])
    # One task to offer: a yes-or-quit question, not `[1-1, several as …]` (QA finding 18).
    menu = terminal.expect("Download it? [1 for yes; q to quit]:")
    assert done in menu and running not in menu
    terminal.type("1")
    assert terminal.finish() == 0, terminal.text()
    assert (out / f"{done}.mp4").is_file() and (out / f"{done}.json").is_file()
    saved = json.loads(terminal.text()[terminal.text().index("[\n") :])
    assert saved[0]["task_id"] == done


def test_wait_without_an_id_and_nothing_unfinished_is_nothing_to_do(
    mivid: RunMivid, kling_env: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    """QA finding 18: as empty stdin is (exit 0, a note), not a usage error (exit 2)."""
    done = made(mivid, tmp_path, "finished one")
    fake_clock.advance(600)
    assert mivid("get", done).stdout.split("\t")[1] == "succeed"
    terminal = InProcessTerminal(["wait"])
    assert terminal.finish() == 0, terminal.text()
    assert "nothing to wait for: there is no unfinished task" in terminal.text()
    assert "error" not in terminal.text()
