"""Sending one checked create, written to the journal first (`create`)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from mivid import hints
from mivid.endpoints import Endpoint, known_models
from mivid.errors import (
    AccountError,
    ApiError,
    BudgetError,
    ExternalIdTakenError,
    JournalError,
)
from mivid.flows import QUIET, Say
from mivid.flows.account import out_of_units
from mivid.flows.journal import open_journal
from mivid.flows.listing import Listed
from mivid.journal import Journal, JournalEntry
from mivid.plaintext import printable
from mivid.submission import PreparedCreate, submit_create
from mivid.units import kind_of, units_text

#: Codes with which the service refuses a model it does not (or no longer) offer: a value
#: refused (1201, "The model '…' has been discontinued …"), or the resource missing (1203).
MODEL_REFUSALS = (1201, 1203)


def create_task(
    client: Any,
    prepared: PreparedCreate,
    *,
    sandbox: bool = False,
    say: Say = QUIET,
    on_ambiguous: Callable[[str, str], None] | None = None,
    max_units: Decimal | None = None,
    use_journal: bool = True,
) -> Listed:
    """Send the create (looked up, never paid twice, when its answer is lost); the task object,
    with the endpoint it was made on and the journal's entry (shown as `get` shows it).

    The journal records the intent before the first byte and the outcome after;
    nothing is sent while it cannot be used (`JournalError`, exit 2), unless
    `use_journal` is False (`--no-journal`). A refusal for want of units (1102)
    ends with what the account's packs hold now. With `max_units`, a create whose
    kind cost more the last time the journal saw one is not sent (BudgetError).
    """
    with open_journal(use=use_journal) as journal:
        if max_units is not None:
            _within(max_units, prepared, journal, client.base_url, say)
        try:
            task = submit_create(
                client,
                prepared,
                on_ambiguous=on_ambiguous,
                journal=journal,
                sandbox=sandbox,
                note=say.note,
                warn=say.warn,
            )
        except AccountError as exc:
            amended = out_of_units(exc, client)
            if amended is None:
                raise
            raise amended from exc
        except ExternalIdTakenError as taken:
            see = hints.command("get", taken.external_task_id)
            raise taken.with_context(suffix=f" — see it with: {see}") from taken
        except ApiError as refused:
            hint = model_hint(refused, prepared.request.model_name, prepared.endpoint)
            if hint is None:
                raise
            raise refused.with_context(hint=hint) from refused
        return Listed(task, _entry_of(journal, task, client.base_url), prepared.endpoint)


def _entry_of(journal: Journal | None, task: dict[str, Any], service: str) -> JournalEntry | None:
    """The journal's entry of the task just made, when it holds one."""
    if journal is None:
        return None
    try:
        return journal.find(str(task["task_id"]), service=service)
    except JournalError:
        # The task is made and paid for: it is shown whatever the journal says, and
        # `submit_create` has already warned of a journal that could not be written.
        return None


def model_hint(refused: ApiError, model: str, endpoint: Endpoint) -> str | None:
    """How to choose another model, when the service's refusal is about the one sent.

    The service's sentence is shown as it is (models are retired on dates Kling
    announces); this only adds where the choice is made: the models mivid knows on the
    endpoint the create went to, and the config command without `--sandbox` (the setting
    is saved in the config file either way).
    """
    if refused.code not in MODEL_REFUSALS or not model or printable(model) not in refused.message:
        return None
    setting = hints.config_command("set", "model", "NAME")
    same = [known for known in endpoint.models if known != model]  # not the one refused
    others = same or [known for known in known_models() if known != model]
    return (
        f"choose another model with --model NAME (mivid knows {', '.join(others)}), "
        f"or change the default: {setting}"
    )


def _within(
    limit: Decimal, prepared: PreparedCreate, journal: Journal | None, service: str, say: Say
) -> None:
    """BudgetError when the last task of this kind cost more than `limit` (`create --max-units`)."""
    kind = kind_of(prepared.endpoint.name, prepared.request.values)
    try:
        cost = journal.known_costs(service).get(kind) if journal is not None else None
    except JournalError:
        cost = None
    if cost is None:
        say.note(
            f"--max-units {units_text(limit)}: what a {kind.describe()} task costs is not "
            "known yet (the journal saw none end); sending it"
        )
        return
    if cost > limit:
        raise BudgetError(
            [
                f"--max-units {units_text(limit)}: a {kind.describe()} task cost "
                f"{units_text(cost)} units the last time; nothing was sent"
            ],
            hint="raise --max-units, or choose a cheaper mode or a shorter duration",
        )
