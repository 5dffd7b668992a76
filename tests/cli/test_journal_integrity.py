"""The journal of creates keeps what was paid for (issue 13, points 2, 5, 8, 9 and 10).

It never overwrites an entry that has a task, never lets another service's
answers rewrite it, keeps a create that may have happened `unknown` until a
lookup settles it, never hides a paid create behind its own trouble, and a
journal that cannot be used stops `create` and `batch` before anything is sent
while the read-only commands go on without it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import Serve
from helpers import RunMivid, Sleepless
from imagefactory import make_png
from mivid.journal import UNKNOWN, Journal
from mivid.sandbox import Emulator, EmulatorServer, FakeClock, Fault

COLLECTION = "/v1/videos/multi-image2video"


@pytest.fixture
def api(serve: Serve, fake_clock: FakeClock) -> EmulatorServer:
    emulator = Emulator(
        access_keys={"test-ak": "test-sk"},
        clock=fake_clock,
        processing_after=1,
        succeed_after=5,
        keep_bodies=True,
    )
    return serve(emulator)


@pytest.fixture
def image(tmp_path: Path) -> str:
    return str(make_png(tmp_path / "front.png"))


def posts(server: EmulatorServer) -> int:
    return sum(1 for r in server.emulator.received if r.method == "POST")


def journal_path() -> Path:
    return Path.home() / ".local" / "state" / "mivid" / "journal.sqlite3"


def only_entry() -> Any:
    with Journal.open() as journal:
        (entry,) = journal.entries()
    return entry


# -- 13.2: reusing --external-task-id never wipes a paid task's record ----------------------


def test_an_external_id_the_journal_holds_for_another_request_is_refused_before_sending(
    mivid: RunMivid, api: EmulatorServer, image: str, sleepless: Sleepless, tmp_path: Path
) -> None:
    first = mivid(
        "create", image, "--prompt", "a cat", "--external-task-id", "shot-1", "-q", clock=sleepless
    )
    assert first.exit_code == 0, first
    task_id = first.stdout.strip()
    again = mivid(
        "create", image, "--prompt", "a dog", "--external-task-id", "shot-1", clock=sleepless
    )
    assert again.exit_code == 4, again  # as the service's own refusal of a taken id (issue 12)
    first_line = again.stderr.splitlines()[0]
    assert first_line.startswith(
        f"error: external id `shot-1` is already used by task {task_id} of another request ("
    )
    assert first_line.endswith("nothing sent — see it with: mivid get shot-1")
    assert again.stdout == ""
    assert posts(api) == 1
    entry = only_entry()
    assert (entry.task_id, entry.request["prompt"]) == (task_id, "a cat")
    # The sidecar written later still knows the prompt that was paid for.
    sleepless.sleep(10)
    saved = mivid("download", "shot-1", "-o", str(tmp_path / "v"), clock=sleepless)
    assert saved.exit_code == 0, saved
    sidecar = json.loads((tmp_path / "v" / f"{task_id}.json").read_text())
    assert sidecar["prompt"] == "a cat"


def test_the_same_create_again_shows_its_task_and_sends_nothing(
    mivid: RunMivid, api: EmulatorServer, image: str, sleepless: Sleepless
) -> None:
    args = ("create", image, "--prompt", "a cat", "--external-task-id", "shot-1", "-q")
    first = mivid(*args, clock=sleepless)
    again = mivid(*args, clock=sleepless)
    assert again.exit_code == 0, again
    assert again.stdout == first.stdout
    assert "was sent before and made task" in again.stderr
    assert posts(api) == 1


def test_the_same_external_id_in_the_sandbox_and_at_the_service_are_two_entries(
    mivid: RunMivid, api: EmulatorServer, image: str, sleepless: Sleepless
) -> None:
    args = ("create", image, "--prompt", "a cat", "--external-task-id", "shot-1", "-q")
    tried = mivid("--sandbox", *args, env={"MIVID_SANDBOX_TASK_SECONDS": "0.01"})
    assert tried.exit_code == 0, tried
    real = mivid(*args, clock=sleepless)
    assert real.exit_code == 0, real
    assert posts(api) == 1
    with Journal.open() as journal:
        entries = journal.entries()
    assert sorted(e.sandbox for e in entries) == [False, True]
    assert {e.task_id for e in entries} == {tried.stdout.strip(), real.stdout.strip()}


# -- 13.5: a lost answer, then a refused resend: unknown until a lookup settles it -----------


def test_a_lost_answer_and_a_refused_resend_stay_unknown_until_recover_finds_the_task(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, image: str, sleepless: Sleepless
) -> None:
    # The lost send made the task, and the service shows it only after a long while.
    emulator = Emulator(access_keys={"test-ak": "test-sk"}, clock=fake_clock, invisible_for=600)
    server = serve(emulator)
    emulator.inject(Fault.drop_after(on="create"))
    result = mivid("create", image, "--prompt", "waves", clock=sleepless)
    assert result.exit_code == 5, result
    assert "mivid recover" in result.stderr
    assert posts(server) == 2  # the resend was refused as a duplicate: one task, one bill
    assert len(emulator.tasks()) == 1
    entry = only_entry()
    assert (entry.status, entry.task_id) == (UNKNOWN, None)

    sleepless.sleep(600)
    settled = mivid("recover", "--json", clock=sleepless)
    assert settled.exit_code == 0, settled
    (row,) = json.loads(settled.stdout)
    assert (row["outcome"], row["task_id"]) == ("found", emulator.tasks()[0]["task_id"])


# -- 13.8: whatever fails after the service accepted a create, the task is shown ------------


def fill_the_journals_disk(when: str = "UPDATE") -> None:
    """From now on every change to an entry fails as a full disk would (a new one still goes in).

    SQLite's own words for SQLITE_FULL, which a full disk and a file over `ulimit -f`
    (EFBIG) both give; `when="INSERT"`: a new entry cannot go in either.
    """
    with Journal.open():
        pass  # made with its tables
    connection = sqlite3.connect(journal_path())
    connection.execute(
        f"CREATE TRIGGER full BEFORE {when} ON creates "
        "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
    )
    connection.commit()
    connection.close()


def test_a_journal_that_fails_after_the_create_never_hides_the_paid_task(
    mivid: RunMivid, api: EmulatorServer, image: str, sleepless: Sleepless
) -> None:
    fill_the_journals_disk()
    result = mivid("create", image, "--prompt", "waves", "--json", clock=sleepless)
    assert result.exit_code == 0, result
    (task,) = api.emulator.tasks()
    assert json.loads(result.stdout)["task_id"] == task["task_id"]
    assert (
        f"warning: task {task['task_id']} was created, but the journal could not record it "
        "(database or disk is full)"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_batch_goes_on_when_its_journal_cannot_record_the_paid_tasks(
    mivid: RunMivid, api: EmulatorServer, image: str, sleepless: Sleepless, tmp_path: Path
) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(
        "".join(json.dumps({"images": [image], "prompt": p}) + "\n" for p in ("a", "b"))
    )
    fill_the_journals_disk()
    result = mivid("batch", str(jobs), "-d", str(tmp_path / "v"), clock=sleepless)
    assert result.exit_code == 0, result  # every task succeeded and was saved
    tasks = api.emulator.tasks()
    assert len(tasks) == 2
    for task in tasks:
        said = (
            f"warning: task {task['task_id']} was created, but the journal could not record "
            "it (database or disk is full)"
        )
        assert result.stderr.count(said) == 1, result.stderr  # once, not at every status
        assert f"\t{task['task_id']}\tsucceed\t" in result.stdout
        assert (tmp_path / "v" / f"{task['task_id']}.mp4").exists()
    assert "error" not in result.stderr and "Traceback" not in result.stderr


def test_a_journal_too_full_for_a_new_entry_sends_nothing_and_says_to_free_space(
    mivid: RunMivid, api: EmulatorServer, image: str, sleepless: Sleepless
) -> None:
    fill_the_journals_disk("INSERT")
    result = mivid("create", image, "--prompt", "waves", clock=sleepless)
    assert result.exit_code == 2, result
    assert posts(api) == 0
    assert "cannot be used: database or disk is full" in result.stderr
    assert "free some space on its disk (or raise `ulimit -f`)" in result.stderr
    assert "mv " not in result.stderr  # a sound journal: moving it aside would lose it


def test_recover_shows_the_task_it_found_when_the_journal_cannot_record_it(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, image: str, sleepless: Sleepless
) -> None:
    emulator = Emulator(access_keys={"test-ak": "test-sk"}, clock=fake_clock, invisible_for=600)
    serve(emulator)
    emulator.inject(Fault.drop_after(on="create"))
    assert mivid("create", image, "--prompt", "waves", clock=sleepless).exit_code == 5
    fill_the_journals_disk()
    sleepless.sleep(600)
    result = mivid("recover", clock=sleepless)
    assert result.exit_code == 74, result  # a local file could not be written
    (task,) = emulator.tasks()
    task_id = task["task_id"]
    assert f"\tfound\t{task_id}\t" in result.stdout
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert f"(found: task {task_id}): database or disk is full" in line
    assert "run recover again" in result.stderr


def test_create_wait_json_names_the_paid_task_when_what_follows_fails(
    mivid: RunMivid, api: EmulatorServer, image: str, sleepless: Sleepless, tmp_path: Path
) -> None:
    api.emulator.inject(Fault.html(404, on="video", times=None))
    result = mivid(
        "create",
        image,
        "--prompt",
        "waves",
        "--wait",
        "--json",
        "-d",
        str(tmp_path / "v"),
        clock=sleepless,
    )
    assert result.exit_code == 4, result
    (task,) = api.emulator.tasks()
    assert f"task {task['task_id']} was created; follow it: mivid wait {task['task_id']}" in (
        result.stderr
    )


# -- 13.9: a journal that cannot be used ----------------------------------------------------

Breaker = Callable[[Path], None]


def random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def a_folder(path: Path) -> None:
    path.mkdir()


def another_programs_database(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE contacts (name TEXT)")
    connection.commit()
    connection.close()


def a_wrong_schema(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE creates (id INTEGER PRIMARY KEY, what TEXT)")
    connection.commit()
    connection.close()


def a_named_pipe(path: Path) -> None:
    os.mkfifo(path)  # reading one would wait forever


def unreadable(path: Path) -> None:
    path.write_bytes(b"")
    path.chmod(0)


BROKEN: dict[str, Breaker] = {
    "random bytes": random_bytes,
    "a folder": a_folder,
    "another program's database": another_programs_database,
    "a wrong schema": a_wrong_schema,
    "a named pipe": a_named_pipe,
    "mode 000": unreadable,
}


@pytest.fixture(params=list(BROKEN))
def broken_journal(request: pytest.FixtureRequest) -> Path:
    if request.param == "mode 000" and os.geteuid() == 0:
        pytest.skip("root reads a file of mode 000")
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    BROKEN[request.param](path)
    return path


def test_create_and_batch_send_nothing_while_the_journal_cannot_be_used(
    mivid: RunMivid,
    api: EmulatorServer,
    image: str,
    broken_journal: Path,
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"images": ["front.png"], "prompt": "one"}\n')
    for args in (("create", image, "--prompt", "waves"), ("batch", str(jobs))):
        result = mivid(*args, clock=sleepless)
        assert result.exit_code == 2, result
        first, hint = result.stderr.splitlines()[:2]
        assert first.startswith(f"error: the journal of creates {broken_journal} cannot be used: ")
        assert f"mv {broken_journal} {broken_journal}.broken" in hint
        assert "--no-journal" in hint
    assert api.emulator.received == []
    sent = mivid("create", image, "--prompt", "waves", "--no-journal", "-q", clock=sleepless)
    assert sent.exit_code == 0, sent
    batch = mivid("batch", str(jobs), "--no-journal", clock=sleepless)
    assert batch.exit_code == 0, batch
    assert len(api.emulator.tasks()) == 2


def test_the_read_only_commands_go_on_without_a_journal_that_cannot_be_used(
    mivid: RunMivid, api: EmulatorServer, image: str, sleepless: Sleepless, tmp_path: Path
) -> None:
    made = mivid("create", image, "--prompt", "waves", "-q", clock=sleepless)
    task_id = made.stdout.strip()
    sleepless.sleep(10)
    path = journal_path()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    random_bytes(path)
    warning = f"warning: the journal of creates {path} cannot be read"
    for args in (
        ("get", task_id),
        ("list",),
        ("wait", task_id),
        ("download", task_id, "-o", str(tmp_path / "v")),
        ("open", task_id, "--print", "--dir", str(tmp_path)),
    ):
        result = mivid(*args, clock=sleepless)
        assert result.exit_code == 0, (args, result)
        assert result.stderr.count(warning) == 1, (args, result)
    for args in (("list", "--local"), ("recover",), ("spent",)):
        result = mivid(*args, clock=sleepless)
        assert result.exit_code == 2, (args, result)
        assert f"the journal of creates {path} cannot be used" in result.stderr
        assert "mv " in result.stderr, (args, result)  # move it aside
        # Nothing is sent here: how to send without a journal is no help.
        assert "--no-journal" not in result.stderr, (args, result)


def test_a_row_of_bad_json_is_read_as_empty_and_stops_nothing(
    mivid: RunMivid, api: EmulatorServer, image: str, sleepless: Sleepless
) -> None:
    made = mivid("create", image, "--prompt", "waves", "-q", clock=sleepless)
    task_id = made.stdout.strip()
    connection = sqlite3.connect(journal_path())
    connection.execute("UPDATE creates SET request = '{not json', images = '[1, 2'")
    connection.commit()
    connection.close()
    for args in (("get", task_id), ("list",), ("list", "--local"), ("recover",)):
        result = mivid(*args, clock=sleepless)
        assert result.exit_code == 0, (args, result)
        assert "Traceback" not in result.stderr


# -- 13.10: another service's answers never rewrite the journal ------------------------------


def test_a_task_of_the_same_id_at_another_service_leaves_the_entry_alone(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    image: str,
    sleepless: Sleepless,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    same = "867283741759111202"
    mine = serve(Emulator(access_keys={"test-ak": "test-sk"}, clock=fake_clock, task_ids=[same]))
    done = mivid("create", image, "--prompt", "waves", "--wait", "-q", clock=sleepless)
    assert done.exit_code == 0, done
    other = Emulator(access_keys={"test-ak": "test-sk"}, clock=fake_clock, task_ids=[same])
    elsewhere = serve(other)  # KLING_BASE_URL now points there
    elsewhere_made = mivid(
        "create",
        image,
        "--prompt",
        "waves [fail]",
        "--external-task-id",
        "there",
        "--wait",
        clock=sleepless,
    )
    assert elsewhere_made.exit_code == 1  # its task of the same id failed
    for args in (("list",), ("get", same), ("wait", same)):
        mivid(*args, clock=sleepless)
    with Journal.open() as journal:
        entry = journal.find(same, service=mine.url)
    assert entry is not None and entry.status == "succeed"
    assert elsewhere.url != mine.url
    monkeypatch.setenv("KLING_BASE_URL", mine.url)
    local = mivid("list", "--local", "--json", clock=sleepless)
    statuses = sorted((row["service"], row["status"]) for row in json.loads(local.stdout))
    assert statuses == sorted([(mine.url, "succeed"), (elsewhere.url, "failed")])
