"""Pick a task instead of pasting its id: the ids given, `-` read from stdin, or a menu.

`get`, `wait`, `download` and `open` find the ids they act on with
`ids_or_pick`: the ids given (`-` reads them from stdin, see `read_ids`) or,
when none is given, those a person picks. On a terminal (stdin and stderr
both) it lists the newest tasks on stderr (`mivid.render.menu`) and reads
numbers from stdin (`2`, `1 3`, `2-4`; `q`, Enter or Ctrl-D pick nothing). Anywhere else a missing id is a usage error at once
(exit 2): a script must never hang on a question nobody sees.

A helper of the command layer, not a command: commands import it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

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
    offer: Offer | None = None,
    several: bool = True,
) -> list[str]:
    """The ids given (see `read_ids`), or those a person picks on a terminal.

    `offer` limits the menu (finished tasks for `download`, unfinished ones for
    `wait`); `several`: the person may pick more than one (`1 3`, `2-4`).
    Raises InputError (exit 2) at once when no id is given and nobody can answer.
    An empty list means there is nothing to do (empty stdin for `-`, or nothing
    picked), and a note has said so.
    """
    if arguments:
        ids = read_ids(list(arguments))
        if not ids:
            run.output.note("nothing to do: stdin held no task ids")
        return ids
    if not run.output.can_ask:
        raise InputError(
            "ID: missing — give a task id or external task id (or - to read ids from stdin)",
            hint=f"on a terminal, `{hints.command(command)}` without an id offers a menu of "
            f"recent tasks; in a script: {hints.command('list', '-q')} | head -1 | "
            f"{hints.command(command, '-')}",
        )
    from mivid.flows import Say
    from mivid.flows.listing import fetch_tasks

    with run.client() as client:  # every endpoint's, newest first
        say = Say(run.output.note, run.output.warn_once)
        tasks = fetch_tasks(client, page=1, page_size=30, say=say)
    if offer is not None:
        tasks = [item for item in tasks if offer.accepts(item.task)]
    tasks = tasks[:MENU_SIZE]
    if not tasks and offer is not None:
        # Nothing to wait for (or to download) is nothing to do, as empty stdin is: exit 0.
        run.output.note(f"nothing to {_verb(command)}: there is no {offer.name} task")
        return []
    if not tasks:
        raise InputError("ID: missing, and there is no task to pick from")
    picked = pick_tasks(run, tasks, action=command, several=several)
    if not picked:
        run.output.note("nothing picked")
    return picked


class Offer:
    """Which tasks a menu offers: a name for them (`finished`) and the test."""

    def __init__(self, name: str, accepts: Callable[[dict[str, Any]], bool]) -> None:
        self.name = name
        self.accepts = accepts


def finished_tasks() -> Offer:
    from mivid.vocabulary import succeeded

    return Offer("finished", succeeded)


def unfinished_tasks() -> Offer:
    from mivid.vocabulary import is_final

    return Offer("unfinished", lambda task: not is_final(task))


def read_ids(arguments: list[str]) -> list[str]:
    """The ids given; `-` stands for ids read one per line from stdin. Each id once.

    Only `-` with nothing on stdin gives no id at all: a pipeline that matched
    nothing (`mivid list ... | jq ... | mivid wait -`) has nothing to do.
    """
    ids: list[str] = []
    for argument in arguments:
        if argument != "-":
            ids.append(argument.strip())
            continue
        if sys.stdin is None or is_tty(sys.stdin):
            raise InputError(
                "ID -: reads task ids from stdin, but stdin is a terminal",
                hint=f"pipe them in: {hints.command('list', '-q', '--status', 'unfinished')} | "
                f"{hints.command('wait', '-')}",
            )
        from mivid.files import MAX_STDIN_IDS_BYTES, read_stdin

        text = read_stdin(sys.stdin, subject="ID -", limit=MAX_STDIN_IDS_BYTES)
        ids.extend(line.strip() for line in text.splitlines() if line.strip())
    problems = [f"ID `{task_id}`: must not be empty" for task_id in ids if not task_id]
    if not ids and "-" not in arguments:
        problems.append("ID: give at least one task id (or - to read them from stdin)")
    if problems:
        raise InputError(problems)
    return list(dict.fromkeys(ids))


def pick_tasks(run: AppState, listed: Sequence[Listed], *, action: str, several: bool) -> list[str]:
    """Show the menu of `listed` tasks on stderr; the ids of those picked (none: `q`, Ctrl-D,
    Enter).

    With `several`, numbers separated by spaces or commas and ranges (`1 3`,
    `2-4`) pick more than one.
    """
    from mivid.render.menu import ask, task_menu

    out = run.output
    tasks = [item.task for item in listed]
    task_menu(out, listed)
    last = len(tasks)
    if last == 1:  # one task: nothing to choose between, no range to teach
        question = f"{_verb(action).capitalize()} it? [1 for yes; q to quit]: "
    else:
        how = f"1-{last}" + (", several as `1 3` or `2-4`" if several else "")
        question = f"Pick {'tasks' if several else 'a task'} to {action} [{how}; q to quit]: "
    for _ in range(ATTEMPTS):
        ask(out, question)
        answer = sys.stdin.readline()
        choice = answer.strip().lower()
        if not answer:  # Ctrl-D
            ask(out, "\n")
            return []
        if choice in ("", "q", "quit"):
            return []
        numbers = parse_picks(choice, last)
        if numbers is not None and (several or len(numbers) == 1):
            return [str(tasks[number - 1]["task_id"]) for number in numbers]
        wanted = "numbers" if several else "one number"
        ask(out, f"`{answer.strip()}`: give {wanted} from 1 to {last}\n")
    raise InputError(f"ID: no task picked after {ATTEMPTS} tries")


def _verb(command: str) -> str:
    """The command as a verb with its object after it: `wait for it`, `get it`."""
    return "wait for" if command == "wait" else command


def parse_picks(text: str, last: int) -> list[int] | None:
    """`1 3`, `1,3`, `2-4`, `4-2` → the numbers, in order given, each once; None if not valid."""
    numbers: list[int] = []
    for word in text.replace(",", " ").split():
        low, dash, high = word.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            return None
        start, end = int(low), int(high) if dash else int(low)
        step = 1 if end >= start else -1
        span = range(start, end + step, step)
        if not all(1 <= number <= last for number in (start, end)):
            return None
        numbers += span
    return list(dict.fromkeys(numbers)) or None
