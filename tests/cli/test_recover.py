"""`mivid recover`: creates whose answer was lost are found and settled by external id."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers import InProcessTerminal
from imagefactory import make_png
from mivid.journal import NOT_CREATED, SENDING, UNKNOWN, Journal
from mivid.sandbox import EmulatorServer, FakeClock, Fault

RunMivid = Callable[..., Any]  # the `mivid` fixture (tests/cli/conftest.py)


@pytest.fixture
def fast_retries(
    kling_env: EmulatorServer, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> EmulatorServer:
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    monkeypatch.setenv("MIVID_RETRY_BASE_DELAY", "0.001")
    monkeypatch.setenv("MIVID_RETRY_ATTEMPTS", "3")
    return kling_env


@pytest.fixture
def image(tmp_path: Path) -> str:
    return str(make_png(tmp_path / "front.png"))


def test_recover_settles_a_create_whose_answer_was_lost(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    emulator = fast_retries.emulator
    # The task is made, the answer is lost, and the lookup fails too: mivid gives up.
    emulator.inject(Fault.drop_after(on="create"))
    emulator.inject(Fault.error(5001, on="get", times=None))
    failed = mivid("create", image, "--prompt", "waves", "--external-task-id", "shot-1")
    assert failed.exit_code == 5, failed
    assert "mivid recover" in failed.stderr
    with Journal.open() as journal:
        entry = journal.find("shot-1")
    assert entry is not None and entry.status == UNKNOWN and entry.task_id is None

    emulator.clear_faults()
    result = mivid("recover", "--json")
    assert result.exit_code == 0, result
    (task,) = emulator.tasks()
    (row,) = json.loads(result.stdout)
    assert row["external_task_id"] == "shot-1"
    assert row["outcome"] == "found"
    assert row["task_id"] == task["task_id"]
    with Journal.open() as journal:
        settled = journal.find(task["task_id"])
        assert settled is not None and settled.external_task_id == "shot-1"
        assert journal.entries(unsettled_only=True) == []

    again = mivid("recover")
    assert again.exit_code == 0
    assert again.stdout == ""
    assert "nothing to recover" in again.stderr
    assert len(emulator.tasks()) == 1  # recover never creates


def test_recover_marks_a_create_the_service_never_saw_as_not_created(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    emulator = fast_retries.emulator
    emulator.inject(Fault.html(502, on="any", times=None))  # not processed: no task
    assert mivid("create", image, "--prompt", "waves").exit_code == 5
    emulator.clear_faults()
    result = mivid("recover")
    assert result.exit_code == 0, result
    (row,) = result.stdout.splitlines()  # in a pipe: no header line (15.11)
    assert row.split("\t")[2] == NOT_CREATED
    assert "safe to create again" in row
    assert emulator.tasks() == []


def test_recover_after_the_process_was_killed(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    # A process that recorded its intent, sent the create and died before the answer.
    emulator = fast_retries.emulator
    emulator.inject(Fault.delay(30, on="create"))
    process = subprocess.Popen(
        [sys.executable, "-m", "mivid", "create", image, "--prompt", "waves"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not emulator.tasks() and time.monotonic() < deadline:
            time.sleep(0.02)
        with Journal.open() as journal:
            (entry,) = journal.entries()
        assert entry.status == SENDING
        pending = mivid("recover", "--json")
        assert json.loads(pending.stdout)[0]["outcome"] == "in progress"
    finally:
        process.kill()
        process.wait()
    result = mivid("recover", "--json")
    assert result.exit_code == 0, result
    (task,) = emulator.tasks()
    assert json.loads(result.stdout)[0]["task_id"] == task["task_id"]


def test_recover_that_cannot_reach_the_service_exits_5_and_keeps_the_entry(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    emulator = fast_retries.emulator
    emulator.inject(Fault.truncated(on="any", times=None))
    assert mivid("create", image, "--prompt", "waves").exit_code == 5
    result = mivid("recover", "--json")
    assert result.exit_code == 5, result
    assert json.loads(result.stdout)[0]["outcome"] == "still unknown"
    assert "could not be checked" in result.stderr
    with Journal.open() as journal:
        assert len(journal.entries(unsettled_only=True)) == 1


def test_recover_only_looks_at_the_current_service(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_retries.emulator.inject(Fault.html(502, on="any", times=None))
    assert mivid("create", image, "--prompt", "waves").exit_code == 5
    monkeypatch.delenv("KLING_BASE_URL")
    result = mivid("--sandbox", "recover", "--json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == []


def test_recover_table_at_80_columns_keeps_ids_whole_and_says_the_reason_once(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    """QA finding 6: the table has list's style and column rules; an id is never split, the
    long reason (with its URL) is not folded into a 13-line NOTE and then said again."""
    long_id = "shot-with-a-rather-long-external-id-0001"
    fast_retries.emulator.inject(Fault.truncated(on="any", times=None))
    assert mivid("create", image, "-p", "waves", "--external-task-id", long_id).exit_code == 5
    # Another request (the same one again would be sent under the unknown create's id).
    assert mivid("create", image, "-p", "waves again").exit_code == 5
    terminal = InProcessTerminal(["recover"], columns=80, stdin=False, env={"NO_COLOR": "1"})
    assert terminal.finish() == 5
    screen = [line for line in terminal.text().splitlines() if "trying again" not in line]
    header = screen[0].split()
    assert header[:2] == ["EXTERNAL", "ID"] and "NOTE" in header
    rows = screen[1:3]
    assert any(row.startswith(long_id + " ") for row in rows), screen
    assert all("still unknown" in row and "see the error below" in row for row in rows)
    assert all(len(line) <= 80 for line in screen[:3])
    text = terminal.text()
    assert text.count("without a complete answer — tried") == 1  # in the error line only
    assert "could not be checked: the server closed the connection" in text


def test_recover_table_shows_a_found_task_id_whole_at_80_columns(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    emulator = fast_retries.emulator
    emulator.inject(Fault.drop_after(on="create"))
    emulator.inject(Fault.error(5001, on="get", times=None))
    assert mivid("create", image, "-p", "waves", "--external-task-id", "shot-1").exit_code == 5
    emulator.clear_faults()
    (task,) = emulator.tasks()
    terminal = InProcessTerminal(["recover"], columns=80, stdin=False, env={"NO_COLOR": "1"})
    assert terminal.finish() == 0, terminal.text()
    header, row = terminal.text().splitlines()[:2]
    assert header.split() == ["EXTERNAL", "ID", "SENT", "OUTCOME", "TASK", "ID", "STATUS"]
    assert row.split() == ["shot-1", "just", "now", "found", task["task_id"], task["task_status"]]
