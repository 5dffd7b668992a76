"""Sending one checked create, written to the journal first (`create`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mivid.errors import AccountError
from mivid.flows import QUIET, Say
from mivid.flows.account import out_of_units
from mivid.flows.journal import open_journal
from mivid.submission import PreparedCreate, submit_create


def create_task(
    client: Any,
    prepared: PreparedCreate,
    *,
    sandbox: bool = False,
    say: Say = QUIET,
    on_ambiguous: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Send the create (looked up, never paid twice, when its answer is lost); the task object.

    The journal records the intent before the first byte and the outcome after;
    without a journal (a warning says so) the create still goes out. A refusal
    for want of units (1102) ends with what the account's packs hold now.
    """
    with open_journal(say.warn) as journal:
        try:
            return submit_create(
                client, prepared, on_ambiguous=on_ambiguous, journal=journal, sandbox=sandbox
            )
        except AccountError as exc:
            amended = out_of_units(exc, client)
            if amended is None:
                raise
            raise amended from exc
