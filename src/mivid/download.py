"""Saving a task's videos: streamed, checked, atomic and resumable.

Each video goes to `DIR/<task_id>.mp4` (`<task_id>-<n>.mp4` when a task has
several). Bytes are streamed to `DIR/.<name>.part` and renamed only when the
length the server announced has arrived, so a killed download never leaves a
partial file under the final name. A `.part` left by an interrupted run (or a
connection that dropped mid-file) is resumed with `Range: bytes=N-` when the
server answers 206, and started over when it answers 200.

An existing file is never overwritten silently: the same size is taken as the
same video and skipped; another size is refused unless `force`. Result URLs
need no credentials, so the requests carry none; in sandbox mode the caller
passes the emulator's transport.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mivid import hints
from mivid import problems as rules
from mivid.errors import InputError, MividError, NotFoundError, ServiceError, TaskFailedError
from mivid.problems import Problem
from mivid.vocabulary import FAILED, SUCCEED, failure_reason, status_of, video_urls

RETENTION_NOTE = "the service deletes result videos 30 days after they are made: keep your copy"
ATTEMPTS = 4

Progress = Callable[[Path, int, "int | None"], None]


@dataclass(frozen=True)
class PlannedVideo:
    task_id: str
    url: str
    path: Path
    watermarked: bool


@dataclass(frozen=True)
class SavedVideo:
    """One video on disk; `skipped` when an identical-size file was already there.

    `sidecar` is its provenance file (`<name>.json`), `source` where that file's
    facts came from: "journal" or "service" (see `mivid.sidecar`).
    """

    task_id: str
    url: str
    path: Path
    size: int
    watermarked: bool
    skipped: bool = False
    sidecar: Path | None = None
    source: str | None = None


#: The longest file stem made from a task id. Names are limited to 255 bytes on most file
#: systems, and a stem also carries `.` + `-<n>.mp4.part` or `.json` (and mkstemp's suffix).
MAX_STEM = 200


def file_stem(task_id: str) -> str:
    """A task id as a safe file name: its videos are <stem>.mp4, or <stem>-<n>.mp4 of several.

    An id too long for a file name (the service's ids are opaque: 300 characters
    happen) keeps its start and ends with 16 hex digits of its SHA-256, so two
    long ids still get two names.
    """
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", task_id).lstrip(".") or "task"
    if len(stem) <= MAX_STEM:
        return stem
    import hashlib

    digest = hashlib.sha256(task_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{stem[: MAX_STEM - 17]}-{digest}"


def video_file_name(task_id: str, index: int = 1, count: int = 1) -> str:
    """The file name of a task's video number `index` (from 1) of `count`."""
    name = file_stem(task_id)
    return f"{name}.mp4" if count == 1 else f"{name}-{index}.mp4"


def part_path(path: Path) -> Path:
    """The temporary file a download streams into."""
    return path.with_name(f".{path.name}.part")


def plan_videos(
    tasks: Sequence[Mapping[str, Any]], directory: Path, *, watermarked: bool = False
) -> list[PlannedVideo]:
    """Where each task's videos go; every problem (unfinished, failed, no URL) at once."""
    planned: list[PlannedVideo] = []
    unfinished: list[Problem] = []
    failed: list[str] = []
    missing: list[str] = []
    for task in tasks:
        task_id = str(task["task_id"])
        status = status_of(task)
        if status == FAILED:
            failed.append(f"task {task_id} failed: {failure_reason(task)}")
            continue
        if status != SUCCEED:
            unfinished.append(
                Problem(
                    "",
                    rules.TASK_UNFINISHED,
                    f"task {task_id} is {task.get('task_status')}: it has no video yet",
                    {"task_id": task_id, "status": status},
                )
            )
            continue
        urls = video_urls(task, watermarked=watermarked)
        if not urls or not all(urls):
            what = "watermarked copy (create it with --watermark)" if watermarked else "video URL"
            missing.append(f"task {task_id} has no {what}")
            continue
        for index, url in enumerate(urls, start=1):
            filename = video_file_name(task_id, index, len(urls))
            planned.append(PlannedVideo(task_id, url, directory / filename, watermarked))
    if failed:
        raise TaskFailedError("; ".join(failed + [p.text for p in unfinished] + missing))
    if unfinished:
        ids = [str(problem.figures["task_id"]) for problem in unfinished]
        resume = hints.command("wait", *ids, "--download", str(directory))
        raise InputError([*unfinished, *missing], hint=f"wait for it first: {resume}")
    if missing:
        raise ServiceError("; ".join(missing))
    return planned


def download_tasks(
    http: httpx.Client,
    tasks: Sequence[Mapping[str, Any]],
    directory: Path,
    *,
    watermarked: bool = False,
    force: bool = False,
    on_progress: Progress | None = None,
    on_skip: Callable[[SavedVideo], None] | None = None,
    sleep: Callable[[float], object] = time.sleep,
    sidecars: bool = True,
    service: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, list[SavedVideo]]:
    """Save every video of the finished `tasks` into `directory`; the saved files per task id.

    Checks everything before the first byte is written: unfinished or failed
    tasks, and existing files of another size (unless `force`), each named.
    With `sidecars`, each video (saved or skipped) gets its provenance file
    beside it (`mivid.sidecar.write_sidecar`), from the journal's entry of the
    task made at `service` when there is one (`warn` hears when the journal
    cannot be read).
    """
    if directory.exists() and not directory.is_dir():
        raise InputError(
            Problem(f"--output {directory}", rules.NOT_A_FOLDER, "exists and is not a folder")
        )
    planned = plan_videos(tasks, directory, watermarked=watermarked)
    skips, conflicts = _existing(http, planned, force=force)
    if conflicts:
        raise InputError(
            conflicts, hint="pass --force to replace them, or choose another --output folder"
        )
    directory.mkdir(parents=True, exist_ok=True)
    saved: dict[str, list[SavedVideo]] = {str(task["task_id"]): [] for task in tasks}
    known: Mapping[str, Any] = {}
    if sidecars:
        from mivid.sidecar import remember_sightings

        known = remember_sightings(tasks, service=service, warn=warn) if service else {}
    for video in planned:
        if video.path in skips:
            result = SavedVideo(
                video.task_id, video.url, video.path, skips[video.path], video.watermarked, True
            )
            if on_skip is not None:
                on_skip(result)
        else:
            size = download_file(
                http,
                video.url,
                video.path,
                on_progress=on_progress,
                sleep=sleep,
            )
            result = SavedVideo(video.task_id, video.url, video.path, size, video.watermarked)
        if sidecars:
            result = _with_sidecar(result, tasks, known)
        saved[video.task_id].append(result)
    return saved


def _with_sidecar(
    video: SavedVideo, tasks: Sequence[Mapping[str, Any]], known: Mapping[str, Any]
) -> SavedVideo:
    """The video with its sidecar written (left without one if the folder refuses it)."""
    from dataclasses import replace

    from mivid.sidecar import JOURNAL, SERVICE, write_sidecar

    task = next(task for task in tasks if str(task["task_id"]) == video.task_id)
    entry = known.get(video.task_id)
    try:
        path = write_sidecar(video.path, task, entry, url=video.url, watermarked=video.watermarked)
    except OSError:
        return video
    return replace(video, sidecar=path, source=JOURNAL if entry is not None else SERVICE)


def _existing(
    http: httpx.Client, planned: Iterable[PlannedVideo], *, force: bool
) -> tuple[dict[Path, int], list[Problem]]:
    """Files already in place: the ones to skip (the same video), and the refusals.

    A file mivid saved is known by its sidecar (task, size and SHA-256 of what
    was saved): no request is needed. Another file is compared by the video's
    size at the server (`remote_size`); without it, it is never replaced.
    """
    skips: dict[Path, int] = {}
    conflicts: list[Problem] = []
    for video in planned:
        if not video.path.exists():
            continue
        if not video.path.is_file():
            conflicts.append(
                Problem(str(video.path), rules.FILE_EXISTS, "exists and is not a file")
            )
            continue
        if force:
            continue
        local = video.path.stat().st_size
        recorded = _saved_by_mivid(video, local)
        if recorded is True:
            skips[video.path] = local
            continue
        remote = remote_size(http, video.url) if recorded is None else None
        if remote is not None and remote == local:
            skips[video.path] = local
        elif recorded is False:
            conflicts.append(
                Problem(
                    str(video.path),
                    rules.FILE_EXISTS,
                    f"already exists ({local} bytes) but is not the video mivid saved there "
                    "(its size or SHA-256 differs from its .json sidecar)",
                    {"bytes": local},
                )
            )
        elif remote is None:
            conflicts.append(
                Problem(
                    str(video.path),
                    rules.FILE_EXISTS,
                    f"already exists ({local} bytes) and the server did not say "
                    "the video's size, so it cannot be compared",
                    {"bytes": local},
                )
            )
        else:
            conflicts.append(
                Problem(
                    str(video.path),
                    rules.FILE_EXISTS,
                    f"already exists with {local} bytes, the video has {remote} bytes",
                    {"bytes": local, "remote_bytes": remote},
                )
            )
    return skips, conflicts


def _saved_by_mivid(video: PlannedVideo, size: int) -> bool | None:
    """Is the file at `video.path` the one mivid saved for this video, by its sidecar?

    True: the sidecar names this task (and copy) with this size and SHA-256.
    False: it names them, but the file changed since. None: the sidecar cannot
    tell (none, another task's, or written before it held a SHA-256).
    """
    from mivid.sidecar import fingerprint_of, read_sidecar, sidecar_path

    record = read_sidecar(sidecar_path(video.path))
    saved = record.get("video") if record is not None else None
    if (
        record is None
        or not isinstance(saved, dict)
        or record.get("task_id") != video.task_id
        or saved.get("file") != video.path.name
        or bool(saved.get("watermarked")) != video.watermarked
    ):
        return None
    digest = saved.get("sha256")
    if saved.get("bytes") != size:
        return False
    if not isinstance(digest, str):
        return None
    if saved.get("stat") == fingerprint_of(video.path.stat()):
        return True  # not touched since it was hashed: no need to read it again
    return file_sha256(video.path) == digest


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def remote_size(http: httpx.Client, url: str) -> int | None:
    """The video's length at the server, or None when it does not say.

    HEAD first; CDNs behind signed URLs often refuse it (403, 405), so then a
    one-byte ranged GET, whose `Content-Range` carries the total.
    """
    try:
        response = http.head(url, headers={"Accept-Encoding": "identity"})
    except httpx.HTTPError:
        response = None
    if response is not None and response.status_code == 200:
        length = _int_header(response.headers.get("content-length"))
        if length is not None:
            return length
    try:
        with http.stream(
            "GET", url, headers={"Accept-Encoding": "identity", "Range": "bytes=0-0"}
        ) as ranged:
            # The body is not read: closing the stream drops whatever the server sends.
            if ranged.status_code == 206:
                span = _content_range(ranged.headers.get("content-range"))
                return span[1] if span is not None else None
            if ranged.status_code == 200:  # Range ignored: the whole length is announced
                return _int_header(ranged.headers.get("content-length"))
    except httpx.HTTPError:
        return None
    return None


def _int_header(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _content_range(value: str | None) -> tuple[int, int | None] | None:
    """(first byte, total length or None) from `bytes 100-199/200`."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", value or "")
    if match is None:
        return None
    total = match.group(3)
    return int(match.group(1)), None if total == "*" else int(total)


class _RetryableError(Exception):
    """This attempt failed in a way another attempt may fix."""

    def __init__(self, error: MividError) -> None:
        super().__init__(error.message)
        self.error = error


def download_file(
    http: httpx.Client,
    url: str,
    path: Path,
    *,
    on_progress: Progress | None = None,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], object] = time.sleep,
) -> int:
    """Stream `url` to `path` through its `.part` file; return the size saved.

    A dropped connection, a short body or a 5xx answer is tried again (up to
    `attempts` in all), resuming from the bytes already in the `.part` file.
    """
    part = part_path(path)
    last: MividError | None = None
    for attempt in range(1, attempts + 1):
        try:
            size = _attempt(http, url, part, path, on_progress)
        except _RetryableError as retry:
            last = retry.error
            if attempt < attempts:
                sleep(min(8.0, 0.5 * 2 ** (attempt - 1)))
            continue
        part.replace(path)
        return size
    assert last is not None
    raise ServiceError(
        f"{last.message} (after {attempts} attempts)",
        hint=f"run the same command again: it resumes from the {part.stat().st_size if part.exists() else 0} "
        f"bytes kept in {part}",
    )


def _attempt(
    http: httpx.Client, url: str, part: Path, path: Path, on_progress: Progress | None
) -> int:
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        with http.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status == 416 and offset:
                # Asked past the end: the .part may already hold the whole video.
                total = _content_range_total(response.headers.get("content-range"))
                if total == offset:
                    return offset
                part.unlink()
                raise _RetryableError(
                    ServiceError(f"{url}: the server refused to resume; starting over")
                )
            if status in (404, 410):
                raise NotFoundError(
                    f"{url}: the video is gone (HTTP {status})",
                    hint="the service deletes result videos 30 days after they are made",
                    http_status=status,
                )
            if status >= 500 or status == 429:
                raise _RetryableError(ServiceError(f"{url}: the server answered HTTP {status}"))
            if status == 206 and offset:
                span = _content_range(response.headers.get("content-range"))
                if span is None or span[0] != offset:
                    part.unlink()
                    raise _RetryableError(
                        ServiceError(f"{url}: the server resumed at the wrong place; starting over")
                    )
                total = span[1]
                mode = "ab"
            elif status == 200:
                offset = 0
                length = _int_header(response.headers.get("content-length"))
                total = length
                mode = "wb"
            else:
                raise ServiceError(
                    f"{url}: unexpected answer HTTP {status} to a video download",
                    http_status=status,
                )
            if response.headers.get("content-encoding", "identity").lower() != "identity":
                # The announced length counts the encoded bytes; we keep the decoded ones.
                total = None
            done = offset
            if on_progress is not None:
                on_progress(path, done, total)
            with part.open(mode) as sink:
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    done += len(chunk)
                    if on_progress is not None:
                        on_progress(path, done, total)
                sink.flush()
                os.fsync(sink.fileno())
    except httpx.TransportError as exc:
        raise _RetryableError(
            ServiceError(f"{url}: the connection broke during the download ({exc})")
        ) from exc
    if total is not None and done != total:
        if done > total:
            part.unlink()
        raise _RetryableError(
            ServiceError(f"{url}: got {done} bytes of the {total} the server announced")
        )
    return done


def _content_range_total(value: str | None) -> int | None:
    match = re.fullmatch(r"\s*bytes\s+\*/(\d+)\s*", value or "")
    return int(match.group(1)) if match else None


def download_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """A plain client for result URLs: no credentials, redirects followed."""
    from mivid.client import USER_AGENT

    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(30.0, connect=10.0),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    )
