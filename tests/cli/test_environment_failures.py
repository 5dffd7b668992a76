"""What the machine and the network do is never a bug: each cause gets its status and one line.

A full disk, a file too large, stdout on /dev/full (exit 74); a redirect loop, a
broken gzip body, an invalid URL in an answer (exit 5); a task id too long for a
file name (saved under a shortened name). Read-only folders, /proc paths, deep
TOML and bytes that are not UTF-8 are input, refused before anything is sent
(exit 2: tests/cli/test_local_checks.py).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Serve
from helpers import RunMivid, environment, error_lines, finished_task, run_process
from imagefactory import make_png
from mivid.sandbox import Emulator, EmulatorServer, FakeClock, Fault


def unknown_task(mivid: RunMivid, tmp_path: Path, fake_clock: FakeClock) -> str:
    """A finished task the local journal does not know (made with another state folder)."""
    elsewhere = {"XDG_STATE_HOME": str(tmp_path / "elsewhere")}
    return finished_task(mivid, tmp_path, fake_clock, env=elsewhere)


def served(server: EmulatorServer) -> dict[str, str]:
    return environment(
        {
            "KLING_BASE_URL": server.url,
            "KLING_ACCESS_KEY": "test-ak",
            "KLING_SECRET_KEY": "test-sk",
        }
    )


def assert_one_clean_line(stderr: str) -> str:
    assert "Traceback" not in stderr and "bug in mivid" not in stderr, stderr
    (line,) = error_lines(stderr)
    return line


# -- exit 74: the machine refused a write --------------------------------------------------------


def test_stdout_on_dev_full_is_exit_74_with_one_line(api: EmulatorServer) -> None:
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [sys.executable, "-m", "mivid", "list", "--json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=served(api),
            timeout=60,
            check=False,
        )
    assert completed.returncode == 74, completed.stderr
    line = assert_one_clean_line(completed.stderr)
    assert line == "error: stdout (the results): No space left on device"
    assert "Exception ignored" not in completed.stderr


def test_a_file_too_large_for_the_limit_is_exit_74(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    task_id = unknown_task(mivid, tmp_path, fake_clock)
    out = tmp_path / "videos"

    def small_files() -> None:  # the sample video is 2853 bytes
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    completed = subprocess.run(
        [sys.executable, "-m", "mivid", "download", task_id, "-d", str(out)],
        capture_output=True,
        text=True,
        env=served(api),
        timeout=60,
        check=False,
        preexec_fn=small_files,
    )
    assert completed.returncode == 74, completed.stderr
    line = assert_one_clean_line(completed.stderr)
    assert "File too large" in line
    assert "ulimit -f" in completed.stderr  # the hint
    assert not (out / f"{task_id}.mp4").exists()
    (part,) = out.glob(f".{task_id}.mp4.*.part")  # named: the file that could not grow
    assert line.startswith(f"error: {part}: ")


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB file system, where mounting one is allowed (root with CAP_SYS_ADMIN)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a small file system here (stdout on /dev/full covers ENOSPC)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True, check=False)


def test_a_disk_that_fills_during_a_download_is_exit_74(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, fake_clock: FakeClock, tiny_folder: Path
) -> None:
    task_id = unknown_task(mivid, tmp_path, fake_clock)
    api.emulator.inject(Fault.endless(on="video", times=None))  # an MP4 that never ends
    completed = run_process("download", task_id, "-d", str(tiny_folder), env=served(api))
    assert completed.exit_code == 74, completed.stderr
    line = assert_one_clean_line(completed.stderr)
    assert "No space left on device" in line
    assert "free some space" in completed.stderr
    assert line.startswith(f"error: {tiny_folder}/.{task_id}.mp4.")  # the file it was writing
    assert ".part: No space left on device" in line


# -- exit 5: the network or a server misbehaved ------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (Fault.redirect(on="video"), "too many redirects"),
        (Fault.bad_gzip(on="video", times=None), "could not be decoded"),
        (Fault.invalid_video_url(on="get", times=None), "URL"),
    ],
    ids=["redirect loop", "broken gzip", "invalid URL"],
)
def test_a_misbehaving_video_server_is_exit_5_with_one_line(
    mivid: RunMivid,
    api: EmulatorServer,
    tmp_path: Path,
    fake_clock: FakeClock,
    fault: Fault,
    says: str,
) -> None:
    task_id = unknown_task(mivid, tmp_path, fake_clock)
    api.emulator.inject(fault)
    result = mivid("download", task_id, "-d", str(tmp_path / "videos"))
    assert result.exit_code == 5, result
    line = assert_one_clean_line(result.stderr)
    assert says in line


@pytest.mark.parametrize(
    "fault",
    [Fault.redirect(on="get"), Fault.bad_gzip(on="get", times=None)],
    ids=["redirect loop", "broken gzip"],
)
def test_a_misbehaving_api_is_exit_5_with_one_line(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, fake_clock: FakeClock, fault: Fault
) -> None:
    task_id = unknown_task(mivid, tmp_path, fake_clock)
    api.emulator.inject(fault)
    result = mivid("get", task_id, env={"MIVID_RETRY_BASE_DELAY": "0.001"})
    assert result.exit_code == 5, result
    assert_one_clean_line(result.stderr)


# -- a task id too long for a file name ---------------------------------------------------------


def test_a_300_character_task_id_is_saved_under_a_shortened_name(
    mivid: RunMivid, serve: Serve, tmp_path: Path
) -> None:
    long_id = "7" * 300
    emulator = Emulator(
        access_keys={"ak": "sk"},
        clock=time.time,
        processing_after=0,
        succeed_after=0,
        task_ids=[long_id],
    )
    serve(emulator, keys=("ak", "sk"))
    image = make_png(tmp_path / "front.png")
    out = tmp_path / "videos"
    result = mivid("create", str(image), "-p", "x", "--wait", "-d", str(out), "--json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["task_id"] == long_id
    (video,) = out.glob("*.mp4")
    assert len(video.name) <= 255 and video.name.startswith("7" * 100)
    assert (out / f"{video.stem}.json").exists()  # its sidecar too
    again = mivid("download", long_id, "-d", str(out), "--json")
    assert again.exit_code == 0, again
    (saved,) = json.loads(again.stdout)
    assert saved["path"] == str(video) and saved["skipped"] is True


# -- bytes that are not UTF-8 on stdin ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "subject"),
    [
        (("create", "{image}", "--prompt", "-", "--dry-run"), "--prompt - (stdin)"),
        (("wait", "-"), "ID - (stdin)"),
    ],
    ids=["prompt", "ids"],
)
def test_stdin_that_is_not_utf8_is_bad_input(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, args: tuple[str, ...], subject: str
) -> None:
    image = make_png(tmp_path / "front.png")
    words = [arg.replace("{image}", str(image)) for arg in args]
    result = mivid(*words, input=b"caf\xe9 au lait\n")
    assert result.exit_code == 2, result
    line = assert_one_clean_line(result.stderr)
    assert line == f"error: {subject}: is not UTF-8 text (byte 0xe9 on line 1)"
    assert api.emulator.received == []
