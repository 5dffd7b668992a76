"""`mivid sandbox serve`: the emulator on a local port, for your own scripts."""

from __future__ import annotations

import typer

from mivid.app import app, state

sandbox_app = typer.Typer(
    help="The offline emulator of the Kling API.",
    epilog="Or give any command the global --sandbox: the emulator then runs inside mivid.\n\n"
    "Example:\n\n  mivid sandbox serve --port 8787",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command(
    epilog="Example:\n\n  mivid sandbox serve --port 8787 &\n\n"
    "  KLING_BASE_URL=http://127.0.0.1:8787 KLING_API_KEY=sandbox-api-key mivid list"
)
def serve(
    ctx: typer.Context,
    port: int = typer.Option(8787, "--port", help="TCP port on 127.0.0.1 (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    task_seconds: float = typer.Option(
        6.0, "--task-seconds", help="How long each task takes to finish."
    ),
    concurrency: int = typer.Option(
        5, "--concurrency-limit", help="Running tasks allowed per account before code 1303."
    ),
) -> None:
    """Serve the emulator over HTTP until Ctrl-C.

    Tasks are kept in memory: they are gone when the server stops.
    """
    from mivid.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Emulator, run_server

    out = state(ctx).output
    emulator = Emulator(
        access_keys={SANDBOX_ACCESS_KEY: SANDBOX_SECRET_KEY},
        api_keys={"sandbox-api-key"},
        processing_after=min(1.0, task_seconds / 3),
        succeed_after=task_seconds,
        concurrency_limit=concurrency,
    )
    out.note(
        f"credentials: KLING_ACCESS_KEY={SANDBOX_ACCESS_KEY} KLING_SECRET_KEY={SANDBOX_SECRET_KEY}"
        " (or KLING_API_KEY=sandbox-api-key)"
    )
    run_server(host=host, port=port, emulator=emulator)
