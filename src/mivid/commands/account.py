"""`mivid account`: the account's resource packs and the units left in them."""

from __future__ import annotations

import typer

from mivid.app import app, state
from mivid.commands import options


@app.command(
    epilog=options.examples(
        "mivid account",
        "mivid account --json | jq '.[] | select(.status == \"online\")'",
    )
)
def account(
    ctx: typer.Context,
    json_output: bool = options.json_output(
        "Print the service's list of resource packs as it came (resource_pack_subscribe_infos)."
    ),
) -> None:
    """The account's resource packs: units left, status, valid until.

    Each pack with its name, type, status, remaining and total units and the
    end of its validity; the ones in force first, then the ones to come, used
    up and expired, and the units left in force. Free to call: mivid asks at
    most once a second. In a pipe: NAME, TYPE, STATUS, REMAINING, TOTAL,
    VALID-UNTIL (ISO 8601, UTC) and the pack's id, tab-separated.
    """
    from mivid.flows.account import account_packs
    from mivid.render.views import account_packs_shown

    run = state(ctx)
    form = run.output.form(json=json_output)
    with run.client() as client:
        packs = account_packs(client)
    account_packs_shown(run.output, packs, form)
