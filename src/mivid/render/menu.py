"""The picker's menu: recent tasks, numbered, on stderr (stdout stays the command's result)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mivid.plaintext import from_millis, one_line, relative_time
from mivid.render.output import Output
from mivid.render.views import STATUS_STYLES


def _age(created_at: Any) -> str:
    return relative_time(from_millis(created_at)) or "-"


def task_menu(out: Output, tasks: Sequence[dict[str, Any]], prompts: Mapping[str, str]) -> None:
    """Number, status, age, task id, and the prompt for tasks the journal knows."""
    from rich.table import Table
    from rich.text import Text

    console = out.err()
    rows = []
    for number, task in enumerate(tasks, start=1):
        task_id = str(task["task_id"])
        status = str(task.get("task_status", ""))
        prompt = one_line(prompts.get(task_id, ""))
        rows.append((str(number), status, _age(task.get("created_at")), task_id, prompt))
    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    # The number, status, age and id are what a person picks by: never cut; the prompt gives way.
    room = console.width
    for index, header in enumerate(("#", "STATUS", "AGE", "TASK ID")):
        width = max(len(header), *(len(row[index]) for row in rows))
        table.add_column(header, no_wrap=True, min_width=width)
        room -= width + 2
    table.add_column("PROMPT", no_wrap=True)
    for label, status, age, task_id, prompt in rows:
        if len(prompt) > max(room, 10):
            prompt = prompt[: max(room, 10) - 1] + "…"
        table.add_row(
            label,
            Text(status, style=STATUS_STYLES.get(status, "")),
            age,
            task_id,
            Text(prompt, style="italic") if prompt else Text("-", style="dim"),
        )
    console.print(table)


def ask(out: Output, question: str) -> None:
    """A question (or a word about the last answer) on stderr, the cursor left after it."""
    out.prompt(question)
