"""Everything that can be checked locally is checked before anything is sent (exit 2, one line each).

The base URL in full, every number an option or the environment gives, the
jobs file's syntax, the download folder, every path a command takes.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from helpers import RunMivid
from imagefactory import make_png
from mivid.journal import default_path
from mivid.sandbox import EmulatorServer, FakeClock


@pytest.fixture
def api(kling_env: EmulatorServer, fake_clock: FakeClock) -> EmulatorServer:
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    return kling_env


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


# -- 13.21: the base URL, validated in full --------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "rule"),
    [
        ("/#", "must not carry a query (?…) or a fragment (#…)"),
        ("/?x=1", "must not carry a query (?…) or a fragment (#…)"),
        (":99", "is not a valid URL (Port could not be cast to integer value"),
        ("/kling path", "must not contain spaces or control characters"),
    ],
    ids=["fragment", "query", "two ports", "space"],
)
@pytest.mark.parametrize("where", ["--base-url", "KLING_BASE_URL"])
def test_a_base_url_that_is_not_one_is_refused_before_anything_is_sent(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, suffix: str, rule: str, where: str
) -> None:
    image = make_png(tmp_path / "front.png")
    url = api.url + suffix
    if where == "--base-url":
        result = mivid("--base-url", url, "create", str(image), "--prompt", "waves")
    else:
        result = mivid("create", str(image), "--prompt", "waves", env={"KLING_BASE_URL": url})
    assert result.exit_code == 2, result
    (line,) = error_lines(result.stderr)
    assert (where if where.startswith("--") else f"${where}") in line
    assert rule in line
    assert api.emulator.received == []
    assert not default_path().exists()  # not even journaled


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:0", "http://127.0.0.1:70000", "ftp://127.0.0.1", "http://", "http://[::1"],
)
def test_other_impossible_base_urls_are_refused(
    mivid: RunMivid, api: EmulatorServer, url: str
) -> None:
    result = mivid("--base-url", url, "list")
    assert result.exit_code == 2, result
    assert len(error_lines(result.stderr)) == 1
    assert api.emulator.received == []


def test_a_base_url_with_a_path_and_a_port_is_fine(mivid: RunMivid, api: EmulatorServer) -> None:
    result = mivid("--base-url", api.url + "/", "list", "--json")
    assert result.exit_code == 0, result


# -- 13.22: no option or tunable takes NaN or infinity ----------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "Infinity"])
@pytest.mark.parametrize(
    "args",
    [
        ("wait", "t1", "--timeout", "{v}"),
        ("wait", "t1", "--interval", "{v}"),
        ("create", "{image}", "-p", "x", "--wait", "--timeout", "{v}"),
        ("batch", "{jobs}", "--interval", "{v}"),
        ("list", "--watch", "--interval", "{v}"),
        ("sandbox", "serve", "--port", "0", "--task-seconds", "{v}"),
    ],
    ids=lambda args: " ".join(a for a in args if not a.startswith("{")),
)
def test_non_finite_numbers_are_refused_for_every_option(
    mivid: RunMivid,
    api: EmulatorServer,
    tmp_path: Path,
    sleepless: object,
    value: str,
    args: tuple[str, ...],
) -> None:
    image = make_png(tmp_path / "front.png")
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"images": ["front.png"], "prompt": "waves"}\n')
    words = [
        arg.replace("{v}", value).replace("{image}", str(image)).replace("{jobs}", str(jobs))
        for arg in args
    ]
    result = mivid(*words, clock=sleepless)
    assert result.exit_code == 2, result
    assert "Traceback" not in result.stderr
    assert api.emulator.received == []


@pytest.mark.parametrize("value", ["nan", "inf", "1e999"])
@pytest.mark.parametrize(
    "name",
    [
        "MIVID_RETRY_MAX_SECONDS",
        "MIVID_RETRY_BASE_DELAY",
        "MIVID_RETRY_ATTEMPTS",
        "MIVID_SANDBOX_TASK_SECONDS",
    ],
)
def test_non_finite_numbers_are_refused_for_every_tunable(
    mivid: RunMivid, api: EmulatorServer, name: str, value: str
) -> None:
    result = mivid("list", "--json", env={name: value})
    assert result.exit_code == 2, result
    (line,) = error_lines(result.stderr)
    assert f"${name}: `{value}`" in line
    assert api.emulator.received == []
