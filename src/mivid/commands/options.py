"""Options several commands share, declared once, and the checks of their values.

Each function returns a fresh `typer.Option(...)` (or `typer.Argument(...)`):
Typer keeps per-parameter state on that object, so one instance must never
serve two parameters. Where commands word an option's help differently (the
same flag in a different context) the help is an argument; the flag names,
metavar and default are what stays the same everywhere.

Imported by every command module at start-up: typer only.
"""

from __future__ import annotations

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
    block = "\b\n" + "\n".join(f"  {line}" for line in lines)
    return "\n\n".join(part for part in (before, f"{title}:", block, after) if part)


def task_ids(help: str) -> Any:
    """`[ID]...`: task ids or external task ids; `-` reads them from stdin (see `picker`)."""
    return typer.Argument(None, help=help, metavar="ID", show_default=False)


def download_dir(help: str) -> Any:
    """`--download/-d DIR`: save the finished videos into this folder."""
    return typer.Option(None, "--download", "-d", help=help, metavar="DIR", show_default=False)


def watermarked(help: str = "With --download: save the watermarked copy.") -> Any:
    return typer.Option(False, "--watermarked", help=help)


def force(help: str = "With --download: replace existing files of another size.") -> Any:
    return typer.Option(False, "--force", help=help)


def json_output(help: str) -> Any:
    return typer.Option(False, "--json", help=help)


def quiet(help: str) -> Any:
    return typer.Option(False, "--quiet", "-q", help=help)


def dry_run(help: str) -> Any:
    return typer.Option(False, "--dry-run", help=help)


def poll_interval() -> Any:
    """`--interval SECONDS` of `wait` and `batch`: the start of the polling schedule."""
    return typer.Option(
        DEFAULT_FIRST_INTERVAL,
        "--interval",
        help="Seconds before a task's second query; the pause then grows to 12 s.",
        metavar="SECONDS",
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


def poll_interval_problems(interval: float) -> list[str]:
    if not 0.1 <= interval <= 600:
        return [f"--interval: {interval:g} — must be from 0.1 to 600 seconds"]
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
