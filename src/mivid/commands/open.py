"""`mivid open`: look at a task's video — the file on disk if there is one, else its URL."""

from __future__ import annotations

from pathlib import Path

import typer

from mivid.app import app, state
from mivid.commands import options
from mivid.errors import InputError


@app.command(
    "open",
    epilog=options.examples(
        "mivid open 867283741759111202",
        "mivid open my-external-id --download videos/",
        "mivid open            # on a terminal: pick from the recent finished tasks",
    ),
)
def open_video(
    ctx: typer.Context,
    task: str | None = typer.Argument(
        None,
        help="Task id or external task id. Without one, a terminal offers a menu.",
        metavar="ID",
        show_default=False,
    ),
    download_dir: Path | None = options.download_dir(
        "Folder the videos were downloaded into [default: the current folder]."
    ),
    old_dir: Path | None = options.old_spelling("--dir"),
    print_only: bool = typer.Option(
        False, "--print", help="Print the path or URL instead of opening it."
    ),
) -> None:
    """Open a task's video with the system's default player.

    The downloaded file (DIR/<task_id>.mp4, found by its name or its .json
    sidecar; else where the journal says it was last saved) when it is there,
    otherwise the video's URL at the service (a sandbox video has to be saved
    first: mivid --sandbox download ID -d DIR). Where there is no display (or no
    opener) the path or URL is printed instead.
    """
    from mivid.commands.picker import finished_tasks, ids_or_pick
    from mivid.connection import service_url
    from mivid.flows.finding import find_video, launch, system_opener, video_url
    from mivid.flows.journal import RoutedTasks
    from mivid.plaintext import path_from_here

    directory, problems = options.one_folder(download_dir, old_dir, "--dir", default=Path())
    assert directory is not None
    if not directory.is_dir():
        problems.append(f"--download {directory}: is not a folder")
    if problems:
        raise InputError(problems)
    run = state(ctx)
    picked = ids_or_pick(
        run, [task] if task else None, command="open", offer=finished_tasks(), several=False
    )
    if not picked:
        return
    wanted, *more = picked
    if more:
        raise InputError(f"ID -: stdin held {len(more) + 1} task ids; `mivid open` opens one")
    found = find_video(
        directory, wanted, service=service_url(run.settings), warn=run.output.warn_once
    )
    if found is not None:  # where the journal says it was saved: relative when under here
        target = path_from_here(str(found))
    else:
        with run.client() as client:
            routed = RoutedTasks(client, warn=run.output.warn_once)
            answer = routed.get_task(wanted)
        sandbox_folder = directory if run.settings.sandbox else None
        target = video_url(answer, wanted, sandbox_folder=sandbox_folder)
    opener = system_opener(run.runtime.environ)
    if print_only or opener is None:
        run.output.line(target)
        return
    # An absolute path or an http(s) URL (see mivid.flows.finding): never an option-like word.
    problem = launch(opener, str(found.resolve()) if found is not None else target)
    if problem is None:
        run.output.note(f"opening {target}")
    else:
        run.output.warn(f"{problem}; here it is to open yourself")
        run.output.line(target)
