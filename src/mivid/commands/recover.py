"""`mivid recover`: settle the creates whose outcome is unknown, by asking the service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer

from mivid.app import app, state
from mivid.commands import options

if TYPE_CHECKING:
    from mivid.client import KlingClient
    from mivid.journal import Journal, JournalEntry
    from mivid.render import Output


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
        from mivid.render import iso_time

        return {
            "external_task_id": self.external_task_id,
            "intent_recorded_at": iso_time(_moment(self.created)),
            "outcome": self.outcome,
            "task_id": self.task_id,
            "task_status": self.status,
            "note": self.note,
        }


@app.command(epilog="Examples:\n\n  mivid recover\n\n  mivid recover --json | jq -r '.[].task_id'")
def recover(
    ctx: typer.Context,
    json_output: bool = options.json_output("Print the results as a JSON array."),
    limit: int = typer.Option(
        100,
        "--limit",
        help="Look at most at this many unsettled creates (newest first).",
        metavar="N",
    ),
) -> None:
    """Settle creates whose outcome is unknown.

    For example when the answer was lost or the process was killed.

    mivid writes each create to a local journal before sending it. When the
    answer never came back, the task may or may not exist: recover asks the
    service for each such create by its external id, and records the answer.
    "not created" means the service has no such task: it is safe to create it
    again. Only creates made against the current service (region, base URL or
    --sandbox) are checked.
    """
    from mivid.errors import InputError, ServiceError
    from mivid.journal import Journal

    if limit < 1:
        raise InputError(f"--limit: {limit} — must be at least 1")
    run = state(ctx)
    out = run.output
    with run.client() as client, Journal.open() as journal:
        pending = journal.entries(unsettled_only=True, service=client.base_url, limit=limit)
        results = [settle(client, journal, entry) for entry in pending]
    if json_output:
        out.json([result.as_json() for result in results])
    else:
        show(out, results, client.base_url)
    unresolved = [r for r in results if r.outcome == "still unknown"]
    if unresolved:
        raise ServiceError(
            f"{len(unresolved)} of {len(results)} creates could not be checked: "
            f"{unresolved[0].note}",
            hint="run `mivid recover` again later; do not create these tasks again before",
        )


def settle(client: KlingClient, journal: Journal, entry: JournalEntry) -> Settled:
    """Look one unsettled create up by its external id and record what the service says."""
    from mivid.errors import MividError
    from mivid.journal import NOT_CREATED

    ident = entry.external_task_id
    if entry.in_flight():
        return Settled(ident, entry.created, "in progress", None, entry.status, "still being sent")
    try:
        task = client.find_task(ident)
    except MividError as exc:
        return Settled(ident, entry.created, "still unknown", None, entry.status, exc.message)
    if task is None:
        journal.record_failure(
            ident, "the service has no task with this external id", created=False
        )
        return Settled(ident, entry.created, NOT_CREATED, None, NOT_CREATED, "safe to create again")
    journal.record_task(task)
    return Settled(
        ident, entry.created, "found", str(task["task_id"]), str(task["task_status"]), ""
    )


def show(out: Output, results: list[Settled], service: str) -> None:
    """Results for people: one row per create, plain when piped."""
    from mivid.render import iso_time, local_time

    if not results:
        out.note(f"nothing to recover: every create sent to {service} has a known outcome")
        return
    header = ("EXTERNAL ID", "SENT", "OUTCOME", "TASK ID", "STATUS", "NOTE")
    rows = [
        (
            r.external_task_id,
            (local_time if out.stdout_is_tty else iso_time)(_moment(r.created)),
            r.outcome,
            r.task_id or "-",
            r.status,
            r.note,
        )
        for r in results
    ]
    if out.stdout_is_tty:
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, header_style="bold")
        for name in header:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        out.out().print(table)
    else:
        for row in [header, *rows]:
            out.line("\t".join(row))


def _moment(seconds: float) -> Any:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(seconds, tz=timezone.utc)
