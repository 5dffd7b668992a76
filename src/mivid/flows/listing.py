"""Listing tasks: the service's pages (`list`, the picker) and the journal's own list (`list --local`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mivid.endpoints import DEFAULT_ENDPOINT, Endpoint
from mivid.flows import TaskClient
from mivid.flows.journal import existing_journal
from mivid.journal import JournalEntry
from mivid.plaintext import iso_seconds, public_url
from mivid.sidecar import local_info, remember_sightings
from mivid.vocabulary import status_of

#: What the journal also says of a create whose task is not (yet) known to exist.
LOCAL_STATUSES = ("sending", "unknown", "not created")


@dataclass(frozen=True)
class Listed:
    """A task object as the service sent it, and the journal's entry when it knows the task."""

    task: dict[str, Any]
    entry: JournalEntry | None = None

    @property
    def task_id(self) -> str:
        return str(self.task["task_id"])

    @property
    def prompt(self) -> str:
        return str(self.entry.request.get("prompt") or "") if self.entry is not None else ""

    def as_json(self) -> dict[str, Any]:
        """The service's object, plus a `"local"` object when the journal knows the task."""
        if self.entry is None:
            return self.task
        return {**self.task, "local": local_info(self.entry)}


def task_pages(
    client: TaskClient,
    *,
    page: int = 1,
    page_size: int = 30,
    all_pages: bool = False,
    endpoint: Endpoint = DEFAULT_ENDPOINT,
) -> Iterator[list[dict[str, Any]]]:
    """The list's pages from `page` on (only that one unless `all_pages`), each task once.

    A task created while paging shifts the pages: one seen on an earlier page is
    left out of a later one.
    """
    seen: set[str] = set()
    while True:
        batch = client.list_tasks(page=page, page_size=page_size, endpoint=endpoint)
        fresh = [task for task in batch if str(task["task_id"]) not in seen]
        seen.update(str(task["task_id"]) for task in fresh)
        yield fresh
        # No total is returned: a short page is the last one.
        if not all_pages or len(batch) < page_size or page >= endpoint.max_page:
            return
        page += 1


def fetch_tasks(
    client: TaskClient,
    *,
    page: int = 1,
    page_size: int = 30,
    all_pages: bool = False,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """The tasks of the pages asked for, only those with `status` when given."""
    tasks = [
        task
        for batch in task_pages(client, page=page, page_size=page_size, all_pages=all_pages)
        for task in batch
    ]
    if status is not None:
        tasks = [task for task in tasks if status_of(task) == status]
    return tasks


def with_journal(tasks: Iterable[dict[str, Any]]) -> list[Listed]:
    """Each task with its journal entry; any status that moved is noted in the journal."""
    objects = list(tasks)
    known = remember_sightings(objects)
    return [Listed(task, known.get(str(task["task_id"]))) for task in objects]


@dataclass(frozen=True)
class LocalList:
    """`list --local`: the entries to show, and (only when the journal holds no create made
    the same way, sandbox or not) how many it holds made the other way."""

    entries: list[JournalEntry]
    elsewhere: int = 0


def local_list(
    *,
    sandbox: bool,
    page: int = 1,
    page_size: int = 30,
    all_pages: bool = False,
    status: str | None = None,
) -> LocalList:
    """The journal's creates made the same way (sandbox or not), newest first; no network.

    One indexed query with the page's limit: a page costs the same from a
    journal of 50,000 creates as from one of 30.
    """
    with existing_journal() as journal:
        if journal is None:
            return LocalList([])
        entries = journal.entries(
            sandbox=sandbox,
            status=status,
            offset=(page - 1) * page_size,
            limit=None if all_pages else page_size,
        )
        elsewhere = 0
        if not entries and not journal.count(sandbox=sandbox):
            elsewhere = journal.count(sandbox=not sandbox)
    return LocalList(entries, elsewhere)


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


def prompts_of(listed: Iterable[Listed]) -> Mapping[str, str]:
    """Task id → prompt, for the tasks the journal knows."""
    return {item.task_id: item.prompt for item in listed if item.entry is not None}
