"""`mivid get` and `mivid list`: where tasks stand.

The `--json` paths print the service's raw task objects and import neither
pydantic nor rich; the people's views parse them with `mivid.models`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from mivid.app import AppState, app, state
from mivid.commands import options
from mivid.endpoints import DEFAULT_ENDPOINT, ENDPOINTS, Endpoint
from mivid.errors import InputError
from mivid.vocabulary import PROCESSING, STATUS_FILTERS, STATUSES, SUBMITTED, UNFINISHED

if TYPE_CHECKING:
    from mivid.flows import TaskClient
    from mivid.flows.listing import Listed, ListReport
    from mivid.render import Form

WATCH_INTERVAL = 3.0
PAGE_SIZE = 30
MAX_PAGE = DEFAULT_ENDPOINT.max_page
MAX_PAGE_SIZE = DEFAULT_ENDPOINT.max_page_size


@app.command(
    epilog=options.examples(
        "mivid get 867283741759111202",
        "mivid get my-external-id --json | jq -r '.task_result.videos[0].url'",
        "mivid list -q --status unfinished | mivid get - --json",
    )
)
def get(
    ctx: typer.Context,
    ids: list[str] | None = options.task_ids(
        "Task id or external task id; `-` reads ids one per line from stdin. "
        "Without one, a terminal offers a menu of recent tasks."
    ),
    json_output: bool = options.json_output(
        "Print the task object as JSON (an array when several ids or `-` are given), with "
        '"endpoint" and, for a task the local journal knows, "local" (as `list --json`).'
    ),
    quiet: bool = options.quiet("Print the task ids alone (an external id's task id)."),
) -> None:
    """Show a task: status, failure reason, times, videos, units.

    On a terminal, the endpoint it was found on and, for a task created from this
    machine, what the journal remembers of its create: model, mode, duration,
    aspect ratio, prompts, each image with its role (image 2 is <<<image_2>>>) and its
    path from the current folder (relative under it, else absolute), elements and
    reference video. Several ids (or `-`) show one block each, with a
    blank line between them.
    """
    from mivid.commands.picker import ids_or_pick
    from mivid.errors import combined
    from mivid.flows.journal import RoutedTasks
    from mivid.flows.listing import found_each, journaled
    from mivid.render.views import TASK_DETAIL

    problems = options.form_problems(json_output=json_output, quiet=quiet)
    if problems:
        raise InputError(problems)
    run = state(ctx, quiet=quiet)
    form = run.output.form(json=json_output, quiet=quiet)
    wanted = ids_or_pick(run, ids, command="get")
    if not wanted:  # nothing to do (said on stderr)
        run.output.nothing(form)
        return
    with run.client() as client:
        found, errors = found_each(
            RoutedTasks(client, warn=run.output.warn_once).route(wanted), wanted
        )
    single = not ids or (len(ids) == 1 and ids[0] != "-")
    # Each with the journal's entry and the endpoint it was found on, as `list` has them: the
    # JSON is the service's object plus `"endpoint"` and `"local"`, as `list --json` writes it.
    listed = journaled(found, service=client.base_url, warn=run.output.warn_once)
    with run.output.records(TASK_DETAIL, form, one=single) as sink:
        sink.extend(listed)
    failure = combined(errors)  # each id that failed, on its own line; the worst exit status
    if failure is not None:
        raise failure


@app.command(
    "list",
    epilog=options.examples(
        "mivid list",
        "mivid list --all --status failed",
        "mivid list --status unfinished --json | jq -r '.[].task_id' \\",
        "    | mivid wait - -d out/",
        "mivid list --local --json | jq -r '.[] | [.task_id, .local.prompt] | @tsv'",
        "mivid list --watch",
        "mivid list --endpoint omni --all --json",
    ),
)
def list_tasks(
    ctx: typer.Context,
    page: int = typer.Option(1, "--page", help=f"Page number, 1 to {MAX_PAGE}.", metavar="N"),
    page_size: int | None = typer.Option(
        None,
        "--page-size",
        help=f"Tasks per page, 1 to {MAX_PAGE_SIZE} [default: {PAGE_SIZE}; --all asks the "
        f"service for {MAX_PAGE_SIZE} at a time unless it is given].",
        metavar="N",
        show_default=False,
    ),
    all_pages: bool = typer.Option(
        False,
        "--all",
        help="Follow the pages (from --page on) until the last one the service lists.",
    ),
    status: str | None = typer.Option(
        None,
        "--status",
        help=f"Only tasks with this status: {', '.join(STATUSES)}, or {UNFINISHED} (not "
        f"ended yet: {SUBMITTED}, {PROCESSING} or a status mivid does not know).",
        metavar="STATUS",
        show_default=False,
    ),
    endpoint: str | None = typer.Option(
        None,
        "--endpoint",
        metavar="|".join(ENDPOINTS),
        help="Only the tasks of this endpoint [default: every endpoint's, merged newest first].",
        show_default=False,
    ),
    json_output: bool = options.json_output(
        'Print a JSON array of task objects, each with "endpoint" (whose list it came from) '
        'and, for a task the local journal knows, "local".'
    ),
    quiet: bool = options.quiet("Print task ids only, one a line."),
    local: bool = typer.Option(
        False,
        "--local",
        help="List the creates this machine's journal remembers, offline (no keys needed); "
        "each status is the one last seen from this machine. In a pipe: task id, status, "
        "created, external id, service, prompt, endpoint, model.",
    ),
    watch: bool = typer.Option(
        False,
        "--watch",
        "-W",
        help="Redraw the table in place until every task on it has ended (terminal only).",
    ),
    interval: float = options.poll_interval(
        "With --watch: seconds between redraws (each asks the service).", default=WATCH_INTERVAL
    ),
) -> None:
    """List tasks of every endpoint, newest first.

    Multi-Image and Omni-Video tasks in one list (--endpoint: one of them). A table on a
    terminal, tab-separated lines in a pipe (`get` writes the same lines): task id, status,
    created (ISO 8601, UTC), video length in seconds, external id, first video URL, the
    prompt for tasks made from this machine, the units the task deducted once it says, its
    endpoint, its model when the journal knows it, and a failed task's reason (tabs, newlines
    and backslashes escaped as \\t, \\n, \\\\). A terminal's table ends with the units'
    total. With --json, each task object gains "endpoint", and a task the local journal knows
    a "local" object: prompt, negative_prompt, images, created_by, made_from.
    """
    from mivid.flows.listing import LOCAL_STATUSES

    problems = options.form_problems(json_output=json_output, quiet=quiet)
    if not 1 <= page <= MAX_PAGE:
        problems.append(f"--page: {page} — must be from 1 to {MAX_PAGE}")
    if page_size is not None and not 1 <= page_size <= MAX_PAGE_SIZE:
        problems.append(f"--page-size: {page_size} — must be from 1 to {MAX_PAGE_SIZE}")
    allowed = (*STATUS_FILTERS, *LOCAL_STATUSES) if local else STATUS_FILTERS
    if status is not None and status not in allowed:
        problems.append(f"--status: `{status}` is not one of {', '.join(allowed)}")
    if endpoint is not None and endpoint not in ENDPOINTS:
        problems.append(f"--endpoint: `{endpoint}` is not one of {', '.join(ENDPOINTS)}")
    run = state(ctx, quiet=quiet)
    problems += _watch_problems(
        run, watch=watch, interval=interval, local=local, json_output=json_output, quiet=quiet
    )
    if problems:
        raise InputError(problems)
    pages = _Pages(
        page=page,
        page_size=page_size or PAGE_SIZE,
        page_size_given=page_size is not None,
        all_pages=all_pages,
        status=status,
        endpoint=ENDPOINTS.get(endpoint or ""),
    )
    if local:
        _list_local(run, pages, json_output=json_output, quiet=quiet)
    elif watch:
        _watch(run, pages, interval=interval)
    else:
        _list_service(run, pages, json_output=json_output, quiet=quiet)


@dataclass(frozen=True, kw_only=True)
class _Pages:
    """Which tasks `list` shows: the page, its size, whether to follow the pages, the status,
    the endpoint (None: every one)."""

    page: int
    page_size: int
    all_pages: bool
    status: str | None
    endpoint: Endpoint | None = None
    page_size_given: bool = False

    @property
    def endpoints(self) -> list[Endpoint] | None:
        return [self.endpoint] if self.endpoint is not None else None

    @property
    def fetch_size(self) -> int | None:
        """Tasks asked a request: `--page-size` when given with `--all`, else the flow's choice
        (the service's largest page to follow them all)."""
        return self.page_size if self.all_pages and self.page_size_given else None

    def command(
        self, *, page: int | None = None, all_pages: bool = False, page_size: bool = True
    ) -> str:
        """This `list` again, at another page or over every page (a hint to paste);
        without its `--page-size` when not `page_size`."""
        from mivid import hints

        words = ["list"]
        if page is not None:
            words += ["--page", str(page)]
        if page_size and self.page_size_given:
            words += ["--page-size", str(self.page_size)]
        if all_pages:
            words.append("--all")
        if self.status is not None:
            words += ["--status", self.status]
        if self.endpoint is not None:
            words += ["--endpoint", self.endpoint.name]
        return hints.command(*words)


def _fetch(run: AppState, client: TaskClient, pages: _Pages) -> list[Listed]:
    from mivid.flows import Say
    from mivid.flows.listing import fetch_tasks

    return fetch_tasks(
        client,
        page=pages.page,
        page_size=pages.page_size,
        all_pages=pages.all_pages,
        status=pages.status,
        endpoints=pages.endpoints,
        say=Say(run.output.note, run.output.warn_once),
    )


def _list_service(run: AppState, pages: _Pages, *, json_output: bool, quiet: bool) -> None:
    """The service's list, written page by page as each arrives (a table waits for all)."""
    from mivid.flows import Say
    from mivid.flows.listing import ListReport, listed
    from mivid.render.views import TASK_LIST

    form = run.output.form(json=json_output, quiet=quiet)
    report = ListReport()
    with run.client() as client, run.output.records(TASK_LIST, form) as sink:
        for page in listed(
            client,
            page=pages.page,
            page_size=pages.page_size,
            all_pages=pages.all_pages,
            endpoints=pages.endpoints,
            status=pages.status,
            fetch_size=pages.fetch_size,
            report=report,
            say=Say(run.output.note, run.output.warn_once),
        ):
            sink.extend(page)
    _say_after(run, pages, report, form)


def _say_after(run: AppState, pages: _Pages, report: ListReport, form: Form) -> None:
    """What the list did not show, on stderr: the service's page limit and a status search
    cut short (in every form: a script must know), and on a terminal, after a full page,
    how to see more (as gh's "Showing 30 of …")."""
    out = run.output
    for endpoint, read in report.cut:
        size = pages.fetch_size or endpoint.max_page_size
        further = (
            f"; {pages.command(all_pages=True, page_size=False)} reads up to "
            f"{endpoint.max_page * endpoint.max_page_size:,} ({endpoint.max_page_size} a page)"
            if size < endpoint.max_page_size
            else ""
        )
        out.warn(
            f"{report.shown:,} tasks shown, not all: the service lists at most "
            f"{endpoint.max_page} pages of {size}, and {endpoint.title}'s list goes on past "
            f"the {read:,} read{further}"
        )
    if report.searched_out:
        out.note(
            f"only the newest {report.searched:,} tasks were searched for status "
            f"{pages.status} ({report.shown} found); to search them all: "
            f"{pages.command(all_pages=True, page_size=False)}"
        )
    if report.full and not pages.all_pages:
        # The table's last line counts the tasks shown; a full page says where the rest are.
        out.note_for_table(
            form,
            f"showing {report.shown:,} tasks, newest first: page {pages.page} of a list that goes "
            f"on; more: {pages.command(page=pages.page + 1)} · every one: "
            f"{pages.command(all_pages=True, page_size=False)}",
        )


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
    return problems + options.poll_interval_problems(interval)


def _watch(run: AppState, pages: _Pages, *, interval: float) -> None:
    """Redraw the task table on stdout until every task on it has ended (Ctrl-C: exit 130)."""
    from mivid.render.live import watch_tasks
    from mivid.vocabulary import is_final

    with run.client() as client:
        watch_tasks(
            run.output,
            lambda: _fetch(run, client, pages),
            interval=interval,
            is_running=lambda item: not is_final(item.task),
            sleep=run.clock.sleep,
        )


def _list_local(run: AppState, pages: _Pages, *, json_output: bool, quiet: bool) -> None:
    """`list --local`: the journal alone, newest first; no keys, no network."""
    from mivid.flows.listing import local_list
    from mivid.render.views import JOURNAL_LIST

    sandbox = run.settings.sandbox
    with local_list(
        sandbox=sandbox,
        page=pages.page,
        page_size=pages.page_size,
        all_pages=pages.all_pages,
        status=pages.status,
        endpoint=pages.endpoint,
    ) as found:
        form = run.output.form(json=json_output, quiet=quiet)
        if found.elsewhere:
            # Not "the journal holds no creates yet": it does, made the other way.
            where = "against the service" if sandbox else "in the sandbox"
            other = "mivid list --local" if sandbox else "mivid --sandbox list --local"
            why = f"no creates here; the journal holds {found.elsewhere} made {where}: {other}"
            run.output.nothing(form, why)
            return
        with run.output.records(JOURNAL_LIST, form) as sink:
            sink.stream(found.entries)
