"""In a pipe every command writes records: one a line, tab-separated, no prose, no header.

Issue 15's points 11 (one shape in a pipe; prose to stderr), 12 (every id is
processed, each failure on its own line, the most serious exit status) and 13
(empty stdin for `-` is nothing to do: a note, exit 0).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import RunMivid, Sleepless, environment

FAST = {"MIVID_SANDBOX_TASK_SECONDS": "0.05"}
PROSE = ("task id:", "follow it", "saved:", "video:", "reason:", "ok:", "EXTERNAL ID", "TASK ID")


@pytest.fixture
def mivid(mivid: RunMivid, sleepless: Sleepless) -> RunMivid:
    """Every run of this module on the test's clock: `--wait` takes no real time, and the
    sandbox's tasks age through its sleeps alike in every run."""

    def run(*args: str, **options: Any) -> Any:
        options.setdefault("clock", sleepless)
        return mivid(*args, **options)

    return run


def sandbox(mivid: RunMivid, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = mivid("--sandbox", *args, input=input, env=FAST)
    return result.exit_code, result.stdout, result.stderr


def make_task(mivid: RunMivid, prompt: str = "x", *more: str) -> str:
    code, out, _err = sandbox(
        mivid, "create", "https://example.com/a.png", "-p", prompt, "-q", *more
    )
    assert code in (0, 1), out
    return out.splitlines()[0]


def assert_records(stdout: str, cells: int) -> list[list[str]]:
    lines = stdout.splitlines()
    assert lines, "no record"
    rows = [line.split("\t") for line in lines]
    assert all(len(row) == cells for row in rows), rows
    assert not any(word in stdout for word in PROSE), stdout
    return rows


def test_every_command_writes_one_record_a_line(mivid: RunMivid, tmp_path: Path) -> None:
    image = "https://example.com/a.png"
    code, created, err = sandbox(mivid, "create", image, "-p", "first", "--external-task-id", "e1")
    assert code == 0
    [[task_id, status, external]] = assert_records(created, 3)
    assert (status, external) == ("submitted", "e1")
    assert err.startswith(f"follow it: mivid --sandbox wait {task_id}")  # prose: stderr

    code, waited, _ = sandbox(mivid, "create", image, "-p", "second", "--wait", "-d", str(tmp_path))
    assert code == 0
    [[second, status, _url, saved, reason]] = assert_records(waited, 5)
    assert (status, reason) == ("succeed", "") and saved == str(tmp_path / f"{second}.mp4")

    assert_records(sandbox(mivid, "wait", task_id, "-d", str(tmp_path))[1], 5)
    assert_records(sandbox(mivid, "get", task_id, second)[1], 11)
    assert_records(sandbox(mivid, "list")[1], 11)
    assert_records(sandbox(mivid, "list", "--local")[1], 8)
    assert_records(sandbox(mivid, "download", task_id, "-d", str(tmp_path))[1], 1)
    assert_records(sandbox(mivid, "config", "show")[1], 3)
    assert_records(sandbox(mivid, "config", "check")[1], 5)
    code, recovered, notes = sandbox(mivid, "recover")
    assert (code, recovered) == (0, "") and "nothing to recover" in notes


def test_one_bad_id_does_not_stop_the_others(mivid: RunMivid, tmp_path: Path) -> None:
    """Issue 15.12: `download GOOD nope` saved nothing."""
    good = make_task(mivid, "good", "--wait")

    code, out, err = sandbox(mivid, "download", good, "nope", "-d", str(tmp_path))

    assert code == 4, err
    assert out == f"{tmp_path / good}.mp4\n"
    assert (tmp_path / f"{good}.mp4").is_file()
    assert err.splitlines()[-2].startswith("error: no task `nope`")


def test_get_reports_each_failure_on_its_own_line(mivid: RunMivid) -> None:
    good = make_task(mivid)

    code, out, err = sandbox(mivid, "get", "nope-1", good, "nope-2", "--json")

    assert code == 4
    assert [task["task_id"] for task in json.loads(out)] == [good]
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "nope-1" in errors[0] and "nope-2" in errors[1], err


def test_the_most_serious_status_wins(mivid: RunMivid, tmp_path: Path) -> None:
    """A failed task (1), a missing one (4), one still running (2 for download)."""
    good = make_task(mivid, "good", "--wait")
    bad = make_task(mivid, "bad [fail]", "--wait")
    slow = {"MIVID_SANDBOX_TASK_SECONDS": "600"}
    running = mivid(
        "--sandbox", "create", "https://example.com/a.png", "-p", "slow", "-q", env=slow
    ).stdout.strip()

    waited = mivid("--sandbox", "wait", good, bad, "nope", env=FAST)
    saved = mivid("--sandbox", "download", good, bad, running, "-d", str(tmp_path), env=slow)

    assert waited.exit_code == 4, waited  # not found beats failed
    assert waited.stdout.count("\n") == 2  # both tasks that exist are shown
    assert f"task {bad} failed" in waited.stderr and "no task `nope`" in waited.stderr
    assert saved.exit_code == 2, saved  # bad input (wait first) beats failed
    assert (tmp_path / f"{good}.mp4").is_file()
    assert f"task {bad} failed" in saved.stderr
    assert (
        f"task {running} is " in saved.stderr and f"mivid --sandbox wait {running}" in saved.stderr
    )


@pytest.mark.parametrize("command", ["get", "wait", "download"])
def test_empty_stdin_is_nothing_to_do(mivid: RunMivid, command: str) -> None:
    plain = mivid(command, "-", input="")
    as_json = mivid(command, "-", "--json", input="\n\n")

    assert plain.exit_code == 0, plain
    assert plain.stdout == ""
    assert plain.stderr == "nothing to do: stdin held no task ids\n"
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == []


@pytest.mark.skipif(shutil.which("jq") is None or shutil.which("bash") is None, reason="no jq")
def test_the_readmes_pipeline_with_nothing_running_exits_0(tmp_path: Path) -> None:
    """Issue 15.13: the README's own pipeline exited 2 when nothing matched."""
    mivid = f"'{sys.executable}' -m mivid --sandbox"
    pipeline = (
        f"{mivid} list --status processing --json | jq -r '.[].task_id' | "
        f"{mivid} wait - --download out/"
    )
    completed = subprocess.run(
        ["bash", "-o", "pipefail", "-c", pipeline],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=environment(FAST),
    )
    assert completed.returncode == 0, completed
    assert completed.stdout == ""
    assert "nothing to do" in completed.stderr


def test_get_writes_the_very_line_list_writes(mivid: RunMivid) -> None:
    task_id = make_task(mivid, "the same line", "--wait")

    got = sandbox(mivid, "get", task_id)[1]
    listed = [line for line in sandbox(mivid, "list")[1].splitlines() if line.startswith(task_id)]

    assert got.splitlines() == listed
