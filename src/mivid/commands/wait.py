"""`mivid wait`: follow tasks until they end, then optionally save their videos.

`follow_tasks` is the core shared with `create --wait`: the live status lines,
the resume hint on timeout and Ctrl-C, and the downloads.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mivid.app import AppState, app, state
from mivid.commands import options
from mivid.commands.options import DEFAULT_FIRST_INTERVAL

if TYPE_CHECKING:
    from rich.console import RenderableType

    from mivid.download import SavedVideo


@dataclass
class Followed:
    """What following tasks produced: their final objects and the files saved."""

    tasks: list[dict[str, Any]]
    saved: dict[str, list[SavedVideo]] = field(default_factory=dict)


@app.command(
    epilog="Examples:\n\n"
    "  mivid wait 867283741759111202\n\n"
    "  mivid wait 867283741759111202 867283741759111203 --download videos/ --timeout 900\n\n"
    "  mivid list -q --status processing | mivid wait - --download out/"
)
def wait(
    ctx: typer.Context,
    ids: list[str] | None = options.task_ids(
        "Task ids or external task ids; `-` reads ids one per line from stdin. "
        "Without one, a terminal offers a menu of recent tasks."
    ),
    interval: float = options.poll_interval(),
    timeout: float | None = options.timeout(
        "Give up after this many seconds (exit 6); the tasks go on at the service."
    ),
    download_dir: Path | None = options.download_dir("Save each finished video into this folder."),
    watermarked: bool = options.watermarked(),
    force: bool = options.force(),
    json_output: bool = options.json_output("Print the final task objects as a JSON array."),
) -> None:
    """Wait for tasks to end, and optionally save their videos.

    Exit status 0 when all succeeded, 1 when any failed, 6 on timeout.
    """
    from mivid.errors import InputError
    from mivid.picker import ids_or_pick
    from mivid.waiting import raise_for_failures

    problems = options.poll_interval_problems(interval) + options.timeout_problems(timeout)
    if problems:
        raise InputError(problems)
    run = state(ctx)
    wanted = ids_or_pick(run, ids, command="wait")
    with run.client() as client:
        followed = follow_tasks(
            run,
            client,
            wanted,
            interval=interval,
            timeout=timeout,
            download_dir=download_dir,
            watermarked=watermarked,
            force=force,
            quiet=json_output,
        )
    if json_output:
        run.output.json(followed.tasks)
    else:
        show_summary(run, followed)
    raise_for_failures(followed.tasks)


def show_summary(run: AppState, followed: Followed) -> None:
    """Each task's id, status, reason and video URLs, and the files saved, for people."""
    from mivid.models import parse_task

    saved = {
        task_id: [str(video.path) for video in videos] for task_id, videos in followed.saved.items()
    }
    run.output.wait_summary([parse_task(task) for task in followed.tasks], saved=saved)


def resume_command(
    run: AppState,
    command: Sequence[str],
    *,
    download_dir: Path | None,
    watermarked: bool,
) -> str:
    """The shell line that picks `command` (e.g. `wait ID…`) up again, with the same saving."""
    words = ["mivid"]
    if run.settings.sandbox:
        words.append("--sandbox")
    words += command
    if download_dir is not None:
        words += ["--download", str(download_dir)]
        if watermarked:
            words.append("--watermarked")
    return shlex.join(words)


def follow_tasks(
    run: AppState,
    client: Any,
    ids: Sequence[str],
    *,
    interval: float = DEFAULT_FIRST_INTERVAL,
    timeout: float | None = None,
    download_dir: Path | None = None,
    watermarked: bool = False,
    force: bool = False,
    quiet: bool = False,
) -> Followed:
    """Wait for `ids` (live lines on a terminal unless `quiet`), then save the videos.

    On timeout the finished tasks' videos are saved first, then WaitTimeoutError
    carries the command that resumes the wait; on Ctrl-C the same hint is printed
    before KeyboardInterrupt goes on (exit 130).
    """
    from mivid.commands.download import save_videos
    from mivid.waiting import PollSchedule, StillRunningError, is_final, wait_for_tasks

    out = run.output
    latest: dict[str, dict[str, Any] | None] = dict.fromkeys(ids)
    live = _LiveLines(latest) if out.stderr_is_tty and not quiet else None

    def update(tasks: Mapping[str, dict[str, Any] | None]) -> None:
        latest.update(tasks)

    def save(tasks: list[dict[str, Any]]) -> dict[str, list[SavedVideo]]:
        done = [task for task in tasks if task.get("task_status") == "succeed"]
        if download_dir is None or not done:
            return {}
        return save_videos(
            run, client, done, download_dir, watermarked=watermarked, force=force, quiet=quiet
        )

    try:
        with _live(run, live):
            tasks = wait_for_tasks(
                client,
                ids,
                schedule=PollSchedule(first=interval),
                timeout=timeout,
                on_update=update,
            )
    except StillRunningError as error:
        finished = [task for task in error.tasks.values() if is_final(task) and task]
        save(finished)
        resume = resume_command(
            run, ["wait", *error.pending], download_dir=download_dir, watermarked=watermarked
        )
        error.hint = f"the tasks go on at the service; resume with: {resume}"
        raise
    except KeyboardInterrupt:
        resume = resume_command(
            run, ["wait", *ids], download_dir=download_dir, watermarked=watermarked
        )
        out.note(f"stopped waiting; the tasks go on at the service. Resume with: {resume}")
        raise
    if download_dir is None:
        from mivid.sidecar import remember_sightings

        remember_sightings(tasks)  # `list --local` then knows how they ended
    return Followed(tasks, save(tasks))


class _LiveLines:
    """One line per task for rich Live: id, status (coloured), time since it was made."""

    def __init__(self, latest: Mapping[str, dict[str, Any] | None]) -> None:
        self.latest = latest
        self.started = time.time()

    def __rich__(self) -> RenderableType:
        from rich.table import Table
        from rich.text import Text

        from mivid.render import STATUS_STYLES, elapsed_time

        table = Table.grid(padding=(0, 2))
        now = time.time()
        for task_id, task in self.latest.items():
            status = str(task.get("task_status", "")) if task else "asking…"
            created = task.get("created_at") if task else None
            since = self.started
            if isinstance(created, (int, float)) and 0 < created / 1000 <= now:
                since = created / 1000
            table.add_row(
                Text(task_id, style="bold"),
                Text(status, style=STATUS_STYLES.get(status, "dim")),
                Text(elapsed_time(now - since), style="dim"),
            )
        return table


@contextmanager
def _live(run: AppState, lines: _LiveLines | None) -> Iterator[None]:
    """rich Live on stderr around the wait, or nothing."""
    if lines is None:
        yield
        return
    from rich.live import Live

    with Live(lines, console=run.output.err(), refresh_per_second=4, transient=False):
        yield
