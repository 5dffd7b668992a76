"""`mivid download`: save the videos of finished tasks."""

from __future__ import annotations

from pathlib import Path

import typer

from mivid.app import app, state
from mivid.commands import options
from mivid.errors import InputError


@app.command(
    epilog=options.examples(
        "mivid download 867283741759111202 --download videos/",
        "mivid list -q --status succeed | mivid download - -d videos/",
        "mivid download 867283741759111202 --watermarked --force",
    )
)
def download(
    ctx: typer.Context,
    ids: list[str] | None = options.task_ids(
        "Task id or external task id of a finished task; `-` reads ids from stdin. "
        "Without one, a terminal offers a menu of recent finished tasks."
    ),
    download_dir: Path | None = options.download_dir(
        "Folder to save into (made when missing) [default: the current folder]."
    ),
    output: Path | None = options.old_spelling("--output", "-o"),
    watermarked: bool = options.watermarked("Save the watermarked copy instead."),
    force: bool = options.force("Replace existing files of another size."),
    json_output: bool = options.json_output("Print a JSON array of the saved files."),
    quiet: bool = options.quiet("Print the ids of the tasks whose videos were saved."),
) -> None:
    """Save the videos of finished tasks.

    Each is saved as DIR/<task_id>.mp4 (<task_id>-<n>.mp4 for several).
    Downloads stream to a hidden .part file renamed when complete; an interrupted
    download resumes where it stopped. Existing files of the same size are skipped.
    Prints the saved paths, one a line. Beside each video goes <name>.json: its
    prompt, images (name or URL, SHA-256, size), settings, status and URL.
    """
    from mivid.commands.picker import finished_tasks, ids_or_pick
    from mivid.download import SavedVideo
    from mivid.errors import combined
    from mivid.flows import Say
    from mivid.flows.journal import RoutedTasks
    from mivid.flows.listing import get_each
    from mivid.flows.saving import savable, save_videos
    from mivid.render.live import download_bars
    from mivid.render.views import SAVED

    folder, problems = options.one_folder(download_dir, output, "--output", default=Path())
    problems += options.form_problems(json_output=json_output, quiet=quiet)
    assert folder is not None
    given_as = "-o/--output" if output is not None and download_dir is None else None
    problems += options.folder_problems(folder, given_as=given_as)
    if problems:
        raise InputError(problems)
    run = state(ctx, quiet=quiet)
    out = run.output
    form = out.form(json=json_output, quiet=quiet)
    wanted = ids_or_pick(run, ids, command="download", offer=finished_tasks())
    if not wanted:  # nothing to do (said on stderr)
        out.nothing(form)
        return
    with run.client() as client:
        found, errors = get_each(RoutedTasks(client, warn=out.warn_once).route(wanted), wanted)
        tasks, not_ready = savable(found, folder, watermarked=watermarked)
        saved: dict[str, list[SavedVideo]] = {}
        if tasks:  # nothing to save: no folder made, no bar drawn
            with download_bars(out, enabled=out.shows_progress(form)) as progress:
                saved = save_videos(
                    client,
                    tasks,
                    folder,
                    watermarked=watermarked,
                    force=force,
                    say=Say(out.note, out.warn_once),
                    on_progress=progress,
                    sleep=run.clock.sleep,
                    max_bytes=run.settings.tuning.max_video_bytes,
                    remind=not run.settings.sandbox,
                    pace=run.pace(),
                )
    with out.records(SAVED, form) as sink:
        sink.extend([video for videos in saved.values() for video in videos])
    failure = combined([*errors, *not_ready])  # each id on its own line; the worst exit status
    if failure is not None:
        raise failure
