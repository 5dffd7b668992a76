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
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

import helpers
from helpers import Result, RunMivid, Serve, Sleepless
from imagefactory import make_png
from mivid.journal import UNKNOWN, Journal, JournalEntry
from mivid.sandbox import EmulatorServer, FakeClock, Fault
from mivid.sandbox.received import ReceivedRequest

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


def sent(server: EmulatorServer) -> list[ReceivedRequest]:
    """The creates the emulator received, in order."""
    return [r for r in server.emulator.received if r.method == "POST" and r.path == COLLECTION]


def creates(server: EmulatorServer) -> int:
    return len(sent(server))


def journal_entries() -> list[JournalEntry]:
    with Journal.open() as journal:
        return journal.entries()


@dataclass
class Runs:
    """Runs of `mivid` on the sleepless clock against an emulator slow to show new tasks."""

    mivid: RunMivid
    serve: Serve
    fake_clock: FakeClock
    sleepless: Sleepless
    image: Path

    def slow_to_show(self, seconds: float) -> EmulatorServer:
        return helpers.slow_to_show(self.serve, self.fake_clock, seconds)

    def create(self, *options: str, prompt: str = "hello") -> Result:
        """`mivid create IMAGE --prompt PROMPT OPTIONS`."""
        return self.mivid(
            "create", str(self.image), "--prompt", prompt, *options, clock=self.sleepless
        )

    def __call__(self, *args: str) -> Result:
        return self.mivid(*args, clock=self.sleepless)


@pytest.fixture
def runs(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, sleepless: Sleepless, tmp_path: Path
) -> Runs:
    return Runs(mivid, serve, fake_clock, sleepless, make_png(tmp_path / "front.png"))


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_an_accepted_create_without_a_task_id_stays_unknown_and_points_to_recover(
    runs: Runs, answer: str
) -> None:
    server = runs.slow_to_show(600)
    # The task is made (and billed), the answer says nothing usable.
    server.emulator.inject(accepted(ANSWERS[answer]))
    result = runs.create()
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
    pending = runs("recover", "--json")
    (settled,) = json.loads(pending.stdout)
    assert settled["outcome"] == "still unknown", pending
    assert "accepted this create" in settled["note"]
    runs.fake_clock.advance(600)
    settled = runs("recover", "--json")
    assert settled.exit_code == 0, settled
    (task,) = server.emulator.tasks()
    assert task["task_id"] in settled.stdout
    (entry,) = journal_entries()
    assert entry.task_id == task["task_id"]
    assert creates(server) == 1


def test_the_warning_gives_the_command_to_look_that_works_pasted(
    runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warning said "…looking the task up by its external id before trying again": no
    command, and nothing is tried again after an accepted create. It now ends with the
    command to look yourself, carrying the global options in force (here --base-url)."""
    server = runs.slow_to_show(600)
    server.emulator.inject(accepted({}))
    monkeypatch.delenv("KLING_BASE_URL")  # the service only as a flag, lost if not carried
    result = runs("--base-url", server.url, "create", str(runs.image), "--prompt", "hello")
    assert result.exit_code == 5, result
    (entry,) = journal_entries()
    external = entry.external_task_id
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    look = f"mivid --base-url {server.url} get {external}"
    assert warning.endswith(
        f"looking the task up by its external id before anything is sent again "
        f"(to look yourself: {look})"
    ), warning
    runs.fake_clock.advance(600)  # the task shows now
    words = shlex.split(warning.split("to look yourself: ", 1)[1].removesuffix(")"))
    assert words[0] == "mivid"
    pasted = runs(*words[1:])
    assert pasted.exit_code == 0, pasted
    (task,) = server.emulator.tasks()
    assert task["task_id"] in pasted.stdout
    assert creates(server) == 1
    # Seen by its external id, the create is settled as recover would (a newcomer found it
    # left `unknown`, and `get` showing no prompt).
    (entry,) = journal_entries()
    assert (entry.task_id, entry.status) == (task["task_id"], task["task_status"])
    assert "hello" in runs(*words[1:]).stdout  # the journal's prompt, now that it knows the task


def test_a_plain_rerun_reuses_the_unknown_external_id_and_is_never_billed_twice(runs: Runs) -> None:
    server = runs.slow_to_show(600)
    server.emulator.inject(accepted({}))
    first = runs.create()
    assert first.exit_code == 5, first
    (entry,) = journal_entries()
    external = entry.external_task_id

    # The same create again, as a person would after such an error: the service already has
    # a task under that id (still invisible), so it refuses the resend and bills nothing.
    again = runs.create()
    assert again.exit_code == 5, again
    assert f"under that send's external id `{external}`" in again.stderr
    assert f"mivid get {external}" in again.stderr
    assert "try again later" not in again.stderr
    assert creates(server) == 2
    assert {r.json["external_task_id"] for r in sent(server)} == {external}
    assert len(server.emulator.tasks()) == 1
    (entry,) = journal_entries()
    assert entry.status == UNKNOWN and entry.external_task_id == external
    assert entry.accepted  # so recover, asked too soon, still does not say "not created"
    early = runs("recover", "--json")
    (settled,) = json.loads(early.stdout)
    assert settled["outcome"] == "still unknown", early

    # Once the task shows, a third run finds it and sends nothing.
    runs.fake_clock.advance(600)
    third = runs.create("--json")
    assert third.exit_code == 0, third
    (task,) = server.emulator.tasks()
    assert json.loads(third.stdout)["task_id"] == task["task_id"]
    assert "nothing sent" in third.stderr
    assert creates(server) == 2


def test_a_rerun_that_finds_the_earlier_task_returns_it(runs: Runs) -> None:
    server = runs.slow_to_show(30)
    server.emulator.inject(accepted(None))
    first = runs.create()
    assert first.exit_code == 5, first
    runs.fake_clock.advance(60)
    again = runs.create("--quiet")
    assert again.exit_code == 0, again
    (task,) = server.emulator.tasks()
    assert again.stdout == f"{task['task_id']}\n"
    assert creates(server) == 1


def test_another_request_or_a_named_id_is_sent_as_its_own_task(runs: Runs) -> None:
    server = runs.slow_to_show(0)
    server.emulator.inject(accepted({}))
    server.emulator.inject(Fault.error(1201, on="get", times=None))  # never found
    first = runs.create()
    assert first.exit_code == 5, first
    other = runs.create("--quiet", prompt="another")
    assert other.exit_code == 0, other
    named = runs.create("--external-task-id", "mine-1", "--quiet")
    assert named.exit_code == 0, named
    assert len({r.json["external_task_id"] for r in sent(server)}) == 3
    assert len(server.emulator.tasks()) == 3


def test_a_lost_answer_whose_task_shows_late_stays_unknown_and_a_rerun_pays_once(
    runs: Runs,
) -> None:
    """A 5000 after the task was made, the task shown only after the lookups gave up: not
    found yet is no proof, so the create stays unknown and the same create again is sent
    under the same external id (refused as a duplicate: one task)."""
    server = runs.slow_to_show(600)
    server.emulator.inject(Fault.error(5000, on="create", after=True, times=None))
    first = runs.create()
    assert first.exit_code == 5, first
    assert "mivid recover" in first.stderr
    (entry,) = journal_entries()
    assert entry.status == UNKNOWN
    again = runs.create()
    assert again.exit_code == 5, again
    assert {r.json["external_task_id"] for r in sent(server)} == {entry.external_task_id}
    assert len(server.emulator.tasks()) == 1


def test_the_pause_after_a_send_that_may_have_made_the_task_says_a_look_up_follows(
    runs: Runs,
) -> None:
    """A newcomer read "…; trying again in 0.3 s" right after "looking the task up … before
    anything is sent again" as the paid create going out twice: the pause now says what
    follows it, a look-up (and the look-ups' own pauses say "looking again")."""
    server = runs.slow_to_show(0)
    server.emulator.inject(Fault.drop_after(on="create"))  # made, and the answer lost
    result = runs("-v", "create", str(runs.image), "--prompt", "hello", "-q")
    assert result.exit_code == 0, result
    pauses = [line for line in result.stderr.splitlines() if " s (attempt " in line]
    assert pauses, result.stderr
    assert "looking the task up by its external id in " in pauses[0], pauses
    assert not any("trying again in" in line for line in pauses), pauses
    (task,) = server.emulator.tasks()
    assert result.stdout.strip() == task["task_id"]
    assert creates(server) == 1
