"""`mivid list` over many pages: the service's page limit said, a status searched past the
first page, and a full page saying where the rest are — through the real command line.

Big lists are made at the emulator by copying one task it made through its API (a
thousand creates would take the test minutes); the emulator then serves them as its own.
"""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest

from helpers import ANSI, InProcessTerminal, RunMivid, Serve
from mivid.sandbox import Emulator, EmulatorServer, FakeClock

MULTI = "/v1/videos/multi-image2video"
OMNI = "/v1/videos/omni-video"


@pytest.fixture
def api(serve: Serve, fake_clock: FakeClock) -> EmulatorServer:
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    emulator = Emulator(access_keys={"test-ak": "test-sk"}, clock=fake_clock, concurrency_limit=5)
    return serve(emulator)


def many_tasks(
    server: EmulatorServer, count: int, *, failed: frozenset[int] = frozenset()
) -> list[str]:
    """`count` tasks that ended, newest first (those numbered in `failed` failed)."""
    now = int(server.emulator.clock())
    token = jwt.encode({"iss": "test-ak", "exp": now + 1800, "nbf": now - 5}, "test-sk")
    body = {"image_list": [{"image": "https://example.com/a.png"}], "prompt": "the first"}
    answer = httpx.post(server.url + MULTI, json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.json()["code"] == 0, answer.text
    db = server.emulator.store.connection
    columns = [row[1] for row in db.execute("PRAGMA table_info(tasks)") if row[1] != "seq"]
    made = {
        "task_id": "printf('%d', 700000000000000000 + n)",
        "external_task_id": "'copy-' || n",
        "created": ":now - 100 - n",
        "processing_at": ":now - 100 - n",
        "finish_at": ":now - 50 - n",
        "fail_message": f"CASE WHEN n IN ({','.join(map(str, failed)) or 'NULL'}) "
        "THEN 'content-safety policy triggered' ELSE NULL END",
    }
    values = ", ".join(made.get(name, f"t.{name}") for name in columns)
    db.execute(
        "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < :count) "
        f"INSERT INTO tasks ({', '.join(columns)}) SELECT {values} "
        "FROM k, (SELECT * FROM tasks ORDER BY seq LIMIT 1) AS t",
        {"count": count - 1, "now": server.emulator.clock()},
    )
    db.execute("DELETE FROM tasks WHERE external_task_id IS NULL")  # the first: made just now
    db.commit()
    return [str(700000000000000000 + n) for n in range(1, count)]


def list_queries(server: EmulatorServer, path: str = MULTI) -> list[dict[str, str]]:
    return [dict(r.query) for r in server.emulator.received if r.method == "GET" and r.path == path]


def test_all_asks_for_the_largest_pages_the_service_allows(
    mivid: RunMivid, api: EmulatorServer
) -> None:
    ids = many_tasks(api, 1201)

    result = mivid("list", "--all", "-q")

    assert result.exit_code == 0, result
    assert result.stdout.split() == ids
    assert list_queries(api) == [
        {"pageNum": str(n), "pageSize": "500"} for n in (1, 2, 3)
    ]  # 1200 tasks: two full pages and a short one
    assert list_queries(api, OMNI) == [{"pageNum": "1", "pageSize": "500"}]  # none there
    assert result.stderr == ""


def test_the_services_page_limit_ending_the_list_is_said_and_exits_0(
    mivid: RunMivid, api: EmulatorServer
) -> None:
    ids = many_tasks(api, 1003)

    result = mivid("list", "--all", "--page-size", "1", "--endpoint", "multi-image")

    assert result.exit_code == 0, result
    shown = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert shown == ids[:1000]  # what was shown is right, just not all
    assert len(list_queries(api)) == 1000
    assert "warning: 1,000 tasks shown, not all: the service lists at most 1000 pages of 1" in (
        result.stderr
    )
    assert "mivid list --all --endpoint multi-image reads up to 500,000" in result.stderr

    as_json = mivid("list", "--all", "--page-size", "1", "--json", "--endpoint", "multi-image")
    assert as_json.exit_code == 0
    assert len(json.loads(as_json.stdout)) == 1000  # stdout stays pure JSON
    assert "not all" in as_json.stderr


def test_a_status_is_looked_for_past_the_first_page(mivid: RunMivid, api: EmulatorServer) -> None:
    ids = many_tasks(api, 400, failed=frozenset({3, 150, 320}))

    result = mivid("list", "--status", "failed", "--page-size", "2", "-q")

    assert result.exit_code == 0, result
    assert result.stdout.split() == [ids[2], ids[149]]  # the newest two of three
    later = mivid("list", "--status", "failed", "--page-size", "2", "--page", "2", "-q")
    assert later.stdout.split() == [ids[319]]
    assert mivid("list", "--status", "failed", "--all", "-q").stdout.split() == [
        ids[2],
        ids[149],
        ids[319],
    ]


def test_a_status_search_says_how_far_it_looked(mivid: RunMivid, api: EmulatorServer) -> None:
    ids = many_tasks(api, 5200, failed=frozenset({10, 5100}))

    result = mivid("list", "--status", "failed", "-q")

    assert result.exit_code == 0, result
    assert result.stdout.split() == [ids[9]]  # the other one is older than the search went
    assert (
        "only the newest 5,000 tasks were searched for status failed (1 found); "
        "to search them all: mivid list --all --status failed"
    ) in result.stderr
    every = mivid("list", "--status", "failed", "--all", "-q")
    assert every.stdout.split() == [ids[9], ids[5099]]
    assert "searched" not in every.stderr


def test_a_full_page_on_a_terminal_says_where_the_rest_are(api: EmulatorServer) -> None:
    many_tasks(api, 40)
    env = {"KLING_BASE_URL": api.url, "KLING_ACCESS_KEY": "test-ak", "KLING_SECRET_KEY": "test-sk"}

    terminal = InProcessTerminal(["--no-color", "list"], env=env, columns=200)
    assert terminal.finish(timeout=30) == 0, terminal.raw()
    text = ANSI.sub("", terminal.text())
    assert "showing 30 tasks, newest first: page 1 of a list that goes on; more: " in text
    assert "mivid list --page 2 · every one: mivid list --all" in text

    last = InProcessTerminal(["--no-color", "list", "--page", "2"], env=env, columns=200)
    assert last.finish(timeout=30) == 0, last.raw()
    assert "showing" not in ANSI.sub("", last.text())  # 9 tasks: the last page
    assert "by the 9 tasks shown" in ANSI.sub("", last.text())


def test_watch_with_no_tasks_says_so(api: EmulatorServer) -> None:
    env = {"KLING_BASE_URL": api.url, "KLING_ACCESS_KEY": "test-ak", "KLING_SECRET_KEY": "test-sk"}

    terminal = InProcessTerminal(["--no-color", "list", "--watch"], env=env, columns=120)

    assert terminal.finish(timeout=30) == 0, terminal.raw()
    text = ANSI.sub("", terminal.text()).strip()
    assert text == "no tasks to watch"  # no empty header, no "every task has ended"
