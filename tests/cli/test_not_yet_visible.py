"""`mivid create` in one run, `mivid wait ID` in the next, against a service slow to show new tasks.

The live service may answer "not found" for a task created moments ago. A run
that made the task itself waits through that (the client remembers its
creates); another run learns it from the journal: a task the journal heard of
less than 20 s ago that is not found is asked for again until 20 s after, then
it is "no task" (exit 4). An id the journal does not know, or made long ago, is
"no task" at once. Each `mivid(...)` call is a run of its own (a fresh client,
as a new process has), sharing only the journal on disk.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import helpers
from conftest import Serve
from helpers import RunMivid, Sleepless
from imagefactory import make_png
from mivid.sandbox import EmulatorServer, FakeClock


def gets(server: EmulatorServer) -> int:
    return sum(1 for r in server.emulator.received if r.method == "GET")


def slow_to_show(serve: Serve, fake_clock: FakeClock, seconds: float) -> EmulatorServer:
    return helpers.slow_to_show(serve, fake_clock, seconds, processing_after=1, succeed_after=3)


def created(mivid: RunMivid, tmp_path: Path, sleepless: Sleepless) -> tuple[str, str]:
    image = make_png(tmp_path / "front.png")
    made = mivid("create", str(image), "--prompt", "a cat", "--json", clock=sleepless)
    assert made.exit_code == 0, made
    task = json.loads(made.stdout)
    return task["task_id"], task["task_info"]["external_task_id"]


@pytest.mark.parametrize("by", ["task id", "external id"])
@pytest.mark.parametrize(
    "command", [("wait", "{id}"), ("get", "{id}"), ("download", "{id}", "-d", "{dir}")]
)
def test_a_task_created_by_the_run_before_is_not_yet_visible_not_missing(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    sleepless: Sleepless,
    tmp_path: Path,
    command: tuple[str, ...],
    by: str,
) -> None:
    server = slow_to_show(serve, fake_clock, 5)
    task_id, external = created(mivid, tmp_path, sleepless)
    if command[0] == "download":  # finished by the time it shows
        sleepless.sleep(1)
    ident = task_id if by == "task id" else external
    words = [w.replace("{id}", ident).replace("{dir}", str(tmp_path / "v")) for w in command]
    before = fake_clock()
    result = mivid(*words, clock=sleepless)
    assert result.exit_code == 0, result
    assert "no task" not in result.stderr
    assert task_id in result.stdout
    assert fake_clock() - before < 20  # asked again until it showed, a few seconds later
    assert gets(server) >= 2


def test_the_grace_is_bounded_then_it_is_no_task(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, sleepless: Sleepless, tmp_path: Path
) -> None:
    slow_to_show(serve, fake_clock, 600)
    task_id, _ = created(mivid, tmp_path, sleepless)
    before = fake_clock()
    result = mivid("wait", task_id, clock=sleepless)
    assert result.exit_code == 4, result
    assert f"no task `{task_id}`" in result.stderr
    assert 5 < fake_clock() - before <= 20


def test_an_id_the_journal_made_long_ago_or_never_is_no_task_at_once(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, sleepless: Sleepless, tmp_path: Path
) -> None:
    server = slow_to_show(serve, fake_clock, 600)
    task_id, _ = created(mivid, tmp_path, sleepless)
    journal = Path.home() / ".local" / "state" / "mivid" / "journal.sqlite3"
    connection = sqlite3.connect(journal)
    with connection:
        connection.execute("UPDATE creates SET created = created - 60, updated = updated - 60")
    connection.close()
    for ident in (task_id, "123456789012345678"):
        before, asked = fake_clock(), gets(server)
        result = mivid("get", ident, clock=sleepless)
        assert result.exit_code == 4, result
        assert f"no task `{ident}`" in result.stderr
        assert fake_clock() == before  # not asked again: no pause at all
        # The journal's task on its endpoint once; an unknown id on each endpoint once.
        assert gets(server) - asked == (1 if ident == task_id else 2)
