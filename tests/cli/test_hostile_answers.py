"""A hostile or broken service, seen through the real command line: what it sends never harms.

Terminal escapes in any field reach no terminal (in every form: table, lines,
ids, JSON, errors, live views, batch); NaN never makes JSON invalid.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import RunMivid, Terminal
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


def finished_task(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> str:
    image = make_png(tmp_path / "front.png")
    result = mivid("create", str(image), "--prompt", "a cat", "-q")
    assert result.exit_code == 0, result
    fake_clock.advance(10)
    return result.stdout.strip()


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
    task_id = finished_task(mivid, api, tmp_path, fake_clock)
    # A spoiled status is no status `wait` knows, so it would wait for ever: spare it there.
    fields = tuple(field for field in TEXT_FIELDS if args[0] != "wait" or field != "task_status")
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
    task_id = finished_task(mivid, api, tmp_path, fake_clock)
    api.emulator.inject(Fault.error(1201, message=f"bad {HOSTILE}\x9b31m value", on="get"))
    result = mivid("get", task_id)
    assert result.exit_code == 4, result
    assert_harmless(result.stderr)
    assert "bad \\x1b[2J\\x1b]0;pwned\\x07 \\x9b31m value" in result.stderr


def test_a_task_id_full_of_escapes_in_batch_lines_and_json(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    make_png(tmp_path / "front.png")
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"images": ["front.png"], "prompt": "a cat"}\n', encoding="utf-8")
    api.emulator.inject(Fault.control_chars(on="any", times=None))
    lines = mivid("batch", str(jobs), "--interval", "0.1")
    assert lines.exit_code in (0, 1, 4, 5), lines
    assert_harmless(lines.stdout)
    assert_harmless(lines.stderr)
    assert "\\x1b[2J" in lines.stdout + lines.stderr


def test_the_live_status_lines_on_a_terminal_draw_escapes_visibly(
    server: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    fake_clock.set(time.time())
    # The queries' answers (the create's is left alone, so the id queried is the real one).
    server.emulator.inject(Fault.control_chars(on="get", times=None))
    image = make_png(tmp_path / "front.png")
    env = {
        "KLING_BASE_URL": server.url,
        "KLING_ACCESS_KEY": "test-ak",
        "KLING_SECRET_KEY": "test-sk",
    }
    terminal = Terminal(
        ["create", str(image), "--prompt", "a cat", "--wait", "--timeout", "2"], env=env
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
    created = Terminal(["create", str(image), "--prompt", "a cat", "-q"], env=env, stdin=False)
    assert created.finish() == 0
    task_id = created.text().strip().splitlines()[-1]
    markup = "[/x] [bold]loud[/bold] [link=file:///etc]x[/link]"
    spoil = {"task_status_msg": markup, "task_id": lambda value: f"{value}[/x]"}
    server.emulator.inject(Fault.patch(spoil, on="get", times=None))
    terminal = Terminal(["get", task_id], env=env, stdin=False)
    assert terminal.finish() == 0, terminal.text()
    assert markup in terminal.text()
    assert f"task {task_id}[/x]" in terminal.text()  # the panel's title
    assert "\x1b]8;" not in terminal.raw()  # no hyperlink was drawn from the text


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
    task_id = finished_task(mivid, api, tmp_path, fake_clock)
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
    task_id = finished_task(mivid, api, tmp_path, fake_clock)
    api.emulator.inject(Fault.non_finite(value=float("nan"), on="any", times=None))
    result = mivid("download", task_id, "-o", str(tmp_path / "videos"), "--json")
    assert result.exit_code == 0, result
    strict_json(result.stdout)
    sidecar = strict_json((tmp_path / "videos" / f"{task_id}.json").read_text())
    assert sidecar["created_at"] is None and sidecar["final_unit_deduction"] is None
