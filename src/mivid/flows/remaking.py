"""Finding the create a new one is made from (`create --from ID`), in the journal alone."""

from __future__ import annotations

from mivid.flows.journal import existing_journal
from mivid.origin import Origin, origin_of


def find_origin(ident: str) -> Origin | None:
    """The journal's create of that task id or external id, or None when it knows none.

    A journal that cannot be used is `JournalError` (exit 2): `create` sends nothing then.
    """
    with existing_journal() as journal:
        entry = journal.find(ident) if journal is not None else None
    return origin_of(entry) if entry is not None else None
