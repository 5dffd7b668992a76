"""`mivid open`: look at a task's video — the file on disk if there is one, else its URL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

from mivid.app import app, state
from mivid.errors import InputError


@app.command(
    "open",
    epilog="Examples:\n\n"
    "  mivid open 867283741759111202\n\n"
    "  mivid open my-external-id --dir videos/\n\n"
    "  mivid open            (on a terminal: pick from the recent finished tasks)",
)
def open_video(
    ctx: typer.Context,
    task: str | None = typer.Argument(
        None,
        help="Task id or external task id. Without one, a terminal offers a menu.",
        metavar="ID",
        show_default=False,
    ),
    directory: Path = typer.Option(
        Path(),
        "--dir",
        help="Folder the videos were downloaded into.",
        metavar="DIR",
    ),
    print_only: bool = typer.Option(
        False, "--print", help="Print the path or URL instead of opening it."
    ),
) -> None:
    """Open a task's video with the system's default player.

    The downloaded file (DIR/<task_id>.mp4, found by its name or its .json
    sidecar) when it is there, otherwise the video's URL at the service. Where
    there is no display (or no opener) the path or URL is printed instead.
    """
    from mivid.picker import ids_or_pick

    run = state(ctx)
    if not directory.is_dir():
        raise InputError(f"--dir {directory}: is not a folder")
    wanted, *more = ids_or_pick(
        run, [task] if task else None, command="open", statuses=("succeed",)
    )
    if more:
        raise InputError(f"ID -: stdin held {len(more) + 1} task ids; `mivid open` opens one")
    found = find_video(directory, wanted)
    if found is not None:
        target = str(found)
    else:
        with run.client() as client:
            target = video_url(client.get_task(wanted), wanted)
    opener = system_opener()
    if print_only or opener is None:
        run.output.line(target)
        return
    problem = launch(opener, str(found.resolve()) if found is not None else target)
    if problem is None:
        run.output.note(f"opening {target}")
    else:
        run.output.warn(f"{problem}; here it is to open yourself")
        run.output.line(target)


def find_video(directory: Path, wanted: str) -> Path | None:
    """The downloaded video of task (or external id) `wanted` in `directory`, if any."""
    from mivid.download import file_stem
    from mivid.journal import Journal
    from mivid.sidecar import read_sidecar

    task_id = wanted
    journal = Journal.open_existing()
    if journal is not None:
        with journal:
            entry = journal.find(wanted)
        if entry is not None and entry.task_id:
            task_id = entry.task_id
    for name in (f"{file_stem(task_id)}.mp4", f"{file_stem(task_id)}-1.mp4"):
        if (directory / name).is_file():
            return directory / name
    # The sidecars say which task each video is, also for external ids the journal lacks.
    for sidecar in sorted(directory.glob("*.json")):
        record = read_sidecar(sidecar)
        if record is None or wanted not in (record.get("task_id"), record.get("external_task_id")):
            continue
        video = record.get("video")
        file_name = video.get("file") if isinstance(video, dict) else None
        if isinstance(file_name, str) and (directory / file_name).is_file():
            return directory / file_name
    return None


def video_url(task: dict[str, Any], wanted: str) -> str:
    """The task's first video URL; an error naming the status when it has none."""
    status = task.get("task_status")
    result = task.get("task_result")
    videos = result.get("videos") if isinstance(result, dict) else None
    for video in videos or []:
        if isinstance(video, dict) and isinstance(video.get("url"), str) and video["url"]:
            return str(video["url"])
    if status == "failed":
        from mivid.errors import TaskFailedError  # exit 1, as `download` and `wait` say it

        reason = task.get("task_status_msg") or "no reason given"
        raise TaskFailedError(f"task {wanted} failed: {reason}; it has no video")
    raise InputError(
        f"ID {wanted}: the task is {status}; it has no video yet",
        hint=f"wait for it: mivid wait {wanted} --download .",
    )


def system_opener() -> list[str] | None:
    """The command that opens a file or URL with its default handler; None with no display."""
    if sys.platform == "win32":
        return []  # os.startfile
    if sys.platform == "darwin":
        found = shutil.which("open")
        return [found] if found else None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None
    found = shutil.which("xdg-open")
    return [found] if found else None


def launch(opener: list[str], target: str) -> str | None:
    """Hand `target` to the opener and return at once (the player lives on without us).

    Returns what went wrong, or None.
    """
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
