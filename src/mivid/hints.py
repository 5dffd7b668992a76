"""Commands mivid prints for a person to run next: hints, resume lines, "follow it" — built one way.

A hint that is a command must work when pasted into the same shell, so it
carries the global options that were in force for this run and would be lost
otherwise: `--sandbox` (from the flag or `MIVID_SANDBOX`), and `--profile`,
`--region` and `--base-url` when they were given as flags (a value from the
environment or the config file still applies in that shell). A base URL's
`user:password@` is never printed (`plaintext.public_url`).

The app says once per run which options are in force (`use`, from the global
options' callback); everything else — commands, flows and the core's errors —
asks `command(...)` for the line, quoted for a POSIX shell:

    command("wait", "8672", "--download", "my videos")
    → "mivid --sandbox wait 8672 --download 'my videos'"

A `config` command leaves `--sandbox` out (`config_command`): settings are saved
in the config file either way.

What is in force is the run's, not the process's: a context variable, which
`cli.run` scopes to each run (`scope`), so two runs in one process — one after
the other, or side by side in two threads (tests run the CLI in process) —
never see each other's options. A run's worker threads (`mivid.waiting`) run
in a copy of its context, so the resume lines they build carry its options too.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from mivid.plaintext import public_url

#: The global options in force for the run in this context, as words.
_IN_FORCE: ContextVar[tuple[str, ...]] = ContextVar("mivid_hints_in_force", default=())


def command(*words: str) -> str:
    """`mivid`, the global options in force, then `words`: one line a shell reads back as words."""
    return shlex.join(["mivid", *_IN_FORCE.get(), *words])


def config_command(*words: str) -> str:
    """`mivid config …` with the global options in force but `--sandbox`: a setting is saved
    in the same config file with or without it (and `--profile` chooses the table)."""
    return shlex.join(
        ["mivid", *(w for w in _IN_FORCE.get() if w != "--sandbox"), "config", *words]
    )


def global_words() -> tuple[str, ...]:
    """The global options in force, as words (`--sandbox`, `--profile`, `work` …)."""
    return _IN_FORCE.get()


def global_options(
    *,
    sandbox: bool = False,
    profile: str | None = None,
    region: str | None = None,
    base_url: str | None = None,
) -> tuple[str, ...]:
    """The words for these global options, in the order `mivid --help` lists them."""
    words: list[str] = []
    if region:
        words += ["--region", region]
    if base_url:
        words += ["--base-url", public_url(base_url)]
    if profile:
        words += ["--profile", profile]
    if sandbox:
        words.append("--sandbox")
    return tuple(words)


def use(words: Sequence[str]) -> None:
    """Say which global options are in force for this run (the app does, once, in its `scope`)."""
    _IN_FORCE.set(tuple(words))


@contextmanager
def scope(words: Sequence[str] = ()) -> Iterator[None]:
    """A run's own options in force (`words` until `use` says others); forgotten on leaving."""
    token = _IN_FORCE.set(tuple(words))
    try:
        yield
    finally:
        _IN_FORCE.reset(token)
