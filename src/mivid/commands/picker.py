"""Pick a task instead of pasting its id: the ids given, `-` read from stdin, or a menu.

`get`, `wait`, `download` and `open` find the ids they act on with
`ids_or_pick`: the ids given (`-` reads them from stdin, see `read_ids`) or,
when none is given, the one a person picks. On a terminal (stdin and stderr
both) it lists the newest tasks on stderr (`mivid.render.menu`) and reads a
number from stdin. Anywhere else a missing id is a usage error at once
(exit 2): a script must never hang on a question nobody sees.

A helper of the command layer, not a command: commands import it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mivid import hints
from mivid.errors import InputError
from mivid.render import is_tty

if TYPE_CHECKING:
    from mivid.app import AppState
    from mivid.flows.listing import Listed

MENU_SIZE = 10
ATTEMPTS = 3


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
    if not run.output.can_ask:
        raise InputError(
            "ID: missing — give a task id or external task id (or - to read ids from stdin)",
            hint=f"on a terminal, `{hints.command(command)}` without an id offers a menu of "
            f"recent tasks; in a script: {hints.command('list', '-q')} | head -1 | "
            f"{hints.command(command, '-')}",
        )
    from mivid.flows.listing import fetch_tasks
    from mivid.vocabulary import status_of

    with run.client() as client:
        tasks = fetch_tasks(client, page=1, page_size=30)  # every endpoint's, newest first
    if statuses is not None:
        tasks = [item for item in tasks if status_of(item.task) in statuses]
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
        if sys.stdin is None or is_tty(sys.stdin):
            raise InputError(
                "ID -: reads task ids from stdin, but stdin is a terminal",
                hint=f"pipe them in: {hints.command('list', '-q', '--status', 'processing')} | "
                f"{hints.command('wait', '-')}",
            )
        from mivid.files import MAX_STDIN_IDS_BYTES, read_stdin

        text = read_stdin(sys.stdin, subject="ID -", limit=MAX_STDIN_IDS_BYTES)
        ids.extend(line.strip() for line in text.splitlines() if line.strip())
    problems = [f"ID `{task_id}`: must not be empty" for task_id in ids if not task_id]
    if not ids and "-" in arguments:
        problems.append("ID -: stdin held no task ids")
    elif not ids:
        problems.append("ID: give at least one task id (or - to read them from stdin)")
    if problems:
        raise InputError(problems)
    return list(dict.fromkeys(ids))


def pick_task(run: AppState, listed: Sequence[Listed], *, action: str) -> str:
    """Show the menu of `listed` tasks on stderr and return the id of the one picked.

    Empty input, `q` or end of input cancel (KeyboardInterrupt: exit 130, as Ctrl-C).
    """
    from mivid.flows.listing import prompts_of
    from mivid.render.menu import ask, task_menu

    out = run.output
    tasks = [item.task for item in listed]
    task_menu(out, tasks, prompts_of(listed))
    question = f"Pick a task to {action} [1-{len(tasks)}, q to quit]: "
    for _ in range(ATTEMPTS):
        ask(out, question)
        answer = sys.stdin.readline()
        choice = answer.strip().lower()
        if not answer or choice in ("q", "quit"):
            raise KeyboardInterrupt
        if not choice:
            continue
        if choice.isdigit() and 1 <= int(choice) <= len(tasks):
            return str(tasks[int(choice) - 1]["task_id"])
        ask(out, f"`{answer.strip()}` is not a number from 1 to {len(tasks)}\n")
    raise InputError(f"ID: no task picked after {ATTEMPTS} tries")
