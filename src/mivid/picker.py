"""Pick a task instead of pasting its id: a numbered menu of the most recent tasks.

`get`, `wait`, `download` and `open` find the ids they act on with
`ids_or_pick`: the ids given (`-` reads them from stdin, see `read_ids`) or,
when none is given, the one a person picks. On a terminal (stdin and stderr
both) it lists the newest tasks on stderr —
number, status, age, task id, prompt snippet for tasks the journal knows —
and reads a number from stdin. Anywhere else a missing id is a usage error
at once (exit 2): a script must never hang on a question nobody sees.

The menu goes to stderr so that stdout stays the command's result
(`mivid get --json > task.json` still works with the picker).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from mivid.errors import InputError

if TYPE_CHECKING:
    from mivid.app import AppState

MENU_SIZE = 10
ATTEMPTS = 3


def _is_tty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def can_pick() -> bool:
    """A person is there to answer: stdin and stderr are terminals."""
    return _is_tty(sys.stdin) and _is_tty(sys.stderr)


def ids_or_pick(
    run: AppState,
    arguments: Sequence[str] | None,
    *,
    command: str,
    statuses: Sequence[str] | None = None,
) -> list[str]:
    """The ids given (see `read_ids`), or the one a person picks on a terminal.

    `statuses` limits the menu (e.g. only finished tasks for `download`).
    Raises InputError (exit 2) at once when no id is given and nobody can answer.
    """
    if arguments:
        return read_ids(list(arguments))
    if not can_pick():
        raise InputError(
            "ID: missing — give a task id or external task id (or - to read ids from stdin)",
            hint=f"on a terminal, `mivid {command}` without an id offers a menu of recent "
            f"tasks; in a script: mivid list -q | head -1 | mivid {command} -",
        )
    with run.client() as client:
        tasks: list[dict[str, Any]] = client.list_tasks(page=1, page_size=30)
    if statuses is not None:
        tasks = [task for task in tasks if task.get("task_status") in statuses]
    tasks = tasks[:MENU_SIZE]
    if not tasks:
        which = f" {' or '.join(statuses)}" if statuses else ""
        raise InputError(f"ID: missing, and there is no{which} task to pick from")
    return [pick_task(run, tasks, action=command)]


def read_ids(arguments: list[str]) -> list[str]:
    """The ids given; `-` stands for ids read one per line from stdin. Each id once."""
    ids: list[str] = []
    for argument in arguments:
        if argument != "-":
            ids.append(argument.strip())
            continue
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError(
                "ID -: reads task ids from stdin, but stdin is a terminal",
                hint="pipe them in: mivid list -q --status processing | mivid wait -",
            )
        ids.extend(line.strip() for line in sys.stdin if line.strip())
    problems = [f"ID `{task_id}`: must not be empty" for task_id in ids if not task_id]
    if not ids and "-" in arguments:
        problems.append("ID -: stdin held no task ids")
    elif not ids:
        problems.append("ID: give at least one task id (or - to read them from stdin)")
    if problems:
        raise InputError(problems)
    return list(dict.fromkeys(ids))


def pick_task(
    run: AppState,
    tasks: Sequence[dict[str, Any]],
    *,
    action: str,
    read_line: Callable[[], str] | None = None,
) -> str:
    """Show the menu of `tasks` on stderr and return the id of the one picked.

    Empty input, `q` or end of input cancel (KeyboardInterrupt: exit 130, as Ctrl-C).
    """
    from rich.table import Table
    from rich.text import Text

    from mivid.render import STATUS_STYLES
    from mivid.sidecar import known_entries, one_line

    read = read_line or sys.stdin.readline
    console = run.output.err()
    known = known_entries(str(task["task_id"]) for task in tasks)
    rows = []
    for number, task in enumerate(tasks, start=1):
        task_id = str(task["task_id"])
        status = str(task.get("task_status", ""))
        entry = known.get(task_id)
        prompt = one_line(str(entry.request.get("prompt") or "")) if entry is not None else ""
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
    question = f"Pick a task to {action} [1-{len(tasks)}, q to quit]: "
    for _ in range(ATTEMPTS):
        sys.stderr.write(question)
        sys.stderr.flush()
        answer = read()
        choice = answer.strip().lower()
        if not answer or choice in ("q", "quit"):
            raise KeyboardInterrupt
        if not choice:
            continue
        if choice.isdigit() and 1 <= int(choice) <= len(tasks):
            return str(tasks[int(choice) - 1]["task_id"])
        sys.stderr.write(f"`{answer.strip()}` is not a number from 1 to {len(tasks)}\n")
    raise InputError(f"ID: no task picked after {ATTEMPTS} tries")


def _age(created_at: Any) -> str:
    from mivid.render import relative_time

    if isinstance(created_at, bool) or not isinstance(created_at, (int, float)):
        return "-"
    return relative_time(datetime.fromtimestamp(created_at / 1000, timezone.utc)) or "-"
