"""`list --local --all` and `spent` read the journal as a stream: every entry, in order, in
every form, however many pages of rows it takes (a journal of 50,000 creates is never held
whole: `benchmarks/run.py --only local` measures the memory)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from helpers import RunMivid, environment, mivid_popen
from imagefactory import make_png
from mivid.journal import default_path
from mivid.sandbox import EmulatorServer, FakeClock

#: More rows than the journal reads at once (500), and not a multiple of it.
COPIES = 1234


@pytest.fixture
def big_journal(
    mivid: RunMivid, kling_env: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> list[str]:
    """A journal of one real create and COPIES copies of it, one a minute back; their task ids
    newest first."""
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    made = mivid("create", str(make_png(tmp_path / "front.png")), "--prompt", "waves", "--json")
    assert made.exit_code == 0, made
    with sqlite3.connect(default_path()) as connection:
        (created,) = connection.execute("SELECT created FROM creates").fetchone()
        connection.execute(
            "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < ?) "
            "INSERT INTO creates (external_task_id, task_id, status, created, request, images, "
            "service, mivid_version, error, sandbox, updated, host, pid, endpoint, units, "
            "made_from) SELECT 'copy-' || n, printf('%d', 500000000000000000 + n), "
            "'succeed', created - 60 * n, request, images, service, mivid_version, error, "
            "sandbox, updated - 60 * n, host, pid, endpoint, units, made_from "
            "FROM k, (SELECT * FROM creates LIMIT 1)",
            (COPIES,),
        )
    assert created
    return [json.loads(made.stdout)["task_id"]] + [
        str(500000000000000000 + n) for n in range(1, COPIES + 1)
    ]


def test_list_local_all_writes_every_entry_in_order_in_every_form(
    mivid: RunMivid, big_journal: list[str]
) -> None:
    lines = mivid("list", "--local", "--all")
    assert lines.exit_code == 0, lines
    assert [line.split("\t")[0] for line in lines.stdout.splitlines()] == big_journal

    ids = mivid("list", "--local", "--all", "-q")
    assert ids.stdout.split() == big_journal

    as_json = mivid("list", "--local", "--all", "--json")
    assert as_json.exit_code == 0, as_json
    assert [entry["task_id"] for entry in json.loads(as_json.stdout)] == big_journal

    page = mivid("list", "--local", "--page", "3", "--page-size", "500", "-q")
    assert page.stdout.split() == big_journal[1000:1235]


def test_spent_adds_up_every_entry(mivid: RunMivid, big_journal: list[str]) -> None:
    spent = mivid("spent", "--since", "30d", "--json")
    assert spent.exit_code == 0, spent
    report = json.loads(spent.stdout)
    # One a minute back from now: every copy is within the 30 days, and ended; the create
    # they copy was still running when the journal last heard of it.
    assert (report["tasks"], report["running"]) == (COPIES, 1), report
    assert sum(day["tasks"] for day in report["days"]) == COPIES


def test_a_reader_that_stops_early_leaves_no_traceback(big_journal: list[str]) -> None:
    """The stream's cursor is closed before the journal is (it was closed later, by the
    garbage collector, on a closed database: "Exception ignored … each_entry")."""
    for args in (["list", "--local", "--all"], ["list", "--local", "--all", "--json"]):
        with mivid_popen(*args, env=environment()) as process:
            assert process.stdout is not None and process.stderr is not None
            first = process.stdout.readline()
            process.stdout.close()
            stderr = process.stderr.read()
            assert process.wait(timeout=60) == 0, stderr
        assert first.strip(), stderr
        assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


@pytest.mark.parametrize("created", [1e308, -1e308, 9e15])
def test_a_time_no_clock_could_write_is_read_as_a_damaged_row(
    mivid: RunMivid, big_journal: list[str], created: float
) -> None:
    with sqlite3.connect(default_path()) as connection:
        connection.execute(
            "UPDATE creates SET created = ? WHERE task_id = ?", (created, big_journal[5])
        )
    for args in (("list", "--local"), ("list", "--local", "--json"), ("spent", "--json")):
        result = mivid(*args)
        assert result.exit_code == 0, result
