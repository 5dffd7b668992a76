"""`mivid sandbox serve`: the emulator on a local port, for your own scripts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mivid.app import TRY_IT, app, state
from mivid.commands import options
from mivid.samples import DEFAULT_FOLDER

if TYPE_CHECKING:
    from mivid.connection import EmulatorWorld

ANSWER_STYLES = ("live", "documented")

sandbox_app = typer.Typer(
    help="The offline emulator, and example files to try it with.",
    epilog=options.examples(
        *TRY_IT,
        "mivid sandbox serve --port 8787",
        before="Or give any command the global --sandbox: the emulator then runs inside mivid.",
    ),
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command(
    "examples",
    epilog=options.examples(
        *TRY_IT,
        "mivid --sandbox batch mivid-examples/jobs.jsonl --download videos/",
        "mivid sandbox examples ~/try-mivid",
    ),
)
def write_examples(
    ctx: typer.Context,
    directory: Path = typer.Argument(
        Path(DEFAULT_FOLDER),
        help=f"Folder to write them into (made when missing) [default: {DEFAULT_FOLDER}].",
        metavar="DIR",
        show_default=False,
    ),
) -> None:
    """Write two example images and a jobs file to try mivid with.

    lighthouse.jpg, sailboat.png and jobs.jsonl (four jobs on those images, one on Omni-Video)
    go into DIR; their paths are printed, one a line. Files already there with
    the same content are kept; nothing else is replaced.
    """
    from mivid.samples import write_samples

    run = state(ctx)
    written = write_samples(directory)
    for path in written:
        run.output.line(str(path))
    run.output.note(
        "try them offline: mivid --sandbox create "
        f"{written[0]} {written[1]} --prompt 'the boat sails past the lighthouse' --wait"
    )


@sandbox_app.command(
    epilog=options.examples(
        "mivid sandbox serve --port 8787 &",
        "KLING_BASE_URL=http://127.0.0.1:8787 KLING_API_KEY=sandbox-api-key mivid list",
        "mivid sandbox serve --answers documented --retire-model kling-v1-6@2026-09-15",
    )
)
def serve(
    ctx: typer.Context,
    port: int = typer.Option(
        8787, "--port", help="TCP port to listen on (0 picks a free one).", metavar="N"
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on.", metavar="ADDR"),
    task_seconds: float = typer.Option(
        6.0, "--task-seconds", help="How long each task takes to finish.", metavar="SECONDS"
    ),
    concurrency: int = typer.Option(
        5,
        "--concurrency-limit",
        help="Running tasks allowed per account before code 1303.",
        metavar="N",
    ),
    units: float | None = typer.Option(
        None,
        "--units",
        help="Units left in the account's video pack (0: used up, every create refused "
        "with 1102) [default: a million].",
        metavar="N",
        show_default=False,
    ),
    answers: str = typer.Option(
        "live",
        "--answers",
        help="Answer as the live service really does (live) or as its documentation says "
        "(documented): not-found codes, echoed external ids, request ids, units.",
        metavar="STYLE",
    ),
    retire_models: list[str] | None = typer.Option(
        None,
        "--retire-model",
        help="Refuse creates naming this model, as the service does with a retired one; "
        "MODEL@YYYY-MM-DD from that day on. Repeat for several.",
        metavar="MODEL[@DAY]",
        show_default=False,
    ),
    video_head_status: int | None = typer.Option(
        None,
        "--video-head-status",
        help="The video host answers HEAD with this status (403 or 405, as CDNs with "
        "signed URLs do).",
        metavar="STATUS",
        show_default=False,
    ),
) -> None:
    """Serve the emulator over HTTP until Ctrl-C.

    Prints the URL on stdout (the credentials to use go to stderr). Tasks are
    kept in memory: they are gone when the server stops.
    """
    from mivid.connection import SANDBOX_API_KEY, build_emulator
    from mivid.errors import InputError
    from mivid.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, run_server

    problems = []
    if not 0 <= port <= 65535:
        problems.append(f"--port: {port} — must be from 0 to 65535 (0 picks a free one)")
    if not 0 < task_seconds < float("inf"):  # NaN fails too
        problems.append(f"--task-seconds: {task_seconds:g} — must be more than 0")
    if concurrency < 1:
        problems.append(f"--concurrency-limit: {concurrency} — must be at least 1")
    if units is not None and not 0 <= units < 1e15:
        problems.append(f"--units: {units:g} — must be from 0 to a million million")
    world, world_problems = emulator_world(answers, retire_models or [], video_head_status)
    problems += world_problems
    if problems:
        raise InputError(problems)
    out = state(ctx).output
    emulator = build_emulator(
        task_seconds=task_seconds,
        api_keys=True,
        concurrency_limit=concurrency,
        units_left=units,
        world=world,
    )

    def ready(url: str) -> None:
        # The URL is the result (a script reads it, e.g. with --port 0); the rest is for people.
        out.line(url)
        out.stdout.flush()
        out.note(f"serving the Kling API emulator at {url} until Ctrl-C; point mivid at it with:")
        out.note(
            f"  export KLING_BASE_URL={url} KLING_ACCESS_KEY={SANDBOX_ACCESS_KEY} "
            f"KLING_SECRET_KEY={SANDBOX_SECRET_KEY}   # or KLING_API_KEY={SANDBOX_API_KEY}"
        )

    try:
        run_server(host=host, port=port, emulator=emulator, ready=ready)
    except OSError as exc:
        raise InputError(
            f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc})",
            hint="pick another port, or --port 0 for a free one",
        ) from exc


def emulator_world(
    answers: str, retire_models: list[str], video_head_status: int | None
) -> tuple[EmulatorWorld, list[str]]:
    """The options that say how the emulator answers, checked; one line per problem."""
    import re

    from mivid.connection import EmulatorWorld

    problems: list[str] = []
    if answers not in ANSWER_STYLES:
        problems.append(f"--answers: `{answers}` is not one of {', '.join(ANSWER_STYLES)}")
    retired: dict[str, str] = {}
    for value in retire_models:
        model, _, day = value.partition("@")
        if not model or (
            day and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", day)
        ):
            problems.append(
                f"--retire-model: `{value}` — give MODEL or MODEL@YYYY-MM-DD (retired from that day)"
            )
            continue
        retired[model] = day or "1970-01-01"
    if video_head_status is not None and not 400 <= video_head_status <= 599:
        problems.append(
            f"--video-head-status: {video_head_status} — must be an error status, 400 to 599"
        )
    return EmulatorWorld(answers, retired, video_head_status), problems
