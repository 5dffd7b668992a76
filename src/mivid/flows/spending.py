"""What was spent, from the journal alone (`spent`): no keys, no network."""

from __future__ import annotations

from datetime import date, datetime

from mivid.flows.journal import existing_journal
from mivid.spending import Spending, summarise


def spent(*, sandbox: bool, since: date, today: date) -> Spending:
    """The journal's creates made the same way (sandbox or not) from local day `since` to `today`."""
    start = datetime.combine(since, datetime.min.time()).timestamp()
    with existing_journal() as journal:
        entries = journal.entries(since=start, sandbox=sandbox) if journal is not None else []
    return summarise(entries, since=since, until=today)
