"""`mivid get` and `mivid list`: where tasks stand.

The `--json` paths print the service's raw task objects and import neither
pydantic nor rich; the people's views parse them with `mivid.models`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from mivid.app import AppState, app, state
from mivid.commands import options
from mivid.errors import InputError

if TYPE_CHECKING:
    from mivid.journal import JournalEntry

# The contract's task statuses (kept here: mivid.models imports pydantic).
STATUSES = ("submitted", "processing", "succeed", "failed")
FINAL_STATUSES = ("succeed", "failed")
# What the journal also says of a create whose task is not (yet) known to exist.
LOCAL_STATUSES = ("sending", "unknown", "not created")
WATCH_INTERVAL = 3.0
MAX_PAGE = 1000
MAX_PAGE_SIZE = 500


@app.command(
    epilog="Examples:\n\n"
    "  mivid get 867283741759111202\n\n"
    "  mivid get my-external-id --json | jq -r '.task_result.videos[0].url'\n\n"
    "  mivid list -q --status processing | mivid get - --json"
)
def get(
    ctx: typer.Context,
    ids: list[str] | None = options.task_ids(
        "Task id or external task id; `-` reads ids one per line from stdin. "
        "Without one, a terminal offers a menu of recent tasks."
    ),
    json_output: bool = options.json_output(
        "Print the task object as JSON (an array when several ids or `-` are given)."
    ),
) -> None:
    """Show a task: status, failure reason, times, videos, units.

    Several ids (or `-`) show one block each, with a blank line between them.
    """
    from mivid.picker import ids_or_pick

    run = state(ctx)
    wanted = ids_or_pick(run, ids, command="get")
    with run.client() as client:
        tasks = [client.get_task(task_id) for task_id in wanted]
    if json_output:
        single = not ids or (len(ids) == 1 and ids[0] != "-")
        run.output.json(tasks[0] if single else tasks)
        return
    from mivid.models import parse_task
    from mivid.sidecar import local_info, remember_sightings

    known = remember_sightings(tasks)
    for index, task in enumerate(tasks):
        if index:
            run.output.line()  # where one task ends, in a pipe too
        entry = known.get(str(task["task_id"]))
        local = local_info(entry) if entry is not None else None
        run.output.task_panel(parse_task(task), local=local)


@app.command(
    "list",
    epilog="Examples:\n\n"
    "  mivid list\n\n"
    "  mivid list --all --status failed\n\n"
    "  mivid list --status processing --json | jq -r '.[].task_id' | mivid wait - --download out/\n\n"
    "  mivid list --local --json | jq -r '.[] | [.task_id, .local.prompt] | @tsv'\n\n"
    "  mivid list --watch",
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
    json_output: bool = options.json_output("Print a JSON array of task objects."),
    quiet: bool = options.quiet("Print task ids only, one a line."),
    local: bool = typer.Option(
        False,
        "--local",
        help="List the creates this machine's journal remembers, offline (no keys needed).",
    ),
    watch: bool = typer.Option(
        False,
        "--watch",
        "-W",
        help="Redraw the table in place until every task on it has ended (terminal only).",
    ),
    interval: float = typer.Option(
        WATCH_INTERVAL,
        "--interval",
        help="With --watch: seconds between redraws.",
        metavar="SECONDS",
    ),
) -> None:
    """List tasks, newest first.

    A table on a terminal, tab-separated lines in a pipe. The lines in a pipe are: task id, status, created (ISO 8601, UTC), video length
    in seconds, external id, first video URL, and the prompt for tasks made from this machine
    (tabs, newlines and backslashes escaped as \\t, \\n, \\\\). With --json, a task the local
    journal knows gains a "local" object: prompt, negative_prompt, images, created_by.
    """
    problems = []
    if not 1 <= page <= MAX_PAGE:
        problems.append(f"--page: {page} — must be from 1 to {MAX_PAGE}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        problems.append(f"--page-size: {page_size} — must be from 1 to {MAX_PAGE_SIZE}")
    allowed = (*STATUSES, *LOCAL_STATUSES) if local else STATUSES
    if status is not None and status not in allowed:
        problems.append(f"--status: `{status}` is not one of {', '.join(allowed)}")
    run = state(ctx)
    problems += _watch_problems(
        run, watch=watch, interval=interval, local=local, json_output=json_output, quiet=quiet
    )
    if problems:
        raise InputError(problems)
    if local:
        _list_local(
            run,
            page=page,
            page_size=page_size,
            all_pages=all_pages,
            status=status,
            json_output=json_output,
            quiet=quiet,
        )
        return
    from mivid.sidecar import remember_sightings

    with run.client() as client:

        def fetch() -> list[dict[str, Any]]:
            found = _fetch(client, page=page, page_size=page_size, all_pages=all_pages)
            if status is not None:
                found = [task for task in found if task.get("task_status") == status]
            return found

        if watch:
            _watch(run, fetch, interval=interval)
            return
        tasks = fetch()
    known = remember_sightings(tasks)
    if json_output:
        from mivid.sidecar import local_info

        run.output.json(
            [
                {**task, "local": local_info(known[task_id])} if task_id in known else task
                for task, task_id in ((task, str(task["task_id"])) for task in tasks)
            ]
        )
    elif quiet:
        for task in tasks:
            run.output.line(str(task["task_id"]))
    else:
        from mivid.models import parse_task

        prompts = {
            task_id: str(entry.request.get("prompt") or "") for task_id, entry in known.items()
        }
        run.output.task_table([parse_task(task) for task in tasks], prompts=prompts)


def _watch_problems(
    run: AppState, *, watch: bool, interval: float, local: bool, json_output: bool, quiet: bool
) -> list[str]:
    problems = []
    if local and watch:
        problems.append("--watch: not with --local (the journal changes only when you create)")
    if not watch:
        if interval != WATCH_INTERVAL:
            problems.append("--interval: only with --watch")
        return problems
    if json_output or quiet:
        problems.append("--watch: draws a live table for a person; not with --json or --quiet")
    elif not run.output.stdout_is_tty:
        problems.append(
            "--watch: stdout is not a terminal — the live table redraws in place and only "
            "works on one (in a script: mivid wait ID, or poll mivid list --json)"
        )
    if not 0.5 <= interval <= 600:
        problems.append(f"--interval: {interval:g} — must be from 0.5 to 600 seconds")
    return problems


def _watch(
    run: AppState,
    fetch: Callable[[], list[dict[str, Any]]],
    *,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Redraw the task table on stdout until every task on it has ended (Ctrl-C: exit 130)."""
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    from mivid.models import parse_task
    from mivid.sidecar import remember_sightings

    out = run.output
    with Live(console=out.out(), auto_refresh=False, transient=False) as live:
        while True:
            tasks = fetch()
            known = remember_sightings(tasks)
            prompts = {tid: str(entry.request.get("prompt") or "") for tid, entry in known.items()}
            table = out.task_table_view([parse_task(task) for task in tasks], prompts=prompts)
            running = [task for task in tasks if task.get("task_status") not in FINAL_STATUSES]
            if not running:
                live.update(table, refresh=True)
                break
            footer = Text(
                f"{len(running)} running · redrawn every {interval:g} s "
                f"(last {time.strftime('%H:%M:%S')}) · Ctrl-C to stop",
                style="dim",
            )
            live.update(Group(table, footer), refresh=True)
            sleep(interval)
    out.note("every task on the list has ended")


def _list_local(
    run: AppState,
    *,
    page: int,
    page_size: int,
    all_pages: bool,
    status: str | None,
    json_output: bool,
    quiet: bool,
) -> None:
    """`list --local`: the journal alone, newest first; no keys, no network."""
    from mivid.journal import Journal

    journal = Journal.open_existing()
    entries = []
    if journal is not None:
        with journal:
            entries = journal.entries()
    sandbox = run.settings.sandbox
    elsewhere = sum(1 for entry in entries if entry.sandbox != sandbox)
    entries = [entry for entry in entries if entry.sandbox == sandbox]
    if not entries and elsewhere and not json_output:
        # Not "the journal holds no creates yet": it does, made the other way.
        where = "against the service" if sandbox else "in the sandbox"
        other = "mivid list --local" if sandbox else "mivid --sandbox list --local"
        run.output.note(f"no creates here; the journal holds {elsewhere} made {where}: {other}")
        return
    if status is not None:
        entries = [entry for entry in entries if entry.status == status]
    start = (page - 1) * page_size
    entries = entries[start:] if all_pages else entries[start : start + page_size]
    if json_output:
        run.output.json([_local_record(entry) for entry in entries])
    elif quiet:
        for entry in entries:
            run.output.line(entry.task_id or entry.external_task_id)
    else:
        run.output.journal_table(entries)


def _local_record(entry: JournalEntry) -> dict[str, Any]:
    """One journal entry for `list --local --json`; "local" as in `list --json`."""
    from mivid.sidecar import iso_seconds, local_info, public_url

    request = {k: v for k, v in entry.request.items() if k not in ("prompt", "negative_prompt")}
    request.pop("callback_url", None)  # may carry a token
    return {
        "task_id": entry.task_id,
        "external_task_id": entry.external_task_id,
        "status": entry.status,
        "error": entry.error,
        "created": iso_seconds(entry.created),
        "updated": iso_seconds(entry.updated or entry.created),
        "service": public_url(entry.service),
        "sandbox": entry.sandbox,
        "request": request,
        "local": local_info(entry),
    }


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
