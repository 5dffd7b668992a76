"""An http:// base URL off this machine is warned about: the key would cross the network in clear.

Loopback (a local gateway, the emulator in tests) and https are quiet, and so is
--sandbox (nothing leaves the process).
"""

from __future__ import annotations

import pytest

from helpers import RunMivid
from mivid.sandbox import EmulatorServer

KEY = "sk-abcdefabcdef0123456789"
WARNING = "is plain http: the API key or the tokens signed with the secret key go to"


@pytest.mark.parametrize(
    ("url", "host"),
    [("http://10.0.0.1", "10.0.0.1"), ("http://gateway.example/kling", "gateway.example")],
)
def test_plain_http_to_another_host_is_warned_about(mivid: RunMivid, url: str, host: str) -> None:
    result = mivid("config", "show", "--base-url", url, env={"KLING_API_KEY": KEY})
    assert result.exit_code == 0, result
    (line,) = [line for line in result.stderr.splitlines() if WARNING in line]
    assert line.startswith(f"warning: --base-url: base URL `{url}` is plain http")
    assert f"go to {host} unencrypted" in line
    assert KEY not in result.stdout + result.stderr
    from_env = mivid("config", "show", env={"KLING_API_KEY": KEY, "KLING_BASE_URL": url})
    assert "$KLING_BASE_URL: base URL" in from_env.stderr


@pytest.mark.parametrize(
    "url",
    ["https://gateway.example", "http://127.0.0.1:8080", "http://[::1]:9", "http://localhost"],
)
def test_https_and_this_machine_are_quiet(mivid: RunMivid, url: str) -> None:
    result = mivid("config", "show", "--base-url", url, env={"KLING_API_KEY": KEY})
    assert result.exit_code == 0, result
    assert WARNING not in result.stderr


def test_the_sandbox_and_a_local_emulator_are_quiet(
    mivid: RunMivid, kling_env: EmulatorServer
) -> None:
    assert WARNING not in mivid("--sandbox", "list").stderr
    listed = mivid("list")
    assert listed.exit_code == 0, listed
    assert WARNING not in listed.stderr
