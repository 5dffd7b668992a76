"""A server that echoes the credential transformed gets none of it printed.

Upper-cased, URL-encoded, split by a space, Base64 of the key or of
`Bearer <key>` (inside a longer Base64 text too): each is cut out of errors,
`--json` and `--verbose`, as the plain copy always was. So is the JWT mivid
signs from an access and secret key, echoed as Base64.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import Serve
from helpers import QuietHandler, RunMivid, Sleepless, handler_server
from mivid.sandbox import Emulator, EmulatorServer, FakeClock, Fault

API_KEY = "sk-SECRETKEY-ABCDEF0123456789"  # 29 characters, like a real console key
SECRET_KEY = "Sec2ret4Key8Of32Characters0x9Q7w"


def echoes(key: str) -> dict[str, str]:
    """The key as a careless server may write it back, by what was done to it."""
    return {
        "upper-cased": key.upper(),
        "lower-cased": key.lower(),
        "URL-encoded": quote(key, safe=""),
        "split": f"{key[:12]} {key[12:]}",
        "Base64": base64.b64encode(key.encode()).decode(),
        "Base64 of the header": base64.b64encode(f"Bearer {key}".encode()).decode(),
        "URL-safe Base64 inside more": base64.urlsafe_b64encode(
            b"\x01{" + f'"auth": "Bearer {key}"'.encode() + b"}"
        ).decode(),
    }


def hostile(serve: Serve, fake_clock: FakeClock, message: str) -> EmulatorServer:
    fake_clock.set(time.time())
    server = serve(
        Emulator(access_keys={"test-ak": SECRET_KEY}, api_keys={API_KEY}, clock=fake_clock),
        keys=("test-ak", SECRET_KEY),
    )
    body = {"code": 1200, "message": message, "request_id": message}
    server.emulator.inject(
        Fault.raw(
            400,
            {"Content-Type": "application/json"},
            json.dumps(body).encode(),
            on="any",
            times=None,
        )
    )
    return server


@pytest.mark.parametrize("how", list(echoes(API_KEY)))
@pytest.mark.parametrize("flags", [(), ("--json",), ("--verbose",), ("--debug",)])
def test_a_transformed_api_key_in_an_answer_is_never_printed(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    sleepless: Sleepless,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    flags: tuple[str, ...],
) -> None:
    echoed = echoes(API_KEY)[how]
    server = hostile(serve, fake_clock, f"bad token: {echoed} (sent by you)")
    monkeypatch.delenv("KLING_ACCESS_KEY")
    monkeypatch.delenv("KLING_SECRET_KEY")
    monkeypatch.setenv("KLING_API_KEY", API_KEY)
    result = mivid("get", "867283741759111202", *flags, clock=sleepless)
    assert result.exit_code == 4, result
    shown = result.stdout + result.stderr
    assert "bad token: " in shown and "(sent by you)" in shown  # the message, with a cut
    assert re.search(r"\[[^]]*…[^]]*\]", shown)  # a redacted stretch
    assert server.emulator.received[0].headers["authorization"] == f"Bearer {API_KEY}"
    assert echoed not in shown
    for part in echoed.split(" "):
        if len(part) >= 12:  # neither half of a split copy shows whole
            assert part not in shown
    for printed in (API_KEY, API_KEY.upper(), API_KEY[12:], API_KEY[:-12]):
        assert printed.lower() not in shown.lower()


@pytest.mark.parametrize("how", ["upper-cased", "URL-encoded", "Base64", "split"])
def test_a_transformed_secret_key_is_never_printed(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, sleepless: Sleepless, how: str
) -> None:
    echoed = echoes(SECRET_KEY)[how]
    hostile(serve, fake_clock, f"signed with {echoed}?")
    result = mivid("--verbose", "get", "867283741759111202", clock=sleepless)
    assert result.exit_code == 4, result
    assert "signed with " in result.stderr and re.search(r"\[[^]]*…[^]]*\]", result.stderr)
    assert echoed not in result.stderr
    assert SECRET_KEY[12:].lower() not in result.stderr.lower()


def test_ordinary_words_are_not_cut(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, sleepless: Sleepless
) -> None:
    """Only the secret's own characters are cut: the rest of the service's sentence stays."""
    sentence = "Task not found by id/external id: secret-key SECRETKEY abcdef0123"
    hostile(serve, fake_clock, sentence)
    result = mivid("get", "867283741759111202", clock=sleepless)
    assert result.exit_code == 4, result
    assert sentence in result.stderr


def test_a_key_echoed_in_a_task_reaches_no_sidecar_and_no_gallery(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, tmp_path: Path
) -> None:
    """The output was redacted, but the sidecar `download` wrote kept the task's texts as
    the service sent them, and `gallery` (which reads no keys) copied them into its page and
    its --json: what the service echoes is cut out as it arrives."""
    from imagefactory import make_png

    fake_clock.set(time.time())
    server = serve(
        Emulator(access_keys={"test-ak": SECRET_KEY}, clock=fake_clock),
        keys=("test-ak", SECRET_KEY),
    )
    made = mivid("create", str(make_png(tmp_path / "a.png")), "--prompt", "waves", "-q")
    assert made.exit_code == 0, made
    task_id = made.stdout.strip()
    fake_clock.advance(600)
    echoed = f"policy {SECRET_KEY} and {SECRET_KEY.upper()} and {quote(SECRET_KEY, safe='')}"
    server.emulator.inject(Fault.patch({"task_status_msg": echoed}, on="any", times=None))
    folder = tmp_path / "videos"
    saved = mivid("download", task_id, "--download", str(folder))
    assert saved.exit_code == 0, saved
    shown = mivid("gallery", str(folder), "--json")
    assert shown.exit_code == 0, shown
    written = [path.read_text() for path in folder.iterdir() if path.suffix in (".json", ".html")]
    assert written, list(folder.iterdir())
    for text in [*written, saved.stdout, saved.stderr, shown.stdout]:
        for form in (SECRET_KEY, SECRET_KEY.upper(), quote(SECRET_KEY, safe=""), SECRET_KEY[4:20]):
            assert form not in text


# -- a server that echoes the JWT as Base64 ---------------------------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


#: The Authorization header (`Bearer <JWT>`) as a careless server may write it back.
JWT_ECHOES: dict[str, Callable[[str], str]] = {
    "Base64 of the token": lambda header: b64(header.removeprefix("Bearer ")),
    "Base64 of the signature": lambda header: b64(header.split(".")[2]),
    "Base64 of the header": b64,
    "URL-safe Base64 inside more": lambda header: base64.urlsafe_b64encode(
        b"\x01{" + f'"auth": "{header}"'.encode() + b"}"
    ).decode(),
}


@pytest.fixture
def base64_echo(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A service refusing every request (1201) with its Authorization header encoded as
    `seen["how"]` says; `seen["header"]`, `seen["echoed"]`: the last header and its echo."""
    seen: dict[str, str] = {}

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            header = self.headers.get("Authorization", "")
            seen["header"] = header
            seen["echoed"] = JWT_ECHOES[seen["how"]](header)
            message = f"bad token: {seen['echoed']} (sent by you)"
            body = json.dumps({"code": 1201, "message": message, "request_id": "r-1"}).encode()
            self.reply(400, body)

    with handler_server(Handler) as url:
        monkeypatch.setenv("KLING_BASE_URL", url)
        monkeypatch.setenv("KLING_ACCESS_KEY", "test-ak")
        monkeypatch.setenv("KLING_SECRET_KEY", SECRET_KEY)
        yield seen


def decoded_stretches(text: str) -> Iterator[bytes]:
    """Every stretch of Base64 characters in `text`, decoded from each of its 4 alignments."""
    for run in re.findall(r"[A-Za-z0-9+/_-]{4,}", text):
        standard = run.replace("-", "+").replace("_", "/")
        for start in range(4):
            usable = standard[start:]
            yield base64.b64decode(usable[: len(usable) // 4 * 4])


@pytest.mark.parametrize("how", list(JWT_ECHOES))
@pytest.mark.parametrize("flags", [(), ("--json",), ("--verbose",)])
def test_a_jwt_echoed_as_base64_is_never_printed(
    mivid: RunMivid, base64_echo: dict[str, str], how: str, flags: tuple[str, ...]
) -> None:
    base64_echo["how"] = how
    result = mivid("get", "867283741759111202", *flags)
    assert result.exit_code == 4, result
    token = base64_echo["header"].removeprefix("Bearer ")
    _header, _claims, signature = token.split(".")  # a JWT was sent
    shown = result.stdout + result.stderr
    assert "bad token: " in shown and "(sent by you)" in shown  # the message, with a cut
    assert re.search(r"\[[^]]*…[^]]*\]", shown)  # a redacted stretch
    assert base64_echo["echoed"] not in shown
    # Nothing printed decodes to the token or its signature, however it is aligned.
    for decoded in decoded_stretches(shown):
        assert signature.encode() not in decoded
        assert signature[:20].encode() not in decoded
