"""`mivid recover`: settle the creates whose outcome is unknown, by asking the service."""

from __future__ import annotations

import typer

from mivid.app import app, state
from mivid.commands import options


@app.command(epilog=options.examples("mivid recover", "mivid recover --json | jq -r '.[].task_id'"))
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
    from mivid import hints
    from mivid.errors import InputError, ServiceError
    from mivid.flows.settling import STILL_UNKNOWN, settle_unknown, unrecorded
    from mivid.render.views import SETTLED

    if limit < 1:
        raise InputError(f"--limit: {limit} — must be at least 1")
    run = state(ctx)
    out = run.output
    with run.client() as client:
        results = settle_unknown(client, limit=limit)
    form = out.form(json=json_output)
    if not results:
        why = f"nothing to recover: every create sent to {client.base_url} has a known outcome"
        out.nothing(form, why)
        return
    with out.records(SETTLED, form) as sink:
        sink.extend(results)
    unwritten = unrecorded(results)
    if unwritten is not None:
        raise unwritten
    unresolved = [r for r in results if r.outcome == STILL_UNKNOWN]
    if unresolved:
        raise ServiceError(
            f"{len(unresolved)} of {len(results)} creates could not be checked: "
            f"{unresolved[0].note}",
            hint=f"run `{hints.command('recover')}` again later; do not create these tasks "
            "again before",
        )
