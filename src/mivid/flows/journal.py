"""Opening the journal for a flow, and finding which endpoint a task id belongs to."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mivid.endpoints import DEFAULT_ENDPOINT, Endpoint
from mivid.flows import TaskClient
from mivid.journal import Journal


@contextmanager
def open_journal(warn: Callable[[str], None]) -> Iterator[Journal | None]:
    """The local journal of creates, closed after; a create still goes out without it.

    Yields None (after a warning) when the journal cannot be opened.
    """
    try:
        journal = Journal.open()
    except (OSError, sqlite3.Error) as exc:
        warn(f"cannot write the journal of creates ({exc}); `mivid recover` will not know this one")
        yield None
        return
    with journal:
        yield journal


@contextmanager
def existing_journal() -> Iterator[Journal | None]:
    """The journal for reading, or None when there is none (it is never created here)."""
    journal = Journal.open_existing()
    if journal is None:
        yield None
        return
    with journal:
        yield journal


@dataclass
class RoutedTasks:
    """A client's task queries, each sent to the endpoint the journal says the task was made on.

    A task the journal does not know is queried on the default endpoint.
    Satisfies `mivid.waiting.TaskSource`.
    """

    client: TaskClient
    _endpoints: dict[str, Endpoint] = field(default_factory=dict)

    @property
    def http(self) -> Any:
        return getattr(self.client, "http", None)

    def route(self, task_ids: Iterable[str]) -> RoutedTasks:
        """Look the ids up in the journal at once (before queries go out from threads)."""
        wanted = [task_id for task_id in task_ids if task_id not in self._endpoints]
        if not wanted:
            return self
        try:
            with existing_journal() as journal:
                for task_id in wanted:
                    entry = journal.find(task_id) if journal is not None else None
                    self._endpoints[task_id] = entry.api if entry is not None else DEFAULT_ENDPOINT
        except sqlite3.Error:
            pass  # an unreadable journal routes nothing: the default endpoint
        return self

    def endpoint_of(self, task_id: str) -> Endpoint:
        if task_id not in self._endpoints:
            self.route([task_id])
        return self._endpoints.get(task_id, DEFAULT_ENDPOINT)

    def get_task(self, task_id: str) -> dict[str, Any]:
        return self.client.get_task(task_id, endpoint=self.endpoint_of(task_id))

    def find_task(self, task_id: str) -> dict[str, Any] | None:
        return self.client.find_task(task_id, endpoint=self.endpoint_of(task_id))
