"""What was spent, from the journal alone (`spent`): no keys, no network."""

from __future__ import annotations

from contextlib import closing
from datetime import date, datetime

from mivid.flows.journal import journal_to_read
from mivid.spending import Spending, summarise


def spent(*, sandbox: bool, since: date, today: date) -> Spending:
    """The journal's creates made the same way (sandbox or not) from local day `since` to `today`."""
    start = datetime.combine(since, datetime.min.time()).timestamp()
    with journal_to_read() as journal:
        if journal is None:
            return summarise([], since=since, until=today)
        # Streamed: a year of creates is added up without holding them all (and the stream
        # closed before the journal is, however the adding up ends).
        with closing(journal.each_entry(since=start, sandbox=sandbox)) as entries:
            return summarise(entries, since=since, until=today)
