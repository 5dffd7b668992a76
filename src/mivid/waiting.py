"""Waiting for tasks to end: polling with backoff, many tasks side by side.

A task usually takes one to several minutes, but a sandbox task or a lucky
one ends in seconds. The schedule starts short (so a fast task is noticed
within a second or two of its end) and grows by a factor to a cap (so a slow
one costs a few dozen queries, not hundreds). With the defaults the queries
go out at 0, 1, 2.2, 3.6, 5.4, 7.4, 9.9 … s, then every 12 s. Each pause is
counted from the start of the round before it, so slow answers do not push
the schedule back.

Every unfinished task is queried in the same tick: one after the other while
the service answers fast (threads would cost more CPU than they save), side
by side as soon as it does not (`SideBySide`; httpx's client is
thread-safe), so twenty slow answers take about as long as the slowest. From `LIST_FROM` unfinished tasks of one endpoint on, a source that can
(`ListingSource`) first looks for them in the endpoint's task list, 500 a
page, newest first (`tasks_in_list`): waiting on 500 tasks just created then
costs one request a round instead of 500. Whatever the list does not show (a
task too old for the pages worth asking, one the list leaves out) is queried
on its own as before. Transient failures are retried inside the client; what
reaches here is final (a task that no longer exists raises `NotFoundError`,
exit 4).

Clock and sleep are injected: tests drive a fake clock and never really sleep.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from mivid.errors import (
    CredentialsError,
    DeadlineError,
    MividError,
    NotFoundError,
    StillRunningError,
    TasksFailedError,
    WaitTimeoutError,
)
from mivid.vocabulary import external_id_of, failed, is_final

# Several tasks are queried at once (when answers are slow: `SideBySide`), but not more
# than this many at a time.
MAX_PARALLEL_QUERIES = 16
#: Queries that would take longer than this one after the other go out side by side
#: (500 answers of 4 ms each; a service across a network answers in tens of ms).
ONE_BY_ONE_FOR = 2.0
#: From this many unfinished tasks of one endpoint on, look for them in its list first.
LIST_FROM = 8
#: Ask at most one list page per this many tasks still missing (the list must cost fewer
#: requests than the queries it saves).
TASKS_PER_PAGE_ASKED = 10


class TaskSource(Protocol):
    """What waiting needs from a client: one task by id (raises NotFoundError)."""

    def get_task(self, task_id: str) -> dict[str, Any]: ...


@runtime_checkable
class ListingSource(Protocol):
    """A source that can also show many tasks at once (`mivid.flows.journal.RoutedTasks`)."""

    def get_task(self, task_id: str) -> dict[str, Any]: ...

    def listed_tasks(
        self, ids: Sequence[str], latest: Mapping[str, dict[str, Any] | None]
    ) -> dict[str, dict[str, Any]]:
        """The tasks among `ids` the list shows (see `tasks_in_list`), by the id asked for."""
        ...


def tasks_in_list(
    page: Callable[[int], list[dict[str, Any]]],
    ids: Sequence[str],
    latest: Mapping[str, dict[str, Any] | None],
    *,
    page_size: int,
    max_page: int,
) -> dict[str, dict[str, Any]]:
    """The tasks among `ids` (task ids or external ids) on the list's pages, newest first.

    `page(n)` is the list's page n of `page_size` tasks. Page 1 is always asked
    for; a next page only while some task is still missing, the last page was
    full and did not yet reach back to the oldest missing task's creation
    (known from `latest`, its last answer), and the pages it would take to get
    there, judged from the span of time the pages seen cover, stay within one
    page per `TASKS_PER_PAGE_ASKED` tasks missing at the start — so the list
    never costs more requests than the single queries it replaces.
    """
    wanted = set(ids)
    found: dict[str, dict[str, Any]] = {}
    budget = min(max_page, max(1, len(wanted) // TASKS_PER_PAGE_ASKED))
    newest: float | None = None
    number = 1
    while True:
        tasks = page(number)
        for task in tasks:
            for key in (str(task["task_id"]), external_id_of(task)):
                if key is not None and key in wanted:
                    found.setdefault(key, task)
        missing = wanted.difference(found)
        if not missing or len(tasks) < page_size or number >= budget:
            return found
        oldest = _oldestcreation_of([latest.get(task_id) for task_id in missing])
        first, last = creation_of(tasks[0]), creation_of(tasks[-1])
        newest = first if newest is None else newest
        if oldest is None or newest is None or last is None or last < oldest:
            return found  # unknown, or they would have been on the pages seen: not listed
        if newest > last:
            spacing = (newest - last) / (number * page_size - 1)  # between two creations
            if ((newest - oldest) / spacing + 1) / page_size > budget:
                return found  # too deep in the list to be worth the pages
        number += 1


def creation_of(task: Mapping[str, Any] | None) -> float | None:
    """When the task was made (its `created_at`), None when its last answer did not say."""
    moment = task.get("created_at") if task is not None else None
    if isinstance(moment, bool) or not isinstance(moment, (int, float)):
        return None
    return float(moment)


def _oldestcreation_of(tasks: Sequence[Mapping[str, Any] | None]) -> float | None:
    """The earliest `created_at` among the tasks, None when any of them has none known."""
    times = [creation_of(task) for task in tasks]
    known = [moment for moment in times if moment is not None]
    return min(known) if known and len(known) == len(times) else None


@dataclass(frozen=True)
class PollSchedule:
    """Pauses between polls: `first`, then times `factor` each time, never above `cap`."""

    first: float = 1.0
    factor: float = 1.2
    cap: float = 12.0

    def intervals(self) -> Iterator[float]:
        interval = self.first
        while True:
            yield min(interval, self.cap)
            interval = min(interval * self.factor, self.cap)


def raise_for_failures(tasks: Sequence[Mapping[str, Any]]) -> None:
    """TasksFailedError naming every failed task, if any failed."""
    ended_badly = [task for task in tasks if failed(task)]
    if ended_badly:
        raise TasksFailedError(ended_badly)


Update = Callable[[Mapping[str, dict[str, Any] | None]], None]


def unique_ids(ids: Sequence[str]) -> list[str]:
    """The ids in order, each once."""
    return list(dict.fromkeys(ids))


def wait_for_tasks(
    client: TaskSource,
    ids: Sequence[str],
    *,
    schedule: PollSchedule | None = None,
    timeout: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
    on_update: Update | None = None,
    errors: dict[str, MividError] | None = None,
) -> list[dict[str, Any]]:
    """Poll every task until all have ended; return their final objects in the order of `ids`.

    `on_update` gets the latest object of every task (None before its first
    answer) after each round of queries. Raises `WaitTimeoutError` (with
    `.tasks`, the latest objects, and `.pending`, the unfinished ids) when
    `timeout` seconds pass first. A task that does not exist (or is refused)
    raises `NotFoundError` (`ApiError`) — or, given `errors`, is put there and no
    longer waited for, so one bad id does not stop the others. Keys that do
    not work (`CredentialsError`) are always raised.
    """
    wanted = unique_ids(ids)
    latest: dict[str, dict[str, Any] | None] = dict.fromkeys(wanted)
    pauses = (schedule or PollSchedule()).intervals()
    deadline = None if timeout is None else clock() + timeout
    queries = _Queries(client, clock, keep_errors=errors is not None)
    try:
        while True:
            round_started = clock()
            pending = [task_id for task_id in wanted if not is_final(latest[task_id])]
            try:
                answered, refused = queries.round(pending, latest)
            except DeadlineError as stopped:
                # A query stopped at the wait's own deadline (the client keeps it): time's up.
                if deadline is None or clock() < deadline:
                    raise
                raise _timed_out(timeout, latest, pending) from stopped
            latest.update(answered)
            if refused and errors is not None:
                errors.update(refused)
                wanted = [task_id for task_id in wanted if task_id not in refused]
                for task_id in refused:
                    latest.pop(task_id, None)
            if on_update is not None:
                on_update({**dict(latest), **{task_id: _gone(e) for task_id, e in refused.items()}})
            pending = [task_id for task_id in wanted if not is_final(latest[task_id])]
            if not pending:
                return [task for task in (latest[task_id] for task_id in wanted) if task]
            # Timed from the round's start: a slow round does not push the schedule back.
            pause = max(0.0, next(pauses) - (clock() - round_started))
            if deadline is not None:
                left = deadline - clock()
                if left <= 0:
                    raise _timed_out(timeout, latest, pending)
                pause = min(pause, left)
            sleep(pause)
    finally:
        queries.close()


T = TypeVar("T")
R = TypeVar("R")


class SideBySide:
    """Calls made one after the other while answers come fast, side by side once they don't.

    Threads cost CPU (they contend for the interpreter and the connection
    pool): a service that answers in a millisecond gets 500 queries one by one
    in half a second, cheaper than with sixteen threads. As soon as the answers
    so far say the rest would take more than `ONE_BY_ONE_FOR` seconds one by
    one, the rest go out side by side, `MAX_PARALLEL_QUERIES` at a time — so a
    slow service still costs about one answer's time per sixteen tasks.
    `clock` times the answers (the wait's clock: a test's fake clock moves only
    when the test says a query took time).
    """

    def __init__(self, clock: Callable[[], float], *, opener: object = None, name: str) -> None:
        self.clock = clock
        self.opener = opener
        self.name = name
        self.executor: ThreadPoolExecutor | None = None

    def map(self, call: Callable[[T], R], items: Sequence[T]) -> list[R]:
        results: list[R] = []
        took: list[float] = []  # each answer's time
        for index, item in enumerate(items):
            if took and len(items) - index > 1 and self._too_slow(took, len(items) - index):
                return results + self._side_by_side(call, items[index:])
            asked = self.clock()
            results.append(call(item))
            took.append(self.clock() - asked)
        return results

    @staticmethod
    def _too_slow(took: list[float], left: int) -> bool:
        """Would the `left` calls take longer than `ONE_BY_ONE_FOR`, judging by the answers so far?

        By the median answer once 8 answers came in, every 8 answers (a machine's
        passing hiccup, or the first answer, which opens the connection, does not
        decide); before that, when the answers so far already took a quarter of
        it (a slow service is noticed after its first answer).
        """
        if len(took) < 8:
            return sum(took) >= ONE_BY_ONE_FOR / 4
        if len(took) % 8:
            return False  # judged again every 8 answers
        return sorted(took)[len(took) // 2] * left > ONE_BY_ONE_FOR

    def _side_by_side(self, call: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if self.executor is None:
            # KlingClient opens its connection pool on first use: open it here,
            # once, rather than let the threads race to.
            getattr(self.opener, "http", None)
            self.executor = ThreadPoolExecutor(
                max_workers=MAX_PARALLEL_QUERIES, thread_name_prefix=self.name
            )
        # Each call in a copy of the run's context (as asyncio.to_thread does): what the run
        # holds there (the global options its hints carry, `mivid.hints`) holds in the threads.
        futures: list[Future[R]] = [
            self.executor.submit(contextvars.copy_context().run, call, item) for item in items
        ]
        return [future.result() for future in futures]

    def close(self) -> None:
        if self.executor is not None:
            # Ctrl-C must not wait for queries still in flight.
            self.executor.shutdown(wait=False, cancel_futures=True)


class _Queries:
    """One round of answers: the list first (when the source has one), then each task left."""

    def __init__(
        self, client: TaskSource, clock: Callable[[], float], *, keep_errors: bool = False
    ) -> None:
        self.client = client
        self.calls = SideBySide(clock, opener=client, name="mivid-poll")
        self.keep_errors = keep_errors

    def round(
        self, ids: list[str], latest: Mapping[str, dict[str, Any] | None]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, MividError]]:
        """The tasks found, and (with `keep_errors`) each id's error instead of raising it."""
        found: dict[str, dict[str, Any]] = {}
        if len(ids) >= LIST_FROM and isinstance(self.client, ListingSource):
            found = self.client.listed_tasks(ids, latest)
        rest = [task_id for task_id in ids if task_id not in found]
        refused: dict[str, MividError] = {}
        for task_id, answer in zip(rest, self.calls.map(self._ask, rest), strict=True):
            if isinstance(answer, MividError):
                refused[task_id] = answer
            else:
                found[task_id] = answer
        return found, refused

    def _ask(self, task_id: str) -> dict[str, Any] | MividError:
        try:
            return self.client.get_task(task_id)
        except (CredentialsError, DeadlineError):  # the keys, or the wait's own time: not the id
            raise
        except MividError as error:
            if not self.keep_errors:
                raise
            return error

    def close(self) -> None:
        self.calls.close()


def _gone(error: MividError) -> dict[str, Any]:
    """What a live view shows for a task no longer waited for."""
    word = "not found" if isinstance(error, NotFoundError) else "error"
    return {"task_status": word}


def _timed_out(
    timeout: float | None,
    latest: Mapping[str, dict[str, Any] | None],
    pending: list[str],
) -> WaitTimeoutError:
    shown = ", ".join(
        f"{task_id} ({(latest[task_id] or {}).get('task_status', 'unknown')})"
        for task_id in pending
    )
    # The tasks that ended were shown (and saved) as they ended: say how many there were.
    ended = len(latest) - len(pending)
    so_far = f"{ended} of {len(latest)} tasks ended, " if ended else ""
    return StillRunningError(
        f"gave up waiting after {timeout:g} s; {so_far}still running: {shown}",
        tasks=latest,
        pending=pending,
    )
