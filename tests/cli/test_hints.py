"""Hints that work when copied, that point at the right setting, and failures that fail fast.

Issue 15's points 5 (a hint that is a command carries the global options in
force: one generator, `mivid.hints.command`), 16 (a wrong base URL is named as
the user's setting, with the URL used) and 18 (a DNS failure or a refused
connection gets one quick retry at most; timeouts and 5xx stay patient).
"""

from __future__ import annotations

import re
import shlex
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import RunMivid, Sleepless
from mivid import hints
from mivid.sandbox import EmulatorServer, Fault

SANDBOX_FAST = {"MIVID_SANDBOX_TASK_SECONDS": "30"}


def hint_command(stderr: str, after: str) -> list[str]:
    """The words of the command a hint line gives after `after`."""
    line = next(line for line in stderr.splitlines() if after in line)
    return shlex.split(line.split(after, 1)[1].strip().rstrip("."))


# -- 5: hints carry the global options in force -------------------------------------------------


@given(
    st.lists(st.text(min_size=1).filter(lambda t: "\x00" not in t), max_size=5),
    st.sampled_from([(), ("--sandbox",), ("--profile", "my work", "--region", "china")]),
)
def test_a_hint_command_reads_back_as_the_words_it_was_made_of(
    words: list[str], in_force: tuple[str, ...]
) -> None:
    with hints.scope():
        hints.use(in_force)
        line = hints.command(*words)
    assert shlex.split(line) == ["mivid", *in_force, *words]


def test_two_runs_side_by_side_in_one_process_each_hint_their_own_options() -> None:
    """What is in force is the run's: two runs at once in two threads (tests run the CLI in
    process) never see each other's options, and nothing is left in force after either."""
    import threading

    both_set, both_seen = threading.Barrier(2, timeout=10), threading.Barrier(2, timeout=10)
    seen: dict[str, str] = {}

    def a_run(name: str, words: tuple[str, ...]) -> None:
        with hints.scope():
            hints.use(words)
            both_set.wait()  # the other run has said its own options by now
            seen[name] = hints.command("get", "8672")
            both_seen.wait()  # and neither leaves its run before the other has looked

    runs = [
        threading.Thread(target=a_run, args=("sandbox", ("--sandbox",))),
        threading.Thread(target=a_run, args=("work", ("--profile", "work"))),
    ]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert seen == {"sandbox": "mivid --sandbox get 8672", "work": "mivid --profile work get 8672"}
    assert hints.command("get", "8672") == "mivid get 8672"


def test_a_runs_worker_threads_hint_its_options() -> None:
    """Queries that go out side by side (`mivid.waiting.SideBySide`) build their hints with
    the options of the run that sent them."""
    from itertools import count

    from mivid.waiting import SideBySide

    ticks = count(step=10)  # every answer takes 10 s: the rest go side by side at once
    calls = SideBySide(lambda: float(next(ticks)), name="test-hints")
    with hints.scope(("--sandbox",)):
        lines = calls.map(lambda ident: hints.command("get", ident), ["1", "2", "3", "4"])
    calls.close()
    assert calls.executor is not None  # some went out on the workers
    assert lines == [f"mivid --sandbox get {ident}" for ident in "1234"]


def test_a_base_urls_password_never_reaches_a_hint() -> None:
    words = hints.global_options(base_url="https://me:s3cret@gw.example.com/kling")
    assert words == ("--base-url", "https://gw.example.com/kling")


def test_downloads_hint_to_wait_works_pasted_with_the_sandbox(
    mivid: RunMivid, tmp_path: Path, sleepless: Sleepless
) -> None:
    """Issue 15.5: the hint was `mivid wait ID --download DIR`, and failed with no credentials."""
    created = mivid("--sandbox", "create", "https://example.com/a.png", "-p", "x", "-q")
    task_id = created.stdout.strip()
    videos = tmp_path / "my videos"

    refused = mivid("download", task_id, "-o", str(videos), "--sandbox", env=SANDBOX_FAST)

    assert refused.exit_code == 2, refused
    words = hint_command(refused.stderr, "wait for it first:")
    assert words == ["mivid", "--sandbox", "wait", task_id, "--download", str(videos)]
    pasted = mivid(*words[1:], env={"MIVID_SANDBOX_TASK_SECONDS": "0.05"}, clock=sleepless)
    assert pasted.exit_code == 0, pasted
    assert (videos / f"{task_id}.mp4").is_file()


def test_every_global_option_given_is_carried_and_only_once(
    mivid: RunMivid, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    env = {"MIVID_CONFIG_FILE": str(config)}
    assert mivid("--profile", "work", "config", "set", "region", "china", env=env).exit_code == 0

    missing = mivid("list", "--profile", "work", "--region", "global", env=env)

    assert missing.exit_code == 3, missing
    assert "mivid --region global --profile work config set access-key -" in missing.stderr
    unknown = mivid("--profile", "nope", "list", env=env)
    assert "create it with: mivid --profile nope config set region global" in unknown.stderr
    assert unknown.stderr.count("--profile") == 1


def test_waits_resume_line_carries_the_sandbox(mivid: RunMivid) -> None:
    created = mivid("--sandbox", "create", "https://example.com/a.png", "-p", "x", "-q")
    task_id = created.stdout.strip()

    stopped = mivid("wait", task_id, "--timeout", "0", "--sandbox", env=SANDBOX_FAST)

    assert stopped.exit_code == 6, stopped
    assert hint_command(stopped.stderr, "resume with:") == ["mivid", "--sandbox", "wait", task_id]


def test_the_pickers_hint_in_a_script_carries_the_sandbox(mivid: RunMivid) -> None:
    result = mivid("--sandbox", "get")

    assert result.exit_code == 2, result
    assert "mivid --sandbox list -q | head -1 | mivid --sandbox get -" in result.stderr


def test_galleries_hint_carries_the_sandbox(mivid: RunMivid, tmp_path: Path) -> None:
    result = mivid("--sandbox", "gallery", str(tmp_path))

    assert result.exit_code == 2, result
    assert "mivid --sandbox list -q --status succeed | mivid --sandbox download -" in (
        result.stderr
    )


def test_galleries_hint_for_a_system_folder_saves_into_a_folder_of_ones_own(
    mivid: RunMivid, tmp_path: Path
) -> None:
    """QA finding 16: `gallery /proc` offered `download - --output /proc` (a hidden alias,
    a folder no video goes into)."""
    result = mivid("--sandbox", "gallery", "/proc")

    assert result.exit_code == 2, result
    assert result.stderr.splitlines()[-1] == (
        "hint: mivid writes one beside each video it saves: "
        "mivid --sandbox list -q --status succeed | mivid --sandbox download - --download "
        "videos/, then mivid --sandbox gallery videos/"
    )
    assert "--output" not in result.stderr


def test_prompt_from_a_terminal_hint_is_the_same_command_with_the_sandbox() -> None:
    """QA finding 16: the hint for `--prompt -` typed at a terminal lacked --sandbox."""
    from helpers import Terminal

    terminal = Terminal(["--sandbox", "create", "a.png", "b.png", "--prompt", "-"], columns=200)
    assert terminal.finish() == 2
    said = terminal.text()
    assert "error: --prompt -: reads the prompt from stdin, but stdin is a terminal" in said
    assert "hint: pipe it in: echo 'a cat' | mivid --sandbox create a.png b.png --prompt -" in (
        said
    )


def test_no_such_task_in_the_sandbox_says_nothing_of_regions(mivid: RunMivid) -> None:
    result = mivid("--sandbox", "get", "123456789")

    assert result.exit_code == 4, result
    assert result.stderr.splitlines()[-1] == (
        "hint: check the task id (or external id): the sandbox knows the tasks made with "
        "--sandbox on this machine"
    )


# -- 16: a wrong base URL is the user's setting -------------------------------------------------


def test_a_wrong_base_url_path_names_the_setting_and_the_url(
    mivid: RunMivid, kling_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live service answers 1202 to a path it does not know: it was called a mivid bug."""
    wrong = f"{kling_env.url}/kling/v2"
    monkeypatch.setenv("KLING_BASE_URL", wrong)

    result = mivid("list")

    assert result.exit_code == 4, result
    assert "code 1202" in result.stderr
    assert "bug" not in result.stderr
    hint = next(line for line in result.stderr.splitlines() if line.startswith("hint:"))
    assert f"{wrong}/v1/videos/multi-image2video" in hint
    assert "--base-url or KLING_BASE_URL" in hint


def test_an_html_404_names_the_base_url_instead_of_try_again_later(
    mivid: RunMivid, kling_env: EmulatorServer
) -> None:
    kling_env.emulator.inject(Fault.html(404, times=None))

    result = mivid("get", "867283741759111202")

    assert result.exit_code == 5, result
    assert "try again later" not in result.stderr
    assert re.search(r"hint: no API endpoint at http://127\.0\.0\.1:\d+/v1/videos/", result.stderr)
    assert "--base-url or KLING_BASE_URL" in result.stderr


# -- 18: fail fast when retrying cannot help ----------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_refused_connection_gets_one_quick_retry(
    mivid: RunMivid, sleepless: Sleepless, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("KLING_BASE_URL", url)
    monkeypatch.setenv("KLING_API_KEY", "k")

    result = mivid("-v", "list", clock=sleepless)

    assert result.exit_code == 5, result
    assert result.stderr.count("http: GET") == 2, result.stderr
    assert len(sleepless.slept) == 1 and sleepless.slept[0] <= 0.5
    assert "connection was refused" in result.stderr and url in result.stderr


class Failing(httpx.BaseTransport):
    """Every request fails with the error `fail` makes of it; `requests` counts them."""

    def __init__(self, fail: Callable[[httpx.Request], httpx.TransportError]) -> None:
        self.fail = fail
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        raise self.fail(request)


def run_with(transport: httpx.BaseTransport, sleepless: Sleepless, *args: str) -> tuple[int, str]:
    from contextlib import redirect_stderr, redirect_stdout
    from io import StringIO

    from mivid.cli import run

    err = StringIO()
    with redirect_stdout(StringIO()), redirect_stderr(err):
        code = run(list(args), transport=transport, clock=sleepless)
    return code, err.getvalue()


def test_a_host_that_does_not_resolve_gets_one_quick_retry(
    sleepless: Sleepless, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLING_BASE_URL", "https://api.klingai.invalid")
    monkeypatch.setenv("KLING_API_KEY", "k")
    # A host name that does not resolve.
    transport = Failing(
        lambda request: httpx.ConnectError("[Errno -2] Name or service not known", request=request)
    )

    code, stderr = run_with(transport, sleepless, "get", "867283741759111202")

    assert code == 5, stderr
    assert transport.requests == 2
    assert sum(sleepless.slept) <= 0.5
    assert "DNS lookup failed" in stderr and "https://api.klingai.invalid" in stderr


def test_timeouts_keep_their_patient_retries(
    sleepless: Sleepless, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLING_BASE_URL", "https://api.example.com")
    monkeypatch.setenv("KLING_API_KEY", "k")
    # The server does not answer in time.
    transport = Failing(lambda request: httpx.ReadTimeout("timed out", request=request))

    code, stderr = run_with(transport, sleepless, "get", "867283741759111202")

    assert code == 5, stderr
    assert transport.requests == 5


# -- the credentials' hints speak of the credentials in use (QA newcomer 3, finding 3) ---------


@pytest.mark.parametrize("code", [1000, 1002, 1003, 1004])
def test_a_refused_static_api_key_is_hinted_in_its_own_words(
    mivid: RunMivid, server: EmulatorServer, sleepless: Sleepless, code: int
) -> None:
    """With KLING_API_KEY there is no access key or secret key to check, and no token mivid
    signs with this machine's clock: the hint says what an API key user can do."""
    server.emulator.inject(Fault.error(code, on="any", times=None))
    env = {"KLING_BASE_URL": server.url, "KLING_API_KEY": "test-api-key"}  # the emulator's
    result = mivid("list", env=env, clock=sleepless)
    assert result.exit_code == 3, result
    hint = result.stderr.rstrip().splitlines()[-1]
    assert hint.startswith(("hint: check the API key", "hint: the API key is a token")), hint
    assert "access key and secret key" not in hint and "machine's clock" not in hint
    if code == 1000:
        assert hint.endswith("(mivid config show)"), hint


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (1000, "hint: check the access key and secret key, and the region (mivid config show)"),
        (1002, "hint: check the access key and secret key, the region"),
        (1003, "hint: the token is not valid yet: check this machine's clock"),
        (1004, "hint: the token expired: check this machine's clock"),
    ],
)
def test_a_refused_key_pair_is_hinted_about_the_pair_and_the_clock_that_signs(
    mivid: RunMivid, kling_env: EmulatorServer, sleepless: Sleepless, code: int, said: str
) -> None:
    kling_env.emulator.inject(Fault.error(code, on="any", times=None))
    result = mivid("list", clock=sleepless)
    assert result.exit_code == 3, result
    assert result.stderr.rstrip().splitlines()[-1].startswith(said), result.stderr


def test_a_config_command_keeps_the_profile_and_leaves_the_sandbox_out() -> None:
    """Settings are saved in one config file with or without --sandbox; --profile picks the
    table the command writes to."""
    with hints.scope(("--profile", "my work", "--sandbox")):
        assert hints.config_command("set", "duration", "5") == (
            "mivid --profile 'my work' config set duration 5"
        )


@pytest.mark.parametrize(
    ("have", "missing"),
    [("KLING_ACCESS_KEY", "secret-key"), ("KLING_SECRET_KEY", "access-key")],
)
def test_one_key_of_the_pair_gets_a_hint_to_store_the_other(
    mivid: RunMivid, monkeypatch: pytest.MonkeyPatch, have: str, missing: str
) -> None:
    """The hint offered to store the access key when it was the one set: round in a loop."""
    for name in ("KLING_ACCESS_KEY", "KLING_SECRET_KEY", "KLING_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(have, "one-half-of-the-pair-0123456789")
    result = mivid("list")
    assert result.exit_code == 3, result
    assert f"hint: store the {missing.replace('-', ' ')}: mivid config set {missing} -" in (
        result.stderr
    )
