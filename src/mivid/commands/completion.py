"""`mivid completion SHELL`: print the shell's completion script (made by mivid.shells)."""

from __future__ import annotations

import typer

from mivid.app import app, state
from mivid.commands import options
from mivid.errors import InputError


@app.command(
    epilog=options.examples(
        "source <(mivid completion bash)         # this shell only",
        "mivid completion bash > ~/.local/share/bash-completion/completions/mivid",
        "mivid completion zsh > ~/.zfunc/_mivid   # a folder on $fpath",
        "mivid completion fish > ~/.config/fish/completions/mivid.fish",
        after="pip and pipx installs also put the scripts under the environment's share/ "
        "folder (share/bash-completion/completions, share/zsh/site-functions, "
        "share/fish/vendor_completions.d).",
    )
)
def completion(
    ctx: typer.Context,
    shell: str = typer.Argument(
        ..., help="bash, zsh or fish.", metavar="SHELL", show_default=False
    ),
) -> None:
    """Print the completion script for bash, zsh or fish.

    It completes commands, options, their values, image files for create, jobs
    files for batch and folders. Completing runs no Python.
    """
    from mivid.shells import SHELLS, describe

    if shell not in SHELLS:
        raise InputError(f"SHELL `{shell}`: not one of {', '.join(SHELLS)}")
    state(ctx).output.stdout.write(SHELLS[shell](describe(ctx.find_root().command)))
