"""The journal's layout has a version, and an older journal migrates losing nothing.

`fixtures/journal-v0.1.0-2ab2781.sql` is the SQL dump of a journal made by
running the 0.1.0 release (commit 2ab2781): sandbox creates, a lost answer
(unknown) and a refusal (not created). `fixtures/journal-v1-6367437.sql` is one
of layout 1 (each entry's endpoint, no deductions), made by running main at 6367437.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from mivid.app import Streams
from mivid.cli import run
from mivid.endpoints import MULTI_IMAGE
from mivid.journal import SCHEMA_VERSION, Journal

FIXTURE = Path(__file__).parent / "fixtures" / "journal-v0.1.0-2ab2781.sql"
LAYOUT_1 = Path(__file__).parent / "fixtures" / "journal-v1-6367437.sql"


def old_journal(path: Path, fixture: Path = FIXTURE) -> Path:
    connection = sqlite3.connect(path)
    connection.executescript(fixture.read_text())
    connection.close()
    return path


def rows(path: Path) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            "SELECT external_task_id, task_id, status, created, updated, request, images, "
            "service, sandbox, mivid_version, error, host, pid FROM creates ORDER BY rowid"
        ).fetchall()
    finally:
        connection.close()


def test_a_0_1_0_journal_migrates_losing_nothing(tmp_path: Path) -> None:
    path = old_journal(tmp_path / "journal.sqlite3")
    before = rows(path)
    assert len(before) == 5
    with Journal.open(path) as journal:
        entries = journal.entries()
    assert rows(path) == before  # every column of every row, as it was
    assert {entry.endpoint for entry in entries} == {MULTI_IMAGE.name}
    assert all(entry.api is MULTI_IMAGE for entry in entries)
    (version,) = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()
    assert version == SCHEMA_VERSION
    by_id = {entry.external_task_id: entry for entry in entries}
    assert by_id["my-own-id"].request["mode"] == "pro"
    assert by_id["my-own-id"].request["prompt"] == "tab\tand newline\nprompt"
    assert by_id["lost-1"].status == "unknown" and by_id["lost-1"].task_id is None
    assert by_id["mivid-c863acade81e44709d33"].status == "not created"


def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    path = old_journal(tmp_path / "journal.sqlite3")
    Journal.open(path).close()
    once = rows(path)
    Journal.open(path).close()
    assert rows(path) == once


def indexes(path: Path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        found = connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {name for (name,) in found.fetchall()}
    finally:
        connection.close()


def test_an_old_journal_gains_the_index_a_page_of_list_local_reads(tmp_path: Path) -> None:
    """`list --local` reads one page through it, however many creates the journal holds."""
    old = old_journal(tmp_path / "old.sqlite3")
    Journal.open(old).close()
    new = tmp_path / "new.sqlite3"
    Journal.open(new).close()
    assert indexes(old) == indexes(new) >= {"creates_sandbox_created"}
    plan = sqlite3.connect(old).execute(
        "EXPLAIN QUERY PLAN SELECT * FROM creates WHERE sandbox = 1 "
        "ORDER BY created DESC, rowid DESC LIMIT 30"
    )
    assert "creates_sandbox_created" in str(plan.fetchall())


def schema(path: Path) -> dict[str, str]:
    connection = sqlite3.connect(path)
    try:
        found = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        return {name: " ".join(sql.split()) for name, sql in found.fetchall()}
    finally:
        connection.close()


def test_an_old_journal_gains_the_table_of_saved_videos_a_new_one_has(tmp_path: Path) -> None:
    """Layout 5: where each video was last saved (`mivid open ID` from any folder), a table of
    its own beside the creates; an old journal migrated and a new one hold the same."""
    old = old_journal(tmp_path / "old.sqlite3")
    with Journal.open(old) as journal:
        assert journal.saved_path("867283741759111202") is None
        journal.record_saved({"867283741759111202": tmp_path / "a.mp4"}, service="https://x/")
        journal.record_saved({"867283741759111202": tmp_path / "b.mp4"}, service="https://x")
        assert journal.saved_path("867283741759111202") == tmp_path / "b.mp4"  # the latest
        assert journal.saved_path("867283741759111202", service="https://y") is None
    new = tmp_path / "new.sqlite3"
    Journal.open(new).close()
    assert schema(old)["saved"] == schema(new)["saved"]


def test_a_new_journal_has_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    Journal.open(path).close()
    (version,) = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()
    assert version == SCHEMA_VERSION


def test_the_cli_lists_an_old_journal_offline() -> None:
    state = Path.home() / ".local" / "state" / "mivid"
    state.mkdir(parents=True)
    old_journal(state / "journal.sqlite3")
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(
        ["--sandbox", "list", "--local", "--json"],
        streams=Streams(io.StringIO(), stdout, stderr),
    )
    assert code == 0, stderr.getvalue()
    listed = json.loads(stdout.getvalue())
    assert [item["external_task_id"] for item in listed] == [
        "mivid-5f2d57f76bec3af64cbb",
        "my-own-id",
        "mivid-b319856a985b1c8f1b4e",
    ]
    assert {item["endpoint"] for item in listed} == {"multi-image"}


def test_a_layout_1_journal_migrates_with_deductions_unknown_until_seen(tmp_path: Path) -> None:
    path = old_journal(tmp_path / "journal.sqlite3", LAYOUT_1)
    before = rows(path)
    assert len(before) == 3
    with Journal.open(path) as journal:
        entries = journal.entries()
        assert rows(path) == before  # every column of every row, as it was
        assert [(entry.units, entry.made_from) for entry in entries] == [(None, None)] * 3
        done = next(entry for entry in entries if entry.status == "succeed")
        assert journal.record_task(
            {"task_id": done.task_id, "task_status": "succeed", "final_unit_deduction": "2.20"},
            service=done.service,
        )
        assert journal.find(str(done.task_id)).units == "2.2"  # type: ignore[union-attr]
        # A later sighting without a deduction does not erase the one known.
        journal.record_task(
            {"task_id": done.task_id, "task_status": "succeed"}, service=done.service
        )
        assert journal.find(str(done.task_id)).units == "2.2"  # type: ignore[union-attr]
    (version,) = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()
    assert version == SCHEMA_VERSION == 5


def test_spent_reads_a_migrated_journal_naming_what_it_does_not_know() -> None:
    state = Path.home() / ".local" / "state" / "mivid"
    state.mkdir(parents=True)
    old_journal(state / "journal.sqlite3", LAYOUT_1)
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(
        ["--sandbox", "spent", "--since", "2026-01-01", "--json"],
        streams=Streams(io.StringIO(), stdout, stderr),
    )
    assert code == 0, stderr.getvalue()
    spent = json.loads(stdout.getvalue())
    assert (spent["tasks"], spent["units"]) == (2, "0")  # the succeeded one and the failed one
    assert (spent["without_deduction"], spent["running"]) == (1, 1)
