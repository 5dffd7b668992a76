"""`create --from ID`: the same shot again, changing only what the command line names.

Against the emulator (it keeps the bodies it receives), so what is compared is
what was really sent: the origin's create and the new one.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import InProcessTerminal, RunMivid, Serve, Sleepless
from imagefactory import make_jpeg, make_png
from mivid.sandbox import Emulator, EmulatorServer, FakeClock

MULTI = "/v1/videos/multi-image2video"
OMNI = "/v1/videos/omni-video"
URL = "https://example.com/pictures/side.jpg"


@pytest.fixture
def api(serve: Serve, fake_clock: FakeClock) -> EmulatorServer:
    fake_clock.set(time.time())
    emulator = Emulator(access_keys={"ak": "sk"}, clock=fake_clock, keep_bodies=True)
    return serve(emulator, keys=("ak", "sk"))


@pytest.fixture
def pictures(tmp_path: Path) -> list[Path]:
    return [make_png(tmp_path / "front.png", (640, 480)), make_jpeg(tmp_path / "side.jpg")]


def creates(server: EmulatorServer) -> list[Any]:
    return [request for request in server.emulator.received if request.method == "POST"]


def first_create(mivid: RunMivid, pictures: list[Path], *extra: str) -> dict[str, Any]:
    result = mivid(
        "create",
        str(pictures[0]),
        str(pictures[1]),
        "--prompt",
        "the boat leaves the harbour",
        "--negative-prompt",
        "blur",
        "--mode",
        "pro",
        "--duration",
        "10",
        "--aspect-ratio",
        "1:1",
        "--watermark",
        "--external-task-id",
        "shot-1",
        "--json",
        *extra,
    )
    assert result.exit_code == 0, result
    task: dict[str, Any] = json.loads(result.stdout)
    return task


def without(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in names}


def test_from_sends_the_same_create_with_only_the_prompt_changed_and_records_where_from(
    mivid: RunMivid, api: EmulatorServer, pictures: list[Path], sleepless: Sleepless, tmp_path: Path
) -> None:
    origin = first_create(mivid, pictures)

    again = mivid("create", "--from", origin["task_id"], "--prompt", "at night", "--json")

    assert again.exit_code == 0, again
    first, second = (request.json for request in creates(api))
    assert without(second, "prompt", "external_task_id") == without(
        first, "prompt", "external_task_id"
    )  # the same images (bytes), negative prompt, model, mode, duration, ratio, watermark
    assert second["prompt"] == "at night"
    assert second["external_task_id"] not in ("shot-1", "")  # a create of its own

    task_id = json.loads(again.stdout)["task_id"]
    terminal = InProcessTerminal(["get", task_id], columns=160, stdin=False, env={"NO_COLOR": "1"})
    assert terminal.finish() == 0, terminal.text()
    assert re.search(rf"made from\s+{origin['task_id']}\b", terminal.text())  # the panel
    listed = json.loads(mivid("list", "--local", "--json").stdout)
    assert [item["local"]["made_from"] for item in listed] == [origin["task_id"], None]

    videos = tmp_path / "videos"
    saved = mivid("wait", task_id, "--download", str(videos), clock=sleepless)
    assert saved.exit_code == 0, saved
    sidecar = json.loads((videos / f"{task_id}.json").read_text())
    assert sidecar["made_from"] == origin["task_id"]


def test_what_the_command_line_names_replaces_that_part_only(
    mivid: RunMivid, api: EmulatorServer, pictures: list[Path], tmp_path: Path
) -> None:
    first_create(mivid, pictures)
    other = make_png(tmp_path / "other.png", (800, 600))

    result = mivid(
        "create", "--from", "shot-1", str(other), URL, "--mode", "std", "--dry-run", "--json"
    )

    assert result.exit_code == 0, result
    body = json.loads(result.stdout)
    assert [entry["image"] for entry in body["image_list"]][1] == URL  # the images given
    assert len(body["image_list"]) == 2
    assert body["mode"] == "std"  # as given
    assert (body["duration"], body["aspect_ratio"], body["negative_prompt"]) == (
        "10",
        "1:1",
        "blur",
    )
    assert body["prompt"] == "the boat leaves the harbour"
    assert body["watermark_info"] == {"enabled": True}
    assert len(creates(api)) == 1  # --dry-run sent nothing


def test_an_image_that_changed_or_is_gone_is_named_and_nothing_is_sent(
    mivid: RunMivid, api: EmulatorServer, pictures: list[Path]
) -> None:
    origin = first_create(mivid, pictures)
    make_png(pictures[0], (700, 480))  # the same name, another picture
    pictures[1].unlink()

    result = mivid("create", "--from", origin["task_id"], "--prompt", "again")

    assert result.exit_code == 2, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    subject = f"error: --from {origin['task_id']}"
    assert errors[0].startswith(f"{subject}: image 1 {pictures[0]}: has changed since that create")
    assert errors[1] == f"{subject}: image 2 {pictures[1]}: is gone — it was sent by that create"
    assert len(creates(api)) == 1
    # New images in their place: the old ones are not needed, nor checked.
    replaced = mivid("create", "--from", origin["task_id"], str(pictures[0]), "--dry-run")
    assert replaced.exit_code == 0, replaced


def test_a_task_the_journal_does_not_know_is_exit_2(mivid: RunMivid, api: EmulatorServer) -> None:
    result = mivid("create", "--from", "867283741759111202")
    assert result.exit_code == 2
    assert "--from 867283741759111202: the journal knows no create of that task id" in result.stderr
    assert "hint: see what it knows: mivid list --local" in result.stderr
    assert creates(api) == []


def test_omni_frames_keep_their_roles(
    mivid: RunMivid, api: EmulatorServer, pictures: list[Path]
) -> None:
    made = mivid(
        "create",
        str(pictures[1]),
        "--first-frame",
        str(pictures[0]),
        "--model",
        "kling-video-o1",
        "--prompt",
        "<<<image_1>>> sails away",
        "-q",
    )
    assert made.exit_code == 0, made

    again = mivid("create", "--from", made.stdout.strip(), "--duration", "10", "-q")

    assert again.exit_code == 0, again
    first, second = creates(api)
    assert second.path == first.path == OMNI
    assert without(second.json, "duration", "external_task_id") == without(
        first.json, "duration", "external_task_id"
    )
    assert [entry.get("type") for entry in second.json["image_list"]] == [None, "first_frame"]


def test_a_fitted_image_is_proven_by_its_original_and_fitted_again(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path
) -> None:
    wide = make_png(tmp_path / "wide.png", (1600, 400))  # 4:1, fitted by padding
    made = mivid("create", str(wide), "--prompt", "a long beach", "--fit", "-q")
    assert made.exit_code == 0, made
    again = mivid("create", "--from", made.stdout.strip(), "--prompt", "a long beach at dawn", "-q")
    assert again.exit_code == 0, again
    first, second = creates(api)
    assert second.json["image_list"] == first.json["image_list"]  # the same fitted copy


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


def test_from_onto_omni_drops_the_negative_prompt_with_a_warning(
    mivid: RunMivid, api: EmulatorServer, pictures: list[Path]
) -> None:
    origin = first_create(mivid, pictures)  # multi-image: negative prompt, 10 s, 1:1, pro
    ident = origin["task_id"]

    result = mivid(
        "create", "--from", ident, "--model", "kling-video-o1",
        "--prompt", "<<<image_1>>> leaves <<<image_2>>>", "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result
    assert warnings_in(result.stderr) == [
        f"warning: --from {ident}: its negative_prompt (blur) is not sent: Omni-Video (omni) "
        'takes none; write what to avoid into --prompt (e.g. "… no text, no blur")'
    ]
    first, second = creates(api)
    assert second.path == OMNI
    assert "negative_prompt" not in second.json
    assert (second.json["duration"], second.json["aspect_ratio"], second.json["mode"]) == (
        "10",
        "1:1",
        "pro",
    )
    assert second.json["watermark_info"] == {"enabled": True}
    assert [entry["image_url"] for entry in second.json["image_list"]] == [
        entry["image"] for entry in first.json["image_list"]
    ]

    given = mivid(
        "create", "--from", ident, "--model", "kling-video-o1", "--negative-prompt", "rain",
        "--prompt", "<<<image_1>>>", "--dry-run",
    )  # fmt: skip
    assert given.exit_code == 2, given  # what the user typed is checked as typed
    assert "--negative-prompt" in given.stderr
    assert len(creates(api)) == 2


def test_from_onto_multi_image_drops_frames_and_durations_it_cannot_take(
    mivid: RunMivid, api: EmulatorServer, pictures: list[Path]
) -> None:
    framed = mivid(
        "create", str(pictures[1]), "--first-frame", str(pictures[0]), "--model",
        "kling-video-o1", "--prompt", "<<<image_1>>> sails away", "--element", "42", "-q",
    )  # fmt: skip
    seven = mivid(
        "create", str(pictures[1]), "--model", "kling-video-o1", "--prompt", "<<<image_1>>>",
        "--duration", "7", "-q",
    )  # fmt: skip
    assert framed.exit_code == seven.exit_code == 0, (framed, seven)
    where = "Multi-Image to Video (multi-image)"

    result = mivid(
        "create", "--from", framed.stdout.strip(), "--model", "kling-v1-6", "--dry-run", "--json"
    )  # fmt: skip

    assert result.exit_code == 0, result
    subject = f"warning: --from {framed.stdout.strip()}"
    assert warnings_in(result.stderr) == [
        f"{subject}: its first frame ({pictures[0]}) is not sent: {where} takes no frames",
        f"{subject}: its elements (42) are not sent: {where} takes none",
    ]
    body = json.loads(result.stdout)
    assert [entry.get("type") for entry in body["image_list"]] == [None]  # the reference
    assert "element_list" not in body

    shorter = mivid("create", "--from", seven.stdout.strip(), "--model", "kling-v1-6", "--dry-run",
                    "--json")  # fmt: skip
    assert shorter.exit_code == 0, shorter
    assert warnings_in(shorter.stderr) == [
        f"warning: --from {seven.stdout.strip()}: its duration 7 is not one {where} takes "
        "(5, 10): left to the default"
    ]
    assert json.loads(shorter.stdout)["duration"] == "5"
    assert len(creates(api)) == 2  # the two origins; --dry-run sent nothing


def test_no_watermark_turns_off_what_from_carries(
    mivid: RunMivid, api: EmulatorServer, pictures: list[Path]
) -> None:
    origin = first_create(mivid, pictures)  # --watermark
    result = mivid("create", "--from", origin["task_id"], "--no-watermark", "--dry-run", "--json")
    assert result.exit_code == 0, result
    assert "watermark_info" not in json.loads(result.stdout)
    kept = mivid("create", "--from", origin["task_id"], "--dry-run", "--json")
    assert json.loads(kept.stdout)["watermark_info"] == {"enabled": True}
