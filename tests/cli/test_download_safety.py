"""Downloads never write where they should not (issue 13, points 1, 11, 14's video bytes, 15).

No link is ever followed for a file mivid creates or resumes; a partial file
knows which video it holds; planned names are checked against each other and
the folder before anything is written; video bytes are capped; and what is
renamed into place is an MP4.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import Serve
from helpers import Result, RunMivid, Sleepless
from imagefactory import make_png
from mivid.download import part_path
from mivid.sandbox import Emulator, EmulatorServer, FakeClock, Fault
from mivid.sandbox.video import sample_mp4, video_bytes

TASK = "860000000000000001"


@pytest.fixture
def image(tmp_path: Path) -> str:
    return str(make_png(tmp_path / "front.png"))


#: `finished(*ids, **emulator_options)`: a served emulator whose tasks (`ids`, in order;
#: TASK by default) have all ended.
Finished = Callable[..., EmulatorServer]


@pytest.fixture
def finished(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, image: str, sleepless: Sleepless
) -> Finished:
    def make(*ids: str, **options: Any) -> EmulatorServer:
        server = serve(
            Emulator(
                access_keys={"test-ak": "test-sk"},
                clock=fake_clock,
                task_ids=list(ids or [TASK]),
                **options,
            )
        )
        for n in range(len(ids) or 1):
            made = mivid("create", image, "--prompt", f"video {n}", clock=sleepless)
            assert made.exit_code == 0, made
        sleepless.sleep(10)
        return server

    return make


@pytest.fixture
def download(mivid: RunMivid, sleepless: Sleepless) -> RunMivid:
    """`download(*args)`: `mivid download *args` on the test's clock."""

    def run(*args: str) -> Result:
        return mivid("download", *args, clock=sleepless)

    return run


def video_requests(server: EmulatorServer) -> int:
    return sum(1 for r in server.emulator.received if r.path.endswith(".mp4"))


# -- 13.1: a planted .part symlink is never followed -----------------------------------------


@pytest.mark.parametrize("where", ["the part file", "a part file of an older mivid"])
def test_a_planted_part_link_is_never_followed(
    finished: Finished, download: RunMivid, tmp_path: Path, where: str
) -> None:
    server = finished()
    out = tmp_path / "v"
    out.mkdir()
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    final = out / f"{TASK}.mp4"
    url = server.emulator.tasks()[0]["task_result"]["videos"][0]["url"]
    planted = part_path(final, url) if where == "the part file" else out / f".{TASK}.mp4.part"
    planted.symlink_to(precious)
    result = download(TASK, "-o", str(out))
    assert precious.read_text() == "keep me"
    if where == "the part file":  # it can only be a plant: refused, named, nothing written
        assert result.exit_code == 2, result
        assert f"{planted}: is a symbolic link" in result.stderr
        assert not final.exists() and planted.is_symlink()
        assert video_requests(server) == 0
    else:  # an older mivid's name: a leftover, removed (the link, never its target)
        assert result.exit_code == 0, result
        assert final.read_bytes() == video_bytes(TASK)
        assert not planted.is_symlink()


def test_a_link_in_place_of_the_video_is_refused_unless_forced(
    finished: Finished, download: RunMivid, tmp_path: Path
) -> None:
    finished()
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    final = tmp_path / f"{TASK}.mp4"
    final.symlink_to(precious)
    refused = download(TASK, "-o", str(tmp_path))
    assert refused.exit_code == 2, refused
    assert f"{final}: is a symbolic link" in refused.stderr
    forced = download(TASK, "-o", str(tmp_path), "--force")
    assert forced.exit_code == 0, forced
    assert precious.read_text() == "keep me"  # the link was replaced, its target untouched
    assert not final.is_symlink() and final.read_bytes() == video_bytes(TASK)


# -- 13.11: a partial file records its source; planned names never collide --------------------


def test_a_partial_plain_video_is_never_spliced_into_the_watermarked_copy(
    download: RunMivid,
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    image: str,
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    server = serve(Emulator(access_keys={"test-ak": "test-sk"}, clock=fake_clock, task_ids=[TASK]))
    assert mivid("create", image, "--prompt", "x", "--watermark", clock=sleepless).exit_code == 0
    sleepless.sleep(10)
    out = tmp_path / "v"
    # The two copies differ only from their last box's size on: break the plain one there.
    cut = len(sample_mp4()) + 4
    assert video_bytes(TASK)[:cut] != video_bytes(TASK, watermarked=True)[:cut]
    server.emulator.inject(Fault.drop_after(on="video", bytes=cut))
    server.emulator.inject(Fault.drop_after(on="video", bytes=0, times=3))
    broken = download(TASK, "-o", str(out))
    assert broken.exit_code == 5, broken
    (partial,) = out.glob("*.part")
    assert partial.stat().st_size == cut
    # An older mivid's leftover of the plain video, under the name it used, too.
    (out / f".{TASK}.mp4.part").write_bytes(video_bytes(TASK)[:cut])
    result = download(TASK, "-o", str(out), "--watermarked")
    assert result.exit_code == 0, result
    # The watermarked copy has a name of its own (15.29): nothing of the plain one in it.
    assert (out / f"{TASK}-watermarked.mp4").read_bytes() == video_bytes(TASK, watermarked=True)
    assert not (out / f"{TASK}.mp4").exists()
    assert [p for p in out.glob("*.part") if "watermarked" in p.name] == []


def test_two_tasks_whose_ids_make_the_same_file_name_are_refused_before_writing(
    finished: Finished, download: RunMivid, tmp_path: Path
) -> None:
    server = finished("shot:1", "shot_1")
    out = tmp_path / "v"
    result = download("shot:1", "shot_1", "-o", str(out))
    assert result.exit_code == 2, result
    assert f"{out / 'shot_1.mp4'}: both task shot:1 and task shot_1 would be saved here" in (
        result.stderr
    )
    assert not out.exists() or list(out.iterdir()) == []
    assert video_requests(server) == 0


def test_a_multi_video_task_and_a_task_named_like_its_second_video_do_not_collide(
    finished: Finished, download: RunMivid, tmp_path: Path
) -> None:
    server = finished("M", "M-2")
    first = server.emulator.tasks()[1]["task_result"]["videos"][0]
    other = server.emulator.tasks()[0]["task_result"]["videos"][0]
    server.emulator.inject(
        Fault.patch({"task_result": {"videos": [first, other]}}, on="get", task="M", times=None)
    )
    result = download("M", "M-2", "-o", str(tmp_path / "v"))
    assert result.exit_code == 2, result
    assert "both task M (its video 2) and task M-2 would be saved here" in result.stderr


def test_a_sidecar_never_replaces_a_users_file_unless_forced(
    finished: Finished, download: RunMivid, tmp_path: Path
) -> None:
    server = finished("package")
    mine = tmp_path / "package.json"
    mine.write_text('{"name": "my-app"}')
    refused = download("package", "-o", str(tmp_path))
    assert refused.exit_code == 2, refused
    assert f"{mine}: exists and is not the sidecar mivid writes for task package" in (
        refused.stderr
    )
    assert mine.read_text() == '{"name": "my-app"}'
    assert not (tmp_path / "package.mp4").exists()
    assert video_requests(server) == 0
    forced = download("package", "-o", str(tmp_path), "--force")
    assert forced.exit_code == 0, forced
    assert '"task_id": "package"' in mine.read_text()


# -- 13.14: video bytes are capped ------------------------------------------------------------


def test_an_endless_video_stops_at_the_cap_and_leaves_nothing(
    finished: Finished, download: RunMivid, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = finished()
    server.emulator.inject(Fault.endless(on="video"))
    monkeypatch.setenv("MIVID_MAX_VIDEO_MB", "2")
    started = time.monotonic()
    result = download(TASK, "-o", str(tmp_path / "v"))
    assert time.monotonic() - started < 30
    assert result.exit_code == 5, result
    assert "more than 2 MiB" in result.stderr and "MIVID_MAX_VIDEO_MB" in result.stderr
    assert list((tmp_path / "v").iterdir()) == []
    assert video_requests(server) == 1  # not tried again: it would only send as much again


class _Bomb(BaseHTTPRequestHandler):
    """A video host that announces a small gzip body which inflates without end."""

    body = gzip.compress(sample_mp4() + b"\0" * (24 * 1024 * 1024))

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def do_HEAD(self) -> None:
        self.send_response(405)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def bomb_host() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bomb)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/out.mp4"
    server.shutdown()
    server.server_close()


def test_a_gzip_body_that_inflates_past_the_cap_is_stopped(
    finished: Finished,
    download: RunMivid,
    tmp_path: Path,
    bomb_host: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = finished()
    server.emulator.inject(
        Fault.patch({"task_result.videos.0.url": bomb_host}, on="get", times=None)
    )
    monkeypatch.setenv("MIVID_MAX_VIDEO_MB", "4")
    result = download(TASK, "-o", str(tmp_path / "v"))
    assert result.exit_code == 5, result
    assert "more than 4 MiB" in result.stderr
    assert list((tmp_path / "v").iterdir()) == []


def test_an_announced_length_past_the_cap_is_refused_before_reading(
    finished: Finished, download: RunMivid, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = finished()
    monkeypatch.setenv("MIVID_MAX_VIDEO_MB", "1")
    huge = str(5 * 1024 * 1024)
    server.emulator.inject(
        Fault.raw(
            200, {"Content-Type": "video/mp4", "Content-Length": huge}, sample_mp4(), on="video"
        )
    )
    result = download(TASK, "-o", str(tmp_path / "v"))
    assert result.exit_code == 5, result
    assert f"announces {huge} bytes, more than 1 MiB" in result.stderr


# -- 13.15: only an MP4 is renamed into place -------------------------------------------------


_SIGN_IN = b"<html><body>Sign in to continue</body></html>"


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        pytest.param(
            Fault.html(200, on="video", times=None),
            "text/html, not a video",
            id="an HTML page is never saved as a video",
        ),
        pytest.param(
            Fault.raw(
                200,
                {"Content-Type": "video/mp4", "Content-Length": str(len(_SIGN_IN))},
                _SIGN_IN,
                on="video",
                times=None,
            ),
            "is not an MP4 video (no `ftyp` box at its start)",
            id="bytes without an MP4 signature are never renamed into place",
        ),
    ],
)
def test_only_an_mp4_is_renamed_into_place(
    finished: Finished, download: RunMivid, tmp_path: Path, fault: Fault, said: str
) -> None:
    server = finished()
    server.emulator.inject(fault)
    result = download(TASK, "-o", str(tmp_path / "v"))
    assert result.exit_code == 5, result
    assert said in result.stderr
    assert list((tmp_path / "v").iterdir()) == []
