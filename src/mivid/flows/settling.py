"""Settling creates whose outcome is unknown (`recover`): ask the service by external id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mivid.errors import MividError
from mivid.flows import TaskClient
from mivid.journal import NOT_CREATED, Journal, JournalEntry
from mivid.plaintext import iso_seconds
from mivid.vocabulary import status_of

FOUND, IN_PROGRESS, STILL_UNKNOWN = "found", "in progress", "still unknown"


@dataclass(frozen=True)
class Settled:
    """What recover found out about one create."""

    external_task_id: str
    created: float
    outcome: str  # "found", "not created", "in progress", "still unknown"
    task_id: str | None
    status: str
    note: str

    def as_json(self) -> dict[str, Any]:
        return {
            "external_task_id": self.external_task_id,
            "intent_recorded_at": iso_seconds(self.created),
            "outcome": self.outcome,
            "task_id": self.task_id,
            "task_status": self.status,
            "note": self.note,
        }


def settle_unknown(client: TaskClient, *, limit: int) -> list[Settled]:
    """Settle the newest `limit` unsettled creates sent to this client's service."""
    with Journal.open() as journal:
        pending = journal.entries(unsettled_only=True, service=client.base_url, limit=limit)
        return [settle(client, journal, entry) for entry in pending]


def settle(client: TaskClient, journal: Journal, entry: JournalEntry) -> Settled:
    """Look one unsettled create up by its external id and record what the service says."""
    ident = entry.external_task_id
    if entry.in_flight():
        return Settled(ident, entry.created, IN_PROGRESS, None, entry.status, "still being sent")
    try:
        task = client.find_task(ident, endpoint=entry.api)
    except MividError as exc:
        return Settled(ident, entry.created, STILL_UNKNOWN, None, entry.status, exc.message)
    if task is None:
        journal.record_failure(
            ident,
            "the service has no task with this external id",
            service=client.base_url,
            created=False,
        )
        return Settled(ident, entry.created, NOT_CREATED, None, NOT_CREATED, "safe to create again")
    journal.record_task(task, service=client.base_url, external_task_id=ident)
    return Settled(ident, entry.created, FOUND, str(task["task_id"]), status_of(task), "")
