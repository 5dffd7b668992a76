"""`mivid create`: check the images and options, then send one create."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mivid.app import AppState, app, state
from mivid.commands import options
from mivid.errors import InputError

if TYPE_CHECKING:
    from mivid.client import KlingClient
    from mivid.journal import Journal
    from mivid.render import Output


#: Words of the image problems that `--fit` can fix (see `mivid.images`).
SIZE_RULES = ("must be at most 10 MB", "each side must be at least", "width:height must be between")


def read_prompt(value: str | None) -> str | None:
    """`-` means: read the prompt from stdin (keeps long prompts out of argv)."""
    if value != "-":
        return value
    if sys.stdin is None or sys.stdin.isatty():
        raise InputError(
            "--prompt -: reads the prompt from stdin, but stdin is a terminal",
            hint="pipe it in: echo 'a cat' | mivid create img.png --prompt -",
        )
    return sys.stdin.read().rstrip("\n")


@contextmanager
def open_journal(out: Output) -> Iterator[Journal | None]:
    """The local journal of creates, closed after; a create still goes out without it.

    Yields None (after a warning) when the journal cannot be opened.
    """
    import sqlite3

    from mivid.journal import Journal

    try:
        journal = Journal.open()
    except (OSError, sqlite3.Error) as exc:
        out.warn(
            f"cannot write the journal of creates ({exc}); `mivid recover` will not know this one"
        )
        yield None
        return
    with journal:
        yield journal


@app.command(
    epilog="Examples:\n\n"
    "  mivid create front.jpg side.png --prompt 'the cat walks to the window'\n\n"
    "  mivid create a.png https://example.com/b.jpg --prompt - --mode pro --json < prompt.txt\n\n"
    "  mivid --sandbox create examples/*.png --prompt 'waves' --dry-run"
)
def create(
    ctx: typer.Context,
    images: list[str] | None = typer.Argument(
        None,
        help="1 to 4 reference images: JPEG or PNG files, or http(s) URLs.",
        metavar="IMAGE",
        show_default=False,
    ),
    prompt: str | None = typer.Option(
        None,
        "--prompt",
        "-p",
        metavar="TEXT",
        help="What the video shows (at most 2500 characters); `-` reads it from stdin.",
        show_default=False,
    ),
    negative_prompt: str | None = typer.Option(
        None,
        "--negative-prompt",
        "-n",
        metavar="TEXT",
        help="What the video should avoid (at most 2500 characters).",
        show_default=False,
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        metavar="NAME",
        help="Model name [default: kling-v1-6, or the config's].",
        show_default=False,
    ),
    mode: str | None = typer.Option(
        None,
        "--mode",
        metavar="std|pro",
        help="std (720p, cheaper) or pro (1080p) [default: std].",
        show_default=False,
    ),
    duration: str | None = typer.Option(
        None,
        "--duration",
        metavar="5|10",
        help="Video length in seconds: 5 or 10 [default: 5].",
        show_default=False,
    ),
    aspect_ratio: str | None = typer.Option(
        None,
        "--aspect-ratio",
        metavar="16:9|9:16|1:1",
        help="Video width:height: 16:9, 9:16 or 1:1 [default: 16:9].",
        show_default=False,
    ),
    watermark: bool = typer.Option(
        False, "--watermark", help="Also produce a watermarked copy of the video."
    ),
    callback_url: str | None = typer.Option(
        None,
        "--callback-url",
        metavar="URL",
        help="URL the service POSTs the task to on each status change.",
        show_default=False,
    ),
    external_task_id: str | None = typer.Option(
        None,
        "--external-task-id",
        metavar="ID",
        help="Your own id for the task, unique per account [default: generated].",
        show_default=False,
    ),
    fit: bool = options.fit(
        "Fix local images that break a size rule (over 10 MB, a side under 300 px, "
        "width:height beyond 2.5:1) in a copy made in memory; the files are never changed. "
        "Conforming images are sent as they are."
    ),
    fit_mode: str | None = options.fit_mode(
        "How --fit fixes the aspect ratio: pad (with the edge colour, or transparency) "
        "or crop (the centre) [default: pad]. Implies --fit."
    ),
    dry_run: bool = options.dry_run("Check everything and print the request body; send nothing."),
    json_output: bool = options.json_output("Print the task object as JSON."),
    quiet: bool = options.quiet("Print the task id alone."),
    wait: bool = typer.Option(
        False, "--wait", "-w", help="Wait for the task to end (exit 1 if it fails)."
    ),
    download_dir: Path | None = options.download_dir(
        "Wait, then save the video into this folder (implies --wait)."
    ),
    watermarked: bool = options.watermarked(),
    timeout: float | None = options.timeout(
        "With --wait: give up waiting after this many seconds (exit 6)."
    ),
) -> None:
    """Create a video task from 1 to 4 images and a prompt."""
    from mivid.submission import prepare_create, submit_create

    run = state(ctx)
    out = run.output
    settings = run.settings
    problems: list[str] = []
    if prompt is None:
        problems.append("--prompt: required — what the video should show")
    fit_as, fit_problems = options.fit_choice(fit, fit_mode)
    problems += fit_problems
    follow = wait or download_dir is not None
    if watermarked and download_dir is None:
        problems.append("--watermarked: only with --download DIR")
    if timeout is not None and not follow:
        problems.append("--timeout: only with --wait")
    else:
        problems += options.timeout_problems(timeout)
    try:
        prepared = prepare_create(
            images or [],
            prompt=read_prompt(prompt) or "",
            negative_prompt=read_prompt(negative_prompt) if negative_prompt != "-" else None,
            model_name=model or settings.get("model") or "",
            mode=mode or settings.get("mode") or "",
            duration=duration or settings.get("duration") or "",
            aspect_ratio=aspect_ratio or settings.get("aspect-ratio") or "",
            watermark=watermark,
            callback_url=callback_url,
            external_task_id=external_task_id,
            fit=fit_as,
        )
    except InputError as exc:
        found = exc.problems
        if prompt is None:  # already said: "--prompt: required"
            found = [problem for problem in found if problem != "--prompt: must not be empty"]
        hint = None
        if fit_as is None and any(rule in problem for problem in found for rule in SIZE_RULES):
            hint = (
                "add --fit to send conforming copies of those images (the files stay as they are)"
            )
        raise InputError(problems + found, hint=hint) from exc
    if problems:
        raise InputError(problems)
    for note in prepared.notes:
        out.note(note)
    for warning in prepared.warnings:
        out.warn(warning)

    if dry_run:
        body = prepared.body
        out.json(body.preview(shorten_images=not json_output))
        out.note(f"dry run: nothing sent (the body is {body.content_length} bytes)")
        return

    with run.client() as client:
        with open_journal(out) as journal:
            task = submit_create(
                client,
                prepared,
                on_ambiguous=lambda why: out.warn(
                    f"{why}; looking the task up by its external id before trying again"
                ),
                journal=journal,
                sandbox=settings.sandbox,
            )
        if follow:
            _wait_after_create(
                run,
                client,
                task,
                download_dir=download_dir,
                watermarked=watermarked,
                timeout=timeout,
                json_output=json_output,
                quiet=quiet,
            )
            return
    if json_output:
        out.json(task)
    elif quiet:
        out.line(str(task["task_id"]))
    else:
        from mivid.models import parse_task  # pydantic: for people's views only

        out.created_task(parse_task(task), sandbox=settings.sandbox)


def _wait_after_create(
    run: AppState,
    client: KlingClient,
    task: dict[str, Any],
    *,
    download_dir: Path | None,
    watermarked: bool,
    timeout: float | None,
    json_output: bool,
    quiet: bool,
) -> None:
    """`create --wait`: show the new task, follow it to its end, save its video."""
    from mivid.commands.wait import follow_tasks, show_summary
    from mivid.models import parse_task
    from mivid.waiting import raise_for_failures

    out = run.output
    if quiet:
        out.line(str(task["task_id"]))
    elif not json_output:
        # Progress, on stderr: stdout's one result is the wait's summary below.
        out.created_task(parse_task(task), sandbox=run.settings.sandbox, progress=True)
    followed = follow_tasks(
        run,
        client,
        [str(task["task_id"])],
        timeout=timeout,
        download_dir=download_dir,
        watermarked=watermarked,
        quiet=json_output,
    )
    if json_output:
        out.json(followed.tasks[0])
    elif not quiet:
        show_summary(run, followed)
    raise_for_failures(followed.tasks)
