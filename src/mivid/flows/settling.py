"""Settling creates whose outcome is unknown (`recover`): ask the service by external id."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from mivid.errors import JournalError, LocalFileError, MividError
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
    #: Why the journal could not write this down (a full disk); "" when it did.
    unrecorded: str = ""

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
    try:
        with Journal.open() as journal:
            pending = journal.entries(unsettled_only=True, service=client.base_url, limit=limit)
            return [settle(client, journal, entry) for entry in pending]
    except JournalError as exc:  # recover sends no create: `--no-journal` is no way out
        raise exc.for_reading() from exc


def unrecorded(results: list[Settled]) -> LocalFileError | None:
    """The error for what recover found but the journal could not write (a full disk): exit 74,
    after every result was shown (a found task's id is never hidden)."""
    missed = [result for result in results if result.unrecorded]
    if not missed:
        return None
    found = [result.task_id for result in missed if result.task_id is not None]
    tasks = f" (found: task {', '.join(found)})" if found else ""
    return LocalFileError(
        f"the journal could not record what recover found for {len(missed)} of "
        f"{len(results)} creates{tasks}: {missed[0].unrecorded}",
        hint="free some space (or raise `ulimit -f`) and run recover again: it asks again",
    )


def settle(client: TaskClient, journal: Journal, entry: JournalEntry) -> Settled:
    """Look one unsettled create up by its external id and record what the service says."""
    ident = entry.external_task_id
    if entry.in_flight():
        return Settled(ident, entry.created, IN_PROGRESS, None, entry.status, "still being sent")
    try:
        task = client.find_task(ident, endpoint=entry.api)
    except MividError as exc:
        return Settled(ident, entry.created, STILL_UNKNOWN, None, entry.status, exc.message)
    if task is None and entry.accepted:
        # The service said yes to it: not shown yet is no proof it was not made.
        return Settled(
            ident,
            entry.created,
            STILL_UNKNOWN,
            None,
            entry.status,
            "the service accepted this create but shows no task with this external id yet; "
            "ask again later",
        )
    if task is None:
        settled = Settled(
            ident, entry.created, NOT_CREATED, None, NOT_CREATED, "safe to create again"
        )
        try:
            journal.record_failure(
                ident,
                "the service has no task with this external id",
                service=client.base_url,
                created=False,
            )
        except JournalError as exc:
            return replace(settled, unrecorded=exc.reason)
        return settled
    found = Settled(ident, entry.created, FOUND, str(task["task_id"]), status_of(task), "")
    try:
        journal.record_task(task, service=client.base_url, external_task_id=ident)
    except JournalError as exc:
        # The task exists and is paid for: it is shown whatever the journal's disk says.
        return replace(
            found, note=f"the journal could not record it ({exc.reason})", unrecorded=exc.reason
        )
    return found
