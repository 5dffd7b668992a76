"""`mivid wait`: follow tasks until they end, then optionally save their videos."""

from __future__ import annotations

from pathlib import Path

import typer

from mivid.app import app, state
from mivid.commands import options
from mivid.commands.options import DEFAULT_FIRST_INTERVAL  # benchmarks/run.py reads it here

__all__ = ["DEFAULT_FIRST_INTERVAL", "wait"]


@app.command(
    epilog=options.examples(
        "mivid wait 867283741759111202",
        "mivid wait 867283741759111202 867283741759111203 --download videos/ --timeout 900",
        "mivid list -q --status unfinished | mivid wait - --download out/",
    )
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
    gallery: bool = options.gallery(),
    json_output: bool = options.json_output(
        "Print the final task objects as a JSON array, each as its task ends (on a timeout, "
        'those that ended), with "endpoint" and "local" as `get --json` writes them; with '
        '--download, each has "files": the paths saved.'
    ),
    quiet: bool = options.quiet("Print the ids of the tasks as they end, one a line."),
) -> None:
    """Wait for tasks to end, and optionally save their videos.

    Each task is printed (and with --download saved) as it ends; on a timeout
    the ones still running are named on stderr. With --download DIR, a task
    that failed gets a <task id>.json beside the videos, with its reason (the
    gallery shows it). Exit status 0 when all succeeded, 1 when any failed, 6
    on timeout.
    """
    from mivid.commands.following import follow_and_show
    from mivid.commands.picker import ids_or_pick, unfinished_tasks
    from mivid.errors import InputError

    problems = options.poll_interval_problems(interval) + options.timeout_problems(timeout)
    problems += options.form_problems(json_output=json_output, quiet=quiet)
    problems += options.gallery_problems(gallery, download_dir)
    problems += options.folder_problems(download_dir)
    if problems:
        raise InputError(problems)
    run = state(ctx, quiet=quiet)
    form = run.output.form(json=json_output, quiet=quiet)
    wanted = ids_or_pick(run, ids, command="wait", offer=unfinished_tasks())
    if not wanted:  # nothing to do (said on stderr)
        run.output.nothing(form)
        return
    with run.client() as client:
        follow_and_show(
            run,
            client,
            wanted,
            interval=interval,
            timeout=timeout,
            download_dir=download_dir,
            watermarked=watermarked,
            force=force,
            gallery=gallery,
            form=form,
        )
