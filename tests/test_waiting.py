"""Polling: the schedule's promises, side-by-side queries, timeouts — on a fake clock.

A real KlingClient talks to the emulator in-process; the emulator and the wait
share one FakeClock that only the wait's injected sleep moves, so no test
really sleeps and every query is counted in `emulator.received`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mivid.auth import JwtCredentials
from mivid.client import KlingClient
from mivid.errors import (
    ExitCode,
    NotFoundError,
    StillRunningError,
    TaskFailedError,
    TasksFailedError,
    WaitTimeoutError,
)
from mivid.sandbox import Emulator, EmulatorTransport, FakeClock
from mivid.waiting import (
    PollSchedule,
    raise_for_failures,
    tasks_in_list,
    wait_for_tasks,
)

BASE = "http://kling.test"
IMAGE_URL = "https://example.com/cat.png"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_emulator(clock: FakeClock, seconds: float) -> Emulator:
    return Emulator(
        access_keys={"ak": "sk"},
        clock=clock,
        processing_after=min(1.0, seconds / 3),
        succeed_after=seconds,
        concurrency_limit=50,
    )


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[Emulator]:
    emu = make_emulator(clock, 6.0)
    yield emu
    emu.close()


def client_for(emulator: Emulator, clock: FakeClock) -> KlingClient:
    return KlingClient(
        BASE,
        JwtCredentials("ak", "sk", clock=clock),
        transport=EmulatorTransport(emulator),
        sleep=clock.advance,
        clock=clock,
    )


def create(client: KlingClient, external_id: str, prompt: str = "a cat") -> str:
    body = json.dumps(
        {
            "image_list": [{"image": IMAGE_URL}],
            "prompt": prompt,
            "external_task_id": external_id,
        }
    ).encode()
    task = client.create_task([body], content_length=len(body), external_task_id=external_id)
    return str(task["task_id"])


def queries(emulator: Emulator) -> int:
    return sum(1 for request in emulator.received if request.method == "GET")


def test_a_six_second_task_is_noticed_within_three_seconds_in_at_most_ten_queries(
    emulator: Emulator, clock: FakeClock
) -> None:
    with client_for(emulator, clock) as client:
        created = clock()
        task_id = create(client, "fast")
        tasks = wait_for_tasks(client, [task_id], clock=clock, sleep=clock.advance)
    assert tasks[0]["task_status"] == "succeed"
    noticed = clock() - created
    assert 6.0 <= noticed <= 9.0, noticed
    assert queries(emulator) <= 10


def test_a_slow_task_costs_a_few_dozen_queries_and_the_pause_is_capped(
    clock: FakeClock,
) -> None:
    emulator = make_emulator(clock, 300.0)
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        clock.advance(seconds)

    with emulator, client_for(emulator, clock) as client:
        task_id = create(client, "slow")
        tasks = wait_for_tasks(client, [task_id], clock=clock, sleep=sleep)
    assert tasks[0]["task_status"] == "succeed"
    assert 20 <= queries(emulator) <= 40
    assert max(pauses) == pytest.approx(12.0)
    assert pauses == sorted(pauses), "the pause only grows"


def test_the_schedule_starts_at_the_first_interval_and_grows_to_the_cap() -> None:
    schedule = PollSchedule(first=0.5, factor=2.0, cap=3.0).intervals()
    assert [next(schedule) for _ in range(6)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_twenty_tasks_take_as_long_as_the_slowest(emulator: Emulator, clock: FakeClock) -> None:
    with client_for(emulator, clock) as client:
        created = clock()
        ids = [create(client, f"many-{n}") for n in range(20)]
        tasks = wait_for_tasks(client, ids, clock=clock, sleep=clock.advance)
    assert [task["task_id"] for task in tasks] == ids
    assert all(task["task_status"] == "succeed" for task in tasks)
    assert clock() - created <= 9.0
    assert queries(emulator) <= 20 * 10


def test_after_a_slow_answer_the_other_tasks_are_queried_at_once() -> None:
    """The first answer takes a (fake) second: the other five block until all five are in
    flight, so only side-by-side queries pass."""
    ids = [f"t{n}" for n in range(6)]
    clock = FakeClock()
    barrier = threading.Barrier(len(ids) - 1, timeout=30)  # only reached if one never comes
    threads: set[str] = set()

    class SlowThenConcurrent:
        def get_task(self, task_id: str) -> dict[str, Any]:
            if task_id == ids[0]:
                clock.advance(1.0)
            else:
                barrier.wait()
                threads.add(threading.current_thread().name)
            return {"task_id": task_id, "task_status": "succeed"}

    tasks = wait_for_tasks(SlowThenConcurrent(), ids, clock=clock, sleep=clock.advance)
    assert [task["task_id"] for task in tasks] == ids
    assert len(threads) == len(ids) - 1


def test_fast_answers_are_asked_for_one_after_the_other_without_threads() -> None:
    ids = [f"t{n}" for n in range(20)]
    threads: set[str] = set()

    class Fast:
        def get_task(self, task_id: str) -> dict[str, Any]:
            threads.add(threading.current_thread().name)
            return {"task_id": task_id, "task_status": "succeed"}

    clock = FakeClock()  # answers take no time on it
    tasks = wait_for_tasks(Fast(), ids, clock=clock, sleep=clock.advance)
    assert [task["task_id"] for task in tasks] == ids
    assert threads == {threading.current_thread().name}


def test_a_failed_task_ends_the_wait_and_names_its_reason(
    emulator: Emulator, clock: FakeClock
) -> None:
    with client_for(emulator, clock) as client:
        good = create(client, "good")
        bad = create(client, "bad", prompt="a cat [fail]")
        tasks = wait_for_tasks(client, [good, bad], clock=clock, sleep=clock.advance)
    assert [task["task_status"] for task in tasks] == ["succeed", "failed"]
    with pytest.raises(TasksFailedError) as caught:
        raise_for_failures(tasks)
    assert isinstance(caught.value, TaskFailedError)
    assert caught.value.exit_code == ExitCode.TASK_FAILED
    assert caught.value.lines() == [f"task {bad} failed: {tasks[1]['task_status_msg']}"]
    assert "[fail]" in caught.value.lines()[0]


def test_timeout_raises_with_the_tasks_still_running(emulator: Emulator, clock: FakeClock) -> None:
    with client_for(emulator, clock) as client:
        task_id = create(client, "long")
        started = clock()
        with pytest.raises(StillRunningError) as caught:
            wait_for_tasks(client, [task_id], timeout=3.0, clock=clock, sleep=clock.advance)
    assert isinstance(caught.value, WaitTimeoutError)
    assert caught.value.exit_code == ExitCode.WAIT_TIMEOUT
    assert caught.value.pending == [task_id]
    assert clock() - started == pytest.approx(3.0)
    assert task_id in caught.value.message


def test_a_task_that_does_not_exist_raises_not_found(emulator: Emulator, clock: FakeClock) -> None:
    with client_for(emulator, clock) as client, pytest.raises(NotFoundError) as caught:
        wait_for_tasks(client, ["123456789012345678"], clock=clock, sleep=clock.advance)
    assert caught.value.exit_code == ExitCode.API_REFUSED


def test_on_update_sees_every_round_and_repeated_ids_are_asked_once(
    emulator: Emulator, clock: FakeClock
) -> None:
    seen: list[dict[str, str]] = []
    with client_for(emulator, clock) as client:
        task_id = create(client, "updates")
        wait_for_tasks(
            client,
            [task_id, task_id],
            clock=clock,
            sleep=clock.advance,
            on_update=lambda latest: seen.append(
                {key: (task or {}).get("task_status", "") for key, task in latest.items()}
            ),
        )
    statuses = [round_[task_id] for round_ in seen]
    assert statuses[0] == "submitted"
    assert "processing" in statuses
    assert statuses[-1] == "succeed"
    assert len(seen) == queries(emulator)


def test_each_pause_is_timed_from_the_start_of_its_round_so_slow_answers_keep_the_schedule(
    clock: FakeClock,
) -> None:
    """Rounds taking 0.7 s, 1.5 s (longer than the 1.2 s pause) and 0.2 s: the queries go out
    on the schedule (0, 1, 2.2 …), slipping only by the overrun, never by every answer's time."""
    answer_seconds = [0.7, 1.5, 0.2, 0.0]
    asked: list[float] = []
    pauses: list[float] = []

    class Slow:
        def get_task(self, task_id: str) -> dict[str, Any]:
            asked.append(clock())
            clock.advance(answer_seconds[len(asked) - 1])
            status = "succeed" if len(asked) == len(answer_seconds) else "processing"
            return {"task_id": task_id, "task_status": status}

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        clock.advance(seconds)

    wait_for_tasks(Slow(), ["t1"], clock=clock, sleep=sleep)
    started = asked[0]
    assert [moment - started for moment in asked] == pytest.approx([0.0, 1.0, 2.5, 3.94])
    assert pauses == pytest.approx([0.3, 0.0, 1.24])


# -- looking for many tasks in the list -----------------------------------------------------


class ListOf:
    """A list of `count` tasks, newest first, one made every second; pages of `size`."""

    def __init__(self, count: int, size: int = 10) -> None:
        self.tasks = [
            {"task_id": f"t{n}", "task_status": "processing", "created_at": 1_000_000 - n * 1000}
            for n in range(count)
        ]
        self.size = size
        self.asked: list[int] = []

    def page(self, number: int) -> list[dict[str, Any]]:
        self.asked.append(number)
        return self.tasks[(number - 1) * self.size : number * self.size]

    def find(self, numbers: list[int], *, known: bool = True) -> set[str]:
        ids = [f"t{n}" for n in numbers]
        # What an earlier round said of those tasks (their creation times), or nothing yet.
        latest = {f"t{n}": {**self.tasks[0], "created_at": 1_000_000 - n * 1000} for n in numbers}
        found = tasks_in_list(
            self.page, ids, latest if known else {}, page_size=self.size, max_page=1000
        )
        assert all(found[task_id]["task_id"] == task_id for task_id in found)
        return set(found)


def test_the_list_is_read_only_as_deep_as_the_tasks_waited_on() -> None:
    listing = ListOf(1000)
    assert listing.find(list(range(40))) == {f"t{n}" for n in range(40)}
    assert listing.asked == [1, 2, 3, 4]


def test_tasks_too_deep_in_the_list_are_left_to_single_queries() -> None:
    # 20 tasks: two pages are worth asking; tasks 500 pages back are not.
    listing = ListOf(10_000)
    assert listing.find([0, *range(5000, 5019)]) == {"t0"}
    assert listing.asked == [1]


def test_tasks_of_unknown_age_are_looked_for_on_the_first_page_only() -> None:
    listing = ListOf(1000)
    assert listing.find(list(range(5, 100, 5)), known=False) == {"t5"}
    assert listing.asked == [1]


def test_a_task_the_list_leaves_out_ends_the_search_where_it_would_have_been() -> None:
    listing = ListOf(1000, size=30)
    del listing.tasks[5]  # t5: not listed (too new, or a list that omits it)
    assert listing.find(list(range(20))) == {f"t{n}" for n in range(20)} - {"t5"}
    assert listing.asked == [1]  # page 1 ends after t5's time: no page 2
