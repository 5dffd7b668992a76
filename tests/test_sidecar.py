"""The sidecar writer and the provenance helpers, without the command line."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from mivid import __version__
from mivid.journal import JournalEntry
from mivid.plaintext import escape_cell, public_url
from mivid.sidecar import local_info, proven_video, sidecar_path, write_sidecar

TASK_ID = "867283741759111202"
TASK = {
    "task_id": TASK_ID,
    "task_status": "succeed",
    "task_status_msg": "",
    "task_info": {"external_task_id": "my-id-1"},
    "task_result": {
        "videos": [
            {
                "id": "a1",
                "url": "https://cdn.example/out.mp4",
                "watermark_url": "https://cdn.example/out_wm.mp4",
                "duration": "5.1",
            }
        ]
    },
    "final_unit_deduction": "1",
    "created_at": 1774805076166,
    "updated_at": 1774805221480,
}
ENTRY = JournalEntry(
    external_task_id="my-id-1",
    task_id="867283741759111202",
    status="succeed",
    created=1774805076.0,
    request={
        "prompt": "two\tcats\n",
        "negative_prompt": "dogs",
        "model_name": "kling-v1-6",
        "mode": "pro",
        "duration": "10",
        "aspect_ratio": "1:1",
        "callback_url": "https://hooks.example/?token=abc123",
        "external_task_id": "my-id-1",
    },
    images=[
        {"name": "a.png", "sha256": "ab" * 32, "width": 640, "height": 480},
        {"url": "https://example.com/b.jpg"},
    ],
    service="https://user:pa55@gateway.example/kling",
    mivid_version="0.0.9",
    error=None,
)


def test_a_journal_sidecar_holds_the_intent_and_the_outcome(tmp_path: Path) -> None:
    video = tmp_path / "videos" / "867283741759111202.mp4"
    video.parent.mkdir()
    video.write_bytes(b"x" * 10)
    path = write_sidecar(video, TASK, ENTRY)
    assert path == video.parent / "867283741759111202.json" == sidecar_path(video)
    text = path.read_text(encoding="utf-8")
    record = json.loads(text)
    assert record["source"] == "journal"
    assert record["prompt"] == "two\tcats\n"
    assert record["mode"] == "pro" and record["duration"] == "10"
    assert record["images"] == ENTRY.images
    assert record["created_at"] == "2026-03-29T17:24:36Z"
    assert record["video"] == {
        "file": video.name,
        "bytes": 10,
        "sha256": hashlib.sha256(b"x" * 10).hexdigest(),
        "stat": record["video"]["stat"],  # inode, size, times: opaque
        "url": "https://cdn.example/out.mp4",
        "watermarked": False,
        "duration": "5.1",
    }
    assert record["service"] == "https://gateway.example/kling"
    assert record["created_by"] == "mivid 0.0.9" and record["mivid_version"] == __version__
    for secret in ("abc123", "token", "pa55", "callback"):
        assert secret not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in video.parent.iterdir()) == [path.name, video.name]


def test_a_service_sidecar_says_so_and_replaces_the_old_one(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    sidecar_path(video).write_text("stale")
    path = write_sidecar(video, TASK, None, watermarked=True)
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["source"] == "service"
    assert record["external_task_id"] == "my-id-1"
    assert record["prompt"] is None and record["images"] is None
    assert record["video"]["url"] == "https://cdn.example/out_wm.mp4"
    assert record["video"]["watermarked"] is True
    assert "service" not in record and "created_by" not in record


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    video = tmp_path / "videos" / "v.mp4"
    sidecar_path(video).mkdir(parents=True)  # a folder where the sidecar goes: os.replace refuses
    try:
        write_sidecar(video, TASK, ENTRY)
    except OSError:
        pass
    else:  # pragma: no cover - every platform refuses to replace a folder by a file
        raise AssertionError("expected OSError")
    assert [p.name for p in video.parent.iterdir()] == ["v.json"]


def saved_video(folder: Path, content: bytes = b"video bytes") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    video = folder / "867283741759111202.mp4"
    video.write_bytes(content)
    write_sidecar(video, TASK, ENTRY)
    return video


def test_a_video_is_proven_saved_by_its_sidecar_alone(tmp_path: Path) -> None:
    video = saved_video(tmp_path / "videos")
    assert proven_video(video.parent, TASK_ID) == video
    # Another task, another kind of copy, another folder: not this video.
    assert proven_video(video.parent, "867283741759111203") is None
    assert proven_video(video.parent, TASK_ID, watermarked=True) is None
    assert proven_video(tmp_path, TASK_ID) is None


def test_a_video_that_differs_from_its_sidecar_is_never_taken_as_saved(tmp_path: Path) -> None:
    video = saved_video(tmp_path / "size")
    video.write_bytes(b"video bytes, and more")
    assert proven_video(video.parent, TASK_ID) is None

    video = saved_video(tmp_path / "same-size")
    recorded = video.stat()
    video.write_bytes(b"VIDEO BYTES")  # same size, other bytes
    os.utime(video, ns=(recorded.st_atime_ns, recorded.st_mtime_ns))  # even the same mtime
    assert proven_video(video.parent, TASK_ID) is None

    video = saved_video(tmp_path / "link")
    target = tmp_path / "elsewhere.mp4"
    video.rename(target)
    video.symlink_to(target)
    assert proven_video(video.parent, TASK_ID) is None

    video = saved_video(tmp_path / "not-mivid")
    sidecar_path(video).write_text(json.dumps({"task_id": TASK_ID, "video": {}}))
    assert proven_video(video.parent, TASK_ID) is None


def test_a_copied_video_is_hashed_again_and_still_proven(tmp_path: Path) -> None:
    video = saved_video(tmp_path / "videos")
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in (video, sidecar_path(video)):
        (copy / path.name).write_bytes(path.read_bytes())  # new inode and times
    assert proven_video(copy, TASK_ID) == copy / video.name


def test_a_sidecar_with_nothing_new_is_not_rewritten(tmp_path: Path) -> None:
    video = saved_video(tmp_path / "videos")
    sidecar = sidecar_path(video)
    before = sidecar.read_bytes(), sidecar.stat().st_mtime_ns, sidecar.stat().st_ino
    write_sidecar(video, TASK, ENTRY)
    assert (sidecar.read_bytes(), sidecar.stat().st_mtime_ns, sidecar.stat().st_ino) == before
    write_sidecar(video, {**TASK, "final_unit_deduction": "2"}, ENTRY)
    assert json.loads(sidecar.read_text())["final_unit_deduction"] == "2"


def test_local_info_is_the_five_keys_list_json_adds() -> None:
    assert local_info(ENTRY) == {
        "prompt": "two\tcats\n",
        "negative_prompt": "dogs",
        "images": ENTRY.images,
        "created_by": "mivid 0.0.9",
        "made_from": None,
    }


def test_public_url_drops_only_the_credentials() -> None:
    assert public_url("https://u:p@h.example:8443/x?y=1") == "https://h.example:8443/x?y=1"
    assert public_url("https://h.example/kling") == "https://h.example/kling"


def unescape(cell: str) -> str:
    out, chars = [], iter(cell)
    for char in chars:
        if char == "\\":
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}[next(chars)])
        else:
            out.append(char)
    return "".join(out)


@given(st.text())
def test_an_escaped_cell_is_one_line_and_reversible(text: str) -> None:
    cell = escape_cell(text)
    assert "\t" not in cell and "\n" not in cell and "\r" not in cell
    assert unescape(cell) == text
