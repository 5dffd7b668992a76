"""`mivid gallery`: write DIR/index.html, a page of the videos mivid saved in DIR (see mivid.gallery)."""

from __future__ import annotations

from pathlib import Path

import typer

from mivid.app import AppState, app, state
from mivid.commands import options
from mivid.errors import InputError


@app.command(
    epilog=options.examples(
        "mivid gallery videos/ --open",
        "mivid gallery                # the current folder",
        "mivid gallery videos/ --json | jq -r '.[] | [.task_id, .prompt] | @tsv'",
    )
)
def gallery(
    ctx: typer.Context,
    directory: Path = typer.Argument(
        Path(),
        help="Folder the videos were saved in (with their .json sidecars). Default: here.",
        metavar="DIR",
        show_default=False,
    ),
    open_page: bool = typer.Option(False, "--open", help="Open the page in the browser."),
    json_output: bool = options.json_output(
        "Print the cards the page shows as a JSON array (the page is written too)."
    ),
) -> None:
    """Write DIR/index.html: a page of the videos saved in DIR.

    One card per video, found through the .json sidecar mivid writes beside each
    download, newest first: the video to play, the reference images in order
    and role, the prompt and negative prompt, model, mode, duration, aspect
    ratio, units, time, task and external id. A failed task shows its reason.
    On the page, filter by words of the prompt, or group the variations of one
    set of images. It works offline, from the file itself. Previews of the
    images go in DIR/.mivid-gallery/; your images and videos are only read.
    Running it again brings the page up to date. Prints the page's path.
    """
    from mivid.gallery import read_gallery, shown_name, write_gallery
    from mivid.render.views import GALLERY

    run = state(ctx)
    found = read_gallery(directory, scrub=run.runtime.secrets.scrub_data)
    for warning in found.warnings:
        run.output.warn(warning)
    if not found.cards:
        shown = shown_name(str(directory))
        if found.sidecars_seen == 1:
            problem = "its one sidecar could not be shown (see the warning)"
        elif found.sidecars_seen:
            problem = (
                f"none of its {found.sidecars_seen} sidecars could be shown (see the warnings)"
            )
        else:
            problem = "holds no video sidecars (<video>.json) to show"
        raise InputError(
            f"DIR {shown}: {problem}",
            hint=_saving_hint(directory),
        )
    page = write_gallery(found)
    with run.output.records(GALLERY, run.output.form(json=json_output), one=True) as sink:
        sink.add(found)
    if open_page:
        _open(run, page)


def _open(run: AppState, page: Path) -> None:
    """Like `mivid open`: the system's opener, or a word on stderr where there is none."""
    from mivid.flows.finding import launch, system_opener

    opener = system_opener(run.runtime.environ)
    if opener is None:
        run.output.note(f"no display to open it on; the page is {page}")
        return
    problem = launch(opener, str(page.resolve()))
    if problem is None:
        run.output.note(f"opening {page}")
    else:
        run.output.warn(f"{problem}; open {page} yourself")


def _saving_hint(directory: Path) -> str:
    """How to get sidecars: a command line that saves the finished tasks' videos (and their
    sidecars) into `directory`, or into `videos/` when `directory` is no place for videos
    (a system folder such as /proc, one this user cannot write)."""
    import os

    from mivid import hints

    resolved = directory.resolve()
    odd = resolved.parts[1:2] in (("proc",), ("sys",), ("dev",)) or (
        resolved.is_dir() and not os.access(resolved, os.W_OK)
    )
    target = Path("videos") if odd else directory
    listing = hints.command("list", "-q", "--status", "succeed")
    saving = hints.command("download", "-", "--download", f"{target}/")
    said = f"mivid writes one beside each video it saves: {listing} | {saving}"
    if odd:
        return f"{said}, then {hints.command('gallery', f'{target}/')}"
    return said
