"""Omni-Video tasks through every command that finds a task: get, wait, download, open, recover,
batch, sidecars and `list --local`; a task the journal knows is asked for on its own endpoint,
one it does not know is looked for on both."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from helpers import InProcessTerminal, RunMivid, Serve
from imagefactory import make_jpeg, make_png
from mivid.sandbox import Emulator, EmulatorServer, Fault

AK, SK = "test-ak", "test-sk"
MULTI = "/v1/videos/multi-image2video"
OMNI = "/v1/videos/omni-video"
QUICK = {"MIVID_RETRY_ATTEMPTS": "2", "MIVID_RETRY_BASE_DELAY": "0"}


@pytest.fixture
def api(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """The emulator on a real clock, keeping bodies, with tasks that end as soon as made."""
    for name, value in QUICK.items():
        monkeypatch.setenv(name, value)
    emulator = Emulator(
        access_keys={AK: SK},
        clock=time.time,
        processing_after=0,
        succeed_after=0,
        keep_bodies=True,
    )
    return serve(emulator, keys=(AK, SK))


@pytest.fixture
def frame(tmp_path: Path) -> Path:
    return make_png(tmp_path / "frame.png")


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    return make_jpeg(tmp_path / "cat.jpg", (500, 400))


def omni_with_mivid(mivid: RunMivid, frame: Path, reference: Path, *extra: str) -> str:
    result = mivid(
        "create", str(reference), "--first-frame", str(frame), "--model", "kling-video-o1",
        "--prompt", "<<<image_1>>> walks", "-q", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result
    return str(result.stdout.split()[0])


def omni_elsewhere(server: EmulatorServer, image: Path, external_id: str) -> str:
    """An Omni-Video task made by another client, straight to the API (the journal never saw it)."""
    now = int(time.time())
    token = jwt.encode({"iss": AK, "exp": now + 1800, "nbf": now - 5}, SK, algorithm="HS256")
    body = {
        "model_name": "kling-v3-omni",
        "image_list": [{"image_url": base64.b64encode(image.read_bytes()).decode()}],
        "prompt": "<<<image_1>>> made by someone else",
        "aspect_ratio": "1:1",
        "external_task_id": external_id,
    }
    answer = httpx.post(
        f"{server.url}{OMNI}", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["task_id"])


def gets(server: EmulatorServer) -> list[str]:
    """The paths of the task queries received (lists and videos apart)."""
    return [
        request.path
        for request in server.emulator.received
        if request.method == "GET" and request.path.count("/") == 4
    ]


def clear(server: EmulatorServer) -> None:
    server.emulator.received.clear()


def test_get_asks_the_endpoint_the_journal_knows(
    mivid: RunMivid, api: EmulatorServer, frame: Path, reference: Path
) -> None:
    task_id = omni_with_mivid(mivid, frame, reference, "--external-task-id", "omni-1")
    clear(api)
    for wanted in (task_id, "omni-1"):
        result = mivid("get", wanted, "--json")
        assert result.exit_code == 0, result
        assert json.loads(result.stdout)["task_id"] == task_id
    assert gets(api) == [f"{OMNI}/{task_id}", f"{OMNI}/omni-1"]


def test_get_shows_what_the_create_asked_and_each_images_role(
    mivid: RunMivid, api: EmulatorServer, frame: Path, reference: Path
) -> None:
    task_id = omni_with_mivid(
        mivid, frame, reference, "--aspect-ratio", "1:1", "--duration", "10",
        "--element", "3", "--video", "https://example.com/walk.mp4", "--no-keep-sound",
    )  # fmt: skip

    terminal = InProcessTerminal(["get", task_id], columns=250, stdin=False, env={"NO_COLOR": "1"})
    assert terminal.finish() == 0, terminal.text()
    shown = [" ".join(line.strip("│ ").split()) for line in terminal.text().splitlines()]

    for row in (
        "endpoint omni (Omni-Video)",
        "model kling-video-o1",
        "mode std",
        "duration 10 s",
        "aspect ratio 1:1",
        "elements 3",
        "video use feature, original sound: no",
        "reference video https://example.com/walk.mp4",  # in the panel: what it was made of
    ):
        assert row in shown, (row, shown)
    assert any(line.startswith(f"image 1 (reference) {reference} (500×400") for line in shown)
    assert any(line.startswith(f"image 2 (first frame) {frame} (") for line in shown)


@pytest.fixture(params=["live", "documented"])
def either_form(
    request: pytest.FixtureRequest, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> EmulatorServer:
    """The emulator answering "no such task" as the live service does (400, 1201) or as
    documented (404, 1203): the client decides what either means, in one place."""
    for name, value in QUICK.items():
        monkeypatch.setenv(name, value)
    emulator = Emulator(
        access_keys={AK: SK}, clock=time.time, processing_after=0, succeed_after=0,
        not_found=request.param,
    )  # fmt: skip
    return serve(emulator, keys=(AK, SK))


def test_a_task_the_journal_does_not_know_is_looked_for_on_both(
    mivid: RunMivid, either_form: EmulatorServer, reference: Path
) -> None:
    api = either_form
    task_id = omni_elsewhere(api, reference, "theirs-1")
    clear(api)
    result = mivid("get", "theirs-1", "--json")
    assert result.exit_code == 0, result  # a not-found on multi-image is no error
    assert json.loads(result.stdout)["task_id"] == task_id
    assert gets(api) == [f"{MULTI}/theirs-1", f"{OMNI}/theirs-1"]


def test_no_such_task_on_either_endpoint_is_exit_4_saying_both_were_asked(
    mivid: RunMivid, either_form: EmulatorServer
) -> None:
    api = either_form
    result = mivid("get", "nobody-1")
    assert result.exit_code == 4, result
    assert "no task `nobody-1`" in result.stderr
    assert "looked on every endpoint: multi-image, omni" in result.stderr
    assert gets(api) == [f"{MULTI}/nobody-1", f"{OMNI}/nobody-1"]


def test_a_failure_other_than_not_found_is_not_taken_for_absence(
    mivid: RunMivid, api: EmulatorServer
) -> None:
    """A refusal of the query itself (here a permission error) is the answer: no second guess."""
    api.emulator.inject(Fault.error(1103, on="get", api="multi-image2video"))
    result = mivid("get", "anything-1")
    assert result.exit_code == 3, result
    assert "1103" in result.stderr
    assert gets(api) == [f"{MULTI}/anything-1"]


def test_wait_finds_an_unknown_task_once_then_asks_only_its_endpoint(
    mivid: RunMivid, api: EmulatorServer, reference: Path, tmp_path: Path
) -> None:
    task_id = omni_elsewhere(api, reference, "theirs-2")
    clear(api)
    result = mivid("wait", task_id, "--download", str(tmp_path / "v"))
    assert result.exit_code == 0, result
    paths = gets(api)
    assert paths[0] == f"{MULTI}/{task_id}"
    assert paths[1:] and all(path == f"{OMNI}/{task_id}" for path in paths[1:])
    sidecar = json.loads((tmp_path / "v" / f"{task_id}.json").read_text())
    assert sidecar["source"] == "service" and sidecar["images"] is None


def test_download_writes_each_images_role_in_the_sidecar(
    mivid: RunMivid, api: EmulatorServer, frame: Path, reference: Path, tmp_path: Path
) -> None:
    task_id = omni_with_mivid(mivid, frame, reference)
    clear(api)
    result = mivid("download", task_id, "--output", str(tmp_path / "v"))
    assert result.exit_code == 0, result
    record = json.loads((tmp_path / "v" / f"{task_id}.json").read_text())
    assert [(image["name"], image["role"]) for image in record["images"]] == [
        (str(reference), "reference"),
        (str(frame), "first_frame"),
    ]
    assert record["endpoint"] == "omni" and record["model_name"] == "kling-video-o1"
    assert record["aspect_ratio"] is None and record["mode"] == "std"
    assert gets(api) == [f"{OMNI}/{task_id}"]


def test_open_prints_an_omni_tasks_video(
    mivid: RunMivid, api: EmulatorServer, reference: Path
) -> None:
    task_id = omni_elsewhere(api, reference, "theirs-3")
    result = mivid("open", "theirs-3", "--print")
    assert result.exit_code == 0, result
    assert result.stdout.strip().endswith(f"/{task_id}.mp4")


def test_recover_settles_a_lost_omni_create_on_its_endpoint(
    mivid: RunMivid, api: EmulatorServer, frame: Path, reference: Path
) -> None:
    api.emulator.inject(Fault.drop_after(on="create", times=None))
    api.emulator.inject(Fault.error(5000, on="get", times=None))
    lost = mivid(
        "create", str(reference), "--model", "kling-video-o1", "--prompt", "<<<image_1>>>",
        "--external-task-id", "lost-1",
    )  # fmt: skip
    assert lost.exit_code == 5, lost
    api.emulator.clear_faults()
    clear(api)
    result = mivid("recover", "--json")
    assert result.exit_code == 0, result
    (settled,) = json.loads(result.stdout)
    assert (settled["external_task_id"], settled["outcome"]) == ("lost-1", "found")
    assert gets(api) == [f"{OMNI}/lost-1"]


def test_batch_reruns_ask_each_job_on_its_endpoint(
    mivid: RunMivid, api: EmulatorServer, frame: Path, reference: Path, tmp_path: Path
) -> None:
    jobs = tmp_path / "jobs.jsonl"
    lines: list[dict[str, Any]] = [
        {"images": [reference.name], "prompt": "plain"},
        {"images": [reference.name], "prompt": "<<<image_1>>> runs", "model_name": "kling-v3-omni"},
        {"first_frame": frame.name, "prompt": "sunrise", "endpoint": "omni", "duration": "10"},
    ]
    jobs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    first = mivid("batch", str(jobs), "--json")
    assert first.exit_code == 0, first
    made = [
        (request.path, request.json.get("model_name"))
        for request in api.emulator.received
        if request.method == "POST"
    ]
    assert made == [
        (MULTI, "kling-v1-6"),
        (OMNI, "kling-v3-omni"),
        (OMNI, "kling-video-o1"),
    ]
    ids = [job["task_id"] for job in json.loads(first.stdout)]
    clear(api)
    again = mivid("batch", str(jobs), "--json")
    assert again.exit_code == 0, again
    assert [job["action"] for job in json.loads(again.stdout)] == ["skip"] * 3
    assert sorted(gets(api)) == sorted(
        [f"{MULTI}/{ids[0]}", f"{OMNI}/{ids[1]}", f"{OMNI}/{ids[2]}"]
    )


def test_batch_names_a_jobs_own_fields_in_its_problems(
    mivid: RunMivid, api: EmulatorServer, frame: Path, tmp_path: Path
) -> None:
    small = make_png(tmp_path / "small.png", (100, 100))
    jobs = tmp_path / "jobs.jsonl"
    lines: list[dict[str, Any]] = [
        {"first_frame": small.name, "prompt": "x", "model_name": "kling-video-o1"},
        {"end_frame": frame.name, "prompt": "x", "endpoint": "omni"},
        {"prompt": "x", "model_name": "kling-video-o1", "elements": [1, "b"], "keep_sound": "yes"},
        {"prompt": "x", "endpoint": "nowhere", "video_use": "base"},
        {"prompt": "text only", "model_name": "kling-video-o1"},
    ]
    jobs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = mivid("batch", str(jobs), "--dry-run")
    assert result.exit_code == 2, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert errors == [
        f"error: {jobs}:1: first_frame {small.name}: 100×100 px — each side must be at least "
        "300 px",
        f"error: {jobs}:2: end_frame: needs a first frame too (`first_frame`)",
        f'error: {jobs}:3: keep_sound: must be true or false, not "yes"',
        f"error: {jobs}:3: elements: `b` is not an element id (a whole number from 1)",
        f"error: {jobs}:4: endpoint: `nowhere` is not one of multi-image, omni",
        f"error: {jobs}:4: video_use: only with `video`",
    ], result.stderr
    assert api.emulator.received == []


def test_a_jobs_file_speaks_of_fields_where_create_speaks_of_options(
    mivid: RunMivid, api: EmulatorServer, frame: Path, reference: Path, tmp_path: Path
) -> None:
    """QA 13: a jobs file has no `--first-frame`; the same rule from create still names flags."""
    jobs = tmp_path / "jobs.jsonl"
    omni = {"model_name": "kling-video-o1", "aspect_ratio": "16:9"}
    lines: list[dict[str, Any]] = [
        {"images": [reference.name], "end_frame": frame.name, "prompt": "<<<image_1>>>", **omni},
        {"images": [reference.name], "prompt": "<<<image_1>>>", "negative_prompt": "blur", **omni},
        {"images": [reference.name], "prompt": "<<<element_2>>>", "keep_sound": True, **omni},
    ]
    jobs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = mivid("batch", str(jobs), "--dry-run")
    assert result.exit_code == 2, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert errors == [
        f"error: {jobs}:1: end_frame: needs a first frame too (`first_frame`)",
        f"error: {jobs}:2: negative_prompt: not accepted by Omni-Video: write what to avoid "
        'into `prompt` (e.g. "… no text, no blur")',
        f"error: {jobs}:3: keep_sound: only with `video`",
        f"error: {jobs}:3: prompt: names <<<element_2>>> but 0 elements are given "
        "(`elements`; numbered from 1)",
    ], result.stderr
    assert "--" not in "".join(errors).replace(str(jobs), "")
    assert api.emulator.received == []

    # A line the jobs file accepts with a warning: the warning names fields too.
    jobs.write_text(json.dumps({"images": [reference.name], "prompt": "a boat", **omni}) + "\n")
    warned = mivid("batch", str(jobs), "--dry-run")
    assert warned.exit_code == 0, warned
    warning = next(line for line in warned.stderr.splitlines() if line.startswith("warning"))
    assert warning.startswith(f"warning: {jobs}:1: `prompt` does not name the image"), warning

    # create keeps its own words for the same rules.
    made = mivid(
        "create", str(reference), "--end-frame", str(frame), "--prompt", "<<<element_2>>>",
        "--negative-prompt", "blur", "--keep-sound", "--model", "kling-video-o1",
        "--aspect-ratio", "16:9",
    )  # fmt: skip
    assert made.exit_code == 2, made
    for line in (
        "error: --end-frame: needs a first frame too (--first-frame)",
        "error: --negative-prompt: not accepted by Omni-Video: write what to avoid into --prompt",
        "error: --keep-sound: only with --video",
        "(--element; numbered from 1)",
    ):
        assert line in made.stderr, made.stderr
    assert api.emulator.received == []


def test_list_local_shows_omni_creates_with_their_endpoint(
    mivid: RunMivid, api: EmulatorServer, frame: Path, reference: Path
) -> None:
    task_id = omni_with_mivid(mivid, frame, reference)
    clear(api)
    result = mivid("list", "--local", "--json")
    assert result.exit_code == 0, result
    (entry,) = json.loads(result.stdout)
    assert (entry["task_id"], entry["endpoint"]) == (task_id, "omni")
    assert entry["request"]["model_name"] == "kling-video-o1"
    assert [image["role"] for image in entry["local"]["images"]] == ["reference", "first_frame"]
    assert api.emulator.received == []  # offline
