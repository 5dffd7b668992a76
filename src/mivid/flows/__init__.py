"""The workflows under the commands: plain functions over a typed client, reporting by callbacks.

A command parses its options, calls one of these, and renders what comes back.
None of them prints, knows Typer or rich, or reads `AppState`: what happens
along the way is told through callbacks (`Say`, `on_update`, `on_progress` …),
so the same flow serves a live table on a terminal, lines in a pipe, and a test.

    following   follow tasks to their end (`wait`, `create --wait`); the resume command
    saving      save finished tasks' videos with their sidecars (`download`, `wait -d`)
    settling    settle creates whose outcome is unknown (`recover`)
    listing     fetch task pages, the journal's own list (`list`, `list --local`, picker)
    finding     find a task's downloaded video or its URL, and open it (`open`)
    creating    send one checked create, journaled (`create`)
    batching    plan and run a jobs file (`batch`)
    journal     open the journal; route a task id to its endpoint
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx

    from mivid.endpoints import Endpoint


class TaskClient(Protocol):
    """What the flows need of `mivid.client.KlingClient` (tests may pass their own)."""

    base_url: str
    transport: httpx.BaseTransport | None

    def get_task(self, task_id: str, *, endpoint: Endpoint = ...) -> dict[str, Any]: ...

    def find_task(self, task_id: str, *, endpoint: Endpoint = ...) -> dict[str, Any] | None: ...

    def list_tasks(
        self, *, page: int = ..., page_size: int = ..., endpoint: Endpoint = ...
    ) -> list[dict[str, Any]]: ...

    def until(self, moment: float | None) -> AbstractContextManager[None]:
        """No request goes on past `moment` (of the run's clock) while inside."""
        ...

    def made_ago(self, task_id: str, seconds: float) -> None:
        """The task was created `seconds` ago (the journal says): "not found" may mean "not yet"."""
        ...

    def is_task_id(self, task_id: str) -> None:
        """`task_id` is a task's id (the journal says), not an external id: an answer to a query
        for it that names another task is a broken answer."""
        ...


def _ignore(_text: str) -> None:
    return None


@dataclass(frozen=True)
class Say:
    """Where a flow's remarks go: `note` (progress, hints) and `warn` (stderr, for people)."""

    note: Callable[[str], None] = _ignore
    warn: Callable[[str], None] = _ignore


QUIET = Say()
