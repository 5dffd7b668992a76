"""The API's address answering with a redirect: not followed, nothing done, the address to use named.

A redirect (an http:// base URL answered `301 → https://…`, a moved gateway)
means the request was not handled there. mivid does not follow it (the key
would go wherever the server says), does not take a create behind it for one
that may exist, and says which base URL to use instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import RunMivid
from imagefactory import make_png
from mivid.journal import NOT_CREATED, Journal
from mivid.sandbox import EmulatorServer, Fault

COLLECTION = "/v1/videos/multi-image2video"
ELSEWHERE = "https://elsewhere.example/kling"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_create_redirected_is_not_created_and_names_the_base_url(
    mivid: RunMivid, kling_env: EmulatorServer, tmp_path: Path, status: int
) -> None:
    kling_env.emulator.inject(
        Fault.redirect(ELSEWHERE + COLLECTION, status=status, on="any", times=None)
    )
    image = make_png(tmp_path / "front.png")
    result = mivid("create", str(image), "--prompt", "hi")
    assert result.exit_code == 5, result
    assert result.stdout == ""
    assert f"redirects the request (HTTP {status}) to `{ELSEWHERE}{COLLECTION}`" in result.stderr
    assert f"hint: use {ELSEWHERE} as the base URL" in result.stderr
    assert "outcome is unknown" not in result.stderr and "try again later" not in result.stderr
    assert "(empty body)" not in result.stderr
    received = kling_env.emulator.received
    assert [r.method for r in received] == ["POST"]  # no retry, no lookup, nothing followed
    assert kling_env.emulator.tasks() == []
    with Journal.open() as journal:
        (entry,) = journal.entries()
    assert entry.status == NOT_CREATED


def test_a_query_redirected_says_where_and_sends_the_key_nowhere(
    mivid: RunMivid, kling_env: EmulatorServer
) -> None:
    kling_env.emulator.inject(Fault.redirect("/somewhere/else", on="any", times=None))
    result = mivid("get", "867283741759111202")
    assert result.exit_code == 5, result
    assert "to `/somewhere/else`" in result.stderr
    assert "hint: check the base URL" in result.stderr
    assert "try again later" not in result.stderr
    assert len(kling_env.emulator.received) == 1
