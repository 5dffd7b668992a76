"""Know what you made: sidecars beside videos, prompts in `list`, `list --local` offline."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import time
from pathlib import Path

import httpx
import jwt
import pytest

from helpers import InProcessTerminal, RunMivid, Serve
from imagefactory import make_jpeg, make_png
from mivid import __version__
from mivid.sandbox import Emulator, EmulatorServer
from mivid.sandbox.video import video_bytes

AK, SK = "test-ak", "test-sk"
PROMPT = "a cat\twalks to the window\nthen sits — 猫 \\ done"
NEGATIVE = "blur"


@pytest.fixture
def quick_api(serve: Serve) -> EmulatorServer:
    """The emulator on a real clock, with tasks that end as soon as they are made."""
    emulator = Emulator(
        access_keys={AK: SK},
        clock=time.time,
        processing_after=0,
        succeed_after=0,
    )
    return serve(emulator, keys=(AK, SK))


@pytest.fixture
def images(tmp_path: Path) -> list[Path]:
    return [make_png(tmp_path / "front.png"), make_jpeg(tmp_path / "side.jpg", (500, 400))]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def create_with_mivid(mivid: RunMivid, images: list[Path], *extra: str) -> str:
    result = mivid("create", *map(str, images), "--prompt", PROMPT, "-n", NEGATIVE, "-q", *extra)
    assert result.exit_code == 0, result
    return str(result.stdout.split()[0])


def create_elsewhere(server: EmulatorServer, image: Path, external_id: str) -> str:
    """A task made by another client: straight to the API with its own JWT, not through mivid."""
    now = int(time.time())
    token = jwt.encode({"iss": AK, "exp": now + 1800, "nbf": now - 5}, SK, algorithm="HS256")
    body = {
        "image_list": [{"image": base64.b64encode(image.read_bytes()).decode()}],
        "prompt": "made by someone else",
        "external_task_id": external_id,
    }
    answer = httpx.post(
        f"{server.url}/v1/videos/multi-image2video",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["task_id"])


def test_create_wait_download_leaves_a_sidecar_with_the_exact_prompt_and_hashes(
    mivid: RunMivid, quick_api: EmulatorServer, images: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = mivid(
        "create", *map(str, images), "--prompt", PROMPT, "-n", NEGATIVE, "--mode", "pro",
        "--duration", "10", "--aspect-ratio", "9:16", "--external-task-id", "mine-1",
        "--callback-url", "https://hooks.example/k?token=s3cr3t", "--download", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result
    [task] = quick_api.emulator.tasks()
    task_id = task["task_id"]
    video, sidecar = out / f"{task_id}.mp4", out / f"{task_id}.json"
    assert video.read_bytes() == video_bytes(task_id)
    assert sorted(p.name for p in out.iterdir()) == [sidecar.name, video.name]  # no temp left
    text = sidecar.read_text(encoding="utf-8")
    record = json.loads(text)
    assert record["source"] == "journal"
    assert record["task_id"] == task_id
    assert record["external_task_id"] == "mine-1"
    assert record["prompt"] == PROMPT
    assert record["negative_prompt"] == NEGATIVE
    assert (record["model_name"], record["mode"], record["duration"], record["aspect_ratio"]) == (
        "kling-v1-6", "pro", "10", "9:16",
    )  # fmt: skip
    assert [(i["name"], i["sha256"], i["width"], i["height"]) for i in record["images"]] == [
        (str(images[0]), sha256(images[0]), 640, 480),
        (str(images[1]), sha256(images[1]), 500, 400),
    ]
    # The absolute path too, so that `mivid gallery` finds them from any folder.
    assert [i["path"] for i in record["images"]] == [str(images[0]), str(images[1])]
    assert record["task_status"] == "succeed"
    assert record["created_at"].endswith("Z") and record["updated_at"].endswith("Z")
    assert record["final_unit_deduction"] == task["final_unit_deduction"]
    assert record["video"] == {
        "file": video.name,
        "bytes": len(video_bytes(task_id)),
        "sha256": hashlib.sha256(video_bytes(task_id)).hexdigest(),
        "stat": record["video"]["stat"],
        "url": task["task_result"]["videos"][0]["url"],
        "watermarked": False,
        "duration": task["task_result"]["videos"][0]["duration"],
    }
    assert record["mivid_version"] == __version__
    assert record["created_by"] == f"mivid {__version__}"
    for secret in (SK, "s3cr3t", "Bearer", "callback"):
        assert secret not in text


def test_the_sandbox_leaves_the_sidecar_too(
    mivid: RunMivid, monkeypatch: pytest.MonkeyPatch, images: list[Path], tmp_path: Path
) -> None:
    monkeypatch.setenv("MIVID_SANDBOX_TASK_SECONDS", "0")
    result = mivid(
        "--sandbox", "create", str(images[0]), "--prompt", PROMPT, "-d", str(tmp_path / "o")
    )
    assert result.exit_code == 0, result
    [video] = (tmp_path / "o").glob("*.mp4")
    record = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
    assert record["task_id"] == video.stem
    assert record["prompt"] == PROMPT
    assert record["images"][0]["sha256"] == sha256(images[0])
    assert record["sandbox"] is True


def test_list_json_adds_local_only_to_tasks_this_machine_made(
    mivid: RunMivid, quick_api: EmulatorServer, images: list[Path]
) -> None:
    mine = create_with_mivid(mivid, images)
    theirs = create_elsewhere(quick_api, images[0], "theirs-1")
    result = mivid("list", "--json")
    assert result.exit_code == 0, result
    listed = {task["task_id"]: task for task in json.loads(result.stdout)}
    served = {task["task_id"]: task for task in quick_api.emulator.tasks()}
    assert "local" not in listed[theirs]
    assert listed[theirs].pop("endpoint") == listed[mine].pop("endpoint") == "multi-image"
    assert listed[theirs] == served[theirs]
    local = listed[mine].pop("local")
    assert listed[mine] == served[mine]  # the service's fields, unchanged
    assert local == {
        "prompt": PROMPT,
        "negative_prompt": NEGATIVE,
        "images": [
            {"name": str(images[0]), "path": str(images[0]), "sha256": sha256(images[0]),
             "bytes": images[0].stat().st_size,
             "width": 640, "height": 480, "format": "PNG", "role": "reference"},
            {"name": str(images[1]), "path": str(images[1]), "sha256": sha256(images[1]),
             "bytes": images[1].stat().st_size,
             "width": 500, "height": 400, "format": "JPEG", "role": "reference"},
        ],
        "created_by": f"mivid {__version__}",
        "made_from": None,
    }  # fmt: skip


def test_list_in_a_pipe_has_the_escaped_prompt_then_the_units(
    mivid: RunMivid, quick_api: EmulatorServer, images: list[Path]
) -> None:
    mine = create_with_mivid(mivid, images)
    theirs = create_elsewhere(quick_api, images[0], "theirs-2")
    result = mivid("list")
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert len(lines) == 2  # the prompt's newline did not break its line
    rows = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert all(len(row) == 11 for row in rows.values())  # ... 11: a failed task's reason
    assert rows[mine][6] == "a cat\\twalks to the window\\nthen sits — 猫 \\\\ done"
    assert rows[theirs][6] == ""
    served = {task["task_id"]: task for task in quick_api.emulator.tasks()}
    for task_id in (mine, theirs):  # what each deducted, once it says (exact decimal text)
        assert rows[task_id][7] == served[task_id].get("final_unit_deduction", "")
    # Then the endpoint, and the model where the journal knows it.
    assert rows[mine][8:10] == ["multi-image", "kling-v1-6"]
    assert rows[theirs][8:10] == ["multi-image", ""]


def test_get_shows_the_prompt_and_images_of_a_known_task(
    mivid: RunMivid, quick_api: EmulatorServer, images: list[Path]
) -> None:
    mine = create_with_mivid(mivid, images)
    terminal = InProcessTerminal(["get", mine], columns=250, stdin=False, env={"NO_COLOR": "1"})
    assert terminal.finish() == 0, terminal.text()
    shown = [" ".join(line.strip("│ ").split()) for line in terminal.text().splitlines()]
    assert "prompt a cat walks to the window" in shown  # the prompt's own lines, as typed
    assert "then sits — 猫 \\ done" in shown
    assert "negative prompt blur" in shown
    assert f"image 1 (reference) {images[0]} (640×480, sha256 {sha256(images[0])[:12]}…)" in shown
    assert any(line.startswith(f"image 2 (reference) {images[1]} (500×400") for line in shown)


def test_a_task_made_elsewhere_gets_what_the_service_knows_and_a_note(
    mivid: RunMivid, quick_api: EmulatorServer, images: list[Path], tmp_path: Path
) -> None:
    theirs = create_elsewhere(quick_api, images[0], "theirs-3")
    out = tmp_path / "v"
    first = mivid("download", theirs, "-o", str(out), "--json")
    assert first.exit_code == 0, first
    [saved] = json.loads(first.stdout)
    assert saved["sidecar"] == str(out / f"{theirs}.json")
    notes = [line for line in first.stderr.splitlines() if "does not know" in line]
    assert len(notes) == 1 and theirs in notes[0]
    record = json.loads((out / f"{theirs}.json").read_text(encoding="utf-8"))
    assert record["source"] == "service"
    assert record["external_task_id"] == "theirs-3"
    assert record["prompt"] is None and record["images"] is None
    assert record["task_status"] == "succeed"

    # Already there: the video is skipped, its sidecar written again.
    (out / f"{theirs}.json").unlink()
    again = mivid("download", theirs, "-o", str(out))
    assert again.exit_code == 0, again
    assert "not downloaded again" in again.stderr
    assert json.loads((out / f"{theirs}.json").read_text(encoding="utf-8"))["task_id"] == theirs


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_list_local_works_with_the_network_unreachable(
    mivid: RunMivid,
    quick_api: EmulatorServer,
    images: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    older = create_with_mivid(mivid, images, "--external-task-id", "older")
    newer = create_with_mivid(mivid, images[:1], "--external-task-id", "newer")
    assert mivid("list", "-q").exit_code == 0  # the journal learns they succeeded
    monkeypatch.setenv("KLING_BASE_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.delenv("KLING_ACCESS_KEY")
    monkeypatch.delenv("KLING_SECRET_KEY")
    assert mivid("list").exit_code == 3  # the service is out of reach: no keys, no network

    piped = mivid("list", "--local")
    assert piped.exit_code == 0, piped
    rows = [line.split("\t") for line in piped.stdout.splitlines()]
    assert [row[0] for row in rows] == [newer, older]  # newest first
    assert [row[1] for row in rows] == ["succeed", "succeed"]
    assert [row[3] for row in rows] == ["newer", "older"]
    assert rows[0][5] == "a cat\\twalks to the window\\nthen sits — 猫 \\\\ done"

    as_json = mivid("list", "--local", "--json")
    assert as_json.exit_code == 0, as_json
    records = json.loads(as_json.stdout)
    assert [r["task_id"] for r in records] == [newer, older]
    assert records[1]["local"]["prompt"] == PROMPT
    assert records[1]["local"]["images"][1]["sha256"] == sha256(images[1])
    assert records[1]["request"]["external_task_id"] == "older"

    quiet = mivid("list", "--local", "-q", "--page-size", "1")
    assert quiet.stdout == f"{newer}\n"
    assert mivid("list", "--local", "-q", "--page-size", "1", "--page", "2").stdout == f"{older}\n"
    assert mivid("list", "--local", "-q", "--page-size", "1", "--page", "3").stdout == ""
    assert mivid("list", "--local", "--status", "failed").stdout == ""
    assert mivid("list", "--local", "-q", "--status", "succeed").stdout == f"{newer}\n{older}\n"


def test_list_local_refuses_bad_combinations(mivid: RunMivid) -> None:
    result = mivid("list", "--local", "--watch", "--status", "done")
    assert result.exit_code == 2
    assert "--watch: not with --local" in result.stderr
    assert "--status: `done`" in result.stderr
    assert mivid("list", "--interval", "2").exit_code == 2
