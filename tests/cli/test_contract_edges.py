"""The contract's edges through the real CLI against the emulator: keys with stray bytes,
odd ids and codes, odd field types, the exact body, a gateway's path prefix.

Every test here failed before the fix it names in its docstring.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Serve
from helpers import QuietHandler, RunMivid, handler_server
from imagefactory import make_png
from mivid.journal import UNKNOWN, Journal
from mivid.sandbox import Emulator, EmulatorServer, Fault
from mivid.sandbox.answers import Envelope

TEST_API_KEY = "test-api-key"
QUICK = {"MIVID_RETRY_ATTEMPTS": "2", "MIVID_RETRY_BASE_DELAY": "0"}


@pytest.fixture
def quick_env(kling_env: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    for name, value in QUICK.items():
        monkeypatch.setenv(name, value)
    return kling_env


# -- secrets ------------------------------------------------------------------------------


def test_an_api_key_pasted_with_a_trailing_newline_works_and_is_never_printed(
    mivid: RunMivid, server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx refused the header value and its error, quoting `Bearer <key>`, was printed."""
    monkeypatch.setenv("KLING_BASE_URL", server.url)
    monkeypatch.setenv("KLING_API_KEY", TEST_API_KEY + "\n")
    result = mivid("--verbose", "list", "--json")
    assert result.exit_code == 0, result
    assert TEST_API_KEY not in result.stderr + result.stdout
    assert server.emulator.received[-1].headers["authorization"] == f"Bearer {TEST_API_KEY}"


@pytest.mark.parametrize("key", ["secret-api\nkey-0123", "secret-api key-0123", "secret…key-0123"])
def test_an_api_key_that_cannot_be_a_header_is_refused_without_printing_it(
    mivid: RunMivid,
    server: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    key: str,
) -> None:
    """Before: exit 5 "network failure: Illegal header value b'Bearer <key>'" (the whole key on
    stderr, and in the journal after a create), or exit 70 for a non-ASCII character."""
    monkeypatch.setenv("KLING_BASE_URL", server.url)
    monkeypatch.setenv("KLING_API_KEY", key)
    image = make_png(tmp_path / "a.png")
    result = mivid("--verbose", "create", str(image), "--prompt", "waves", "--json")
    assert result.exit_code == 3, result
    assert "KLING_API_KEY" in result.stderr
    for part in key.replace("…", " ").split():
        assert part not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert server.emulator.received == []
    with Journal.open() as journal:
        assert all(key not in (entry.error or "") for entry in journal.entries())


# -- task ids in the URL path -------------------------------------------------------------


@pytest.mark.parametrize("ident", [".", ".."])
def test_a_dot_task_id_is_looked_up_not_normalised_into_another_endpoint(
    mivid: RunMivid, quick_env: EmulatorServer, ident: str
) -> None:
    """httpx removed `.`/`..` path segments: `mivid get .` listed the tasks (exit 5)."""
    result = mivid("get", ident)
    assert result.exit_code == 4, result
    # Unknown to the journal: looked for on each endpoint, each time as the task's own path.
    paths = [request.path for request in quick_env.emulator.received]
    assert paths == [f"/v1/videos/multi-image2video/{ident}", f"/v1/videos/omni-video/{ident}"]


# -- the idempotent create ------------------------------------------------------------------


@pytest.mark.parametrize(("code", "status"), [(5003, 502), (502, 502), (7777, 500)])
def test_a_create_answered_with_an_unknown_error_code_is_looked_up(
    mivid: RunMivid, quick_env: EmulatorServer, tmp_path: Path, code: int, status: int
) -> None:
    """A code outside the contract's table (a gateway's own envelope) said "not created"
    without asking: the journal said so too, and a rerun paid twice."""
    emulator = quick_env.emulator
    emulator.inject(Fault.error(code, http_status=status, on="create", after=True))
    image = make_png(tmp_path / "a.png")
    result = mivid("create", str(image), "--prompt", "waves", "--external-task-id", "x-1", "-q")
    assert result.exit_code == 0, result
    (task,) = emulator.tasks()
    assert result.stdout.strip() == task["task_id"]
    with Journal.open() as journal:
        entry = journal.find("x-1")
        assert entry is not None and entry.task_id == task["task_id"]


def test_an_unknown_code_on_a_create_that_made_nothing_is_reported_not_resent(
    mivid: RunMivid, quick_env: EmulatorServer, tmp_path: Path
) -> None:
    emulator = quick_env.emulator
    emulator.inject(Fault.error(7777, http_status=500, message="gateway says no", on="create"))
    image = make_png(tmp_path / "a.png")
    result = mivid("create", str(image), "--prompt", "waves", "--external-task-id", "x-2")
    assert result.exit_code == 5, result
    assert "7777" in result.stderr and "gateway says no" in result.stderr
    assert emulator.tasks() == []
    assert [r.method for r in emulator.received] == ["POST", "GET"]  # looked up, not resent
    assert "mivid recover" in result.stderr
    with Journal.open() as journal:
        entry = journal.find("x-2")
        # Not found at once is no proof (a service may show a new task late): unknown, so
        # `recover` asks again and the same create run again reuses the external id.
        assert entry is not None and entry.status == UNKNOWN


# -- answers of an unexpected shape -----------------------------------------------------------


@pytest.fixture
def odd_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A service answering every request with `answer["data"]` in a success envelope."""
    answer: dict[str, Any] = {}

    class Handler(QuietHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            body = json.dumps(
                {"code": 0, "message": "SUCCEED", "request_id": "req-9", "data": answer["data"]}
            ).encode()
            self.reply(200, body)

        def do_GET(self) -> None:
            self._reply()

        def do_POST(self) -> None:
            self._reply()

    with handler_server(Handler) as url:
        monkeypatch.setenv("KLING_BASE_URL", url)
        monkeypatch.setenv("KLING_API_KEY", TEST_API_KEY)
        yield answer


ODD_TASK = {
    "task_id": "867283741759111202",
    "task_status": "succeed",
    "task_info": "not an object",
    "created_at": "yesterday",
    "task_status_msg": 42,
}


def test_get_shows_a_task_whose_optional_fields_have_odd_types(
    mivid: RunMivid, odd_service: dict[str, Any]
) -> None:
    """Before: exit 70, "unexpected ValidationError" and pydantic's dump."""
    odd_service["data"] = ODD_TASK
    result = mivid("get", "867283741759111202")
    assert result.exit_code == 0, result
    assert "867283741759111202" in result.stdout
    assert "succeed" in result.stdout


def test_create_prints_the_id_of_a_task_whose_answer_has_odd_types(
    mivid: RunMivid, odd_service: dict[str, Any], tmp_path: Path
) -> None:
    """Before: the task was made (and billed) but mivid exited 70 calling it a bug."""
    odd_service["data"] = {**ODD_TASK, "task_status": "submitted"}
    image = make_png(tmp_path / "a.png")
    result = mivid("create", str(image), "--prompt", "waves")
    assert result.exit_code == 0, result
    assert "867283741759111202" in result.stdout


# -- the contract's error table, through the CLI -----------------------------------------------

CONTRACT_EXITS = {
    **dict.fromkeys((1000, 1001, 1002, 1003, 1004, 1100, 1101, 1102, 1103), 3),
    **dict.fromkeys((1200, 1201, 1202, 1203, 1300, 1301, 1302, 1303, 1304), 4),
    **dict.fromkeys((5000, 5001, 5002), 5),
}


@pytest.mark.parametrize("envelope", ["documented", "gateway"])
@pytest.mark.parametrize(("code", "exit_status"), sorted(CONTRACT_EXITS.items()))
def test_every_code_of_the_contract_gives_its_exit_status(
    mivid: RunMivid,
    serve: Serve,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    exit_status: int,
    envelope: Envelope,
) -> None:
    """The request_id is quoted when the service sends one; gateways often drop it."""
    for name, value in QUICK.items():
        monkeypatch.setenv(name, value)
    emulator = Emulator(access_keys={"test-ak": "test-sk"}, envelope=envelope)
    serve(emulator)
    emulator.inject(Fault.error(code, message=f"refused {code}", on="get", times=None))
    result = mivid("get", "867283741759111202")
    assert result.exit_code == exit_status, result
    assert str(code) in result.stderr
    assert ("request_id" in result.stderr) is (envelope == "documented")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_billing_code_on_http_429_is_not_retried_as_a_rate_limit(
    mivid: RunMivid, quick_env: EmulatorServer, tmp_path: Path
) -> None:
    quick_env.emulator.inject(Fault.error(1102, on="create", times=None))
    image = make_png(tmp_path / "a.png")
    result = mivid("create", str(image), "--prompt", "waves")
    assert result.exit_code == 3, result
    # One create, never resent; then one look at the account for the message's last line.
    assert [(r.method, r.path) for r in quick_env.emulator.received] == [
        ("POST", "/v1/videos/multi-image2video"),
        ("GET", "/account/costs"),
    ]


def test_the_body_is_the_compact_json_and_its_length_is_exact(
    mivid: RunMivid, quick_env: EmulatorServer, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "ünïcode.png")
    url = "https://example.com/bilder/größe.jpg"
    prompt = 'la mer, 海, 🌊 — "quoted" \\ back'
    result = mivid("create", str(image), url, "--prompt", prompt, "--json")
    assert result.exit_code == 0, result
    (request,) = [r for r in quick_env.emulator.received if r.method == "POST"]
    assert int(request.headers["content-length"]) == len(request.body)
    assert (
        request.body == json.dumps(request.json, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert request.json["prompt"] == prompt
    assert request.json["image_list"][1] == {"image": url}


def test_a_base_url_with_a_path_prefix_and_trailing_slash_keeps_the_prefix(
    mivid: RunMivid, server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLING_BASE_URL", server.url + "/kling/")
    monkeypatch.setenv("KLING_API_KEY", TEST_API_KEY)
    mivid("get", "a b/c")
    (request,) = server.emulator.received
    assert request.path == "/kling/v1/videos/multi-image2video/a b/c"  # as the emulator decodes it


def test_an_empty_external_task_id_is_refused_not_replaced(
    mivid: RunMivid, quick_env: EmulatorServer, tmp_path: Path
) -> None:
    """`--external-task-id ""` was silently swapped for a generated id (the rule never fired)."""
    image = make_png(tmp_path / "a.png")
    result = mivid("create", str(image), "--prompt", "waves", "--external-task-id", "")
    assert result.exit_code == 2, result
    assert "--external-task-id: must not be empty" in result.stderr
    assert quick_env.emulator.received == []
