"""A video server that drips its bytes never holds `download`, `wait -d` or `batch -d` for long.

Less than 16 KiB in 30 s (`MIVID_STALL_KIB`, `MIVID_STALL_SECONDS`) stops a
download: exit 5, one line naming the URL and what to do, the partial file kept
so the same command resumes. `wait --timeout` holds while downloading too (exit 6).

In process, the emulator's drip moves its fake clock between bytes and mivid
reads the same clock (`clock=sleepless`): minutes of dripping cost no real time.
One test runs a real process over a real socket, where the time is real.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from helpers import RunMivid, Sleepless, run_process
from imagefactory import make_png
from mivid.sandbox import EmulatorServer, FakeClock, Fault
from mivid.sandbox.video import video_bytes


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return make_png(tmp_path / "front.png")


@pytest.fixture
def task_id(mivid: RunMivid, api: EmulatorServer, image: Path, fake_clock: FakeClock) -> str:
    """A task of `api`'s that has ended, its video ready."""
    made = mivid("create", str(image), "--prompt", "a cat", "-q")
    assert made.exit_code == 0, made
    fake_clock.advance(10)
    return made.stdout.strip()


def video_requests(api: EmulatorServer) -> list[dict[str, str]]:
    return [
        r.headers
        for r in api.emulator.received
        if r.method == "GET" and "/videos/" in r.path and r.path.endswith(".mp4")
    ]


def part_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.part"))


def test_a_dripping_video_stops_download_with_exit_5_and_a_rerun_resumes(
    task_id: str,
    mivid: RunMivid,
    api: EmulatorServer,
    fake_clock: FakeClock,
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "videos"
    # One byte every 5 s: every read is prompt, the whole video would take days.
    api.emulator.inject(Fault.drip(5.0, on="video"))
    before = fake_clock()
    result = mivid("download", task_id, "-d", str(folder), clock=sleepless)
    assert result.exit_code == 5, result
    assert fake_clock() - before < 40  # one window of 30 s, not a retry after it
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    url = api.emulator.video_url(task_id)
    assert line.startswith(f"error: {url}: the video stalled (less than 16 KiB in 30 s)")
    assert "bytes kept" in line
    assert "run the same command again later: it resumes from the bytes kept" in result.stderr
    assert result.stdout == ""
    [part] = part_files(folder)
    kept = part.stat().st_size
    assert 0 < kept < 16 << 10
    assert not (folder / f"{task_id}.mp4").exists()

    again = mivid("download", task_id, "-d", str(folder), clock=sleepless)
    assert again.exit_code == 0, again
    assert (folder / f"{task_id}.mp4").read_bytes() == video_bytes(task_id)
    assert video_requests(api)[-1].get("range") == f"bytes={kept}-"  # resumed, not started over
    assert part_files(folder) == []


def test_the_slowest_rate_is_tunable_and_checked(
    task_id: str,
    mivid: RunMivid,
    api: EmulatorServer,
    fake_clock: FakeClock,
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    api.emulator.inject(Fault.drip(1.0, on="video"))
    before = fake_clock()
    env = {"MIVID_STALL_SECONDS": "5", "MIVID_STALL_KIB": "1"}
    result = mivid("download", task_id, "-d", str(tmp_path), env=env, clock=sleepless)
    assert result.exit_code == 5, result
    assert "the video stalled (less than 1 KiB in 5 s)" in result.stderr
    assert fake_clock() - before < 8

    bad = mivid("download", task_id, env={"MIVID_STALL_SECONDS": "0", "MIVID_STALL_KIB": "x"})
    assert bad.exit_code == 2, bad
    assert "$MIVID_STALL_SECONDS: `0` must be a number of seconds from 1 to 3600" in bad.stderr
    assert "$MIVID_STALL_KIB: `x` must be a whole number from 1" in bad.stderr


def test_wait_timeout_holds_while_a_video_drips(
    task_id: str,
    mivid: RunMivid,
    api: EmulatorServer,
    fake_clock: FakeClock,
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "videos"
    # A byte a second would pass the 30 s window's test only at its end: the deadline comes first.
    api.emulator.inject(Fault.drip(1.0, on="video"))
    before = fake_clock()
    result = mivid("wait", task_id, "-d", str(folder), "--timeout", "10", "--json", clock=sleepless)
    assert result.exit_code == 6, result
    assert fake_clock() - before <= 10 + 1
    assert "gave up after 10 s (--timeout) while saving the videos" in result.stderr
    assert "stopped at the deadline" in result.stderr
    assert f"resume with: mivid wait {task_id} --download {folder}" in result.stderr
    [part] = part_files(folder)
    assert part.stat().st_size > 0

    again = mivid("wait", task_id, "-d", str(folder), "--timeout", "10", clock=sleepless)
    assert again.exit_code == 0, again
    assert (folder / f"{task_id}.mp4").read_bytes() == video_bytes(task_id)


def test_batch_download_of_a_dripping_video_ends_that_job_with_exit_5(
    mivid: RunMivid,
    api: EmulatorServer,
    image: Path,
    fake_clock: FakeClock,
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(json.dumps({"images": [image.name], "prompt": "a cat"}) + "\n")
    folder = tmp_path / "videos"
    api.emulator.inject(Fault.drip(5.0, on="video"))
    before = fake_clock()
    result = mivid("batch", str(jobs), "-d", str(folder), clock=sleepless)
    assert result.exit_code == 5, result
    assert "the video stalled (less than 16 KiB in 30 s)" in result.stderr
    assert fake_clock() - before < 120
    assert len(part_files(folder)) == 1

    again = mivid("batch", str(jobs), "-d", str(folder), clock=sleepless)
    assert again.exit_code == 0, again
    [video] = folder.glob("*.mp4")
    assert video.read_bytes() == video_bytes(video.stem)


def test_over_a_real_socket_a_stalled_video_ends_in_real_time(
    task_id: str, api: EmulatorServer, tmp_path: Path
) -> None:
    api.emulator.inject(Fault.drip(0.3, on="video"))
    env = {
        "KLING_BASE_URL": api.url,
        "KLING_ACCESS_KEY": "test-ak",
        "KLING_SECRET_KEY": "test-sk",
        "MIVID_STALL_SECONDS": "1",
    }
    started = time.monotonic()
    result = run_process("download", task_id, "-d", str(tmp_path), env=env, timeout=60)
    assert result.exit_code == 5, result
    assert time.monotonic() - started < 1 + 6  # the window, and a busy machine's start-up
    assert "the video stalled (less than 16 KiB in 1 s)" in result.stderr
    assert len(part_files(tmp_path)) == 1
