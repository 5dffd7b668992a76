"""A credential a server echoes behind JSON escapes is cut out of what is kept, too.

The door scrubs the answer's text as it arrives; `\\u0053ec…` or `Ab\\/Cd` spell a key
that text does not hold, and only the parsed strings do. What `download` writes (the
sidecar, the gallery page) and what `get --json` prints must hold none of it. A body
that is not UTF-8 (UTF-16, an encoded surrogate) is not JSON between systems: refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import QuietHandler, RunMivid, handler_server

API_KEY = "sk-Ab/Cd3fGh1jK/LmN0pQr/StUvWx/yZ012"  # slashes: PHP's json_encode writes `\/`
TASK_ID = "880000000000000001"
SAMPLE = (Path(__file__).parents[2] / "src" / "mivid" / "sandbox" / "sample.mp4").read_bytes()


def escaped(text: str) -> str:
    """Every character of `text` as a JSON `\\uXXXX` escape."""
    return "".join(f"\\u{ord(ch):04x}" for ch in text)


def slashed(text: str) -> str:
    return text.replace("/", "\\/")


def task_body(base: str, spell: Callable[[str], str]) -> bytes:
    """A finished task whose message, external id and video URL echo the key as `spell`s it."""
    key = spell(API_KEY)
    return (
        '{"code":0,"message":"SUCCEED","request_id":"r-1","data":{'
        f'"task_id":"{TASK_ID}","task_status":"succeed",'
        f'"task_status_msg":"policy {key} end",'
        f'"task_info":{{"external_task_id":"ext-{key}"}},'
        '"created_at":1764000000000,"updated_at":1764000060000,'
        f'"task_result":{{"videos":[{{"id":"v1","url":"{base}/v.mp4?k={key}",'
        '"duration":"5.1"}]}}}'
    ).encode()


@pytest.fixture
def echoing(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, object]]:
    """A service answering a task query with `how["body"](base_url)`, and a video."""
    how: dict[str, object] = {}

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/v.mp4"):
                body, kind = SAMPLE, "video/mp4"
            else:
                make = how["body"]
                assert callable(make)
                host = self.headers.get("Host", "")
                body, kind = make(f"http://{host}"), "application/json"
            self.reply(200, body, kind)

    with handler_server(Handler) as url:
        monkeypatch.setenv("KLING_BASE_URL", url)
        monkeypatch.setenv("KLING_API_KEY", API_KEY)
        monkeypatch.delenv("KLING_ACCESS_KEY", raising=False)
        monkeypatch.delenv("KLING_SECRET_KEY", raising=False)
        yield how


@pytest.mark.parametrize("spell", [escaped, slashed], ids=["\\u-escaped", "slash-escaped"])
def test_a_key_behind_json_escapes_reaches_no_file_and_no_output(
    mivid: RunMivid, echoing: dict[str, object], spell: Callable[[str], str], tmp_path: Path
) -> None:
    echoing["body"] = lambda base: task_body(base, spell)
    folder = tmp_path / "videos"
    saved = mivid("download", TASK_ID, "--download", str(folder))
    assert saved.exit_code == 0, saved
    shown = mivid("get", TASK_ID, "--json")
    assert shown.exit_code == 0, shown
    gallery = mivid("gallery", str(folder), "--json")
    assert gallery.exit_code == 0, gallery
    written = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert f"{TASK_ID}.json" in written and f"{TASK_ID}.mp4" in written, sorted(written)
    texts = [
        data.decode("utf-8", "replace")
        for name, data in written.items()
        if name != f"{TASK_ID}.mp4"
    ]
    parsed = json.loads(shown.stdout)
    assert parsed["task_status_msg"].startswith("policy ") and parsed["task_status_msg"].endswith(
        " end"
    )
    for text in [*texts, saved.stdout, saved.stderr, shown.stdout, gallery.stdout]:
        for copy in (API_KEY, API_KEY[5:17], json.dumps(API_KEY)[1:-1], escaped(API_KEY)):
            assert copy not in text
    assert all(API_KEY not in name for name in written)


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-16"),
        lambda text: text.replace("policy", "policy \ud800").encode("utf-8", "surrogatepass"),
    ],
    ids=["UTF-16", "an encoded surrogate"],
)
def test_an_answer_that_is_not_utf8_is_refused_and_nothing_is_kept(
    mivid: RunMivid, echoing: dict[str, object], encode: Callable[[str], bytes], tmp_path: Path
) -> None:
    echoing["body"] = lambda base: encode(task_body(base, str).decode())
    folder = tmp_path / "videos"
    result = mivid("download", TASK_ID, "--download", str(folder))
    assert result.exit_code == 5, result
    assert "(not UTF-8: " in result.stderr, result.stderr
    shown = (result.stderr + result.stdout).replace("\\x00", "")  # UTF-16's NULs, escaped
    assert API_KEY not in shown and API_KEY[5:17] not in shown
    assert not folder.exists() or not any(folder.iterdir())


@pytest.mark.parametrize("where", ["environment", "config file"])
def test_a_key_an_older_mivid_kept_in_a_sidecar_is_not_shown_by_gallery(
    mivid: RunMivid,
    echoing: dict[str, object],
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`gallery` sends nothing and reads no settings, yet the configured key is cut out of
    what it prints and of the page it writes."""
    echoing["body"] = lambda base: task_body(base, str)
    folder = tmp_path / "videos"
    saved = mivid("download", TASK_ID, "--download", str(folder))
    assert saved.exit_code == 0, saved
    sidecar = folder / f"{TASK_ID}.json"
    record = json.loads(sidecar.read_text())
    record["task_status_msg"] = f"policy {API_KEY} end"  # as an older mivid kept it
    sidecar.write_text(json.dumps(record))
    if where == "config file":
        config = tmp_path / "config.toml"
        config.write_text(f'[default]\napi-key = "{API_KEY}"\n')
        monkeypatch.setenv("MIVID_CONFIG_FILE", str(config))
        monkeypatch.delenv("KLING_API_KEY")
    shown = mivid("gallery", str(folder), "--json")
    assert shown.exit_code == 0, shown
    page = (folder / "index.html").read_text()
    assert "policy [" in shown.stdout
    for text in (shown.stdout, shown.stderr, page):
        assert API_KEY not in text and API_KEY[5:17] not in text


def test_a_key_cut_out_of_an_escaped_answer_leaves_it_readable(
    mivid: RunMivid, echoing: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of 12 of a key starting right after `\\/` was cut out of the body's text, which
    left `\\[…]`: no JSON. The body with escapes is parsed first, then its strings cut."""
    key = "sk-AbCdEfGhIjKlMn/OpQrStUvWxYz0123"
    monkeypatch.setenv("KLING_API_KEY", key)
    echoing["body"] = lambda base: task_body(base, str).replace(
        b"policy " + API_KEY.encode(), b"policy " + key.replace("/", "\\/").encode()
    )
    shown = mivid("get", TASK_ID, "--json")
    assert shown.exit_code == 0, shown
    message = json.loads(shown.stdout)["task_status_msg"]
    assert message.startswith("policy [") and key[:12] not in message and key[-12:] not in message
