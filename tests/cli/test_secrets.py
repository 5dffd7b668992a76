"""No secret key, API key or whole token in any output, error, or the journal."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest

from imagefactory import make_png
from mivid.journal import Journal, default_path
from mivid.sandbox import EmulatorServer, FakeClock, Fault

# The credentials tests/conftest.py gives the emulator and `kling_env`.
TEST_ACCESS_KEY, TEST_SECRET_KEY, TEST_API_KEY = "test-ak", "test-sk", "test-api-key"
RunMivid = Callable[..., Any]  # the `mivid` fixture (tests/cli/conftest.py)


@pytest.fixture
def env(
    kling_env: EmulatorServer, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> EmulatorServer:
    fake_clock.set(time.time())
    monkeypatch.setenv("MIVID_RETRY_BASE_DELAY", "0.001")
    monkeypatch.setenv("MIVID_RETRY_ATTEMPTS", "2")
    return kling_env


def tokens(server: EmulatorServer) -> set[str]:
    found = set()
    for request in server.emulator.received:
        header = request.headers.get("authorization", "")
        found.add(header.removeprefix("Bearer "))
    return found - {""}


def assert_no_secret(text: str, server: EmulatorServer) -> None:
    assert TEST_SECRET_KEY not in text
    assert TEST_API_KEY not in text
    for token in tokens(server):
        assert token not in text
        assert token.split(".")[2] not in text  # not even the signature


@pytest.mark.parametrize(
    "fault",
    [
        None,
        Fault.error(1302, on="create"),
        Fault.error(1004, on="any", times=None),
        Fault.error(1002, on="any"),
        Fault.drop_after(on="create"),
        Fault.html(502, on="any", times=None),
    ],
)
def test_verbose_output_and_errors_hold_no_secret(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path, fault: Fault | None
) -> None:
    if fault is not None:
        env.emulator.inject(fault)
    image = make_png(tmp_path / "a.png")
    result = mivid("--verbose", "create", str(image), "--prompt", "waves")
    assert "http: POST" in result.stderr
    assert tokens(env), "the emulator saw a token"
    assert_no_secret(result.stdout + result.stderr, env)
    assert_no_secret(default_path().read_bytes().decode("latin-1"), env)


def test_api_key_never_shown(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KLING_ACCESS_KEY")
    monkeypatch.delenv("KLING_SECRET_KEY")
    monkeypatch.setenv("KLING_API_KEY", TEST_API_KEY)
    env.emulator.inject(Fault.error(1000, on="create"))
    image = make_png(tmp_path / "a.png")
    result = mivid("--verbose", "create", str(image), "--prompt", "waves")
    assert result.exit_code == 3
    assert TEST_API_KEY not in result.stdout + result.stderr
    assert tokens(env) == {TEST_API_KEY}


def test_debug_traceback_holds_no_secret(
    mivid_process: RunMivid, env: EmulatorServer, tmp_path: Path
) -> None:
    env.emulator.inject(Fault.error(1002, on="any", times=None))
    image = make_png(tmp_path / "a.png")
    result = mivid_process("--debug", "create", str(image), "--prompt", "waves")
    assert result.exit_code != 0
    assert "Traceback" in result.stderr
    assert "CredentialsError" in result.stderr
    assert_no_secret(result.stdout + result.stderr, env)
    # Typer's pretty traceback with locals would print the secret's variables.
    assert "locals" not in result.stderr.lower()


def test_journal_keeps_no_secret_and_no_image_bytes(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "a.png")
    assert mivid("create", str(image), "--prompt", "waves").exit_code == 0
    raw = default_path().read_bytes()
    assert_no_secret(raw.decode("latin-1"), env)
    assert TEST_ACCESS_KEY not in raw.decode("latin-1")
    assert image.read_bytes()[100:140] not in raw
    with Journal.open() as journal:
        (entry,) = journal.entries()
    assert "image_list" not in entry.request
    assert default_path().stat().st_mode & 0o077 == 0


def test_tokens_received_are_real_jwts(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "a.png")
    assert mivid("create", str(image), "--prompt", "waves").exit_code == 0
    (token,) = tokens(env)
    claims = jwt.decode(token, TEST_SECRET_KEY, algorithms=["HS256"])
    assert claims["iss"] == TEST_ACCESS_KEY


def test_config_file_readable_by_others_is_warned_about(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[default]\nmode = "pro"\n')
    config.chmod(0o644)
    monkeypatch.setenv("MIVID_CONFIG_FILE", str(config))
    image = make_png(tmp_path / "a.png")
    result = mivid("create", str(image), "--prompt", "waves", "--dry-run")
    assert result.exit_code == 0, result
    assert f"warning: {config} is readable by other users" in result.stderr
    assert f"chmod 600 {config}" in result.stderr

    private = tmp_path / "private.toml"
    private.write_text('[default]\nmode = "pro"\n')
    private.chmod(0o600)
    monkeypatch.setenv("MIVID_CONFIG_FILE", str(private))
    quiet = mivid("create", str(image), "--prompt", "waves", "--dry-run")
    assert "readable by other users" not in quiet.stderr


# -- a server that echoes the Authorization header (issue 13.17) ------------------------------


def assert_nothing_of_a_token(text: str, server: EmulatorServer) -> None:
    assert_no_secret(text, server)
    for token in tokens(server):
        for part in token.split("."):
            assert part not in text  # not the header, not the claims, not the signature


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (Fault.echo_authorization(1000, on="any", times=None), 3),
        (Fault.echo_authorization(1201, on="any", times=None), 4),
        (Fault.echo_authorization(5000, on="any", times=None), 5),  # retried: notes too
    ],
    ids=["1000", "1201", "5000 retried"],
)
@pytest.mark.parametrize("verbose", [(), ("--verbose",)], ids=["plain", "verbose"])
def test_an_echoed_jwt_is_never_printed_whole_or_in_parts(
    mivid: RunMivid,
    env: EmulatorServer,
    tmp_path: Path,
    fault: Fault,
    status: int,
    verbose: tuple[str, ...],
) -> None:
    env.emulator.inject(fault)
    result = mivid(*verbose, "get", "867283741759111202")
    assert result.exit_code == status, result
    assert tokens(env)
    assert "for Authorization: Bearer [" in result.stderr  # the echo, its token redacted
    assert_nothing_of_a_token(result.stdout + result.stderr, env)


def test_an_echoed_api_key_is_never_printed(
    mivid: RunMivid, env: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KLING_ACCESS_KEY")
    monkeypatch.delenv("KLING_SECRET_KEY")
    monkeypatch.setenv("KLING_API_KEY", TEST_API_KEY)
    env.emulator.inject(Fault.echo_authorization(1002, on="any", times=None))
    result = mivid("--verbose", "list", "--json")
    assert result.exit_code == 3, result
    assert tokens(env) == {TEST_API_KEY}
    assert TEST_API_KEY not in result.stdout + result.stderr
    assert "Bearer [te…]" in result.stderr


def test_an_echoed_token_is_not_in_a_debug_traceback(
    mivid_process: RunMivid, env: EmulatorServer
) -> None:
    env.emulator.inject(Fault.echo_authorization(1000, on="any", times=None))
    result = mivid_process("--debug", "get", "867283741759111202")
    assert result.exit_code != 0
    assert "Traceback" in result.stderr
    assert_nothing_of_a_token(result.stdout + result.stderr, env)


def test_a_token_echoed_into_a_task_field_is_not_printed_in_json(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    image = make_png(tmp_path / "a.png")
    task_id = mivid("create", str(image), "--prompt", "waves", "-q").stdout.strip()
    # The create's token (on a loaded machine a run may mint a second one after a refusal:
    # each is echoed, and none may be printed).
    create_tokens = sorted(tokens(env))
    assert create_tokens
    # A gateway that copied a request's header into the answer: a token of an earlier run
    # (the later runs mint their own), which a JWT's shape gives away.
    echoed = " ".join(f"Bearer {token}" for token in create_tokens)
    env.emulator.inject(Fault.patch({"task_status_msg": f"seen {echoed}"}, on="get", times=None))
    for args in (("get", task_id, "--json"), ("get", task_id), ("list", "--json")):
        # The emulator judges a token's not-before on its own clock: keep it with the real one
        # (on a busy machine these runs take seconds).
        fake_clock.set(time.time())
        result = mivid(*args)
        assert result.exit_code == 0, result
        for token in create_tokens:
            assert token not in result.stdout + result.stderr
            assert token.split(".")[2] not in result.stdout + result.stderr
