"""One shape of a task object in every `--json`: `create`, `create --wait`, `wait` and `get`
print the service's object plus `"endpoint"` and, for a task the journal knows, `"local"`.

A script that reads `mivid create --json` and later `mivid get --json` sees the same keys
with the same values for the same task (QA newcomer 2, item 15).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import RunMivid, Serve
from imagefactory import make_jpeg, make_png
from mivid.sandbox import Emulator, EmulatorServer

AK, SK = "test-ak", "test-sk"
ADDED = ("endpoint", "local")


@pytest.fixture
def quick_api(serve: Serve) -> EmulatorServer:
    """The emulator on a real clock, with tasks that end as soon as they are made."""
    emulator = Emulator(access_keys={AK: SK}, clock=time.time, processing_after=0, succeed_after=0)
    return serve(emulator, keys=(AK, SK))


def shown(mivid: RunMivid, *args: str) -> Any:
    result = mivid(*args, "--json")
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


def added(task: dict[str, Any]) -> dict[str, Any]:
    """The keys mivid adds to the service's object."""
    return {key: task[key] for key in ADDED if key in task}


def service_object(task: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in task.items() if key not in ADDED}


@pytest.mark.parametrize(
    ("model", "endpoint", "prompt"),
    [("kling-v1-6", "multi-image", "a cat"), ("kling-video-o1", "omni", "<<<image_1>>> walks")],
)
def test_create_json_and_get_json_carry_the_same_endpoint_and_local(
    mivid: RunMivid,
    quick_api: EmulatorServer,
    tmp_path: Path,
    model: str,
    endpoint: str,
    prompt: str,
) -> None:
    image = make_jpeg(tmp_path / "cat.jpg", (500, 400))
    created = shown(mivid, "create", str(image), "--model", model, "--prompt", prompt)
    got = shown(mivid, "get", created["task_id"])

    assert created["endpoint"] == endpoint
    assert added(created) == added(got)
    local = created["local"]
    assert local["prompt"] == prompt and local["made_from"] is None
    assert [(item["path"], item["role"]) for item in local["images"]] == [(str(image), "reference")]
    # The rest is the service's own answer to the create, untouched.
    [sent] = quick_api.emulator.tasks()
    assert service_object(created)["task_id"] == sent["task_id"]
    assert service_object(got) == sent


def test_wait_json_by_id_and_by_external_id_is_shaped_as_get_json(
    mivid: RunMivid, quick_api: EmulatorServer, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "front.png")
    first = shown(mivid, "create", str(image), "--prompt", "a cat", "--external-task-id", "cat-1")
    second = shown(mivid, "create", str(image), "--prompt", "a dog")

    waited = shown(mivid, "wait", "cat-1", second["task_id"])
    got = shown(mivid, "get", first["task_id"], second["task_id"])

    assert [task["task_id"] for task in waited] == [first["task_id"], second["task_id"]]
    assert waited == got  # ended: the very same objects, keys and all
    assert [task["local"]["prompt"] for task in waited] == ["a cat", "a dog"]
    assert {task["endpoint"] for task in waited} == {"multi-image"}
    assert [added(task) for task in waited] == [added(first), added(second)]


def test_create_wait_json_with_download_keeps_files_beside_the_added_keys(
    mivid: RunMivid, quick_api: EmulatorServer, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "front.png")
    out = tmp_path / "videos"
    made = shown(mivid, "create", str(image), "--prompt", "a cat", "--wait", "-d", str(out))
    task_id = made["task_id"]

    assert made.pop("files") == [str(out / f"{task_id}.mp4")]
    assert (out / f"{task_id}.mp4").is_file()
    assert made == shown(mivid, "get", task_id)
    assert made["endpoint"] == "multi-image" and made["local"]["prompt"] == "a cat"


def test_a_task_the_journal_does_not_know_has_an_endpoint_and_no_local_everywhere(
    mivid: RunMivid, quick_api: EmulatorServer, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "front.png")
    created = shown(mivid, "create", str(image), "--prompt", "a cat", "--no-journal")
    task_id = created["task_id"]

    for task in (created, shown(mivid, "wait", task_id)[0], shown(mivid, "get", task_id)):
        assert added(task) == {"endpoint": "multi-image"}, task
