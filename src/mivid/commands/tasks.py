"""`mivid get` and `mivid list`: where tasks stand.

The `--json` paths print the service's raw task objects and import neither
pydantic nor rich; the people's views parse them with `mivid.models`.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from mivid.app import app, state
from mivid.errors import InputError

# The contract's task statuses (kept here: mivid.models imports pydantic).
STATUSES = ("submitted", "processing", "succeed", "failed")
MAX_PAGE = 1000
MAX_PAGE_SIZE = 500


def read_ids(arguments: list[str]) -> list[str]:
    """The ids given; `-` stands for ids read one per line from stdin. Each id once."""
    ids: list[str] = []
    for argument in arguments:
        if argument != "-":
            ids.append(argument.strip())
            continue
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError(
                "ID -: reads task ids from stdin, but stdin is a terminal",
                hint="pipe them in: mivid list -q --status processing | mivid wait -",
            )
        ids.extend(line.strip() for line in sys.stdin if line.strip())
    problems = [f"ID `{task_id}`: must not be empty" for task_id in ids if not task_id]
    if not ids and "-" in arguments:
        problems.append("ID -: stdin held no task ids")
    elif not ids:
        problems.append("ID: give at least one task id (or - to read them from stdin)")
    if problems:
        raise InputError(problems)
    return list(dict.fromkeys(ids))


@app.command(
    epilog="Examples:\n\n"
    "  mivid get 867283741759111202\n\n"
    "  mivid get my-external-id --json | jq -r '.task_result.videos[0].url'\n\n"
    "  mivid list -q --status processing | mivid get - --json"
)
def get(
    ctx: typer.Context,
    ids: list[str] = typer.Argument(
        ...,
        help="Task id or external task id; `-` reads ids one per line from stdin.",
        metavar="ID...",
        show_default=False,
    ),
    json_output: bool = typer.Option(
        False,
        "--json",
        help="Print the task object as JSON (an array when several ids or `-` are given).",
    ),
) -> None:
    """Show one task: status, failure reason, times, videos.

    Also the units deducted for it.
    """
    run = state(ctx)
    wanted = read_ids(ids)
    with run.client() as client:
        tasks = [client.get_task(task_id) for task_id in wanted]
    if json_output:
        single = len(ids) == 1 and ids[0] != "-"
        run.output.json(tasks[0] if single else tasks)
        return
    from mivid.models import parse_task

    for task in tasks:
        run.output.task_panel(parse_task(task))


@app.command(
    "list",
    epilog="Examples:\n\n"
    "  mivid list\n\n"
    "  mivid list --all --status failed\n\n"
    "  mivid list --status processing --json | jq -r '.[].task_id' | mivid wait - --download out/",
)
def list_tasks(
    ctx: typer.Context,
    page: int = typer.Option(1, "--page", help=f"Page number, 1 to {MAX_PAGE}.", metavar="N"),
    page_size: int = typer.Option(
        30, "--page-size", help=f"Tasks per page, 1 to {MAX_PAGE_SIZE}.", metavar="N"
    ),
    all_pages: bool = typer.Option(
        False, "--all", help="Follow the pages (from --page on) until the last one."
    ),
    status: str | None = typer.Option(
        None,
        "--status",
        help="Only tasks with this status: submitted, processing, succeed or failed.",
        metavar="STATUS",
        show_default=False,
    ),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON array of task objects."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print task ids only, one a line."),
) -> None:
    """List tasks, newest first.

    A table on a terminal, tab-separated lines in a pipe. The lines in a pipe are: task id, status, created (ISO 8601, UTC), video length
    in seconds, external id, first video URL.
    """
    problems = []
    if not 1 <= page <= MAX_PAGE:
        problems.append(f"--page: {page} — must be from 1 to {MAX_PAGE}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        problems.append(f"--page-size: {page_size} — must be from 1 to {MAX_PAGE_SIZE}")
    if status is not None and status not in STATUSES:
        problems.append(f"--status: `{status}` is not one of {', '.join(STATUSES)}")
    if problems:
        raise InputError(problems)
    run = state(ctx)
    with run.client() as client:
        tasks = _fetch(client, page=page, page_size=page_size, all_pages=all_pages)
    if status is not None:
        tasks = [task for task in tasks if task.get("task_status") == status]
    if json_output:
        run.output.json(tasks)
    elif quiet:
        for task in tasks:
            run.output.line(str(task["task_id"]))
    else:
        from mivid.models import parse_task

        run.output.task_table([parse_task(task) for task in tasks])


def _fetch(client: Any, *, page: int, page_size: int, all_pages: bool) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    while True:
        batch: list[dict[str, Any]] = client.list_tasks(page=page, page_size=page_size)
        # A task created while paging shifts the pages: keep each task once.
        seen = {task["task_id"] for task in tasks}
        tasks.extend(task for task in batch if task["task_id"] not in seen)
        # No total is returned: a short page is the last one.
        if not all_pages or len(batch) < page_size or page >= MAX_PAGE:
            return tasks
        page += 1
