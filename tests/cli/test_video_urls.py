"""A video URL that is no http(s) address, in an answer or behind a redirect, is refused at once.

Nothing is fetched, no partial file is left, nothing is tried again and no
"resume" hint is given: there is nothing to resume. A redirect from a public
host into this machine or its private network is not followed either.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from conftest import Serve
from helpers import RunMivid, finished_task
from imagefactory import make_png
from mivid.download import download_client, download_file
from mivid.errors import ServiceError
from mivid.sandbox import Emulator, EmulatorServer, FakeClock, Fault

VIDEO_PREFIX = "/sandbox/videos/"


@pytest.fixture
def finished(
    mivid: RunMivid, kling_env: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> str:
    return finished_task(mivid, tmp_path, fake_clock, after=60)


def video_requests(server: EmulatorServer) -> int:
    return sum(1 for r in server.emulator.received if r.path.startswith(VIDEO_PREFIX))


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://127.0.0.1/x.mp4",
        "/relative/x.mp4",
        "data:video/mp4;base64,AAAA",
        "http:///no-host.mp4",
    ],
)
def test_a_video_url_that_is_not_http_is_refused_before_any_request(
    mivid: RunMivid, kling_env: EmulatorServer, finished: str, tmp_path: Path, url: str
) -> None:
    kling_env.emulator.inject(Fault.invalid_video_url(url, on="get", times=None))
    out = tmp_path / "out"
    result = mivid("download", finished, "-d", str(out))
    assert result.exit_code == 5, result
    assert result.stdout == ""
    assert f"the service's video URL `{url}` is not an http(s) address" in result.stderr
    assert "resume" not in result.stderr and "attempts" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()  # no folder, no partial file
    assert video_requests(kling_env) == 0


def test_a_password_in_a_video_url_is_not_shown(
    mivid: RunMivid, kling_env: EmulatorServer, finished: str, tmp_path: Path
) -> None:
    kling_env.emulator.inject(
        Fault.invalid_video_url("ftp://user:hunter2@cdn.example/x.mp4", on="get", times=None)
    )
    for command in (["download", finished, "-d", str(tmp_path / "out")], ["open", finished]):
        result = mivid(*command)
        assert result.exit_code == 5, result
        assert "hunter2" not in result.stderr
        assert "ftp://cdn.example/x.mp4" in result.stderr


def test_a_finished_task_without_a_url_is_no_reason_to_wait(
    mivid: RunMivid, kling_env: EmulatorServer, finished: str, tmp_path: Path
) -> None:
    kling_env.emulator.inject(Fault.invalid_video_url("", on="get", times=None))
    result = mivid("open", finished, "--dir", str(tmp_path))
    assert result.exit_code == 5, result
    assert "succeeded, but the service's answer holds no video URL" in result.stderr
    assert "wait" not in result.stderr


def test_a_redirect_to_a_file_url_is_refused_at_once(
    mivid: RunMivid, kling_env: EmulatorServer, finished: str, tmp_path: Path
) -> None:
    kling_env.emulator.inject(Fault.redirect("file:///etc/passwd", on="video", times=None))
    out = tmp_path / "out"
    result = mivid("download", finished, "-d", str(out))
    assert result.exit_code == 5, result
    assert "redirects to `file:///etc/passwd`, which is not an http(s) address" in result.stderr
    assert "resume" not in result.stderr and "attempts" not in result.stderr
    assert video_requests(kling_env) == 1  # not tried again
    assert list(out.iterdir()) == []  # no partial file


def test_a_redirect_from_a_public_host_into_this_machine_is_not_followed(tmp_path: Path) -> None:
    asked: list[str] = []
    out = tmp_path / "out"
    out.mkdir()

    def cdn(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.host == "cdn.example.com":
            return httpx.Response(302, headers={"Location": "http://127.0.0.1:22/x.mp4"})
        return httpx.Response(200, content=b"\0\0\0\x18ftypmp42")

    with download_client(httpx.MockTransport(cdn)) as http, pytest.raises(ServiceError) as caught:
        download_file(http, "https://cdn.example.com/v.mp4", out / "v.mp4")
    assert "an address on this machine or its private network; not followed" in str(caught.value)
    assert asked == ["https://cdn.example.com/v.mp4"]
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    "target", ["http://10.0.0.7/v.mp4", "http://[::1]:8080/v.mp4", "http://localhost/v.mp4"]
)
def test_private_targets_are_refused_but_a_local_server_may_redirect_locally(
    tmp_path: Path, target: str
) -> None:
    def cdn(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v.mp4" and request.url.host in ("cdn.example.com", "127.0.0.1"):
            return httpx.Response(302, headers={"Location": target})
        return httpx.Response(200, content=b"\0\0\0\x18ftypmp42" + b"\0" * 16)

    with download_client(httpx.MockTransport(cdn)) as http:
        with pytest.raises(ServiceError):
            download_file(http, "https://cdn.example.com/v.mp4", tmp_path / "a.mp4")
        # From this machine to this machine (a local test server, the sandbox): followed.
        size = download_file(http, "http://127.0.0.1:9/v.mp4", tmp_path / "b.mp4")
    assert size == 28 and (tmp_path / "b.mp4").exists()


def test_a_task_listing_thousands_of_videos_floods_nothing(
    mivid: RunMivid, kling_env: EmulatorServer, finished: str, tmp_path: Path
) -> None:
    (task,) = kling_env.emulator.tasks()
    url = task["task_result"]["videos"][0]["url"]
    many = [{"id": str(n), "url": f"{url}?n={n}", "duration": "5"} for n in range(3000)]
    kling_env.emulator.inject(Fault.patch({"task_result.videos": many}, on="get", times=None))
    out = tmp_path / "out"
    result = mivid("download", finished, "-d", str(out))
    assert result.exit_code == 5, result
    assert "the service lists 3000 videos for it" in result.stderr
    assert "mivid saves at most 16" in result.stderr
    assert not out.exists()
    assert video_requests(kling_env) == 0


def test_names_that_differ_only_in_case_are_one_file_somewhere(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, tmp_path: Path
) -> None:
    server = serve(
        Emulator(
            access_keys={"test-ak": "test-sk"}, clock=fake_clock, task_ids=["task-Ab", "task-aB"]
        )
    )
    image = make_png(tmp_path / "front.png")
    for _ in range(2):
        assert mivid("create", str(image), "--prompt", "a cat", "-q").exit_code == 0
    fake_clock.advance(60)
    out = tmp_path / "out"
    result = mivid("download", "task-Ab", "task-aB", "-d", str(out))
    assert result.exit_code == 2, result
    assert "would be saved here" in result.stderr
    assert video_requests(server) == 0
    assert not out.exists() or list(out.iterdir()) == []
