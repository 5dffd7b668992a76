"""A create the service accepted (code 0) whose answer holds no usable task id: never paid twice.

The service said yes, so the task almost surely exists even while queries by its
external id still say "not found" (the live service shows new tasks after a
moment). The journal keeps the create `unknown`, the error says it may have been
made and names `mivid get <external id>` and `mivid recover` (never "try again
later"), and a plain rerun of the same create sends it under the same external id,
so the service refuses a second task instead of billing it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conftest import Serve
from helpers import RunMivid, Sleepless
from imagefactory import make_png
from mivid.journal import UNKNOWN, Journal, JournalEntry
from mivid.sandbox import Emulator, EmulatorServer, FakeClock, Fault

COLLECTION = "/v1/videos/multi-image2video"

#: What came in place of a task in a code-0 answer (the value of "data"; None: no "data" at all).
ANSWERS: dict[str, object] = {
    "no data": None,
    "data {}": {},
    "data null": "null",
    "data []": [],
    "task_id null": {"task_id": None, "task_status": "submitted"},
    "task_id empty": {"task_id": "", "task_status": "submitted"},
    "task_id blank": {"task_id": "  ", "task_status": "submitted"},
}


def accepted_body(data: object) -> bytes:
    envelope: dict[str, object] = {"code": 0, "message": "SUCCEED", "request_id": "req-7"}
    if data == "null":
        envelope["data"] = None
    elif data is not None:
        envelope["data"] = data
    return json.dumps(envelope).encode()


def accepted(data: object) -> Fault:
    """The create is processed (the task made, and billed); its 200 answer carries `data`."""
    return Fault.raw(
        200, {"Content-Type": "application/json"}, accepted_body(data), on="create", after=True
    )


def slow_to_show(serve: Serve, fake_clock: FakeClock, seconds: float) -> EmulatorServer:
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    return serve(
        Emulator(
            access_keys={"test-ak": "test-sk"},
            clock=fake_clock,
            answers="live",
            invisible_for=seconds,
        )
    )


def creates(server: EmulatorServer) -> int:
    return sum(1 for r in server.emulator.received if r.method == "POST" and r.path == COLLECTION)


def journal_entries() -> list[JournalEntry]:
    with Journal.open() as journal:
        return journal.entries()


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_an_accepted_create_without_a_task_id_stays_unknown_and_points_to_recover(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    sleepless: Sleepless,
    tmp_path: Path,
    answer: str,
) -> None:
    server = slow_to_show(serve, fake_clock, 600)
    # The task is made (and billed), the answer says nothing usable.
    server.emulator.inject(accepted(ANSWERS[answer]))
    image = make_png(tmp_path / "front.png")
    result = mivid("create", str(image), "--prompt", "hello", clock=sleepless)
    assert result.exit_code == 5, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (entry,) = journal_entries()
    assert entry.status == UNKNOWN and entry.task_id is None
    external = entry.external_task_id
    assert "the service accepted the create" in result.stderr
    assert "may well have been made" in result.stderr
    assert f"mivid get {external}" in result.stderr
    assert "mivid recover" in result.stderr
    assert "try again later" not in result.stderr
    assert "(empty body)" not in result.stderr
    assert "submitted\t" not in result.stdout and "mivid wait ''" not in result.stderr
    assert creates(server) == 1
    assert len(server.emulator.tasks()) == 1

    # Following the hint: recover keeps looking by the external id, and finds it once visible.
    pending = mivid("recover", "--json", clock=sleepless)
    (settled,) = json.loads(pending.stdout)
    assert settled["outcome"] == "still unknown", pending
    assert "accepted this create" in settled["note"]
    fake_clock.advance(600)
    settled = mivid("recover", "--json", clock=sleepless)
    assert settled.exit_code == 0, settled
    (task,) = server.emulator.tasks()
    assert task["task_id"] in settled.stdout
    (entry,) = journal_entries()
    assert entry.task_id == task["task_id"]
    assert creates(server) == 1


def test_a_plain_rerun_reuses_the_unknown_external_id_and_is_never_billed_twice(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    server = slow_to_show(serve, fake_clock, 600)
    server.emulator.inject(accepted({}))
    image = make_png(tmp_path / "front.png")
    first = mivid("create", str(image), "--prompt", "hello", clock=sleepless)
    assert first.exit_code == 5, first
    (entry,) = journal_entries()
    external = entry.external_task_id

    # The same create again, as a person would after such an error: the service already has
    # a task under that id (still invisible), so it refuses the resend and bills nothing.
    again = mivid("create", str(image), "--prompt", "hello", clock=sleepless)
    assert again.exit_code == 5, again
    assert f"under that send's external id `{external}`" in again.stderr
    assert f"mivid get {external}" in again.stderr
    assert "try again later" not in again.stderr
    sent = [r for r in server.emulator.received if r.method == "POST" and r.path == COLLECTION]
    assert len(sent) == 2
    assert {r.json["external_task_id"] for r in sent} == {external}
    assert len(server.emulator.tasks()) == 1
    (entry,) = journal_entries()
    assert entry.status == UNKNOWN and entry.external_task_id == external
    assert entry.accepted  # so recover, asked too soon, still does not say "not created"
    early = mivid("recover", "--json", clock=sleepless)
    (settled,) = json.loads(early.stdout)
    assert settled["outcome"] == "still unknown", early

    # Once the task shows, a third run finds it and sends nothing.
    fake_clock.advance(600)
    third = mivid("create", str(image), "--prompt", "hello", "--json", clock=sleepless)
    assert third.exit_code == 0, third
    (task,) = server.emulator.tasks()
    assert json.loads(third.stdout)["task_id"] == task["task_id"]
    assert "nothing sent" in third.stderr
    assert creates(server) == 2


def test_a_rerun_that_finds_the_earlier_task_returns_it(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    server = slow_to_show(serve, fake_clock, 30)
    server.emulator.inject(accepted(None))
    image = make_png(tmp_path / "front.png")
    first = mivid("create", str(image), "--prompt", "hello", clock=sleepless)
    assert first.exit_code == 5, first
    fake_clock.advance(60)
    again = mivid("create", str(image), "--prompt", "hello", "--quiet", clock=sleepless)
    assert again.exit_code == 0, again
    (task,) = server.emulator.tasks()
    assert again.stdout == f"{task['task_id']}\n"
    assert creates(server) == 1


def test_another_request_or_a_named_id_is_sent_as_its_own_task(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    server = slow_to_show(serve, fake_clock, 0)
    server.emulator.inject(accepted({}))
    server.emulator.inject(Fault.error(1201, on="get", times=None))  # never found
    image = make_png(tmp_path / "front.png")
    first = mivid("create", str(image), "--prompt", "hello", clock=sleepless)
    assert first.exit_code == 5, first
    other = mivid("create", str(image), "--prompt", "another", "--quiet", clock=sleepless)
    assert other.exit_code == 0, other
    named = mivid(
        "create",
        str(image),
        "--prompt",
        "hello",
        "--external-task-id",
        "mine-1",
        "--quiet",
        clock=sleepless,
    )
    assert named.exit_code == 0, named
    sent = [r for r in server.emulator.received if r.method == "POST" and r.path == COLLECTION]
    assert len({r.json["external_task_id"] for r in sent}) == 3
    assert len(server.emulator.tasks()) == 3


def test_a_lost_answer_whose_task_shows_late_stays_unknown_and_a_rerun_pays_once(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    """A 5000 after the task was made, the task shown only after the lookups gave up: not
    found yet is no proof, so the create stays unknown and the same create again is sent
    under the same external id (refused as a duplicate: one task)."""
    server = slow_to_show(serve, fake_clock, 600)
    server.emulator.inject(Fault.error(5000, on="create", after=True, times=None))
    image = make_png(tmp_path / "front.png")
    first = mivid("create", str(image), "--prompt", "hello", clock=sleepless)
    assert first.exit_code == 5, first
    assert "mivid recover" in first.stderr
    (entry,) = journal_entries()
    assert entry.status == UNKNOWN
    again = mivid("create", str(image), "--prompt", "hello", clock=sleepless)
    assert again.exit_code == 5, again
    sent = [r for r in server.emulator.received if r.method == "POST" and r.path == COLLECTION]
    assert {r.json["external_task_id"] for r in sent} == {entry.external_task_id}
    assert len(server.emulator.tasks()) == 1
