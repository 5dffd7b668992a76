"""`mivid download`: save the videos of finished tasks (also used by `wait` and `create`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mivid.app import AppState, app, state
from mivid.commands import options

if TYPE_CHECKING:
    from mivid.download import SavedVideo


@app.command(
    epilog="Examples:\n\n"
    "  mivid download 867283741759111202 --output videos/\n\n"
    "  mivid list -q --status succeed | mivid download - -o videos/\n\n"
    "  mivid download 867283741759111202 --watermarked --force"
)
def download(
    ctx: typer.Context,
    ids: list[str] | None = options.task_ids(
        "Task id or external task id of a finished task; `-` reads ids from stdin. "
        "Without one, a terminal offers a menu of recent finished tasks."
    ),
    output: Path = typer.Option(
        Path(),
        "--output",
        "-o",
        help="Folder to save into (made when missing).",
        metavar="DIR",
    ),
    watermarked: bool = options.watermarked("Save the watermarked copy instead."),
    force: bool = options.force("Replace existing files of another size."),
    json_output: bool = options.json_output("Print a JSON array of the saved files."),
) -> None:
    """Save the videos of finished tasks.

    Each is saved as DIR/<task_id>.mp4 (<task_id>-<n>.mp4 for several).
    Downloads stream to a hidden .part file renamed when complete; an interrupted
    download resumes where it stopped. Existing files of the same size are skipped.
    Prints the saved paths, one a line. Beside each video goes <name>.json: its
    prompt, images (name or URL, SHA-256, size), settings, status and URL.
    """
    from mivid.picker import ids_or_pick

    run = state(ctx)
    wanted = ids_or_pick(run, ids, command="download", statuses=("succeed",))
    with run.client() as client:
        tasks = [client.get_task(task_id) for task_id in wanted]
        saved = save_videos(
            run,
            client,
            tasks,
            output,
            watermarked=watermarked,
            force=force,
            quiet=json_output,
        )
    files = [video for videos in saved.values() for video in videos]
    if json_output:
        run.output.json([saved_record(video) for video in files])
    else:
        for video in files:
            run.output.line(str(video.path))


def saved_record(video: SavedVideo) -> dict[str, Any]:
    return {
        "task_id": video.task_id,
        "path": str(video.path),
        "url": video.url,
        "size": video.size,
        "watermarked": video.watermarked,
        "skipped": video.skipped,
        "sidecar": str(video.sidecar) if video.sidecar is not None else None,
    }


def save_videos(
    run: AppState,
    client: Any,
    tasks: Sequence[dict[str, Any]],
    directory: Path,
    *,
    watermarked: bool = False,
    force: bool = False,
    quiet: bool = False,
) -> dict[str, list[SavedVideo]]:
    """Download the tasks' videos with a progress bar on a terminal; the saved files per task.

    Result URLs need no credentials: a plain client, but over the API client's
    transport, so the sandbox serves its own videos.
    """
    from mivid.download import RETENTION_NOTE, download_client, download_tasks

    out = run.output
    show = out.stderr_is_tty and not quiet

    def skipped(video: SavedVideo) -> None:
        out.note(f"{video.path}: already there with the same size ({video.size} bytes), skipped")

    with download_client(client.transport) as http, _progress(run, enabled=show) as progress:
        saved = download_tasks(
            http,
            tasks,
            directory,
            watermarked=watermarked,
            force=force,
            on_progress=progress,
            on_skip=skipped,
        )
    if any(not video.skipped for videos in saved.values() for video in videos):
        out.note(RETENTION_NOTE)
    _note_sidecars(run, saved)
    return saved


def _note_sidecars(run: AppState, saved: dict[str, list[SavedVideo]]) -> None:
    """Say once which sidecars hold only what the service knows, and which were not written."""
    from mivid.sidecar import SERVICE

    videos = [video for group in saved.values() for video in group]
    unknown = list(dict.fromkeys(v.task_id for v in videos if v.source == SERVICE))
    if unknown:
        run.output.note(
            f"the local journal does not know {', '.join(unknown)} (made by another client?): "
            "its .json sidecar holds only what the service says, without prompt or images"
        )
    for video in videos:
        if video.sidecar is None:
            run.output.warn(f"{video.path}: could not write its .json sidecar beside it")


@contextmanager
def _progress(
    run: AppState, *, enabled: bool
) -> Iterator[Callable[[Path, int, int | None], None] | None]:
    """A rich progress bar per file on stderr, or nothing in a pipe."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TaskID,
        TextColumn,
        TransferSpeedColumn,
    )

    bars: dict[Path, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=run.output.err(),
        transient=False,
    ) as progress:

        def update(path: Path, done: int, total: int | None) -> None:
            if path not in bars:
                bars[path] = progress.add_task(path.name, total=total)
            progress.update(bars[path], completed=done, total=total)

        yield update
