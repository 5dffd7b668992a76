"""`mivid models`: the models mivid knows, where each is sent and what it takes (offline)."""

from __future__ import annotations

import typer

from mivid.app import app, state
from mivid.commands import options


@app.command(
    epilog=options.examples(
        "mivid models",
        "mivid models --json | jq -r '.[] | select(.endpoint == \"omni\") | .model'",
        "mivid config set model kling-v3-omni",
    )
)
def models(
    ctx: typer.Context,
    json_output: bool = options.json_output(
        "Print a JSON array: each model's endpoint, image counts, modes, durations, "
        "what else it takes, retirement date (null: none known)."
    ),
    quiet: bool = options.quiet("Print the model names alone, one a line."),
) -> None:
    """The models mivid knows: endpoint, images, durations, options.

    Offline. The model picks the endpoint: kling-v1-6 goes to Multi-Image to Video,
    the Omni models to Omni-Video. A model Kling adds later is never refused: give
    --endpoint multi-image|omni to `create` to send it. The default (a create
    without --model) is marked: `mivid config set model NAME` changes it. In a pipe:
    model, endpoint, images, modes, seconds, what else it takes, retirement date,
    and `default` on the default's line, tab-separated.
    """
    from mivid.endpoints import known_model_infos
    from mivid.render.views import MODELS

    run = state(ctx, quiet=quiet)
    problems = options.form_problems(json_output=json_output, quiet=quiet)
    if problems:
        from mivid.errors import InputError

        raise InputError(problems)
    infos = known_model_infos(run.settings.get("model"))
    with run.output.records(MODELS, run.output.form(json=json_output, quiet=quiet)) as sink:
        sink.extend(infos)
