"""A hostile or broken service, seen through the real command line: what it sends never harms.

Terminal escapes in any field reach no terminal (in every form: table, lines,
ids, JSON, errors, live views, batch); NaN never makes JSON invalid.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import InProcessTerminal, RunMivid, Sleepless, environment, finished_task, run_process
from imagefactory import make_png
from mivid.sandbox import EmulatorServer, FakeClock, Fault
from mivid.sandbox.faults import TEXT_FIELDS

#: What the emulator's `Fault.control_chars` puts before each text field: clear the
#: screen, set the window title, ring the bell, return to the start of the line.
HOSTILE = "\x1b[2J\x1b]0;pwned\x07\r"
#: Each of those, as a terminal must never receive it from mivid (its own colours are fine).
ACTED_ON = ("\x1b[2J", "\x1b]0;", "\x07", "\r", "\x9b")


@pytest.fixture
def api(kling_env: EmulatorServer, fake_clock: FakeClock) -> EmulatorServer:
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    return kling_env


def assert_harmless(text: str) -> None:
    for sequence in ACTED_ON:
        assert sequence not in text, (sequence, text)


# -- 13.13: control characters in every field, every form -------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("get", "{id}"),
        ("get", "{id}", "{id}"),
        ("get", "{id}", "--json"),
        ("list",),
        ("list", "-q"),
        ("list", "--json"),
        ("wait", "{id}"),
        ("wait", "{id}", "--json"),
    ],
    ids=lambda args: " ".join(args),
)
def test_control_characters_in_every_field_reach_no_terminal(
    mivid: RunMivid,
    api: EmulatorServer,
    tmp_path: Path,
    fake_clock: FakeClock,
    args: tuple[str, ...],
) -> None:
    task_id = finished_task(mivid, tmp_path, fake_clock)
    # A spoiled status is no status `wait` knows, so it would wait for ever: spare it there.
    fields = tuple(field for field in TEXT_FIELDS if args[0] != "wait" or field != "task_status")
    if args[0] != "list":  # a query for a task id answered with another id is refused (exit 5)
        fields = tuple(field for field in fields if field != "task_id")
    api.emulator.inject(Fault.control_chars(HOSTILE + "\x9b", fields, on="any", times=None))
    result = mivid(*(arg.replace("{id}", task_id) for arg in args))
    assert result.exit_code == 0, result
    assert_harmless(result.stdout)
    assert_harmless(result.stderr)
    if "--json" in args:
        data = json.loads(result.stdout)
        first = data[0] if isinstance(data, list) else data
        assert first["task_status_msg"].startswith(HOSTILE)  # the data itself, unchanged
    else:
        assert "\\x1b[2J\\x1b]0;pwned\\x07\\x0d\\x9b" in result.stdout  # drawn, visibly


def test_control_characters_in_an_error_message_are_drawn_visibly(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    task_id = finished_task(mivid, tmp_path, fake_clock)
    # 1200, not 1201: a 1201 to a task's query is "no such task", which for a task created
    # moments ago (the journal says) means "not visible yet", and is asked again.
    api.emulator.inject(Fault.error(1200, message=f"bad {HOSTILE}\x9b31m value", on="get"))
    result = mivid("get", task_id)
    assert result.exit_code == 4, result
    assert_harmless(result.stderr)
    assert "bad \\x1b[2J\\x1b]0;pwned\\x07 \\x9b31m value" in result.stderr


def test_a_task_id_full_of_escapes_in_batch_lines_and_json(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, sleepless: Sleepless
) -> None:
    make_png(tmp_path / "front.png")
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"images": ["front.png"], "prompt": "a cat"}\n', encoding="utf-8")
    api.emulator.inject(Fault.control_chars(on="any", times=None))
    lines = mivid("batch", str(jobs), "--interval", "0.1", clock=sleepless)
    assert lines.exit_code in (0, 1, 4, 5), lines
    assert_harmless(lines.stdout)
    assert_harmless(lines.stderr)
    assert "\\x1b[2J" in lines.stdout + lines.stderr


def test_the_live_status_lines_on_a_terminal_draw_escapes_visibly(
    server: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    fake_clock.set(time.time())
    # The queries' answers (the create's is left alone, so the id queried is the real one;
    # their task_id too: an answer naming another task is refused).
    spoiled = tuple(field for field in TEXT_FIELDS if field != "task_id")
    server.emulator.inject(Fault.control_chars(fields=spoiled, on="get", times=None))
    image = make_png(tmp_path / "front.png")
    env = {
        "KLING_BASE_URL": server.url,
        "KLING_ACCESS_KEY": "test-ak",
        "KLING_SECRET_KEY": "test-sk",
    }
    terminal = InProcessTerminal(
        ["create", str(image), "--prompt", "a cat", "--wait", "--timeout", "0"], env=env
    )
    terminal.expect("pwned", timeout=30)
    status = terminal.finish(timeout=30)
    assert status == 6, terminal.text()  # it stays submitted: the wait times out
    shown = terminal.raw()
    assert "\x1b[2J" not in shown and "\x1b]0;" not in shown and "\x07" not in shown
    assert "\\x1b[2J" in shown


def test_markup_in_service_text_is_shown_as_written_on_a_terminal(
    server: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    fake_clock.set(time.time())
    image = make_png(tmp_path / "front.png")
    env = {
        "KLING_BASE_URL": server.url,
        "KLING_ACCESS_KEY": "test-ak",
        "KLING_SECRET_KEY": "test-sk",
    }
    created = InProcessTerminal(
        ["create", str(image), "--prompt", "a cat", "-q"], env=env, stdin=False
    )
    assert created.finish() == 0
    task_id = created.text().strip().splitlines()[-1]
    markup = "[/x] [bold]loud[/bold] [link=file:///etc]x[/link]"
    server.emulator.inject(Fault.patch({"task_status_msg": markup}, on="get", times=1))
    terminal = InProcessTerminal(["get", task_id], env=env, stdin=False)
    assert terminal.finish() == 0, terminal.text()
    assert markup in terminal.text()
    assert "\x1b]8;" not in terminal.raw()  # no hyperlink was drawn from the text
    # An id with markup, in the error that refuses an answer naming another task.
    spoil = {"task_id": lambda value: f"{value}[/x] [bold]"}
    server.emulator.inject(Fault.patch(spoil, on="get", times=None))
    refused = InProcessTerminal(["get", task_id], env=env, stdin=False)
    assert refused.finish() == 5, refused.text()
    assert f"with another task, {task_id}[/x] [bold]" in refused.text()


# -- 13.16: strict JSON, whatever numbers the service sends -----------------------------------


def strict_json(text: str) -> Any:
    """JSON as a strict parser reads it: NaN, Infinity and -Infinity are errors."""

    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize(
    "fault",
    [Fault.nan_timestamps(on="any", times=None), Fault.non_finite(on="any", times=None)],
    ids=["NaN timestamps", "Infinity"],
)
@pytest.mark.parametrize(
    "args",
    [("get", "{id}", "--json"), ("list", "--json"), ("wait", "{id}", "--json"), ("get", "{id}")],
    ids=lambda args: " ".join(args),
)
def test_non_finite_numbers_from_the_service_never_make_invalid_json(
    mivid: RunMivid,
    api: EmulatorServer,
    tmp_path: Path,
    fake_clock: FakeClock,
    fault: Fault,
    args: tuple[str, ...],
) -> None:
    task_id = finished_task(mivid, tmp_path, fake_clock)
    api.emulator.inject(fault)
    result = mivid(*(arg.replace("{id}", task_id) for arg in args))
    assert result.exit_code == 0, result
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout
    if "--json" in args:
        data = strict_json(result.stdout)
        task = data[0] if isinstance(data, list) else data
        assert task["task_id"] == task_id
        assert task["created_at"] is None  # what the service sent, as JSON can say it


def test_a_sidecar_is_strict_json_whatever_the_service_sent(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    task_id = finished_task(mivid, tmp_path, fake_clock)
    api.emulator.inject(Fault.non_finite(value=float("nan"), on="any", times=None))
    result = mivid("download", task_id, "-o", str(tmp_path / "videos"), "--json")
    assert result.exit_code == 0, result
    strict_json(result.stdout)
    sidecar = strict_json((tmp_path / "videos" / f"{task_id}.json").read_text())
    assert sidecar["created_at"] is None and sidecar["final_unit_deduction"] is None


# -- 13.12: every request has a total deadline ------------------------------------------------


def served_env(server: EmulatorServer, **more: str) -> dict[str, str]:
    """What points `python -m mivid` at `server` over its real socket."""
    return {
        "KLING_BASE_URL": server.url,
        "KLING_ACCESS_KEY": "test-ak",
        "KLING_SECRET_KEY": "test-sk",
        **more,
    }


def test_a_dripping_answer_does_not_keep_get_past_its_retry_budget(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    task_id = finished_task(mivid, tmp_path, fake_clock)
    # A valid answer, one byte a second: each read is quick, the whole takes ten minutes.
    api.emulator.inject(Fault.drip(1.0, on="get", times=None))
    started = time.monotonic()
    result = run_process(
        "get", task_id, env=served_env(api, MIVID_RETRY_MAX_SECONDS="1"), timeout=60
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == 5, result
    assert elapsed < 1 + 6, elapsed  # the budget, and the interpreter's start on a busy machine
    assert "no whole answer from" in result.stderr
    assert "in the time a request may take" in result.stderr
    assert result.stderr.count("error: ") == 1


def test_wait_timeout_is_a_wall_clock_promise_against_a_dripping_server(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "front.png")
    task_id = mivid("create", str(image), "--prompt", "a cat", "-q").stdout.strip()
    api.emulator.inject(Fault.drip(1.0, on="get", times=None))
    started = time.monotonic()
    # `--timeout 1` still gives the first queries 2 s (FIRST_LOOK_SECONDS): 2 s in all.
    result = run_process("wait", task_id, "--timeout", "1", env=served_env(api), timeout=60)
    elapsed = time.monotonic() - started
    assert result.exit_code == 6, result
    assert elapsed < 2 + 6, elapsed
    assert "gave up waiting after 1 s" in result.stderr


def test_in_process_too_the_deadline_holds_between_dripped_bytes(
    mivid: RunMivid,
    api: EmulatorServer,
    tmp_path: Path,
    fake_clock: FakeClock,
    sleepless: Sleepless,
) -> None:
    task_id = finished_task(mivid, tmp_path, fake_clock)
    # In process, the drip moves the emulator's fake clock, which mivid reads too: each
    # byte takes 0.2 s of that clock and the answer minutes, at no real cost.
    api.emulator.inject(Fault.drip(0.2, on="get", times=None))
    before = fake_clock()
    result = mivid("get", task_id, env={"MIVID_RETRY_MAX_SECONDS": "1"}, clock=sleepless)
    assert result.exit_code == 5, result
    assert fake_clock() - before < 10  # one budget of 1 s (and a first attempt's), not minutes
    assert "no whole answer" in result.stderr


# -- 13.14: what is read of an answer is capped ------------------------------------------------


def test_an_endless_answer_is_cut_at_the_cap_with_a_clear_message(
    mivid: RunMivid, api: EmulatorServer
) -> None:
    api.emulator.inject(Fault.endless(on="list", times=None))
    result = run_process("list", "--json", env=served_env(api), timeout=60)
    assert result.exit_code == 5, result
    assert "more than 16 MiB, the most mivid reads of an answer of the API" in result.stderr
    assert result.stdout == ""


def test_a_60_mb_list_answer_costs_no_more_than_the_cap(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path
) -> None:
    task = {"task_id": "1", "task_status": "succeed", "task_status_msg": "x" * 1000}
    page = {"code": 0, "message": "SUCCEED", "data": [task] * 60_000}
    body = json.dumps(page).encode()
    assert len(body) > 60_000_000
    api.emulator.inject(
        Fault.raw(200, headers=(("Content-Type", "application/json"),), body=body, on="list")
    )
    # The peak memory of mivid alone: a small parent that runs it and reads its children's.
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-m', 'mivid', 'list', '--json'],"
        " capture_output=True)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stderr.write(done.stderr.decode())\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        env=environment(served_env(api)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    status, peak_kib = map(int, completed.stdout.split())
    assert status == 5, completed.stderr
    assert "the most mivid reads of an answer of the API" in completed.stderr
    assert peak_kib < 200 * 1024, peak_kib  # the interpreter and httpx: tens of MB, not GBs
