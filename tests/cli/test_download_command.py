"""`mivid download` through the real command line: saved paths, skips, refusals, stdin."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from helpers import RunMivid
from mivid.sandbox import EmulatorServer, FakeClock, Fault
from mivid.sandbox.video import video_bytes

COLLECTION = "/v1/videos/multi-image2video"


@pytest.fixture
def api(kling_env: EmulatorServer, fake_clock: FakeClock) -> EmulatorServer:
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    return kling_env


def new_task(server: EmulatorServer, *, watermark: bool = False) -> str:
    now = int(server.emulator.clock())
    token = jwt.encode({"iss": "test-ak", "exp": now + 1800, "nbf": now - 5}, "test-sk")
    body: dict[str, Any] = {"image_list": [{"image": "https://example.com/a.png"}], "prompt": "x"}
    if watermark:
        body["watermark_info"] = {"enabled": True}
    answer = httpx.post(
        server.url + COLLECTION, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["task_id"])


def test_download_prints_the_saved_path_and_skips_it_next_time(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    task_id = new_task(api)
    fake_clock.advance(10)
    target = tmp_path / "videos" / f"{task_id}.mp4"
    result = mivid("download", task_id, "--output", str(tmp_path / "videos"))
    assert result.exit_code == 0, result
    assert result.stdout == f"{target}\n"
    assert target.read_bytes() == video_bytes(task_id)
    assert "deletes result videos 30 days" in result.stderr

    again = mivid("download", task_id, "-o", str(tmp_path / "videos"))
    assert again.exit_code == 0, again
    assert (
        f"{target}: already there ({target.stat().st_size} bytes), not downloaded again"
        in again.stderr
    )
    assert "30 days" not in again.stderr


def test_a_different_file_is_refused_unless_forced(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    task_id = new_task(api)
    fake_clock.advance(10)
    target = tmp_path / f"{task_id}.mp4"
    target.write_text("my own notes")
    refused = mivid("download", task_id, "-o", str(tmp_path))
    assert refused.exit_code == 2
    assert f"error: {target}: already exists with 12 bytes" in refused.stderr
    assert "--force" in refused.stderr
    assert target.read_text() == "my own notes"

    forced = mivid("download", task_id, "-o", str(tmp_path), "--force")
    assert forced.exit_code == 0, forced
    assert target.read_bytes() == video_bytes(task_id)


def test_watermarked_json_and_ids_from_stdin(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    ids = [new_task(api, watermark=True), new_task(api, watermark=True)]
    fake_clock.advance(10)
    result = mivid(
        "download", "-", "-o", str(tmp_path), "--watermarked", "--json", input="\n".join(ids)
    )
    assert result.exit_code == 0, result
    records = json.loads(result.stdout)
    assert [(r["task_id"], r["watermarked"], r["skipped"]) for r in records] == [
        (ids[0], True, False),
        (ids[1], True, False),
    ]
    for task_id in ids:
        watermarked = tmp_path / f"{task_id}-watermarked.mp4"
        assert watermarked.read_bytes() == video_bytes(task_id, watermarked=True)
        assert not (tmp_path / f"{task_id}.mp4").exists()


def test_the_watermarked_copy_is_saved_beside_the_clean_one(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    """Issue 15.29: both were saved as <id>.mp4, the second refused or taken for the first."""
    task_id = new_task(api, watermark=True)
    fake_clock.advance(10)

    clean = mivid("download", task_id, "-d", str(tmp_path))
    marked = mivid("download", task_id, "-d", str(tmp_path), "--watermarked")

    assert clean.exit_code == marked.exit_code == 0, (clean, marked)
    assert clean.stdout == f"{tmp_path / task_id}.mp4\n"
    assert marked.stdout == f"{tmp_path / task_id}-watermarked.mp4\n"
    assert (tmp_path / f"{task_id}.mp4").read_bytes() == video_bytes(task_id)
    assert (tmp_path / f"{task_id}-watermarked.mp4").read_bytes() == video_bytes(
        task_id, watermarked=True
    )
    assert (tmp_path / f"{task_id}-watermarked.json").is_file()  # its own sidecar


def test_a_running_task_has_nothing_to_download_yet(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path
) -> None:
    task_id = new_task(api)
    result = mivid("download", task_id, "-o", str(tmp_path / "v"))
    assert result.exit_code == 2
    assert f"task {task_id} is submitted: it has no video yet" in result.stderr
    assert f"mivid wait {task_id} --download" in result.stderr
    assert not (tmp_path / "v").exists()


def test_a_dropped_connection_is_resumed_and_the_file_is_whole(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    task_id = new_task(api)
    fake_clock.advance(10)
    api.emulator.inject(Fault.drop_after(on="video", bytes=900))
    result = mivid("download", task_id, "-o", str(tmp_path / "v"))
    assert result.exit_code == 0, result
    assert (tmp_path / "v" / f"{task_id}.mp4").read_bytes() == video_bytes(task_id)
    ranges = [r.headers.get("range") for r in api.emulator.received if r.path.endswith(".mp4")]
    assert ranges == [None, "bytes=900-"]
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == [  # no .part left
        f"{task_id}.json",
        f"{task_id}.mp4",
    ]
