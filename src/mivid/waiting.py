"""Waiting for tasks to end: polling with backoff, many tasks side by side.

A task usually takes one to several minutes, but a sandbox task or a lucky
one ends in seconds. The schedule starts short (so a fast task is noticed
within a second or two of its end) and grows by a factor to a cap (so a slow
one costs a few dozen queries, not hundreds). With the defaults the queries
go out at 0, 1, 2.2, 3.6, 5.4, 7.4, 9.9 … s, then every 12 s. Each pause is
counted from the start of the round before it, so slow answers do not push
the schedule back.

Every unfinished task is queried in the same tick, concurrently (httpx's
client is thread-safe), so twenty tasks take about as long as the slowest.
Transient failures are retried inside the client; what reaches here is final
(a task that no longer exists raises `NotFoundError`, exit 4).

Clock and sleep are injected: tests drive a fake clock and never really sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from mivid.errors import DeadlineError, StillRunningError, TasksFailedError, WaitTimeoutError
from mivid.vocabulary import failed, is_final

# Several tasks are queried at once, but not more than this many at a time.
MAX_PARALLEL_QUERIES = 16


class TaskSource(Protocol):
    """What waiting needs from a client: one task by id (raises NotFoundError)."""

    def get_task(self, task_id: str) -> dict[str, Any]: ...


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
) -> list[dict[str, Any]]:
    """Poll every task until all have ended; return their final objects in the order of `ids`.

    `on_update` gets the latest object of every task (None before its first
    answer) after each round of queries. Raises `WaitTimeoutError` (with
    `.tasks`, the latest objects, and `.pending`, the unfinished ids) when
    `timeout` seconds pass first, and `NotFoundError` when a task does not exist.
    """
    wanted = unique_ids(ids)
    latest: dict[str, dict[str, Any] | None] = dict.fromkeys(wanted)
    pauses = (schedule or PollSchedule()).intervals()
    deadline = None if timeout is None else clock() + timeout
    executor: ThreadPoolExecutor | None = None
    try:
        while True:
            round_started = clock()
            pending = [task_id for task_id in wanted if not is_final(latest[task_id])]
            if len(pending) > 1 and executor is None:
                # KlingClient opens its connection pool on first use: open it here,
                # once, rather than let the first round's threads race to.
                getattr(client, "http", None)
                executor = ThreadPoolExecutor(
                    max_workers=min(MAX_PARALLEL_QUERIES, len(pending)),
                    thread_name_prefix="mivid-poll",
                )
            try:
                latest.update(_poll(client, pending, executor))
            except DeadlineError as stopped:
                # A query stopped at the wait's own deadline (the client keeps it): time's up.
                if deadline is None or clock() < deadline:
                    raise
                raise _timed_out(timeout, latest, pending) from stopped
            if on_update is not None:
                on_update(dict(latest))
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
        if executor is not None:
            # Ctrl-C must not wait for queries still in flight.
            executor.shutdown(wait=False, cancel_futures=True)


def _poll(
    client: TaskSource, ids: list[str], executor: ThreadPoolExecutor | None
) -> dict[str, dict[str, Any]]:
    """One round: every id queried, concurrently when there are several."""
    if executor is None or len(ids) == 1:
        return {task_id: client.get_task(task_id) for task_id in ids}
    futures: dict[str, Future[dict[str, Any]]] = {
        task_id: executor.submit(client.get_task, task_id) for task_id in ids
    }
    return {task_id: future.result() for task_id, future in futures.items()}


def _timed_out(
    timeout: float | None,
    latest: Mapping[str, dict[str, Any] | None],
    pending: list[str],
) -> WaitTimeoutError:
    shown = ", ".join(
        f"{task_id} ({(latest[task_id] or {}).get('task_status', 'unknown')})"
        for task_id in pending
    )
    return StillRunningError(
        f"gave up waiting after {timeout:g} s; still running: {shown}",
        tasks=latest,
        pending=pending,
    )
