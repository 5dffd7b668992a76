"""Provenance: what made a video, written beside it and shown in the task list.

The service's task objects carry neither the prompt nor the images, and the
service deletes its videos after 30 days. The local journal knows both for
every task created from this machine; this module puts that knowledge next to
each downloaded video, as `<video name>.json` (the *sidecar*), and gives the
task list its `"local"` object.

A sidecar says where its facts came from: `"source": "journal"` when the
journal knew the task, `"service"` when only the service did (a task created
by another client), in which case the prompt and images are null. It never
holds a secret: the journal has none, and the create's callback URL (which
may carry a token) is left out.

It also proves the video it describes: `video.bytes` and `video.sha256` are
the saved file's size and hash, so a rerun (`batch`) takes a video as saved
without asking the service (`proven_video`) — but only a regular file that a
mivid sidecar names, of that very size and hash. `video.stat` (inode, size,
modification and change times) lets a later run skip hashing a file that has
not been touched since, as git's index does; a file whose stat differs is
hashed again. A sidecar whose content would not change is not rewritten.

A task that failed has no video; `wait` and `batch` with `--download DIR`
still write its sidecar, as `<task id>.json` where its video would have gone,
with `"video": null` and the service's reason (`task_status_msg`): the
gallery shows it as a failure card (`write_failure_sidecar`).

Imports neither pydantic nor rich: `list --json` uses it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mivid import __version__
from mivid.plaintext import iso_millis, iso_seconds, json_text, parse_json, public_url
from mivid.units import task_units
from mivid.vocabulary import SIDECAR_FIELDS, SUCCEED, external_id_of, status_of, task_videos

if TYPE_CHECKING:
    from mivid.journal import Journal, JournalEntry

SCHEMA = "mivid.sidecar/1"
JOURNAL = "journal"
SERVICE = "service"
#: A sidecar is a small JSON file: a bigger one is not read as one.
MAX_SIDECAR_BYTES = 1024 * 1024
_HASH_BLOCK = 1024 * 1024


def sidecar_path(video_path: Path) -> Path:
    """`DIR/<task_id>.mp4` → `DIR/<task_id>.json`."""
    return video_path.with_suffix(".json")


def created_by(entry: JournalEntry) -> str:
    return f"mivid {entry.mivid_version}"


def local_info(entry: JournalEntry) -> dict[str, Any]:
    """The `"local"` object `list --json` adds to a task the journal knows."""
    return {
        "prompt": entry.request.get("prompt"),
        "negative_prompt": entry.request.get("negative_prompt"),
        "images": [dict(image) for image in entry.images],
        "created_by": created_by(entry),
        "made_from": entry.made_from,
    }


def remember_sightings(
    tasks: Iterable[Mapping[str, Any]],
    *,
    service: str,
    warn: Callable[[str], None] | None = None,
    journal: Journal | None = None,
) -> dict[str, JournalEntry]:
    """The journal's entries for these task objects, noting any status that moved.

    Keeps `list --local` current: the journal learns how a task ended whenever
    mivid sees it, not only at create time, and what it deducted (for `mivid
    spent`: also for a task that ended before the journal kept deductions).
    Only entries made at `service` are read and updated: another service's task
    with the same id is another task. Never creates the journal; one that cannot
    be used is read as empty (after `warn`). `journal`: one the caller keeps
    open (a list of a thousand pages opens it once), else it is opened here.
    """
    from mivid.errors import JournalError
    from mivid.journal import Journal

    objects = {str(task["task_id"]): task for task in tasks if "task_id" in task}
    if not objects:
        return {}
    if journal is not None:
        return _remember(journal, objects, service=service, warn=warn)
    try:
        opened = Journal.open_existing()
    except JournalError as exc:
        if warn is not None:
            warn(exc.warning)
        return {}
    if opened is None:
        return {}
    try:
        return _remember(opened, objects, service=service, warn=warn)
    finally:
        opened.close()


def remember_saved(
    saved: Mapping[str, Path], *, service: str, warn: Callable[[str], None] | None = None
) -> None:
    """Tell the journal where each task's video (task id → file) now is: `mivid open ID` finds
    it from any folder. Never creates the journal; one that cannot be written is passed over
    (after `warn`): the videos are saved all the same."""
    from mivid.errors import JournalError
    from mivid.journal import Journal

    try:
        # Absolute: the journal is read from any folder (and a deleted current folder has none).
        where = {task_id: path.absolute() for task_id, path in saved.items()}
    except OSError:
        return
    if not where:
        return
    try:
        journal = Journal.open_existing()
        if journal is None:
            return
        with journal:
            journal.record_saved(where, service=service)
    except JournalError as exc:
        if warn is not None:
            warn(exc.warning)


def _remember(
    journal: Journal,
    objects: Mapping[str, Mapping[str, Any]],
    *,
    service: str,
    warn: Callable[[str], None] | None,
) -> dict[str, JournalEntry]:
    from mivid.errors import JournalError

    try:
        known = journal.by_task_ids(objects, service=service)
        moved = [
            task_id
            for task_id, entry in known.items()
            if entry.status != status_of(objects[task_id])
            or (entry.units is None and task_units(objects[task_id]) is not None)
        ]
        # A task seen by its external id whose create's outcome the journal does not know yet
        # (an answer lost, `mivid get EXT` as the hint says): settled as `recover` would.
        by_external = {
            external: task_id
            for task_id, task in objects.items()
            if task_id not in known and (external := external_id_of(task))
        }
        for entry in journal.unsettled_by_external_ids(by_external, service=service):
            moved.append(by_external[entry.external_task_id])
        for task_id in moved:
            journal.record_task(dict(objects[task_id]), service=service)
        if moved:
            known.update(journal.by_task_ids(moved, service=service))
        return known
    except JournalError as exc:
        if warn is not None:
            warn(exc.warning)
        return {}


def sidecar_record(
    task: Mapping[str, Any],
    entry: JournalEntry | None,
    *,
    video_path: Path,
    url: str,
    watermarked: bool,
    size: int | None = None,
    sha256: str | None = None,
    fingerprint: str | None = None,
) -> dict[str, Any]:
    """What a video's sidecar holds (see the module docstring)."""
    record = _task_facts(task, entry)
    record["video"] = {
        "file": video_path.name,
        "bytes": size,
        "sha256": sha256,
        "stat": fingerprint,
        "url": url,
        "watermarked": watermarked,
        "duration": _video_duration(task, url),
    }
    return _with_origin(record, entry)


def failure_record(task: Mapping[str, Any], entry: JournalEntry | None) -> dict[str, Any]:
    """What a failed task's sidecar holds: a video's sidecar with `"video": null`."""
    record = _task_facts(task, entry)
    record["video"] = None
    return _with_origin(record, entry)


def _task_facts(task: Mapping[str, Any], entry: JournalEntry | None) -> dict[str, Any]:
    """What the service and the journal say of the task, in the sidecar's words."""
    external = external_id_of(task)
    request: Mapping[str, Any] = entry.request if entry is not None else {}
    record: dict[str, Any] = {
        "schema": SCHEMA,
        "source": JOURNAL if entry is not None else SERVICE,
        "task_id": str(task["task_id"]),
        "external_task_id": external
        if external is not None
        else (entry.external_task_id if entry is not None else None),
    }
    for name in SIDECAR_FIELDS:
        record[name] = request.get(name)
    record["images"] = [dict(image) for image in entry.images] if entry is not None else None
    record["task_status"] = status_of(task) or None
    record["task_status_msg"] = task.get("task_status_msg") or None
    record["created_at"] = iso_millis(task.get("created_at"))
    record["updated_at"] = iso_millis(task.get("updated_at"))
    record["final_unit_deduction"] = task.get("final_unit_deduction")
    record["made_from"] = entry.made_from if entry is not None else None
    return record


def _with_origin(record: dict[str, Any], entry: JournalEntry | None) -> dict[str, Any]:
    """The record, with where its facts came from and when it was written."""
    if entry is not None:
        record["service"] = public_url(entry.service)
        record["sandbox"] = entry.sandbox
        record["endpoint"] = entry.endpoint
        record["created_by"] = created_by(entry)
        record["journal_created_at"] = iso_seconds(entry.created)
    record["mivid_version"] = __version__
    record["written_at"] = iso_seconds(datetime.now(timezone.utc).timestamp())
    return record


def _video_duration(task: Mapping[str, Any], url: str) -> str | None:
    for video in task_videos(task):
        if url in (video.get("url"), video.get("watermark_url")):
            duration = video.get("duration")
            return None if duration is None else str(duration)
    return None


def write_sidecar(
    video_path: Path,
    task: Mapping[str, Any],
    entry: JournalEntry | None,
    *,
    url: str | None = None,
    watermarked: bool = False,
) -> Path:
    """Write `<video name>.json` beside `video_path`, atomically; return its path.

    `url` is the service URL the video came from (default: the task's first
    video URL, or its watermarked copy when `watermarked`).
    """
    if url is None:
        videos = task_videos(task)
        first = videos[0] if videos else {}
        url = str(first.get("watermark_url" if watermarked else "url") or "")
    target = sidecar_path(video_path)
    previous = read_sidecar(target)
    size, digest, fingerprint = _video_facts(video_path, previous)
    record = sidecar_record(
        task,
        entry,
        video_path=video_path,
        url=url,
        watermarked=watermarked,
        size=size,
        sha256=digest,
        fingerprint=fingerprint,
    )
    return _write_record(target, record, previous)


def write_failure_sidecar(
    directory: Path, task: Mapping[str, Any], entry: JournalEntry | None
) -> Path:
    """Write a failed task's sidecar, `DIR/<task id>.json` (`"video": null`); return its path.

    Named as its video's sidecar would be (`mivid.download.file_stem`): a failed task
    has no video, so nothing clashes. Written atomically, like any sidecar.
    """
    from mivid.download import file_stem

    target = directory / f"{file_stem(str(task['task_id']))}.json"
    record = failure_record(task, entry)
    previous = read_sidecar(target)
    if previous is not None and previous.get("task_id") == record["task_id"]:
        # A rerun may know less (a job the journal says failed is not asked about again):
        # what an earlier sighting wrote is kept rather than blanked.
        for key, value in previous.items():
            if record.get(key) is None and key != "video":
                record[key] = value
    return _write_record(target, record, previous)


def _write_record(target: Path, record: dict[str, Any], previous: dict[str, Any] | None) -> Path:
    """Write a sidecar atomically, unless it would say nothing new."""
    if previous is not None and _without_time(previous) == _without_time(record):
        return target  # nothing new to say: leave the file (and its time) as it is
    text = json_text(record) + "\n"  # strict JSON, whatever the service sent
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as sink:
            sink.write(text)
            sink.flush()
            os.fsync(sink.fileno())
        temporary.chmod(0o644)
        temporary.replace(target)  # os.replace: readers see the old file or the new one
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def _without_time(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "written_at"}


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """A sidecar's record, or None when the file is missing or not a sidecar.

    Only a regular file of at most `MAX_SIDECAR_BYTES` is read (never a
    device, a pipe or a link to one).
    """
    try:
        status = path.lstat()
        if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_SIDECAR_BYTES:
            return None
        record = parse_json(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("task_id"), str):
        return None
    return record


def fingerprint_of(status: os.stat_result) -> str:
    """What changes whenever a file's content may have: inode, size, modification and change
    times. A user can set a file's modification time back, not its change time."""
    return f"{status.st_ino}:{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}"


def _video_facts(
    video_path: Path, previous: Mapping[str, Any] | None
) -> tuple[int | None, str | None, str | None]:
    """The video file's size, SHA-256 and stat fingerprint (all None when it is no regular file).

    The hash is the previous sidecar's when the file's fingerprint is the one it
    recorded (not touched since); otherwise the file is read and hashed, from
    the same open file whose status is recorded.
    """
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        # O_NONBLOCK: a named pipe put in the video's place must not hang the run.
        with os.fdopen(os.open(video_path, flags), "rb") as handle:
            status = os.fstat(handle.fileno())
            if not stat.S_ISREG(status.st_mode):
                return None, None, None
            fingerprint = fingerprint_of(status)
            known = _recorded_video(previous, video_path.name)
            if (
                known is not None
                and known.get("stat") == fingerprint
                and _is_sha256(known.get("sha256"))
            ):
                return status.st_size, str(known["sha256"]), fingerprint
            digest = hashlib.sha256()
            while block := handle.read(_HASH_BLOCK):
                digest.update(block)
            return status.st_size, digest.hexdigest(), fingerprint
    except OSError:
        return None, None, None


def _recorded_video(record: Mapping[str, Any] | None, file_name: str) -> Mapping[str, Any] | None:
    """The `video` object of a mivid sidecar that describes `file_name`, else None."""
    if record is None or record.get("schema") != SCHEMA:
        return None
    video = record.get("video")
    if not isinstance(video, dict) or video.get("file") != file_name:
        return None
    return video


def _is_sha256(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )


def recorded_url(video: Path) -> str | None:
    """The service URL `video`'s mivid sidecar says it was saved from (None: none recorded).

    A watermarked copy's is its `watermark_url`.
    """
    described = _recorded_video(read_sidecar(sidecar_path(video)), video.name)
    url = described.get("url") if described is not None else None
    return url if isinstance(url, str) and url else None


def proven_video(directory: Path, task_id: str, *, watermarked: bool = False) -> Path | None:
    """The succeeded task's video, already saved in `directory` as mivid saves it; else None.

    Proven by its sidecar alone, without asking the service: a mivid sidecar
    beside it names this task as succeeded, this file and this kind of copy
    (watermarked or not), and the file is a regular file of the recorded size
    whose SHA-256 is the recorded one (hashed again unless its stat fingerprint
    is the recorded one). Anything else — no sidecar, another task, a link, a
    size or hash that differs, a task with several videos — is None: the
    caller asks the service and saves the video as usual.
    """
    from mivid.download import video_file_name

    video = directory / video_file_name(task_id)
    record = read_sidecar(sidecar_path(video))
    described = _recorded_video(record, video.name)
    if record is None or described is None or record.get("task_id") != task_id:
        return None
    if status_of(record) != SUCCEED or described.get("watermarked") is not watermarked:
        return None
    size, digest = described.get("bytes"), described.get("sha256")
    if not isinstance(size, int) or isinstance(size, bool) or not _is_sha256(digest):
        return None
    try:
        status = video.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode) or status.st_size != size:
        return None
    if described.get("stat") == fingerprint_of(status):
        return video
    _, actual, _ = _video_facts(video, None)
    return video if actual == digest else None
