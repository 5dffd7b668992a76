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

`cli.run` opens a `scope` around each run so one run's options never leak into
the next (tests run many in one process). A module value rather than a
context variable: a batch's worker threads build resume lines too.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from mivid.plaintext import public_url

_in_force: tuple[str, ...] = ()


def command(*words: str) -> str:
    """`mivid`, the global options in force, then `words`: one line a shell reads back as words."""
    return shlex.join(["mivid", *_in_force, *words])


def global_words() -> tuple[str, ...]:
    """The global options in force, as words (`--sandbox`, `--profile`, `work` …)."""
    return _in_force


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
    """Say which global options are in force for this run (the app does, once)."""
    global _in_force
    _in_force = tuple(words)


@contextmanager
def scope() -> Iterator[None]:
    """A run's own options in force: what `use` says inside is forgotten on leaving."""
    global _in_force
    saved = _in_force
    _in_force = ()
    try:
        yield
    finally:
        _in_force = saved
