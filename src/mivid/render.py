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
    from collections.abc import Mapping

    from rich.console import Console, RenderableType

    from mivid.errors import MividError
    from mivid.journal import JournalEntry
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

    def created_task(self, task: Task, *, sandbox: bool, progress: bool = False) -> None:
        """The answer to `create`, for a person.

        With `progress` (`create --wait`: the result is the wait's summary) it goes
        to stderr, so stdout carries one result in one format.
        """
        follow = f"mivid{' --sandbox' if sandbox else ''} wait {task.task_id}"
        rows = [("task id", task.task_id), ("status", task.task_status)]
        if task.external_task_id:
            rows.append(("external id", task.external_task_id))
        rows.append(("follow it", follow))
        if progress:
            if self.stderr_is_tty:
                self.err().print(self._created_panel(rows))
            else:
                self.stderr.write("".join(f"{name}: {value}\n" for name, value in rows))
                self.stderr.flush()
            return
        if self.stdout_is_tty:
            self.out().print(self._created_panel(rows))
        else:
            for name, value in rows:
                self.line(f"{name}: {value}")

    def _created_panel(self, rows: list[tuple[str, str]]) -> RenderableType:
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for name, value in rows:
            style = STATUS_STYLES.get(value, "") if name == "status" else ""
            grid.add_row(name, Text(value, style=style))
        return Panel(grid, title="task created", expand=False)

    def task_panel(self, task: Task, *, local: Mapping[str, Any] | None = None) -> None:
        """`mivid get` for a person: every field that tells where the task stands.

        `local` (see `mivid.sidecar.local_info`) adds the prompt and images the
        journal remembers.
        """
        rows = task_rows(task, local=local)
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
            from mivid.sidecar import escape_cell

            for name, value in rows:
                self.line(f"{name}: {escape_cell(value) if 'prompt' in name else value}")

    def task_table(self, tasks: list[Task], *, prompts: Mapping[str, str] | None = None) -> None:
        """`mivid list`: a table that fits the terminal, or tab-separated lines in a pipe.

        `prompts` (task id → prompt, for tasks the journal knows) adds a PROMPT
        column on a terminal and, escaped, the last column of every pipe line.
        """
        prompts = prompts or {}
        if not self.stdout_is_tty:
            from mivid.sidecar import escape_cell

            for task in tasks:
                cells = [tsv_cell(cell) for cell in task_tsv_row(task)]
                cells.append(escape_cell(prompts.get(task.task_id, "")))
                self.line("\t".join(cells))
            return
        if not tasks:
            self.note("no tasks")
            return
        self.out().print(self.task_table_view(tasks, prompts=prompts))

    def task_table_view(
        self, tasks: list[Task], *, prompts: Mapping[str, str] | None = None
    ) -> RenderableType:
        """The terminal table of `task_table` (also redrawn by `list --watch`)."""
        from rich.table import Table
        from rich.text import Text

        from mivid.sidecar import one_line

        prompts = prompts or {}
        with_prompts = any(task.task_id in prompts for task in tasks)
        rows = []
        for task in tasks:
            first = task.videos[0] if task.videos else None
            row = [
                task.task_id,
                task.task_status,
                relative_time(task.created) or "-",
                f"{first.duration}s" if first is not None and first.duration else "",
                task.external_task_id or "",
                (first.url or "") if first is not None else "",
            ]
            if with_prompts:
                row.insert(4, one_line(prompts.get(task.task_id, "")))
            rows.append(row)
        headers = ["TASK ID", "STATUS", "CREATED", "LENGTH", "EXTERNAL ID", "VIDEO"]
        if with_prompts:
            headers.insert(4, "PROMPT")
        widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
        # The id, status, time and length keep their width; the prompt, the external
        # id and then the URL give way (cut with an ellipsis) when the terminal is narrow.
        room = self.out().width - 2 * (len(headers) - 1) - sum(widths[:4])
        flexible = widths[4:]
        if with_prompts:
            flexible[0] = min(flexible[0], max(12, min(40, room - 11 - 5)))
            room -= flexible[0]
        ext, url = len(flexible) - 2, len(flexible) - 1
        flexible[ext] = min(flexible[ext], max(11, room - min(flexible[url], 40)))
        flexible[url] = min(flexible[url], max(5, room - flexible[ext]))
        widths[4:] = flexible
        table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
        for header, width in zip(headers, widths, strict=True):
            table.add_column(header, no_wrap=True, width=width)
        for row in rows:
            cells = [Text(_cut(value, widths[i])) for i, value in enumerate(row)]
            cells[1].stylize(STATUS_STYLES.get(row[1], ""))
            if with_prompts:
                cells[4].stylize("italic")
            table.add_row(*cells)
        return table

    def journal_table(self, entries: list[JournalEntry]) -> None:
        """`mivid list --local`: the journal's creates, newest first (table, or lines in a pipe).

        The lines in a pipe: task id, status, created (ISO, UTC), external id,
        service, prompt (tabs and newlines escaped).
        """
        from mivid.sidecar import escape_cell, iso_seconds, one_line, public_url

        if not self.stdout_is_tty:
            for entry in entries:
                fields = [
                    entry.task_id or "",
                    entry.status,
                    iso_seconds(entry.created),
                    entry.external_task_id,
                    public_url(entry.service),
                ]
                prompt = str(entry.request.get("prompt") or "")
                self.line("\t".join([*map(tsv_cell, fields), escape_cell(prompt)]))
            return
        if not entries:
            self.note("the journal holds no creates yet")
            return
        from rich.table import Table
        from rich.text import Text

        headers = ["TASK ID", "STATUS", "CREATED", "EXTERNAL ID", "PROMPT"]
        rows = [
            [
                entry.task_id or "-",
                entry.status,
                relative_time(datetime.fromtimestamp(entry.created, timezone.utc)) or "-",
                entry.external_task_id,
                one_line(str(entry.request.get("prompt") or "")),
            ]
            for entry in entries
        ]
        widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
        room = self.out().width - 2 * (len(headers) - 1) - sum(widths[:3])
        widths[3] = min(widths[3], max(11, room - min(widths[4], 40)))
        widths[4] = min(widths[4], max(10, room - widths[3]))
        table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
        for header, width in zip(headers, widths, strict=True):
            table.add_column(header, no_wrap=True, width=width)
        for row in rows:
            cells = [Text(_cut(value, widths[i])) for i, value in enumerate(row)]
            cells[1].stylize(STATUS_STYLES.get(row[1], "dim"))
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


def task_rows(
    task: Task, *, now: datetime | None = None, local: Mapping[str, Any] | None = None
) -> list[tuple[str, str]]:
    """The task panel's rows, in order (shared by the terminal and plain views)."""
    rows = [("task id", task.task_id), ("status", task.task_status)]
    if task.task_status_msg:
        rows.append(("reason", task.task_status_msg))
    if task.external_task_id:
        rows.append(("external id", task.external_task_id))
    if local is not None:
        rows.extend(_local_rows(local))
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


def _local_rows(local: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The prompt and images the journal remembers, as panel rows."""
    rows: list[tuple[str, str]] = []
    if local.get("prompt"):
        rows.append(("prompt", str(local["prompt"])))
    if local.get("negative_prompt"):
        rows.append(("negative prompt", str(local["negative_prompt"])))
    images = local.get("images") or []
    for index, image in enumerate(images, start=1):
        label = f"image {index}" if len(images) > 1 else "image"
        if "url" in image:
            rows.append((label, str(image["url"])))
            continue
        size = f"{image.get('width')}×{image.get('height')}"
        digest = str(image.get("sha256") or "")[:12]
        rows.append((label, f"{image.get('name')} ({size}, sha256 {digest}…)"))
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


def tsv_cell(value: str) -> str:
    """A value for one cell of a tab-separated line: tabs and newlines become spaces."""
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


def elapsed_time(seconds: float) -> str:
    """'7s', '2m05s' — how long a task has been running, for live views."""
    seconds = int(max(0, seconds))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
