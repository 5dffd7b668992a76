"""Options several commands share, declared once, and the checks of their values.

Each function returns a fresh `typer.Option(...)` (or `typer.Argument(...)`):
Typer keeps per-parameter state on that object, so one instance must never
serve two parameters. Where commands word an option's help differently (the
same flag in a different context) the help is an argument; the flag names,
metavar and default are what stays the same everywhere.

Imported by every command module at start-up: typer only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

#: Seconds before a task's second query (`mivid.waiting.PollSchedule`'s `first`).
DEFAULT_FIRST_INTERVAL = 1.0


def examples(*lines: str, before: str = "", after: str = "", title: str = "Examples") -> str:
    """An epilog whose example lines are never re-wrapped: a command is copied whole.

    click re-flows every paragraph of an epilog to the terminal's width, which
    breaks a long command in the middle; a paragraph opened by `\\b` is kept
    as written (the terminal itself may fold a long line, but pasting it gives
    the command back). `before` and `after` are prose paragraphs around them.
    """
    block = "\b\n" + "\n".join(f"  {part}" for line in lines for part in _fitted(line))
    return "\n\n".join(part for part in (before, f"{title}:", block, after) if part)


def _fitted(line: str) -> list[str]:
    """A long plain command as lines that fit 80 columns, continued with ` \\` (a shell reads
    them back as one); a line with a pipe, a redirection or a comment is left whole."""
    from mivid.app import HELP_WIDTH, shell_lines

    if len(line) <= HELP_WIDTH - 2 or any(mark in line for mark in "|<>#;&{\\"):
        return [line]
    return shell_lines(line)


def task_ids(help: str) -> Any:
    """`[ID]...`: task ids or external task ids; `-` reads them from stdin (see `picker`)."""
    return typer.Argument(None, help=help, metavar="ID", show_default=False)


def download_dir(help: str) -> Any:
    """`--download/-d DIR`: the videos' folder, in every command (saved into, or looked for in)."""
    return typer.Option(None, "--download", "-d", help=help, metavar="DIR", show_default=False)


def old_spelling(*names: str) -> Any:
    """An option's former name, still read but no longer shown (`download -o`, `open --dir`)."""
    return typer.Option(None, *names, hidden=True, show_default=False)


def one_folder(
    folder: Path | None, old: Path | None, old_name: str, *, default: Path | None = None
) -> tuple[Path | None, list[str]]:
    """The folder given as `--download` or by its old name; a problem when both are given."""
    if folder is not None and old is not None and folder != old:
        return folder, [f"{old_name}: the old name of --download; give one of them"]
    chosen = folder if folder is not None else old
    return (chosen if chosen is not None else default), []


def folder_problems(folder: Path | None, *, given_as: str | None = None) -> list[str]:
    """Why videos could not be saved into `folder` (`-d/--download`), checked before any work.

    `given_as` names the option when it was given by another spelling (`--output`).
    """
    from mivid.files import DOWNLOAD_OPTION
    from mivid.files import folder_problems as problems_of

    if folder is None:
        return []
    return [problem.text for problem in problems_of(folder, option=given_as or DOWNLOAD_OPTION)]


def watermarked(help: str = "With --download: save the watermarked copy.") -> Any:
    return typer.Option(False, "--watermarked", help=help)


def force(help: str = "With --download: replace existing files of another size.") -> Any:
    return typer.Option(False, "--force", help=help)


def json_output(help: str) -> Any:
    return typer.Option(False, "--json", help=help)


def quiet(help: str = "Print the task ids alone, one a line.") -> Any:
    """`-q/--quiet`: ids on stdout, one a line; no sandbox banner or live view on stderr."""
    return typer.Option(False, "--quiet", "-q", help=help)


def form_problems(*, json_output: bool, quiet: bool) -> list[str]:
    """`-q` and `--json` each choose what stdout holds: together they contradict each other."""
    if json_output and quiet:
        return ["--quiet: not with --json (ids alone, or JSON: pick one)"]
    return []


def dry_run(help: str) -> Any:
    return typer.Option(False, "--dry-run", help=help)


def poll_interval(
    help: str = "Seconds between a task's queries at first; the pause then grows to 12 s.",
    *,
    default: float = DEFAULT_FIRST_INTERVAL,
) -> Any:
    """`--interval SECONDS`: the pause between two queries of the service (`wait`, `batch`,
    `list --watch`), with one range everywhere (`poll_interval_problems`)."""
    return typer.Option(default, "--interval", help=help, metavar="SECONDS")


def no_journal() -> Any:
    return typer.Option(
        False,
        "--no-journal",
        help="Send even though the local journal of creates cannot be used: nothing is "
        "written down, so `mivid recover` cannot settle a lost answer.",
    )


def timeout(help: str) -> Any:
    return typer.Option(None, "--timeout", help=help, metavar="SECONDS", show_default=False)


def fit(help: str) -> Any:
    return typer.Option(False, "--fit", help=help)


def fit_mode(help: str) -> Any:
    return typer.Option(None, "--fit-mode", help=help, metavar="pad|crop", show_default=False)


def create_field(name: str, *short: str, help: str) -> Any:
    """A create field's option (`--mode`, `--duration` …), as `mivid.vocabulary` declares it.

    A choice's metavar lists every value an endpoint allows (`std|pro`).
    """
    from mivid.endpoints import all_choices
    from mivid.vocabulary import CHOICE, FIELDS_BY_NAME

    spec = FIELDS_BY_NAME[name]
    if spec.kind == CHOICE and spec.choices is not None:
        metavar = "|".join(all_choices(spec.choices))
    else:
        metavar = spec.metavar
    return typer.Option(None, spec.option, *short, metavar=metavar, help=help, show_default=False)


#: `--interval`'s range, the same for every command that has it.
INTERVAL_RANGE = (0.1, 600.0)


def poll_interval_problems(interval: float) -> list[str]:
    low, high = INTERVAL_RANGE
    if not low <= interval <= high:
        return [f"--interval: {interval:g} — must be from {low:g} to {high:g} seconds"]
    return []


def timeout_problems(timeout: float | None) -> list[str]:
    if timeout is not None and not 0 <= timeout < float("inf"):  # NaN fails too
        return [f"--timeout: {timeout:g} — must be a number of seconds, not negative"]
    return []


def fit_choice(fit: bool, fit_mode: str | None) -> tuple[str | None, list[str]]:
    """How to fit images ("pad", "crop", or None for not at all), and the problems.

    `--fit-mode` implies `--fit`; an unknown mode is a problem (and "pad" meanwhile,
    so the images' other problems can still be reported at once).
    """
    problems = []
    if fit_mode not in (None, "pad", "crop"):
        problems.append(f"--fit-mode: {fit_mode!r} is not a choice — use pad or crop")
    if not (fit or fit_mode):
        return None, problems
    return (fit_mode if fit_mode in ("pad", "crop") else "pad"), problems


def max_units(help: str) -> Any:
    """`--max-units N`: what the creates of this run may cost, in units (a decimal)."""
    return typer.Option(None, "--max-units", help=help, metavar="N", show_default=False)


def max_units_value(value: str | None) -> tuple[Any, list[str]]:
    """`--max-units`'s value as a `Decimal` (None when not given), and its problems."""
    if value is None:
        return None, []
    from mivid.units import parse_units

    limit = parse_units(value)
    if limit is None or limit <= 0:
        return None, [
            f"--max-units: `{value}` — must be a number of units above 0 (e.g. 20 or 4.5)"
        ]
    return limit, []


def gallery() -> Any:
    """`--gallery`: with `--download DIR`, bring DIR/index.html up to date at the end."""
    return typer.Option(
        False,
        "--gallery",
        help="With --download: bring DIR/index.html (mivid gallery) up to date at the end; "
        "failed tasks show their reason there.",
    )


def gallery_problems(gallery: bool, download_dir: object) -> list[str]:
    if gallery and download_dir is None:
        return ["--gallery: only with --download DIR (the page shows the videos saved there)"]
    return []
