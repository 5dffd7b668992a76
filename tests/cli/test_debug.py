"""`--debug` shows the traceback, and keeps the error's own lines and exit status.

A script that adds `--debug` to look closer must read the same exit status as
without it (a credentials problem is still 3, never 1 "a task failed").
"""

from __future__ import annotations

import socket

import pytest

from helpers import Result, RunMivid, Sleepless
from mivid.sandbox import EmulatorServer, Fault

TEST_API_KEY = "test-api-key"  # the emulator fixture's API key (tests/conftest.py)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def expect_same_error(plain: Result, debug: Result) -> None:
    """The --debug run: a traceback first, then exactly the plain run's lines and status."""
    assert debug.exit_code == plain.exit_code, debug
    assert debug.stdout == plain.stdout
    assert "Traceback (most recent call last)" in debug.stderr
    assert "Traceback" not in plain.stderr
    assert plain.stderr.startswith("error: ")
    assert debug.stderr.endswith("\n" + plain.stderr)


@pytest.mark.parametrize(
    ("case", "status"),
    [("credentials", 3), ("not found", 4), ("refused connection", 5), ("bad base URL", 2)],
)
def test_debug_keeps_the_exit_status_and_the_message(
    mivid: RunMivid,
    kling_env: EmulatorServer,
    sleepless: Sleepless,
    case: str,
    status: int,
) -> None:
    words = ["get", "867283741759111202"]
    if case == "credentials":
        kling_env.emulator.inject(Fault.error(1002, on="any", times=None))
    elif case == "refused connection":
        words = ["--base-url", f"http://127.0.0.1:{closed_port()}", *words]
    elif case == "bad base URL":
        words = ["--base-url", "http://x:99:99", *words]
    plain = mivid(*words, clock=sleepless)
    assert plain.exit_code == status, plain
    debug = mivid("--debug", *words, clock=sleepless)
    expect_same_error(plain, debug)
    if case == "credentials":
        assert "CredentialsError" in debug.stderr


def test_debug_in_a_real_process_exits_with_the_error_s_status(
    mivid_process: RunMivid, server: EmulatorServer
) -> None:
    server.emulator.inject(Fault.error(1002, on="any", times=None))
    env = {"KLING_BASE_URL": server.url, "KLING_API_KEY": TEST_API_KEY}
    result = mivid_process("--debug", "get", "867283741759111202", env=env)
    assert result.exit_code == 3, result
    assert "Traceback" in result.stderr and "CredentialsError" in result.stderr
    assert result.stderr.rstrip().splitlines()[-2].startswith("error: the API refused")
    assert result.stderr.rstrip().splitlines()[-1].startswith("hint: check the API key")
    assert TEST_API_KEY not in result.stderr


def test_the_help_says_what_debug_does_now(mivid: RunMivid) -> None:
    """It said "Show a traceback on errors.": since the status stays the error's, it says so."""
    result = mivid("--help", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    at = next(n for n, line in enumerate(lines) if line.strip().startswith("--debug"))
    said = " ".join(" ".join(lines[at : at + 2]).split()).removeprefix("--debug ")
    assert said == (
        "On an error, print its traceback to stderr too (keys redacted); "
        "the exit status stays the same."
    ), lines[at : at + 3]
