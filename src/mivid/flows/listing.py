"""Listing tasks: the service's pages (`list`, the picker) and the journal's own list (`list --local`).

Each endpoint has its own list, newest first. `listed_pages` shows them as one:
the endpoints' lists are read page by page and merged newest first as they
come (`newest_first`), so `list --all` holds a page of each at a time, never
the whole list; `--page N` is the Nth page of the merged list. With one
endpoint asked for, its pages are the list's pages, as the service sends them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from itertools import chain, islice
from typing import Any

from mivid.endpoints import DEFAULT_ENDPOINT, ENDPOINTS, Endpoint
from mivid.errors import ApiError, CredentialsError, MividError
from mivid.flows import QUIET, Say, TaskClient
from mivid.flows.journal import RoutedTasks, existing_journal, journal_to_read
from mivid.journal import Journal, JournalEntry
from mivid.plaintext import iso_seconds, public_url
from mivid.sidecar import local_info, remember_sightings
from mivid.vocabulary import has_status, with_external_id

#: What the journal also says of a create whose task is not (yet) known to exist.
LOCAL_STATUSES = ("sending", "unknown", "not created")


@dataclass(frozen=True)
class Listed:
    """A task object as the service sent it, and the journal's entry when it knows the task."""

    task: dict[str, Any]
    entry: JournalEntry | None = None
    #: The endpoint whose list it came from, or where it was made or found (None: not known).
    endpoint: Endpoint | None = None

    @property
    def task_id(self) -> str:
        return str(self.task["task_id"])

    @property
    def prompt(self) -> str:
        return str(self.entry.request.get("prompt") or "") if self.entry is not None else ""

    @property
    def model(self) -> str:
        """The model the journal says the task was made with ("" when it does not know)."""
        return str(self.entry.request.get("model_name") or "") if self.entry is not None else ""

    def as_json(self) -> dict[str, Any]:
        """The service's object, plus `"endpoint"` (whose list it came from, or where it was
        made or found) and a `"local"` object when the journal knows the task.

        The one shape of a task object in `--json`: `create`, `wait`, `get` and `list` all
        write it from here, so a script reads the same keys from each.
        """
        extra: dict[str, Any] = {}
        if self.endpoint is not None:
            extra["endpoint"] = self.endpoint.name
        if self.entry is not None:
            extra["local"] = local_info(self.entry)
        return {**self.task, **extra} if extra else self.task


#: A task object and the endpoint whose list it came from.
Tagged = tuple[Endpoint, dict[str, Any]]


#: `list --status` without `--all` reads at most this many tasks for a page of matches.
STATUS_SEARCH = 5000


@dataclass
class ListReport:
    """What reading the list learned, for the lines said after it (`listed_pages` fills it)."""

    shown: int = 0  # tasks handed on (after the status filter)
    searched: int = 0  # tasks read from the service
    full: bool = False  # the last page handed on was full: more may follow
    searched_out: bool = False  # a status search stopped after `STATUS_SEARCH` tasks
    #: Lists the service's page limit (pageNum ≤ 1000) ended while they went on,
    #: and how many of their tasks were read.
    cut: list[tuple[Endpoint, int]] = field(default_factory=list)


def task_pages(
    client: TaskClient,
    *,
    page: int = 1,
    page_size: int = 30,
    all_pages: bool = False,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
    report: ListReport | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """The list's pages from `page` on (only that one unless `all_pages`), each task once.

    A task created while paging shifts the pages: one seen on the page before is
    left out of the next (only that page's ids are kept: a list of 500,000 tasks
    needs no set of them all). When the service's last page (`endpoint.max_page`)
    is full, the list goes on where it cannot be read: `report.cut` says so.
    """
    before: set[str] = set()
    read = 0
    while True:
        batch = client.list_tasks(page=page, page_size=page_size, endpoint=endpoint)
        read += len(batch)
        fresh = [task for task in batch if str(task["task_id"]) not in before]
        before = {str(task["task_id"]) for task in batch}
        yield fresh
        # No total is returned: a short page is the last one.
        if not all_pages or len(batch) < page_size:
            return
        if page >= endpoint.max_page:
            if report is not None:
                report.cut.append((endpoint, read))
            return
        page += 1


def listed_pages(
    client: TaskClient,
    *,
    page: int = 1,
    page_size: int = 30,
    all_pages: bool = False,
    endpoints: Sequence[Endpoint] | None = None,
    status: str | None = None,
    fetch_size: int | None = None,
    report: ListReport | None = None,
    say: Say = QUIET,
) -> Iterator[list[Tagged]]:
    """The list's pages from `page` on (only that one unless `all_pages`), newest first.

    Several endpoints (all, by default): their lists merged newest first as they
    are read (see the module docstring). A list the API refuses is left out with
    a warning while another is shown (a gateway may not offer every endpoint);
    when every one is refused, the first refusal is the answer.

    `status`: only tasks with it; a page is filled with matches from as many of
    the service's pages as it takes (at most `STATUS_SEARCH` tasks read unless
    `all_pages`: `report.searched_out` then says so). `fetch_size`: tasks asked
    for a request (default: what the page needs; the service's largest to follow
    every page or to search for a status). `report` learns what to say after.
    """
    chosen = list(endpoints) if endpoints is not None else list(ENDPOINTS.values())
    report = report if report is not None else ListReport()
    largest = min(endpoint.max_page_size for endpoint in chosen)
    if fetch_size is None:
        fetch_size = largest if all_pages or status else min(largest, page * page_size)
    if len(chosen) == 1 and status is None and (fetch_size == page_size or not all_pages):
        # One endpoint, read as the service pages it: `--page N` is its page N.
        (endpoint,) = chosen
        for batch in task_pages(
            client,
            page=page,
            page_size=page_size,
            all_pages=all_pages,
            endpoint=endpoint,
            report=report,
        ):
            report.searched += len(batch)
            report.shown += len(batch)
            report.full = len(batch) == page_size
            yield [(endpoint, task) for task in batch]
        return
    refusals: list[tuple[Endpoint, ApiError]] = []
    streams = [_every_task(client, endpoint, fetch_size, refusals, report) for endpoint in chosen]
    merged = newest_first(streams) if len(streams) > 1 else streams[0]
    if status is not None:
        merged = _with_status(merged, status, report, None if all_pages else STATUS_SEARCH)
    said = 0
    for _ in islice(merged, (page - 1) * page_size):
        pass  # the pages before `page`, read and dropped
    while True:
        chunk = list(islice(merged, page_size))
        if len(refusals) == len(chosen):
            raise refusals[0][1]
        for endpoint, refused in refusals[said:]:
            say.warn(_left_out(endpoint, refused))
        said = len(refusals)
        report.shown += len(chunk)
        if status is None:
            report.searched = report.shown
        report.full = len(chunk) == page_size
        yield chunk
        if not all_pages or len(chunk) < page_size:
            return


def _with_status(
    stream: Iterator[Tagged], status: str, report: ListReport, limit: int | None
) -> Iterator[Tagged]:
    """The tasks with `status`, until `limit` tasks were read (then `report.searched_out`)."""
    for item in stream:
        report.searched += 1
        if has_status(item[1], status):
            yield item
        if limit is not None and report.searched >= limit:
            report.searched_out = True
            return


def _left_out(endpoint: Endpoint, refused: ApiError) -> str:
    others = ", ".join(name for name in ENDPOINTS if name != endpoint.name)
    return (
        f"{endpoint.title}'s task list was refused ({refused.message}); its tasks are "
        f"left out (--endpoint {others} lists the others alone)"
    )


def _every_task(
    client: TaskClient,
    endpoint: Endpoint,
    page_size: int,
    refusals: list[tuple[Endpoint, ApiError]],
    report: ListReport,
) -> Iterator[Tagged]:
    """One endpoint's tasks, newest first, read a page at a time as they are wanted.

    A refusal of its list ends it, noted in `refusals` (the caller decides what it means).
    """
    try:
        for batch in task_pages(
            client, page_size=page_size, all_pages=True, endpoint=endpoint, report=report
        ):
            for task in batch:
                yield endpoint, task
    except ApiError as refused:
        refusals.append((endpoint, refused))


def newest_first(streams: Sequence[Iterator[Tagged]]) -> Iterator[Tagged]:
    """Newest-first streams merged into one newest-first stream, reading one item ahead of each.

    The order is by `created_at`; a task without a readable one keeps its place
    in its own stream (it takes the time of the task before it). On a tie the
    earlier stream goes first.
    """
    heads: list[tuple[float, Tagged] | None] = [None] * len(streams)
    times = [math.inf] * len(streams)

    def advance(index: int) -> None:
        item = next(streams[index], None)
        if item is None:
            heads[index] = None
            return
        created = _created_ms(item[1])
        if created is not None:
            times[index] = created
        heads[index] = (times[index], item)

    for index in range(len(streams)):
        advance(index)
    while True:
        waiting = [(head[0], -index) for index, head in enumerate(heads) if head is not None]
        if not waiting:
            return
        index = -max(waiting)[1]
        head = heads[index]
        assert head is not None
        yield head[1]
        if len(waiting) == 1:  # the others have ended: the rest of this one, as it comes
            yield from streams[index]
            return
        advance(index)


def _created_ms(task: Mapping[str, Any]) -> float | None:
    """A task's `created_at` as a number, or None when it has no readable one."""
    created = task.get("created_at")
    if isinstance(created, bool) or not isinstance(created, (int, float)):
        return None
    return float(created) if math.isfinite(created) else None


def fetch_tasks(
    client: TaskClient,
    *,
    page: int = 1,
    page_size: int = 30,
    all_pages: bool = False,
    status: str | None = None,
    endpoints: Sequence[Endpoint] | None = None,
    say: Say = QUIET,
) -> list[Listed]:
    """The tasks of the pages asked for (only those with `status` when given), each with
    the journal's entry (the picker, `list --watch`)."""
    tagged = [
        item
        for batch in listed_pages(
            client,
            page=page,
            page_size=page_size,
            all_pages=all_pages,
            endpoints=endpoints,
            say=say,
        )
        for item in batch
    ]
    if status is not None:
        tagged = [(endpoint, task) for endpoint, task in tagged if has_status(task, status)]
    return listed_with_journal(tagged, service=client.base_url, warn=say.warn)


def journaled(
    found: Iterable[Listed], *, service: str, warn: Callable[[str], None] | None = None
) -> list[Listed]:
    """Each task found (with the endpoint it was found on) with its journal entry (of
    `service`); any status that moved is noted there. What `get`, `wait` and `create --wait`
    show: with `Listed.as_json`, the one shape of a task object in every `--json`.
    """
    items = list(found)
    known = remember_sightings((item.task for item in items), service=service, warn=warn)
    return [replace(item, entry=known.get(item.task_id)) for item in items]


def listed_with_journal(
    tagged: Iterable[Tagged],
    *,
    service: str,
    warn: Callable[[str], None] | None = None,
    journal: Journal | None = None,
) -> list[Listed]:
    """`journaled`, for tasks read from the endpoints' lists (each keeps its endpoint).

    `journal`: one kept open across pages (see `listed`), else opened here.
    """
    items = list(tagged)
    known = remember_sightings(
        (task for _, task in items), service=service, warn=warn, journal=journal
    )
    return [Listed(task, known.get(str(task["task_id"])), endpoint) for endpoint, task in items]


def listed(
    client: TaskClient,
    *,
    page: int = 1,
    page_size: int = 30,
    all_pages: bool = False,
    endpoints: Sequence[Endpoint] | None = None,
    status: str | None = None,
    fetch_size: int | None = None,
    report: ListReport | None = None,
    say: Say = QUIET,
) -> Iterator[list[Listed]]:
    """`listed_pages`, each page's tasks with the journal's entries (the journal opened once:
    a thousand pages open it once, not a thousand times)."""
    with existing_journal(say.warn) as journal:
        for page_items in listed_pages(
            client,
            page=page,
            page_size=page_size,
            all_pages=all_pages,
            endpoints=endpoints,
            status=status,
            fetch_size=fetch_size,
            report=report,
            say=say,
        ):
            if journal is None:  # none when the list began (or unusable): none meanwhile
                yield [Listed(task, None, endpoint) for endpoint, task in page_items]
            else:
                yield listed_with_journal(
                    page_items, service=client.base_url, warn=say.warn, journal=journal
                )


@dataclass(frozen=True)
class LocalList:
    """`list --local`: the entries to show, read as they are wanted while the journal is
    open, and (only when the journal holds no create made the same way, sandbox or not) how
    many it holds made the other way."""

    entries: Iterator[JournalEntry]
    elsewhere: int = 0


@contextmanager
def local_list(
    *,
    sandbox: bool,
    page: int = 1,
    page_size: int = 30,
    all_pages: bool = False,
    status: str | None = None,
    endpoint: Endpoint | None = None,
) -> Iterator[LocalList]:
    """The journal's creates made the same way (sandbox or not), newest first; no network.

    One indexed query with the page's limit: a page costs the same from a journal of
    50,000 creates as from one of 30, and `--all` streams them (memory flat in N).
    """
    with journal_to_read() as journal:
        if journal is None:
            yield LocalList(iter(()))
            return
        entries = journal.each_entry(
            sandbox=sandbox,
            status=status,
            endpoint=endpoint.name if endpoint is not None else None,
            offset=(page - 1) * page_size,
            limit=None if all_pages else page_size,
        )
        # Closed before the journal is, however the reading ends (a reader gone, Ctrl-C):
        # left to the garbage collector, its cursor would be closed on a closed database.
        with closing(entries):
            first = next(entries, None)
            if first is None:
                empty = not journal.count(sandbox=sandbox)
                yield LocalList(iter(()), journal.count(sandbox=not sandbox) if empty else 0)
                return
            yield LocalList(chain([first], entries))


def local_record(entry: JournalEntry) -> dict[str, Any]:
    """One journal entry for `list --local --json`; "local" as in `list --json`."""
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
        "endpoint": entry.endpoint,
        "request": request,
        "local": local_info(entry),
    }


def get_each(
    routed: RoutedTasks, ids: Sequence[str]
) -> tuple[list[dict[str, Any]], list[MividError]]:
    """Every task asked for, and each id's error (`get`, `download` of several ids).

    One missing or refused id does not stop the others. Keys that do not work
    (CredentialsError) would fail every id alike: that one is raised at once.
    """
    found = found_each(routed, ids)
    return [listed.task for listed in found[0]], found[1]


def found_each(routed: RoutedTasks, ids: Sequence[str]) -> tuple[list[Listed], list[MividError]]:
    """`get_each`, each task with the endpoint it was found on."""
    listed: list[Listed] = []
    errors: list[MividError] = []
    for task_id in ids:
        try:
            task = routed.get_task(task_id)
        except CredentialsError:
            raise
        except MividError as error:
            errors.append(naming(error, task_id))
        else:
            if str(task["task_id"]) != task_id:  # asked for by its external id: say so in it
                task = with_external_id(task, task_id)
            listed.append(Listed(task, endpoint=routed.endpoint_of(task_id)))
    return listed, errors


def naming(error: MividError, task_id: str) -> MividError:
    """The error, saying which id it is about when its message does not."""
    return error if task_id in error.message else error.with_context(prefix=f"{task_id}: ")
