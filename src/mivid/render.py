"""What people and scripts see: rich panels and tables on a terminal, plain text or JSON otherwise.

Owns the two output streams: stdout carries results, stderr carries progress,
warnings and errors. Colour and live displays appear only on a terminal, never
with `NO_COLOR` or `--no-color`, and never on stdout with `--json`. rich is
imported only when something is drawn for a person on a terminal, which keeps
scripted runs fast.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

    from mivid.errors import MividError
    from mivid.models import Task

STATUS_STYLES = {
    "submitted": "yellow",
    "processing": "cyan",
    "succeed": "green",
    "failed": "red",
}


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass
class Output:
    """The run's output policy, decided once from flags, environment and terminals."""

    no_color: bool = False
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    _out: Console | None = field(default=None, repr=False)
    _err: Console | None = field(default=None, repr=False)

    @property
    def color(self) -> bool:
        return not self.no_color and "NO_COLOR" not in os.environ

    @property
    def stdout_is_tty(self) -> bool:
        return _is_tty(self.stdout)

    @property
    def stderr_is_tty(self) -> bool:
        return _is_tty(self.stderr)

    def out(self) -> Console:
        """A rich console on stdout (only for people on a terminal)."""
        if self._out is None:
            self._out = self._console(self.stdout)
        return self._out

    def err(self) -> Console:
        """A rich console on stderr: progress, live status, warnings."""
        if self._err is None:
            self._err = self._console(self.stderr)
        return self._err

    def _console(self, stream: TextIO) -> Console:
        from rich.console import Console

        return Console(
            file=stream,
            no_color=not self.color,
            highlight=False,
            soft_wrap=False,
            emoji=False,
        )

    # -- plain writing ---------------------------------------------------------------

    def json(self, value: Any) -> None:
        """Pure JSON on stdout: one document, nothing else."""
        self.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")
        self.stdout.flush()

    def line(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def note(self, text: str, *, style: str = "dim") -> None:
        """A line for people on stderr (progress, hints)."""
        if self.stderr_is_tty and self.color:
            self.err().print(text, style=style, markup=False)
        else:
            self.stderr.write(text + "\n")
            self.stderr.flush()

    def warn(self, text: str) -> None:
        self._labelled("warning", "yellow", [text])

    def error(self, error: MividError) -> None:
        lines = error.lines()
        if error.request_id:
            lines = [*lines[:-1], f"{lines[-1]} (request_id {error.request_id})"] if lines else []
        self._labelled("error", "red", lines)
        if error.hint:
            self._labelled("hint", "blue", [error.hint])

    def _labelled(self, label: str, style: str, lines: list[str]) -> None:
        if self.stderr_is_tty and self.color:
            from rich.text import Text

            console = self.err()
            for text in lines:
                console.print(Text.assemble((f"{label}: ", f"bold {style}"), text), soft_wrap=True)
        else:
            for text in lines:
                self.stderr.write(f"{label}: {text}\n")
            self.stderr.flush()

    # -- people's views ----------------------------------------------------------------

    def status_text(self, status: str) -> str:
        return status

    def created_task(self, task: Task, *, sandbox: bool) -> None:
        """The answer to `create`, for a person."""
        follow = f"mivid{' --sandbox' if sandbox else ''} wait {task.task_id}"
        rows = [("task id", task.task_id), ("status", task.task_status)]
        if task.external_task_id:
            rows.append(("external id", task.external_task_id))
        rows.append(("follow it", follow))
        if self.stdout_is_tty:
            from rich.panel import Panel
            from rich.table import Table

            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold")
            grid.add_column()
            for name, value in rows:
                style = STATUS_STYLES.get(value, "") if name == "status" else ""
                grid.add_row(name, value, style=style)
            self.out().print(Panel(grid, title="task created", expand=False))
        else:
            for name, value in rows:
                self.line(f"{name}: {value}")


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def iso_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def relative_time(moment: datetime | None, *, now: datetime | None = None) -> str:
    """'4 min ago', 'just now', 'in 2 h' — for people."""
    if moment is None:
        return ""
    now = now or datetime.now(timezone.utc)
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = int(seconds // size)
            return f"in {amount} {unit}" if future else f"{amount} {unit} ago"
    return "just now"
