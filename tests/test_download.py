"""Downloads: atomic, checked, resumable, never overwriting silently — against the emulator.

The emulator serves each task's video over 127.0.0.1 (real sockets, so a
dropped connection is a real one) with Range support that tests switch off.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mivid.auth import JwtCredentials
from mivid.client import KlingClient
from mivid.download import (
    download_client,
    download_file,
    download_tasks,
    part_path,
    plan_videos,
)
from mivid.errors import ExitCode, InputError, NotFoundError, ServiceError, TaskFailedError
from mivid.sandbox import Emulator, EmulatorServer, FakeClock, Fault
from mivid.sandbox.video import video_bytes

TEST_ACCESS_KEY, TEST_SECRET_KEY = "test-ak", "test-sk"  # the keys tests/conftest.py serves


def no_sleep(_: float) -> None:
    pass


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with download_client() as client:
        yield client


def finished_task(
    server: EmulatorServer, fake_clock: FakeClock, *, watermark: bool = False
) -> dict[str, Any]:
    client = KlingClient(
        server.url, JwtCredentials(TEST_ACCESS_KEY, TEST_SECRET_KEY, clock=fake_clock)
    )
    payload: dict[str, Any] = {
        "image_list": [{"image": "https://example.com/a.png"}],
        "prompt": "a cat",
        "external_task_id": f"dl-{len(server.emulator.tasks())}",
    }
    if watermark:
        payload["watermark_info"] = {"enabled": True}
    body = json.dumps(payload).encode()
    with client:
        created = client.create_task(
            [body], content_length=len(body), external_task_id=payload["external_task_id"]
        )
        fake_clock.advance(10)
        return client.get_task(str(created["task_id"]))


def video_requests(emulator: Emulator) -> list[dict[str, str]]:
    return [r.headers for r in emulator.received if r.path.startswith("/sandbox/videos/")]


def test_the_video_lands_under_its_task_id_with_the_served_bytes(
    server: EmulatorServer, fake_clock: FakeClock, http: httpx.Client, tmp_path: Path
) -> None:
    task = finished_task(server, fake_clock)
    saved = download_tasks(http, [task], tmp_path / "out", sleep=no_sleep)
    [video] = saved[task["task_id"]]
    assert video.path == tmp_path / "out" / f"{task['task_id']}.mp4"
    assert video.path.read_bytes() == video_bytes(task["task_id"])
    assert video.size == len(video_bytes(task["task_id"]))
    assert not video.skipped
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [video.path.name, f"{task['task_id']}.json"]  # the video and its sidecar
    )
    assert all("authorization" not in headers for headers in video_requests(server.emulator))


def test_watermarked_takes_the_watermark_url(
    server: EmulatorServer, fake_clock: FakeClock, http: httpx.Client, tmp_path: Path
) -> None:
    task = finished_task(server, fake_clock, watermark=True)
    saved = download_tasks(http, [task], tmp_path, watermarked=True, sleep=no_sleep)
    [video] = saved[task["task_id"]]
    assert video.watermarked
    assert video.path.read_bytes() == video_bytes(task["task_id"], watermarked=True)


def test_a_connection_dropped_mid_file_is_resumed_with_a_range_request(
    server: EmulatorServer, fake_clock: FakeClock, http: httpx.Client, tmp_path: Path
) -> None:
    task = finished_task(server, fake_clock)
    server.emulator.inject(Fault.drop_after(on="video", bytes=1000))
    progress: list[tuple[int, int | None]] = []
    target = tmp_path / "v.mp4"
    size = download_file(
        http,
        task["task_result"]["videos"][0]["url"],
        target,
        sleep=no_sleep,
        on_progress=lambda _path, done, total: progress.append((done, total)),
    )
    expected = video_bytes(task["task_id"])
    assert target.read_bytes() == expected
    assert size == len(expected)
    assert [h.get("range") for h in video_requests(server.emulator)] == [None, "bytes=1000-"]
    assert not part_path(target, task["task_result"]["videos"][0]["url"]).exists()
    assert progress[-1] == (len(expected), len(expected))


def test_a_part_file_left_by_a_killed_run_is_resumed(
    server: EmulatorServer, fake_clock: FakeClock, http: httpx.Client, tmp_path: Path
) -> None:
    task = finished_task(server, fake_clock)
    expected = video_bytes(task["task_id"])
    target = tmp_path / "v.mp4"
    url = task["task_result"]["videos"][0]["url"]
    part_path(target, url).write_bytes(expected[:700])
    download_file(http, url, target, sleep=no_sleep)
    assert target.read_bytes() == expected
    assert [h.get("range") for h in video_requests(server.emulator)] == ["bytes=700-"]


def test_a_server_without_ranges_answers_200_and_the_download_starts_over(
    server: EmulatorServer, fake_clock: FakeClock, http: httpx.Client, tmp_path: Path
) -> None:
    server.emulator.range_support = False
    task = finished_task(server, fake_clock)
    expected = video_bytes(task["task_id"])
    target = tmp_path / "v.mp4"
    url = task["task_result"]["videos"][0]["url"]
    part_path(target, url).write_bytes(b"x" * 700)  # stale bytes that must not survive
    download_file(http, url, target, sleep=no_sleep)
    assert target.read_bytes() == expected


def test_a_download_that_keeps_failing_leaves_no_file_under_the_final_name(
    server: EmulatorServer, fake_clock: FakeClock, http: httpx.Client, tmp_path: Path
) -> None:
    task = finished_task(server, fake_clock)
    server.emulator.inject(Fault.drop_after(on="video", bytes=500, times=None))
    target = tmp_path / "v.mp4"
    with pytest.raises(ServiceError) as caught:
        download_file(http, task["task_result"]["videos"][0]["url"], target, sleep=no_sleep)
    assert caught.value.exit_code == ExitCode.SERVICE
    assert "after 4 attempts" in caught.value.message
    assert not target.exists()
    assert part_path(target, task["task_result"]["videos"][0]["url"]).exists()  # kept: resumed
    assert "resumes" in (caught.value.hint or "")


def test_a_deleted_video_is_not_found_with_the_thirty_day_hint(
    server: EmulatorServer, http: httpx.Client, tmp_path: Path
) -> None:
    url = f"{server.url}/sandbox/videos/123456789012345678.mp4"
    with pytest.raises(NotFoundError) as caught:
        download_file(http, url, tmp_path / "v.mp4", sleep=no_sleep)
    assert "30 days" in (caught.value.hint or "")
    assert not (tmp_path / "v.mp4").exists()


def test_an_existing_file_is_skipped_when_the_same_size_and_refused_otherwise(
    server: EmulatorServer, fake_clock: FakeClock, http: httpx.Client, tmp_path: Path
) -> None:
    task = finished_task(server, fake_clock)
    target = tmp_path / f"{task['task_id']}.mp4"
    expected = video_bytes(task["task_id"])

    target.write_bytes(b"\0" * len(expected))
    [video] = download_tasks(http, [task], tmp_path, sleep=no_sleep)[task["task_id"]]
    assert video.skipped
    assert target.read_bytes() == b"\0" * len(expected)

    target.write_bytes(b"something else")
    with pytest.raises(InputError) as caught:
        download_tasks(http, [task], tmp_path, sleep=no_sleep)
    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert str(target) in caught.value.lines()[0]
    assert target.read_bytes() == b"something else"

    [video] = download_tasks(http, [task], tmp_path, force=True, sleep=no_sleep)[task["task_id"]]
    assert not video.skipped
    assert target.read_bytes() == expected


def test_several_videos_are_numbered_and_unfinished_or_failed_tasks_refused(
    tmp_path: Path,
) -> None:
    videos = [{"url": "https://v.test/a.mp4"}, {"url": "https://v.test/b.mp4"}]
    task = {"task_id": "42", "task_status": "succeed", "task_result": {"videos": videos}}
    planned = plan_videos([task], tmp_path)
    assert [p.path.name for p in planned] == ["42-1.mp4", "42-2.mp4"]
    assert [p.url for p in planned] == ["https://v.test/a.mp4", "https://v.test/b.mp4"]

    with pytest.raises(InputError, match="task 7 is processing"):
        plan_videos([{"task_id": "7", "task_status": "processing"}], tmp_path)
    with pytest.raises(TaskFailedError, match="task 8 failed: nope"):
        plan_videos(
            [{"task_id": "8", "task_status": "failed", "task_status_msg": "nope"}], tmp_path
        )
    with pytest.raises(ServiceError, match="task 42 has no watermarked copy"):
        plan_videos([task], tmp_path, watermarked=True)
