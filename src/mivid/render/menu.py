"""The picker's menu: recent tasks, numbered, on stderr (stdout stays the command's result)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mivid.plaintext import cell_text, from_millis, one_line, relative_time
from mivid.render.output import Output
from mivid.render.views import STATUS_STYLES, cut_to, widest

if TYPE_CHECKING:
    from mivid.flows.listing import Listed

#: The least room the prompt keeps before the endpoint column gives way to it.
PROMPT_ROOM = 16


def _age(created_at: Any) -> str:
    return relative_time(from_millis(created_at)) or "-"


def task_menu(out: Output, listed: Sequence[Listed]) -> None:
    """Number, status, age, task id, endpoint, and the prompt for tasks the journal knows."""
    from rich.table import Table
    from rich.text import Text

    console = out.err()
    rows = []
    for number, item in enumerate(listed, start=1):
        task = item.task
        status = cell_text(str(task.get("task_status", "")))
        endpoint = item.endpoint.name if item.endpoint is not None else "-"
        prompt = one_line(item.prompt)
        age = _age(task.get("created_at"))
        rows.append((str(number), status, age, cell_text(item.task_id), endpoint, prompt))
    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    # The number, status, age and id are what a person picks by: never cut; the endpoint
    # (compact: its short name) goes before the prompt is cut below PROMPT_ROOM.
    headers = ["#", "STATUS", "AGE", "TASK ID", "ENDPOINT"]
    widths = [
        widest([header, *(row[index] for row in rows)]) for index, header in enumerate(headers)
    ]
    room = console.width - sum(width + 2 for width in widths)
    shown = any(item.endpoint is not None for item in listed) and room >= PROMPT_ROOM
    if not shown:
        headers, room = headers[:4], room + widths[4] + 2
    for header, width in zip(headers, widths, strict=False):
        table.add_column(header, no_wrap=True, min_width=width)
    table.add_column("PROMPT", no_wrap=True)
    for label, status, age, task_id, endpoint, prompt in rows:
        prompt = cut_to(prompt, max(room, 10))
        cells: list[Any] = [label, Text(status, style=STATUS_STYLES.get(status, "")), age, task_id]
        if shown:
            cells.append(Text(endpoint, style="dim" if endpoint == "-" else ""))
        cells.append(Text(prompt, style="italic") if prompt else Text("-", style="dim"))
        table.add_row(*cells)
    console.print(table)


def ask(out: Output, question: str) -> None:
    """A question (or a word about the last answer) on stderr, the cursor left after it."""
    out.prompt(question)
