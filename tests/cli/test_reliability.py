"""Faults injected at the emulator, seen through the real `mivid create`: retries, no double billing."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from imagefactory import make_png
from mivid.journal import NOT_CREATED, UNKNOWN, Journal
from mivid.sandbox import EmulatorServer, FakeClock, Fault

RunMivid = Callable[..., Any]  # the `mivid` fixture (tests/cli/conftest.py)
COLLECTION = "/v1/videos/multi-image2video"


@pytest.fixture
def fast_retries(
    kling_env: EmulatorServer, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> EmulatorServer:
    """The emulator, with retries that wait milliseconds instead of seconds."""
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    monkeypatch.setenv("MIVID_RETRY_BASE_DELAY", "0.001")
    monkeypatch.setenv("MIVID_RETRY_MAX_SECONDS", "5")
    monkeypatch.setenv("MIVID_RETRY_ATTEMPTS", "5")
    return kling_env


@pytest.fixture
def image(tmp_path: Path) -> str:
    return str(make_png(tmp_path / "front.png"))


def creates(server: EmulatorServer) -> int:
    return sum(1 for r in server.emulator.received if r.method == "POST" and r.path == COLLECTION)


def lookups(server: EmulatorServer) -> int:
    return sum(1 for r in server.emulator.received if r.method == "GET")


def only_journal_entry() -> object:
    with Journal.open() as journal:
        (entry,) = journal.entries()
    return entry


def assert_clean_failure(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert any(line.startswith("error: ") for line in stderr.splitlines())


def test_two_rate_limits_then_success(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    fast_retries.emulator.inject(Fault.error(1302, on="create", times=2))
    result = mivid("create", image, "--prompt", "waves", "--json")
    assert result.exit_code == 0, result
    task = json.loads(result.stdout)
    assert [t["task_id"] for t in fast_retries.emulator.tasks()] == [task["task_id"]]
    assert creates(fast_retries) == 3
    assert lookups(fast_retries) == 0  # 1302 is refused before creation: no lookup needed


def test_two_server_errors_on_create_leave_exactly_one_task(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    fast_retries.emulator.inject(Fault.error(5000, on="create", times=2))
    result = mivid("create", image, "--prompt", "waves", "--quiet")
    assert result.exit_code == 0, result
    (task,) = fast_retries.emulator.tasks()
    assert result.stdout == f"{task['task_id']}\n"
    assert creates(fast_retries) == 3
    # Before each resend, the task was looked up by its external id (and not found).
    assert lookups(fast_retries) == 2
    assert result.stderr.count("looking the task up by its external id") == 2


def test_server_error_after_the_task_was_made_is_not_resent(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    fast_retries.emulator.inject(Fault.error(5000, on="create", after=True))
    result = mivid("create", image, "--prompt", "waves", "--quiet")
    assert result.exit_code == 0, result
    (task,) = fast_retries.emulator.tasks()
    assert result.stdout == f"{task['task_id']}\n"
    assert creates(fast_retries) == 1


def test_answer_lost_after_the_task_was_made(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    fast_retries.emulator.inject(Fault.drop_after(on="create"))
    result = mivid("create", image, "--prompt", "waves", "--quiet")
    assert result.exit_code == 0, result
    (task,) = fast_retries.emulator.tasks()
    assert result.stdout == f"{task['task_id']}\n"
    assert creates(fast_retries) == 1
    assert "closed the connection" in result.stderr
    entry = only_journal_entry()
    assert entry.task_id == task["task_id"]  # type: ignore[attr-defined]


def test_html_502_forever_exits_5_with_status_and_first_bytes(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    fast_retries.emulator.inject(Fault.html(502, on="any", times=None))
    result = mivid("create", image, "--prompt", "waves")
    assert result.exit_code == 5, result
    assert_clean_failure(result.stderr)
    assert "HTTP 502" in result.stderr
    assert "<html>" in result.stderr and "Bad Gateway" in result.stderr
    assert result.stdout == ""
    assert fast_retries.emulator.tasks() == []
    # The create was unreadable, so the task was never resent blindly.
    assert creates(fast_retries) == 1
    assert only_journal_entry().status == UNKNOWN  # type: ignore[attr-defined]


def test_truncated_json_forever_exits_5_and_never_creates_twice(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    fast_retries.emulator.inject(Fault.truncated(on="any", times=None))
    result = mivid("create", image, "--prompt", "waves")
    assert result.exit_code == 5, result
    assert_clean_failure(result.stderr)
    assert "outcome is unknown" in result.stderr
    assert "mivid recover" in result.stderr
    assert len(fast_retries.emulator.tasks()) == 1
    assert creates(fast_retries) == 1


def test_not_json_answer_to_a_query_exits_5(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    fast_retries.emulator.inject(Fault.drop_before(on="create"))
    fast_retries.emulator.inject(Fault.not_json(200, on="create", times=None))
    result = mivid("create", image, "--prompt", "waves")
    assert result.exit_code == 5, result
    assert "HTTP 200" in result.stderr
    assert "upstream sent something that is not JSON" in result.stderr


def test_expired_token_is_reminted_once_then_exit_3(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    fast_retries.emulator.inject(Fault.error(1004, on="any", times=None))
    result = mivid("create", image, "--prompt", "waves")
    assert result.exit_code == 3, result
    assert_clean_failure(result.stderr)
    assert "code 1004" in result.stderr
    assert "clock" in result.stderr  # the hint
    assert creates(fast_retries) == 2
    assert only_journal_entry().status == NOT_CREATED  # type: ignore[attr-defined]


def test_expired_token_once_is_recovered(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    fast_retries.emulator.inject(Fault.error(1004, on="create"))
    result = mivid("create", image, "--prompt", "waves", "--quiet")
    assert result.exit_code == 0, result
    assert len(fast_retries.emulator.tasks()) == 1


def test_resource_pack_used_up_exits_3(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    fast_retries.emulator.inject(Fault.error(1102, on="create"))
    result = mivid("create", image, "--prompt", "waves")
    assert result.exit_code == 3, result
    assert_clean_failure(result.stderr)
    assert "code 1102" in result.stderr
    assert "resource pack" in result.stderr
    # The request_id is quoted when the envelope has one: test_contract_edges covers both forms.
    assert creates(fast_retries) == 1


def test_content_safety_refusal_exits_4_with_the_reason(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    fast_retries.emulator.inject(
        Fault.error(1301, message="the prompt mentions a forbidden subject", on="create")
    )
    result = mivid("create", image, "--prompt", "waves")
    assert result.exit_code == 4, result
    assert_clean_failure(result.stderr)
    assert "the prompt mentions a forbidden subject" in result.stderr
    assert "change the prompt or the images" in result.stderr
    assert fast_retries.emulator.tasks() == []


def test_connection_refused_exits_5_with_a_sentence_and_the_url(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("KLING_BASE_URL", url)
    result = mivid("create", image, "--prompt", "waves")
    assert result.exit_code == 5, result
    assert_clean_failure(result.stderr)
    assert "could not connect: the connection was refused" in result.stderr
    assert f"{url}{COLLECTION}" in result.stderr
    # Nothing reached a server, so the journal knows no task was made.
    assert only_journal_entry().status == NOT_CREATED  # type: ignore[attr-defined]


def test_retry_after_is_honoured(mivid: RunMivid, fast_retries: EmulatorServer, image: str) -> None:
    fast_retries.emulator.inject(Fault.error(1302, retry_after=0.4, on="create"))
    started = time.monotonic()
    result = mivid("--verbose", "create", image, "--prompt", "waves", "--quiet")
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result
    assert elapsed >= 0.4  # the base delay is 1 ms: only Retry-After explains the wait
    assert "code 1302" in result.stderr
    assert "attempt 2" in result.stderr


def test_retry_after_beyond_the_budget_gives_up_at_once(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str
) -> None:
    fast_retries.emulator.inject(Fault.error(1302, retry_after=600, on="create", times=None))
    started = time.monotonic()
    result = mivid("create", image, "--prompt", "waves")
    assert time.monotonic() - started < 30  # not the 600 s asked for
    assert result.exit_code == 4, result
    assert "code 1302" in result.stderr
    assert creates(fast_retries) == 1


def test_attempts_are_bounded(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIVID_RETRY_ATTEMPTS", "3")
    fast_retries.emulator.inject(Fault.error(1303, on="create", times=None))
    result = mivid("create", image, "--prompt", "waves")
    assert result.exit_code == 4, result
    assert "code 1303" in result.stderr
    assert creates(fast_retries) == 3


def test_bad_retry_settings_are_usage_errors(
    mivid: RunMivid, fast_retries: EmulatorServer, image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIVID_RETRY_ATTEMPTS", "many")
    monkeypatch.setenv("MIVID_RETRY_BASE_DELAY", "-1")
    result = mivid("create", image, "--prompt", "waves")
    assert result.exit_code == 2, result
    assert "$MIVID_RETRY_ATTEMPTS: `many` must be a whole number" in result.stderr
    assert "$MIVID_RETRY_BASE_DELAY: `-1` must be a number of seconds" in result.stderr
    assert fast_retries.emulator.received == []


def test_a_gateways_html_429_is_waited_out_like_a_rate_limit(
    mivid: RunMivid, fast_retries: EmulatorServer
) -> None:
    fast_retries.emulator.inject(Fault.html(429, on="list", times=2))
    result = mivid("list", "--json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == []
    lists = [r.path for r in fast_retries.emulator.received if r.method == "GET"]
    # Two 429 pages on the first list, then its answer; then the other endpoint's list.
    assert lists == ["/v1/videos/multi-image2video"] * 3 + ["/v1/videos/omni-video"]


def test_verbose_says_when_and_why_it_tries_again(
    mivid: RunMivid, fast_retries: EmulatorServer
) -> None:
    fast_retries.emulator.inject(Fault.error(1302, on="list", times=1))
    result = mivid("--verbose", "list", "--json")
    assert result.exit_code == 0, result
    assert "code 1302" in result.stderr
    assert "trying again in" in result.stderr
    assert "(attempt 2)" in result.stderr
