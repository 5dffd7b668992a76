"""Finding a task's video (`open`): the file mivid saved, else its URL; and handing it to a player.

Only two kinds of thing are ever handed to the system's opener: a regular file
inside the folder given (after following links: a sidecar's `"file"` of
`../../etc/passwd`, or a link out of the folder, is no video of this folder),
and an http(s) URL (never `file:`, `smb:`, `javascript:` or a word starting
with `-` that an opener would read as an option). Whatever the service or a
sidecar says otherwise is not opened.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mivid import hints
from mivid.download import file_stem
from mivid.errors import InputError, JournalError, ServiceError, TaskFailedError
from mivid.flows.journal import existing_journal
from mivid.plaintext import printable, public_url, web_url
from mivid.settings import has_display
from mivid.sidecar import read_sidecar
from mivid.vocabulary import FAILED, SUCCEED, failure_reason, status_of, video_urls


def find_video(
    directory: Path,
    wanted: str,
    *,
    service: str | None = None,
    warn: Callable[[str], None] | None = None,
) -> Path | None:
    """The downloaded video of task (or external id) `wanted`: in `directory`, else where the
    journal says it was last saved (by `service`, when given); None when neither holds it.

    `warn` hears when the journal cannot be read (the sidecars are asked alone then).
    """
    task_id = wanted
    entry = None
    saved = None
    try:
        with existing_journal(warn or _ignore) as journal:
            if journal is not None:
                entry = journal.find(wanted, service=service)
                if entry is not None and entry.task_id:
                    task_id = entry.task_id
                saved = journal.saved_path(task_id, service=service)
    except JournalError as exc:
        (warn or _ignore)(exc.warning)
    found = _in_directory(directory, task_id, wanted)
    if found is None and saved is not None and saved.is_absolute():
        # Where a `--download DIR` put it, from whatever folder `open` runs in; still only a
        # regular file of that folder (no link out of it) that is this task's video.
        found = _in_directory(saved.parent, task_id, wanted, only=saved.name)
    return found


def _in_directory(
    directory: Path, task_id: str, wanted: str, *, only: str | None = None
) -> Path | None:
    """The task's video in `directory` by its name, else by the sidecar that names the task
    (`only`: that file alone)."""
    for name in (f"{file_stem(task_id)}.mp4", f"{file_stem(task_id)}-1.mp4"):
        if only in (None, name) and in_folder(directory, name):
            return directory / name
    # The sidecars say which task each video is, also for external ids the journal lacks.
    sidecars = [directory / Path(only).with_suffix(".json")] if only else directory.glob("*.json")
    for sidecar in sorted(sidecars):
        record = read_sidecar(sidecar)
        if record is None:
            continue
        names = (record.get("task_id"), record.get("external_task_id"))
        if wanted not in names and task_id not in names:
            continue
        video = record.get("video")
        file_name = video.get("file") if isinstance(video, dict) else None
        if isinstance(file_name, str) and in_folder(directory, file_name):
            return directory / file_name
    return None


def _ignore(_text: str) -> None:
    return None


def in_folder(directory: Path, name: str) -> bool:
    """Is `name` a regular file right inside `directory`, even after following links?

    A bare file name only (no folder, no `..`, not absolute), whose real path
    is in the folder's real path: what a planted sidecar or link names is not.
    """
    if not name or name in (".", "..") or Path(name).name != name or "\\" in name:
        return False
    candidate = directory / name
    try:
        real = candidate.resolve(strict=True)
        home = directory.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a loop of links
        return False
    return real.parent == home and real.is_file()


def openable_url(url: str) -> bool:
    """An http(s) URL with a host, nothing an opener could take for an option or a command."""
    return web_url(url)


def video_url(task: dict[str, Any], wanted: str, *, sandbox_folder: Path | None = None) -> str:
    """The task's first http(s) video URL; an error naming the status when it has none.

    `sandbox_folder`: the task is the sandbox's, whose URLs no player can open (its host
    does not exist: mivid serves them itself), and no saved video was found in that folder:
    an error saying how to get the file instead.
    """
    urls = [url for url in video_urls(task) if url]
    for url in urls:
        if openable_url(url) and sandbox_folder is not None:
            raise _sandbox_video(wanted, sandbox_folder)
        if openable_url(url):
            return url
    if urls:
        raise ServiceError(
            f"task {wanted}: the service's video URL `{printable(public_url(urls[0]))}` is not "
            "an http(s) address; "
            "mivid opens only http(s) URLs and files in the folder",
            hint="the service or a gateway rewrote the answer: check the base URL",
        )
    if status_of(task) == FAILED:
        # exit 1, as `download` and `wait` say it
        raise TaskFailedError(f"task {wanted} failed: {failure_reason(task)}; it has no video")
    if status_of(task) == SUCCEED:  # ended: waiting would not bring a URL
        raise ServiceError(
            f"task {wanted} succeeded, but the service's answer holds no video URL",
            hint="the service or a gateway rewrote the answer: check the base URL",
        )
    raise InputError(
        f"ID {wanted}: the task is {task.get('task_status')}; it has no video yet",
        hint=f"wait for it: {hints.command('wait', wanted, '--download', '.')}",
    )


def _sandbox_video(wanted: str, folder: Path) -> InputError:
    """A sandbox task's video that was never saved (or not where `open` looked)."""
    where = "the current folder" if folder == Path() else str(folder)
    return InputError(
        f"ID {wanted}: no saved video of it in {where} (nor where the journal says it was "
        "saved), and a sandbox video's URL opens nowhere but in mivid; if it was saved into "
        "another folder, name it with -d DIR",
        hint=f"save it, then open it: {hints.command('download', wanted, '-d', str(folder))}",
    )


def system_opener(environ: Mapping[str, str]) -> list[str] | None:
    """The command that opens a file or URL with its default handler; None with no display."""
    if sys.platform == "win32":
        return []  # os.startfile
    if sys.platform == "darwin":
        found = shutil.which("open")
        return [found] if found else None
    if not has_display(environ):
        return None
    found = shutil.which("xdg-open")
    return [found] if found else None


def launch(opener: list[str], target: str) -> str | None:
    """Hand `target` to the opener and return at once (the player lives on without us).

    Returns what went wrong, or None. Only an absolute path or an http(s) URL is handed over.
    """
    if not (Path(target).is_absolute() or openable_url(target)):
        return f"not opened: `{target}` is neither a file in the folder nor an http(s) URL"
    try:
        if not opener:
            os.startfile(target)  # type: ignore[attr-defined,unused-ignore]  # Windows only
        else:
            # Through a shell that backgrounds the opener and exits: some openers block
            # until the player closes, and the player must outlive mivid either way.
            subprocess.run(
                ["/bin/sh", "-c", '"$@" </dev/null >/dev/null 2>&1 &', "sh", *opener, target],
                check=True,
                timeout=10,
                start_new_session=True,
            )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot start {opener[0] if opener else 'the default player'}: {exc}"
    return None
