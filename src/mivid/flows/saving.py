"""Saving finished tasks' videos, each with its sidecar, and saying what a person should know.

Also what `--download DIR` keeps of the tasks that failed (a failure sidecar
each, for the gallery) and `--gallery` (DIR/index.html brought up to date).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mivid import hints
from mivid.download import (
    RETENTION_NOTE,
    Pace,
    Progress,
    SavedVideo,
    download_client,
    download_tasks,
    plan_videos,
)
from mivid.errors import InputError, MividError
from mivid.flows import QUIET, Say, TaskClient
from mivid.problems import Problem
from mivid.sidecar import SERVICE

SavedByTask = dict[str, list[SavedVideo]]


def save_videos(
    client: TaskClient,
    tasks: Sequence[dict[str, Any]],
    directory: Path,
    *,
    watermarked: bool = False,
    force: bool = False,
    say: Say = QUIET,
    on_progress: Progress | None = None,
    sleep: Callable[[float], object] | None = None,
    max_bytes: int | None = None,
    remind: bool = True,
    pace: Pace | None = None,
) -> SavedByTask:
    """Download the tasks' videos into `directory`; the saved (or skipped) files per task.

    Result URLs need no credentials: a plain client, but over the API client's
    transport, so the sandbox (or a test's emulator) serves its own videos. No
    video is more than `max_bytes` (default `mivid.download.MAX_VIDEO_BYTES`), none
    arrives slower than `pace` allows or goes on past its deadline.
    """

    options: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    with download_client(client.transport) as http:
        saved = download_tasks(
            http,
            tasks,
            directory,
            watermarked=watermarked,
            force=force,
            on_progress=on_progress,
            on_skip=lambda video: say.note(skipped_note(video)),
            service=client.base_url,
            warn=say.warn,
            max_bytes=max_bytes,
            pace=pace,
            **options,
        )
    # The service deletes its videos after 30 days; the sandbox (`remind=False`) keeps its own.
    if remind and any(not video.skipped for videos in saved.values() for video in videos):
        say.note(RETENTION_NOTE)
    _note_sidecars(saved, say)
    return saved


def savable(
    tasks: Sequence[dict[str, Any]], directory: Path, *, watermarked: bool = False
) -> tuple[list[dict[str, Any]], list[MividError]]:
    """The tasks whose videos can be saved, and an error for each of the others.

    Failed tasks (exit 1), tasks without the video asked for (exit 5) and, in one
    error whose hint waits for them all, unfinished tasks (exit 2): `download GOOD
    RUNNING` saves GOOD's video and says what is wrong with the other.
    """
    ready: list[dict[str, Any]] = []
    errors: list[MividError] = []
    unfinished: list[Problem] = []
    waiting: list[str] = []
    for task in tasks:
        try:
            plan_videos([task], directory, watermarked=watermarked)
        except InputError as error:  # not finished yet: one hint for them all, below
            unfinished += error.found
            waiting.append(str(task["task_id"]))
        except MividError as error:
            errors.append(error)
        else:
            ready.append(task)
    if unfinished:
        resume = hints.command("wait", *waiting, "--download", str(directory))
        errors.append(InputError(unfinished, hint=f"wait for it first: {resume}"))
    return ready, errors


def skipped_note(video: SavedVideo) -> str:
    """What a person is told of a video already saved in the folder (nothing is downloaded)."""
    return f"{video.path}: already there ({video.size} bytes), not downloaded again"


def _note_sidecars(saved: SavedByTask, say: Say) -> None:
    """Say once which sidecars hold only what the service knows, and which were not written."""
    videos = [video for group in saved.values() for video in group]
    unknown = list(dict.fromkeys(v.task_id for v in videos if v.source == SERVICE))
    if unknown:
        say.note(
            f"the local journal does not know {', '.join(unknown)} (made by another client?): "
            "its .json sidecar holds only what the service says, without prompt or images"
        )
    for video in videos:
        if video.sidecar is None:
            say.warn(f"{video.path}: could not write its .json sidecar beside it")


def saved_record(video: SavedVideo) -> dict[str, Any]:
    """One saved video for `download --json`."""
    return {
        "task_id": video.task_id,
        "path": str(video.path),
        "url": video.url,
        "size": video.size,
        "watermarked": video.watermarked,
        "skipped": video.skipped,
        "sidecar": str(video.sidecar) if video.sidecar is not None else None,
    }


def record_failures(
    tasks: Sequence[dict[str, Any]],
    directory: Path,
    say: Say = QUIET,
    *,
    service: str | None,
) -> list[Path]:
    """Write a failure sidecar (`"video": null`, the reason) for each failed task in `directory`.

    From the journal's entry of the task made at `service` when it knows one (its
    prompt and images), else from the service's object alone. A folder that refuses it is warned about,
    never fatal: the tasks' outcome is what matters.
    """
    from mivid.sidecar import remember_sightings, write_failure_sidecar
    from mivid.vocabulary import failed

    failures = [task for task in tasks if failed(task)]
    if not failures:
        return []
    known = remember_sightings(failures, service=service, warn=say.warn) if service else {}
    written = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for task in failures:
            written.append(write_failure_sidecar(directory, task, known.get(str(task["task_id"]))))
    except OSError as exc:
        say.warn(
            f"{directory}: could not write a failed task's .json sidecar ({exc.strerror or exc})"
        )
    return written


def refresh_gallery(directory: Path, say: Say = QUIET) -> Path | None:
    """`--gallery`: DIR/index.html brought up to date with the folder's sidecars; its path.

    Problems reading a sidecar, and a page that cannot be written, are warnings:
    the videos are saved whatever becomes of the page.
    """
    from mivid.errors import InputError
    from mivid.gallery import read_gallery, write_gallery

    try:
        gallery = read_gallery(directory)
        for warning in gallery.warnings:
            say.warn(warning)
        page = write_gallery(gallery)
    except InputError as exc:
        say.warn(f"the gallery was not written: {exc.message}")
        return None
    count = len(gallery.cards)
    say.note(f"gallery: {page} ({count} card{'' if count == 1 else 's'})")
    return page
