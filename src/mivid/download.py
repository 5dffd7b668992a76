"""Saving a task's videos: streamed, checked, atomic and resumable.

Each video goes to `DIR/<task_id>.mp4` (`<task_id>-<n>.mp4` when a task has
several). Bytes are streamed to `DIR/.<name>.part` and renamed only when the
length the server announced has arrived, so a killed download never leaves a
partial file under the final name. A `.part` left by an interrupted run (or a
connection that dropped mid-file) is resumed with `Range: bytes=N-` when the
server answers 206, and started over when it answers 200.

A video must keep coming: less than `Pace.min_bytes` in `Pace.window` seconds
(16 KiB in 30 s by default; `MIVID_STALL_KIB`, `MIVID_STALL_SECONDS`) stops it
(StalledDownloadError, exit 5) with the partial file kept, so the same command
run again resumes; and it never goes on past `Pace.deadline` (`wait --timeout`:
DeadlineError, which `wait` makes its own timeout). Both on an injected clock.

An existing file is never overwritten silently: the same size is taken as the
same video and skipped; another size is refused unless `force`. Result URLs
need no credentials, so the requests carry none; in sandbox mode the caller
passes the emulator's transport.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mivid import hints
from mivid import problems as rules
from mivid.errors import (
    DeadlineError,
    InputError,
    MividError,
    NotFoundError,
    ServiceError,
    StalledDownloadError,
    TaskFailedError,
    local_file_error,
)
from mivid.plaintext import printable, public_url, web_url
from mivid.problems import Problem
from mivid.vocabulary import FAILED, SUCCEED, failure_reason, status_of, video_urls

RETENTION_NOTE = "the service deletes result videos 30 days after they are made: keep your copy"
ATTEMPTS = 4
#: The largest video mivid saves (`MIVID_MAX_VIDEO_MB` sets another): Kling's are tens of MB.
MAX_VIDEO_BYTES = 2048 << 20

#: The slowest a video may arrive: less than this many bytes in `MIN_RATE_SECONDS` stops it.
MIN_RATE_BYTES = 16 << 10
MIN_RATE_SECONDS = 30.0

Progress = Callable[[Path, int, "int | None"], None]


@dataclass(frozen=True)
class Pace:
    """How a download keeps time: the slowest rate it accepts, and when it must be over.

    Less than `min_bytes` in any `window` seconds (of `clock`) stops it; so does
    `deadline` (of `clock`; None: no such limit). A read that hears nothing waits
    at most `window` seconds, and no longer than the deadline allows.
    """

    min_bytes: int = MIN_RATE_BYTES
    window: float = MIN_RATE_SECONDS
    clock: Callable[[], float] = time.monotonic
    deadline: float | None = None

    def left(self) -> float | None:
        """Seconds until the deadline (None: none)."""
        return None if self.deadline is None else self.deadline - self.clock()

    def over(self) -> bool:
        return self.deadline is not None and self.clock() >= self.deadline

    def read_timeout(self) -> float:
        """How long one read may hear nothing: the window, never past the deadline."""
        left = self.left()
        return self.window if left is None else max(0.0, min(self.window, left))


class _Meter:
    """Bytes as they arrive, window by window: raises when a window brought too few."""

    def __init__(self, pace: Pace) -> None:
        self.pace = pace
        self.started = pace.clock()
        self.got = 0

    def heard(self, count: int) -> bool:
        """Count `count` more bytes; False when the window just ended with too few."""
        self.got += count
        now = self.pace.clock()
        if now - self.started < self.pace.window:
            return True
        if self.got < self.pace.min_bytes:
            return False
        self.started, self.got = now, 0
        return True


@dataclass(frozen=True)
class PlannedVideo:
    task_id: str
    url: str
    path: Path
    watermarked: bool
    index: int = 1  # which of the task's videos (from 1) …
    count: int = 1  # … of how many

    def describe(self) -> str:
        """`task 8672…`, or `task 8672… (its video 2)` of a task with several."""
        which = f" (its video {self.index})" if self.count > 1 else ""
        return f"task {printable(self.task_id)}{which}"


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


def video_file_name(
    task_id: str, index: int = 1, count: int = 1, *, watermarked: bool = False
) -> str:
    """The file name of a task's video number `index` (from 1) of `count`.

    The watermarked copy has a name of its own (`<id>-watermarked.mp4`): saving it
    never replaces, nor is taken for, the clean copy.
    """
    name = file_stem(task_id) + ("-watermarked" if watermarked else "")
    return f"{name}.mp4" if count == 1 else f"{name}-{index}.mp4"


def part_path(path: Path, url: str, *, watermarked: bool = False) -> Path:
    """The partial file a download of `url` into `path` streams into: `.<name>.<source>.part`.

    Its name records its source (the URL without its query, which a signed URL
    changes at each query, and which copy), so a partial file of another video
    for the same name (the plain one, then `--watermarked`) is never resumed.
    """
    import hashlib

    parsed = httpx.URL(url)
    source = (
        f"{path.name}\n{watermarked}\n{parsed.scheme}://{parsed.host}:{parsed.port}{parsed.path}"
    )
    return path.with_name(f".{path.name}.{hashlib.sha256(source.encode()).hexdigest()[:12]}.part")


#: The most videos saved of one task: a task makes one (its watermarked copy apart), and an
#: answer listing thousands would flood the folder with files.
MAX_VIDEOS_PER_TASK = 16


def plan_videos(
    tasks: Sequence[Mapping[str, Any]], directory: Path, *, watermarked: bool = False
) -> list[PlannedVideo]:
    """Where each task's videos go; every problem (unfinished, failed, no URL) at once."""
    planned: list[PlannedVideo] = []
    unfinished: list[Problem] = []
    failed: list[str] = []
    missing: list[str] = []
    not_web: list[str] = []
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
        # A file:, ftp:, data: or relative "URL" is nothing to fetch: said once, before any
        # request or partial file (it is no failure of the network to try again).
        if len(urls) > MAX_VIDEOS_PER_TASK:
            not_web.append(
                f"task {task_id}: the service lists {len(urls)} videos for it (a task makes "
                f"one, or two with a watermark; mivid saves at most {MAX_VIDEOS_PER_TASK}); "
                "nothing was downloaded"
            )
            continue
        odd = [url for url in urls if not web_url(url)]
        not_web += [
            f"task {task_id}: the service's video URL `{printable(public_url(url))}` is not an "
            "http(s) address; nothing was downloaded"
            for url in odd
        ]
        if odd:
            continue
        for index, url in enumerate(urls, start=1):
            filename = video_file_name(task_id, index, len(urls), watermarked=watermarked)
            planned.append(
                PlannedVideo(
                    task_id, url, directory / filename, watermarked, index=index, count=len(urls)
                )
            )
    if failed:
        raise TaskFailedError("; ".join(failed + [p.text for p in unfinished] + missing))
    if unfinished:
        ids = [str(problem.figures["task_id"]) for problem in unfinished]
        resume = hints.command("wait", *ids, "--download", str(directory))
        raise InputError([*unfinished, *missing], hint=f"wait for it first: {resume}")
    if not_web:
        raise ServiceError(
            "; ".join(not_web + missing),
            hint="the service or a gateway rewrote the answer: check the base URL",
        )
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
    max_bytes: int | None = None,
    pace: Pace | None = None,
) -> dict[str, list[SavedVideo]]:
    """Save every video of the finished `tasks` into `directory`; the saved files per task id.

    Checks everything before the first byte is written, each problem named:
    unfinished or failed tasks; two videos planned under one name; a link in
    place of a video, its partial file or its sidecar (never followed); a file
    at a sidecar's name that is not mivid's sidecar of that task, and an existing
    video of another size (unless `force`). No video is more than `max_bytes`,
    none arrives slower than `pace` allows nor goes on past its deadline.
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
    conflicts = _local_problems(planned, force=force)  # no request before these are known
    skips: dict[Path, int] = {}
    if not conflicts:
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
                watermarked=video.watermarked,
                on_progress=on_progress,
                sleep=sleep,
                max_bytes=max_bytes or MAX_VIDEO_BYTES,
                pace=pace or Pace(),
            )
            result = SavedVideo(video.task_id, video.url, video.path, size, video.watermarked)
        if sidecars:
            result = _with_sidecar(result, tasks, known)
        saved[video.task_id].append(result)
    if sidecars and service:
        from mivid.sidecar import remember_saved

        first = {task_id: videos[0].path for task_id, videos in saved.items() if videos}
        remember_saved(first, service=service, warn=warn)
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


def _local_problems(planned: Sequence[PlannedVideo], *, force: bool) -> list[Problem]:
    """What the folder and the plan say against writing, before any request (no link followed)."""
    problems: list[Problem] = []
    owners: dict[Path, PlannedVideo] = {}
    for video in planned:
        # Compared case-folded: on macOS's and Windows' usual file systems `Ab.mp4` and
        # `aB.mp4` are one file, and the second would overwrite the first.
        first = owners.setdefault(video.path.with_name(video.path.name.casefold()), video)
        if first is not video:
            problems.append(
                Problem(
                    str(video.path),
                    rules.FILE_EXISTS,
                    f"both {first.describe()} and {video.describe()} would be saved here: "
                    "save them into different folders",
                )
            )
    for video in planned:
        problems += _in_the_way(video, force=force)
    return problems


def _in_the_way(video: PlannedVideo, *, force: bool) -> list[Problem]:
    """A link or a stranger's file where the video, its partial file or its sidecar go."""
    from mivid.sidecar import read_sidecar, sidecar_path

    problems: list[Problem] = []
    part = part_path(video.path, video.url, watermarked=video.watermarked)
    if os.path.lexists(part) and _regular_size(part) is None:
        problems.append(_not_ours(part))  # mivid never made it: whatever --force says
    for path in (video.path, sidecar_path(video.path)):
        mode = _lmode(path)
        if mode is None or (force and stat.S_ISLNK(mode)):
            continue  # --force replaces a link itself, never what it points to
        if stat.S_ISLNK(mode):
            problems.append(
                Problem(
                    str(path),
                    rules.FILE_EXISTS,
                    "is a symbolic link: mivid never writes through one (--force replaces "
                    "the link itself)",
                )
            )
        elif not stat.S_ISREG(mode):
            problems.append(Problem(str(path), rules.FILE_EXISTS, "exists and is not a file"))
        elif path != video.path and not force:
            record = read_sidecar(path)
            if record is None or record.get("task_id") != video.task_id:
                problems.append(
                    Problem(
                        str(path),
                        rules.FILE_EXISTS,
                        "exists and is not the sidecar mivid writes for "
                        f"{video.describe()} (it would be replaced)",
                    )
                )
    return problems


def _lmode(path: Path) -> int | None:
    """The file's mode, the link's own when it is one; None when nothing is there."""
    try:
        return os.lstat(path).st_mode
    except FileNotFoundError:
        return None


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
        local_size = _regular_size(video.path)
        if local_size is None or force:
            continue  # nothing there, or a link (refused above unless --force replaces it)
        local = local_size
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
    watermarked: bool = False,
    on_progress: Progress | None = None,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], object] = time.sleep,
    max_bytes: int = MAX_VIDEO_BYTES,
    pace: Pace | None = None,
) -> int:
    """Stream `url` to `path` through its partial file; return the size saved.

    A dropped connection, a short body or a 5xx answer is tried again (up to
    `attempts` in all), resuming from the bytes already in the partial file,
    which is named for its source (`part_path`): another video's partial file
    for the same name is removed, never resumed. What is renamed into place is
    an MP4 (an `ftyp` box first) of at most `max_bytes`. A video that arrives
    slower than `pace` allows is not tried again (StalledDownloadError), nor one
    past the pace's deadline (DeadlineError): the partial file is kept for a rerun.
    """
    pace = pace or Pace()
    part = part_path(path, url, watermarked=watermarked)
    _remove_other_parts(path, keep=part)
    last: MividError | None = None
    for attempt in range(1, attempts + 1):
        try:
            size = _attempt(http, url, part, path, on_progress, max_bytes, pace)
        except OSError as exc:  # the disk is full, the file too large for `ulimit -f` …
            if not _regular_size(part):
                _unlink(part)  # nothing in it to resume from
            raise local_file_error(exc, what=str(part)) from exc
        except _RetryableError as retry:
            last = retry.error
            pause = min(8.0, 0.5 * 2 ** (attempt - 1))
            left = pace.left()
            if pace.over() or (left is not None and attempt < attempts and pause >= left):
                raise _past_deadline(url, part) from retry
            if attempt < attempts:
                sleep(pause)
            continue
        _require_mp4(part, url)
        part.replace(path)  # os.replace: a link in its place is replaced, never its target
        return size
    assert last is not None
    kept = _regular_size(part) or 0
    raise ServiceError(
        f"{last.message} (after {attempts} attempts)",
        hint=f"run the same command again: it resumes from the {kept} bytes kept in {part}",
    )


def _stalled(url: str, part: Path, pace: Pace) -> StalledDownloadError:
    kept = _regular_size(part) or 0
    return StalledDownloadError(
        f"{printable(public_url(url))}: the video stalled (less than "
        f"{_kib(pace.min_bytes)} KiB in {pace.window:g} s); stopped with {kept} bytes kept",
        hint="run the same command again later: it resumes from the bytes kept "
        f"({part.name}); MIVID_STALL_KIB and MIVID_STALL_SECONDS set the slowest rate accepted",
    )


def _past_deadline(url: str, part: Path) -> DeadlineError:
    kept = _regular_size(part) or 0
    return DeadlineError(
        f"{printable(public_url(url))}: the download was stopped at the deadline "
        f"with {kept} bytes kept",
        hint=f"the same command run again resumes from the bytes kept ({part.name})",
    )


def _attempt(
    http: httpx.Client,
    url: str,
    part: Path,
    path: Path,
    on_progress: Progress | None,
    max_bytes: int,
    pace: Pace,
) -> int:
    from mivid.client import over_by, read_deadline

    if pace.over():
        raise _past_deadline(url, part)
    offset = _regular_size(part) or 0
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    base = http.timeout
    quiet = pace.read_timeout()  # the longest a read may hear nothing
    timeout = httpx.Timeout(
        connect=min(base.connect or quiet, quiet),
        read=quiet,
        write=min(base.write or quiet, quiet),
        pool=min(base.pool or quiet, quiet),
    )
    left = pace.left()
    try:
        # Until the deadline, even while the headers drip in (`over_by`), then the body's.
        with over_by(left), http.stream("GET", url, headers=headers, timeout=timeout) as response:
            shape = _shape(response, url, part, offset)
            if shape is None:  # asked past the end: the partial file holds the whole video
                return offset
            append, total = shape
            _check_kind(response, url)
            if total is not None and total > max_bytes:
                raise ServiceError(
                    f"{url}: the server announces {total} bytes, more than "
                    f"{_mib(max_bytes)} MiB, the most mivid saves; nothing was saved",
                    hint=_CAP_HINT,
                )
            # However slowly a server drips, the socket is shut at the deadline.
            with read_deadline(response, left):
                done = _stream(
                    response,
                    part,
                    path,
                    on_progress,
                    append=append,
                    offset=offset,
                    total=total,
                    max_bytes=max_bytes,
                    url=url,
                    pace=pace,
                )
    except httpx.TransportError as exc:
        if pace.over():
            raise _past_deadline(url, part) from exc
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            raise _stalled(url, part, pace) from exc  # nothing at all for a whole window
        raise _RetryableError(
            ServiceError(f"{url}: the connection broke during the download ({exc})")
        ) from exc
    if total is not None and done != total:
        raise _RetryableError(
            ServiceError(f"{url}: got {done} bytes of the {total} the server announced")
        )
    return done


def _shape(
    response: httpx.Response, url: str, part: Path, offset: int
) -> tuple[bool, int | None] | None:
    """(append to the partial file?, the total length announced), or None when it is whole."""
    status = response.status_code
    if status == 416 and offset:
        total = _content_range_total(response.headers.get("content-range"))
        if total == offset:
            return None
        _unlink(part)
        raise _RetryableError(ServiceError(f"{url}: the server refused to resume; starting over"))
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
            _unlink(part)
            raise _RetryableError(
                ServiceError(f"{url}: the server resumed at the wrong place; starting over")
            )
        append, total = True, span[1]
    elif status == 200:
        append, total = False, _int_header(response.headers.get("content-length"))
    else:
        raise ServiceError(
            f"{url}: unexpected answer HTTP {status} to a video download", http_status=status
        )
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        # The announced length counts the encoded bytes; we keep the decoded ones.
        total = None
    return append, total


def _check_kind(response: httpx.Response, url: str) -> None:
    """Refuse an answer that says it is no video (an error or sign-in page where one was)."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind.startswith(_NOT_VIDEO):
        raise ServiceError(
            f"{url}: the server sent {printable(kind)}, not a video; nothing was saved",
            hint="the link may have expired or need signing in: ask for the task again "
            f"({hints.command('get', 'ID')}) and download from its fresh URL",
        )


def _stream(
    response: httpx.Response,
    part: Path,
    path: Path,
    on_progress: Progress | None,
    *,
    append: bool,
    offset: int,
    total: int | None,
    max_bytes: int,
    url: str,
    pace: Pace,
) -> int:
    """Write the answer's bytes into the partial file (never past `total` or `max_bytes`).

    Stops, keeping what arrived, when a window of `pace` brought too few bytes or
    its deadline passed.
    """
    done = offset if append else 0
    if on_progress is not None:
        on_progress(path, done, total)
    meter = _Meter(pace)
    fd = _open_part(part, append=append)
    with os.fdopen(fd, "wb") as sink:
        for chunk in response.iter_bytes():
            if total is not None and done + len(chunk) > total:
                chunk = chunk[: total - done]  # what goes past the announced length is not read
            if done + len(chunk) > max_bytes:
                sink.close()
                _unlink(part)
                raise ServiceError(
                    f"{url}: the video is more than {_mib(max_bytes)} MiB, the most mivid "
                    "saves; nothing was saved",
                    hint=_CAP_HINT,
                )
            sink.write(chunk)
            done += len(chunk)
            if on_progress is not None:
                on_progress(path, done, total)
            if total is not None and done >= total:
                break
            if pace.over():
                sink.flush()
                raise _past_deadline(url, part)
            if not meter.heard(len(chunk)):
                sink.flush()
                raise _stalled(url, part, pace)
        sink.flush()
        os.fsync(sink.fileno())
    return done


def _open_part(part: Path, *, append: bool) -> int:
    """The partial file, opened to write without following a link: made anew unless `append`.

    A link, a folder or a pipe in its place is refused (InputError): mivid only
    ever writes a regular file it made (O_NOFOLLOW, O_EXCL; O_NONBLOCK so that
    a pipe is refused instead of waited on).
    """
    flags = os.O_WRONLY | _NO_FOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    if append:
        flags |= os.O_APPEND
    else:
        _unlink(part)
        flags |= os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(part, flags, 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR, errno.EEXIST):
            raise InputError(_not_ours(part)) from exc
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(_not_ours(part))
    return fd


def _not_ours(path: Path) -> Problem:
    """A partial file's name taken by something mivid never makes (a link, a folder, a pipe)."""
    mode = _lmode(path)
    what = (
        "is a symbolic link: mivid never writes through one"
        if mode is not None and stat.S_ISLNK(mode)
        else "is not a file mivid made (a folder or a pipe)"
    )
    return Problem(str(path), rules.FILE_EXISTS, f"{what}; remove it")


def _require_mp4(part: Path, url: str) -> None:
    """Refuse to rename what is not an MP4 into place: an ISO media file starts with `ftyp`."""
    try:
        fd = os.open(part, os.O_RDONLY | _NO_FOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(_not_ours(part)) from exc
    with os.fdopen(fd, "rb") as source:
        head = source.read(12)
    if head[4:8] != b"ftyp":
        _unlink(part)
        raise ServiceError(
            f"{url}: what the server sent is not an MP4 video (no `ftyp` box at its start); "
            "nothing was saved",
            hint="the link may have expired or lead to a page: ask for the task again and "
            "download from its fresh URL",
        )


def _remove_other_parts(path: Path, *, keep: Path) -> None:
    """Partial files for `path` of another source (or an older mivid's): never resumed.

    Only regular files and links are removed (a link itself, never what it points to).
    """
    prefix = f".{path.name}."
    try:
        names = [entry.name for entry in os.scandir(path.parent)]
    except FileNotFoundError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".part") and name != keep.name:
            other = path.parent / name
            mode = os.lstat(other).st_mode
            if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
                _unlink(other)


def _regular_size(path: Path) -> int | None:
    """The size of the regular file at `path` (not followed), or None when there is none."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _mib(size: int) -> str:
    return f"{size / (1 << 20):g}"


def _kib(size: int) -> str:
    return f"{size / (1 << 10):g}"


_CAP_HINT = (
    "Kling's videos are tens of MB; if yours is really larger, raise the cap with "
    "MIVID_MAX_VIDEO_MB"
)
#: Media types that are never a video: an error, a sign-in page, an API answer.
_NOT_VIDEO = (
    "text/",
    "application/json",
    "application/xml",
    "application/xhtml",
    "application/problem",
)
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _content_range_total(value: str | None) -> int | None:
    match = re.fullmatch(r"\s*bytes\s+\*/(\d+)\s*", value or "")
    return int(match.group(1)) if match else None


def download_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """A plain client for result URLs: no credentials, redirects followed."""
    from mivid.client import USER_AGENT, deadline_transport

    return httpx.Client(
        transport=transport if transport is not None else deadline_transport(),
        timeout=httpx.Timeout(30.0, connect=10.0),
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
        event_hooks={"response": [refuse_odd_redirect]},
    )


def refuse_odd_redirect(response: httpx.Response) -> None:
    """A video's server may redirect (a CDN does), but not out of http(s) (`file:`, `ftp:`:
    nothing to fetch, and no network failure to retry), nor from a public host into this
    machine or its private network (a service-given URL must not make mivid probe local ports)."""
    if not response.has_redirect_location:
        return
    source = response.request.url
    try:
        target = source.join(response.headers["location"])
    except httpx.InvalidURL:
        return  # httpx says so itself, as an invalid URL
    shown = printable(public_url(response.headers["location"]))
    if target.scheme not in ("http", "https"):
        raise ServiceError(
            f"{printable(public_url(str(source)))}: the video's server redirects to `{shown}`, "
            "which is not an http(s) address; nothing was downloaded",
            hint="the service or a gateway rewrote the answer: check the base URL",
        )
    if _local_host(target.host) and not _local_host(source.host):
        raise ServiceError(
            f"{printable(public_url(str(source)))}: the video's server redirects to `{shown}`, "
            "an address on this machine or its private network; not followed",
            hint="the service or a gateway rewrote the answer: check the base URL",
        )


def _local_host(host: str) -> bool:
    """Is `host` this machine or a private network's address (by name or IP literal)?"""
    import ipaddress

    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_unspecified
        or address.is_reserved
    )
