"""`mivid spent`: tasks and units per day and per model, from the local journal (offline)."""

from __future__ import annotations

import typer

from mivid.app import app, state
from mivid.commands import options


@app.command(
    epilog=options.examples(
        "mivid spent",
        "mivid spent --since 7d",
        "mivid spent --since 2026-11-01 --json | jq -r .units",
    )
)
def spent(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None,
        "--since",
        help="From this day on: 7d (today and the 6 days before) or a date, 2026-11-01 "
        "[default: 30d].",
        metavar="7d|DATE",
        show_default=False,
    ),
    json_output: bool = options.json_output(
        "Print one object: totals, days, models; units as decimal strings."
    ),
) -> None:
    """Tasks and units per day and per model, from the journal.

    Offline: reads only this machine's journal of creates (no keys, no
    network). A task counts on the day it was created; tasks last seen running
    and creates whose outcome is unknown are counted apart, and finished tasks
    whose deduction mivid has not seen yet are named (`mivid get ID` or `mivid
    list` learns it). In a pipe: `total`, `day` and `model` lines, tab-separated.
    """
    from datetime import date

    from mivid.errors import InputError
    from mivid.flows.spending import spent as spent_in
    from mivid.render.views import SPENT
    from mivid.spending import parse_since

    run = state(ctx)
    today = date.today()
    first, problems = parse_since(since, today=today)
    if problems or first is None:
        raise InputError(problems)
    spending = spent_in(sandbox=run.settings.sandbox, since=first, today=today)
    with run.output.records(SPENT, run.output.form(json=json_output), one=True) as sink:
        sink.add(spending)
