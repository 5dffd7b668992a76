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
            from rich.text import Text

            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold")
            grid.add_column()
            for name, value in rows:
                style = STATUS_STYLES.get(value, "") if name == "status" else ""
                grid.add_row(name, Text(value, style=style))
            self.out().print(Panel(grid, title="task created", expand=False))
        else:
            for name, value in rows:
                self.line(f"{name}: {value}")

    def task_panel(self, task: Task) -> None:
        """`mivid get` for a person: every field that tells where the task stands."""
        rows = task_rows(task)
        if self.stdout_is_tty:
            from rich.panel import Panel
            from rich.table import Table
            from rich.text import Text

            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold", no_wrap=True)
            grid.add_column(overflow="fold")
            for name, value in rows:
                style = STATUS_STYLES.get(value, "") if name == "status" else ""
                if name == "reason":
                    style = "red"
                grid.add_row(name, Text(value, style=style))
            self.out().print(Panel(grid, title=f"task {task.task_id}", expand=False))
        else:
            for name, value in rows:
                self.line(f"{name}: {value}")

    def task_table(self, tasks: list[Task]) -> None:
        """`mivid list`: a table that fits the terminal, or tab-separated lines in a pipe."""
        if not self.stdout_is_tty:
            for task in tasks:
                self.line("\t".join(_tsv_cell(cell) for cell in task_tsv_row(task)))
            return
        from rich.table import Table
        from rich.text import Text

        if not tasks:
            self.note("no tasks")
            return
        rows = []
        for task in tasks:
            first = task.videos[0] if task.videos else None
            rows.append(
                [
                    task.task_id,
                    task.task_status,
                    relative_time(task.created) or "-",
                    f"{first.duration}s" if first is not None and first.duration else "",
                    task.external_task_id or "",
                    (first.url or "") if first is not None else "",
                ]
            )
        headers = ["TASK ID", "STATUS", "CREATED", "LENGTH", "EXTERNAL ID", "VIDEO"]
        widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
        # The id, status, time and length keep their width; the external id and then
        # the URL give way (cut with an ellipsis) when the terminal is narrow.
        room = self.out().width - 2 * (len(headers) - 1)
        widths[4] = min(widths[4], max(11, room - sum(widths[:4]) - min(widths[5], 40)))
        widths[5] = min(widths[5], max(5, room - sum(widths[:5])))
        table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
        for header, width in zip(headers, widths, strict=True):
            table.add_column(header, no_wrap=True, width=width)
        for row in rows:
            cells = [Text(_cut(value, widths[i])) for i, value in enumerate(row)]
            cells[1].stylize(STATUS_STYLES.get(row[1], ""))
            table.add_row(*cells)
        self.out().print(table)

    def wait_summary(self, tasks: list[Task], *, saved: dict[str, list[str]] | None = None) -> None:
        """What `wait` prints at the end for a person: one block per task."""
        for task in tasks:
            status = task.task_status
            if self.stdout_is_tty and self.color:
                from rich.text import Text

                line = Text.assemble(
                    (task.task_id, "bold"), "  ", (status, STATUS_STYLES.get(status, ""))
                )
                self.out().print(line)
            else:
                self.line(f"{task.task_id}\t{status}")
            if status == "failed" and task.task_status_msg:
                self.line(f"  reason: {task.task_status_msg}")
            for video in task.videos:
                if video.url:
                    self.line(f"  video: {video.url}")
                if video.watermark_url:
                    self.line(f"  watermarked: {video.watermark_url}")
            for path in (saved or {}).get(task.task_id, []):
                self.line(f"  saved: {path}")


def task_rows(task: Task, *, now: datetime | None = None) -> list[tuple[str, str]]:
    """The task panel's rows, in order (shared by the terminal and plain views)."""
    rows = [("task id", task.task_id), ("status", task.task_status)]
    if task.task_status_msg:
        rows.append(("reason", task.task_status_msg))
    if task.external_task_id:
        rows.append(("external id", task.external_task_id))
    for name, moment in (("created", task.created), ("updated", task.updated)):
        if moment is not None:
            rows.append((name, f"{local_time(moment)} ({relative_time(moment, now=now)})"))
    several = len(task.videos) > 1
    for index, video in enumerate(task.videos, start=1):
        label = f"video {index}" if several else "video"
        if video.url:
            length = f" ({video.duration} s)" if video.duration else ""
            rows.append((label, f"{video.url}{length}"))
        if video.watermark_url:
            rows.append((f"watermarked {index}" if several else "watermarked", video.watermark_url))
    if task.final_unit_deduction:
        rows.append(("units", task.final_unit_deduction))
    return rows


def task_tsv_row(task: Task) -> list[str]:
    """task id, status, created (ISO, UTC), duration, external id, first video URL."""
    first = task.videos[0] if task.videos else None
    return [
        task.task_id,
        task.task_status,
        iso_time(task.created),
        first.duration or "" if first is not None else "",
        task.external_task_id or "",
        first.url or "" if first is not None else "",
    ]


def _tsv_cell(value: str) -> str:
    return value.replace("\t", " ").replace("\n", " ")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


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
