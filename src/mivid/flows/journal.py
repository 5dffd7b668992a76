"""Opening the journal for a flow, and finding which endpoint a task id belongs to."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from mivid.endpoints import ENDPOINTS, Endpoint
from mivid.errors import ApiError, JournalError, NotFoundError
from mivid.flows import TaskClient
from mivid.journal import NOT_CREATED, Journal
from mivid.vocabulary import external_id_of, task_id_of
from mivid.waiting import LIST_FROM, creation_of, tasks_in_list


def _ignore(_text: str) -> None:
    return None


@contextmanager
def open_journal(*, use: bool = True) -> Iterator[Journal | None]:
    """The journal a create or a batch writes, closed after (made when missing).

    Nothing is sent without it: `JournalError` (exit 2, naming the file and how
    to move it aside) when it cannot be used, unless `use` is False
    (`--no-journal`): then None.
    """
    if not use:
        yield None
        return
    with Journal.open() as journal:
        yield journal


@contextmanager
def existing_journal(warn: Callable[[str], None] | None = None) -> Iterator[Journal | None]:
    """The journal for reading, or None when there is none (it is never created here).

    With `warn`, a journal that cannot be used is said (once a run: the warning
    is always the same line) and read as none; without, `JournalError` (exit 2):
    for commands whose whole answer is the journal's.
    """
    try:
        journal = Journal.open_existing()
    except JournalError as exc:
        if warn is None:
            raise
        warn(exc.warning)
        journal = None
    if journal is None:
        yield None
        return
    with journal:
        yield journal


@contextmanager
def journal_to_read() -> Iterator[Journal | None]:
    """`existing_journal` for a command whose whole answer is the journal's (`list --local`,
    `spent`): what it cannot read stops it (exit 2), hinting how to move the file aside and
    not `--no-journal`, which only says how to send without one (nothing is sent here)."""
    try:
        with existing_journal() as journal:
            yield journal
    except JournalError as exc:  # at opening, or a page found damaged deep in it
        raise exc.for_reading() from exc


class RoutedTasks:
    """A client's task queries, each sent to the endpoint the task was made on.

    The journal says where a task it knows was made (`known` may say it too, for
    a task just created). A task nobody knows is looked for on every endpoint,
    the default first: a "no such task" from one is no error while another may
    have it (the client decides what "no such task" is, `KlingClient._not_found`);
    where it is found, it is asked for from then on.
    Satisfies `mivid.waiting.ListingSource`: many tasks are looked for in their
    endpoint's list (those nobody knows in every endpoint's, the default first).
    """

    def __init__(
        self,
        client: TaskClient,
        known: Mapping[str, Endpoint] | None = None,
        *,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self._endpoints: dict[str, Endpoint | None] = dict(known or {})
        #: Endpoints whose list refused to be asked, and tasks of a known age no list showed
        #: (too deep in it, or left out): queried one by one from then on.
        self._unlisted_endpoints: set[str] = set()
        self._unlisted_tasks: set[str] = set()
        #: Told when the journal cannot be read (every endpoint is asked then).
        self.warn = warn

    @property
    def http(self) -> Any:
        return getattr(self.client, "http", None)

    def route(self, task_ids: Iterable[str]) -> RoutedTasks:
        """Look the ids up in the journal at once (before queries go out from threads).

        A task the journal heard of moments ago (another run's create) is told to
        the client: a "not found" for it may mean "not visible yet" (`made_ago`).
        """
        wanted = [task_id for task_id in task_ids if task_id not in self._endpoints]
        if not wanted:
            return self
        service = getattr(self.client, "base_url", None)
        now = time.time()  # the journal's times are the machine's wall clock
        try:
            with existing_journal(self.warn or _ignore) as journal:
                for task_id in wanted:
                    entry = journal.find(task_id, service=service) if journal is not None else None
                    self._endpoints[task_id] = entry.api if entry is not None else None
                    if entry is not None and entry.status != NOT_CREATED:
                        self.client.made_ago(task_id, now - max(entry.created, entry.updated))
                    if entry is not None and entry.task_id == task_id:
                        self.client.is_task_id(task_id)
        except JournalError as exc:  # found damaged while reading: every endpoint is asked
            (self.warn or _ignore)(exc.warning)
        return self

    def endpoint_of(self, task_id: str) -> Endpoint | None:
        """Where the task was made, when known (None: it will be looked for everywhere)."""
        if task_id not in self._endpoints:
            self.route([task_id])
        return self._endpoints.get(task_id)

    def found_on(self, task: Mapping[str, Any]) -> Endpoint | None:
        """Where a task followed or fetched was made or found, by its id or the external id
        it was asked for by; None when nobody knows (nothing is looked up here)."""
        for key in (task_id_of(task), external_id_of(task)):
            endpoint = self._endpoints.get(key) if key else None
            if endpoint is not None:
                return endpoint
        return None

    def get_task(self, task_id: str) -> dict[str, Any]:
        """The task from its endpoint; NotFoundError when no endpoint has it."""
        known = self.endpoint_of(task_id)
        if known is not None:
            return self.client.get_task(task_id, endpoint=known)
        *first, last = ENDPOINTS.values()
        for endpoint in first:
            task = self.client.find_task(task_id, endpoint=endpoint)
            if task is not None:
                self._endpoints[task_id] = endpoint
                return task
        try:
            task = self.client.get_task(task_id, endpoint=last)
        except NotFoundError as missing:
            looked = ", ".join(ENDPOINTS)
            raise missing.with_context(
                suffix=f" (looked on every endpoint: {looked})", hint=missing.hint
            ) from missing
        self._endpoints[task_id] = last
        return task

    def find_task(self, task_id: str) -> dict[str, Any] | None:
        """Like `get_task`, but None when no endpoint has the task."""
        known = self.endpoint_of(task_id)
        if known is not None:
            return self.client.find_task(task_id, endpoint=known)
        for endpoint in ENDPOINTS.values():
            task = self.client.find_task(task_id, endpoint=endpoint)
            if task is not None:
                self._endpoints[task_id] = endpoint
                return task
        return None

    def listed_tasks(
        self, ids: Sequence[str], latest: Mapping[str, dict[str, Any] | None]
    ) -> dict[str, dict[str, Any]]:
        """The tasks among `ids` their endpoint's list shows (`LIST_FROM` or more to look for)."""
        wanted = [task_id for task_id in ids if task_id not in self._unlisted_tasks]
        found: dict[str, dict[str, Any]] = {}
        searched: set[str] = set()
        for endpoint in ENDPOINTS.values():
            group = [
                task_id
                for task_id in wanted
                if task_id not in found and self.endpoint_of(task_id) in (endpoint, None)
            ]
            if len(group) < LIST_FROM or endpoint.name in self._unlisted_endpoints:
                continue
            try:
                shown = tasks_in_list(
                    self._pages(endpoint),
                    group,
                    latest,
                    page_size=endpoint.max_page_size,
                    max_page=endpoint.max_page,
                )
            except ApiError:
                self._unlisted_endpoints.add(endpoint.name)  # a gateway that refuses the list
                continue
            searched.update(group)
            for task_id in shown:
                self._endpoints[task_id] = endpoint
            found |= shown
        # Its age known, yet no list showed it: nor will one next round (a task's place in
        # the list only moves deeper).
        self._unlisted_tasks.update(
            task_id
            for task_id in searched
            if task_id not in found and creation_of(latest.get(task_id)) is not None
        )
        return found

    def _pages(self, endpoint: Endpoint) -> Callable[[int], list[dict[str, Any]]]:
        def page(number: int) -> list[dict[str, Any]]:
            return self.client.list_tasks(
                page=number, page_size=endpoint.max_page_size, endpoint=endpoint
            )

        return page
