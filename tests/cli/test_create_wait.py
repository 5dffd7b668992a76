"""`mivid create --wait [--download DIR]`: the whole lifecycle in one command."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import RunMivid, Serve
from imagefactory import make_png
from mivid.sandbox import Emulator, EmulatorServer
from mivid.sandbox.video import video_bytes


@pytest.fixture
def quick_api(serve: Serve) -> EmulatorServer:
    """The emulator on a real clock, with tasks that end as soon as they are made."""
    emulator = Emulator(
        access_keys={"test-ak": "test-sk"},
        clock=time.time,
        processing_after=0,
        succeed_after=0,
    )
    return serve(emulator, keys=("test-ak", "test-sk"))


def service_object(shown: dict[str, Any]) -> dict[str, Any]:
    """A task as `--json` shows it, without the keys mivid adds (as `get --json` does)."""
    return {key: value for key, value in shown.items() if key not in ("endpoint", "local")}


@pytest.fixture
def image(tmp_path: Path) -> str:
    return str(make_png(tmp_path / "front.png"))


def test_create_wait_download_leaves_the_served_video(
    mivid: RunMivid, quick_api: EmulatorServer, image: str, tmp_path: Path
) -> None:
    result = mivid(
        "create", image, "--prompt", "a cat", "--wait", "--download", str(tmp_path / "v")
    )
    assert result.exit_code == 0, result
    [task] = quick_api.emulator.tasks()
    task_id = task["task_id"]
    assert f"task id: {task_id}" in result.stderr  # create's answer: progress, on stderr
    assert result.stdout.startswith(f"{task_id}\tsucceed\t")  # stdout: the one result
    assert len(result.stdout.splitlines()) == 1
    saved = tmp_path / "v" / f"{task_id}.mp4"
    assert result.stdout.split("\t")[3] == str(saved)
    assert saved.read_bytes() == video_bytes(task_id)


def test_create_wait_json_prints_the_final_task_alone(
    mivid: RunMivid, quick_api: EmulatorServer, image: str
) -> None:
    result = mivid("create", image, "--prompt", "a cat", "--wait", "--json")
    assert result.exit_code == 0, result
    shown = json.loads(result.stdout)
    # The service's object as it ended, plus what `get --json` adds.
    assert service_object(shown) == quick_api.emulator.tasks()[0]
    assert shown["endpoint"] == "multi-image" and shown["local"]["prompt"] == "a cat"
    assert result.stderr == ""


def test_create_and_wait_json_with_download_name_the_files_saved(
    mivid: RunMivid, quick_api: EmulatorServer, image: str, tmp_path: Path
) -> None:
    """QA 17: `create --json --wait -d DIR` said nothing of the file it saved."""
    out = tmp_path / "out4"
    made = mivid("create", image, "--prompt", "a cat", "--wait", "--json", "-d", str(out))
    assert made.exit_code == 0, made
    [task] = quick_api.emulator.tasks()
    saved = out / f"{task['task_id']}.mp4"
    shown = json.loads(made.stdout)
    assert shown.pop("files") == [str(saved)]  # as batch --json has it
    assert service_object(shown) == task and shown["endpoint"] == "multi-image"
    assert saved.read_bytes() == video_bytes(task["task_id"])

    # wait: the same key on each task; a failed one saved nothing.
    failed = mivid("create", image, "--prompt", "a dog [fail]", "-q").stdout.strip()
    waited = mivid("wait", task["task_id"], failed, "--json", "-d", str(out))
    assert waited.exit_code == 1, waited
    assert [(t["task_id"], t["files"]) for t in json.loads(waited.stdout)] == [
        (task["task_id"], [str(saved)]),
        (failed, []),
    ]
    # Without --download the task object is the service's alone.
    plain = mivid("wait", task["task_id"], "--json")
    assert "files" not in json.loads(plain.stdout)[0]


def test_create_wait_quiet_prints_the_id_and_a_failure_exits_1(
    mivid: RunMivid, quick_api: EmulatorServer, image: str
) -> None:
    result = mivid("create", image, "--prompt", "a cat [fail]", "--wait", "-q")
    assert result.exit_code == 1, result
    [task] = quick_api.emulator.tasks()
    assert result.stdout == f"{task['task_id']}\n"
    assert f"task {task['task_id']} failed: {task['task_status_msg']}" in result.stderr


def test_wait_options_without_wait_are_refused_before_sending(
    mivid: RunMivid, quick_api: EmulatorServer, image: str
) -> None:
    result = mivid("create", image, "--prompt", "a cat", "--watermarked", "--timeout", "5")
    assert result.exit_code == 2
    assert "--watermarked: only with --download DIR" in result.stderr
    assert "--timeout: only with --wait" in result.stderr
    assert quick_api.emulator.received == []


def test_the_sandbox_creates_waits_and_downloads(
    mivid: RunMivid, monkeypatch: pytest.MonkeyPatch, image: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("MIVID_SANDBOX_TASK_SECONDS", "0")
    result = mivid("--sandbox", "create", image, "--prompt", "waves", "-d", str(tmp_path / "out"))
    assert result.exit_code == 0, result
    [video] = list((tmp_path / "out").glob("*.mp4"))
    task_id = video.stem
    assert video.read_bytes() == video_bytes(task_id)
    shown = mivid("--sandbox", "get", task_id, "--json")
    assert json.loads(shown.stdout)["task_status"] == "succeed"
