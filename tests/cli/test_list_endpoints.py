"""`mivid list` across both endpoints: one list, newest first, each task saying its endpoint
(and model where the journal knows it); `--endpoint` filters; paging reads only what it shows."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from helpers import ANSI, InProcessTerminal, RunMivid, Serve
from imagefactory import make_png
from mivid.sandbox import Emulator, EmulatorServer, FakeClock, Fault

AK, SK = "test-ak", "test-sk"
MULTI = "/v1/videos/multi-image2video"
OMNI = "/v1/videos/omni-video"


@pytest.fixture
def api(serve: Serve, fake_clock: FakeClock) -> EmulatorServer:
    """Tasks end at once; the fake clock (real time to start) orders their creation."""
    fake_clock.set(time.time())
    emulator = Emulator(
        access_keys={AK: SK},
        clock=fake_clock,
        processing_after=0,
        succeed_after=0,
        concurrency_limit=100,
    )
    return serve(emulator)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return make_png(tmp_path / "front.png")


def made_elsewhere(server: EmulatorServer, image: Path, *, omni: bool, name: str) -> str:
    """A task made by another client (the journal does not know it)."""
    now = int(time.time())
    token = jwt.encode({"iss": AK, "exp": now + 1800, "nbf": now - 5}, SK, algorithm="HS256")
    key = "image_url" if omni else "image"
    body: dict[str, Any] = {
        "image_list": [{key: base64.b64encode(image.read_bytes()).decode()}],
        "prompt": f"<<<image_1>>> {name}",
        "external_task_id": name,
    }
    if omni:
        body["aspect_ratio"] = "16:9"
    answer = httpx.post(
        f"{server.url}{OMNI if omni else MULTI}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["task_id"])


def made_with_mivid(mivid: RunMivid, image: Path, *, model: str, name: str) -> str:
    result = mivid(
        "create", str(image), "--model", model, "--prompt", f"<<<image_1>>> {name}",
        "--external-task-id", name, "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result
    return str(result.stdout.strip())


@pytest.fixture
def six(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, image: Path
) -> list[tuple[str, str, str]]:
    """Six tasks, a minute apart, alternating irregularly between the endpoints; newest first:
    (task id, endpoint, model the journal knows or "")."""
    made: list[tuple[str, str, str]] = []
    plan = [
        ("multi-image", "kling-v1-6", True),
        ("omni", "kling-video-o1", True),
        ("omni", "", False),
        ("multi-image", "", False),
        ("omni", "kling-v3-omni", True),
        ("omni", "kling-video-o1", True),
    ]
    for number, (endpoint, model, mine) in enumerate(plan):
        name = f"t{number}"
        if mine:
            task_id = made_with_mivid(mivid, image, model=model, name=name)
        else:
            task_id = made_elsewhere(api, image, omni=endpoint == "omni", name=name)
        made.append((task_id, endpoint, model))
        fake_clock.advance(60)
    api.emulator.received.clear()
    return made[::-1]


def lists(server: EmulatorServer) -> list[tuple[str, str]]:
    """(endpoint path, pageNum) of each list request, in order."""
    return [
        (request.path, request.query.get("pageNum", ""))
        for request in server.emulator.received
        if request.method == "GET" and request.path in (MULTI, OMNI)
    ]


def test_one_list_of_both_endpoints_newest_first_in_a_pipe(
    mivid: RunMivid, api: EmulatorServer, six: list[tuple[str, str, str]]
) -> None:
    result = mivid("list")
    assert result.exit_code == 0, result
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    # id, status, created, length, external id, URL, prompt, units, endpoint, model, reason
    assert [(row[0], row[8], row[9]) for row in rows] == six
    assert all(len(row) == 11 for row in rows)
    assert sorted(lists(api)) == [(MULTI, "1"), (OMNI, "1")]


def test_json_keeps_the_services_objects_and_adds_the_endpoint(
    mivid: RunMivid, api: EmulatorServer, six: list[tuple[str, str, str]]
) -> None:
    result = mivid("list", "--json")
    assert result.exit_code == 0, result
    listed = json.loads(result.stdout)
    assert [(task["task_id"], task["endpoint"]) for task in listed] == [
        (task_id, endpoint) for task_id, endpoint, _ in six
    ]
    served = {
        task["task_id"]: task
        for name in ("multi-image2video", "omni-video")
        for task in api.emulator.tasks(name)
    }
    for task in listed:
        task.pop("endpoint")
        task.pop("local", None)
        assert task == served[task["task_id"]]


@pytest.mark.parametrize("endpoint", ["omni", "multi-image"])
def test_endpoint_lists_one_endpoint_alone(
    mivid: RunMivid, api: EmulatorServer, six: list[tuple[str, str, str]], endpoint: str
) -> None:
    result = mivid("list", "--endpoint", endpoint, "-q")
    assert result.exit_code == 0, result
    assert result.stdout.split() == [task_id for task_id, where, _ in six if where == endpoint]
    assert lists(api) == [(OMNI if endpoint == "omni" else MULTI, "1")]


def test_a_page_of_the_merged_list_reads_only_the_pages_it_needs(
    mivid: RunMivid, api: EmulatorServer, six: list[tuple[str, str, str]]
) -> None:
    result = mivid("list", "--page-size", "2", "--page", "2", "-q")
    assert result.exit_code == 0, result
    assert result.stdout.split() == [task_id for task_id, _, _ in six[2:4]]
    # Page 2 of 2 needs the newest 4 of the merged list: 4 from each list, in one request each.
    assert sorted(lists(api)) == [(MULTI, "1"), (OMNI, "1")]
    sizes = {r.query.get("pageSize") for r in api.emulator.received if r.path in (MULTI, OMNI)}
    assert sizes == {"4"}


def test_all_pages_merge_page_by_page_until_both_lists_end(
    mivid: RunMivid, api: EmulatorServer, six: list[tuple[str, str, str]]
) -> None:
    result = mivid("list", "--all", "--page-size", "2", "--json")
    assert result.exit_code == 0, result
    assert [task["task_id"] for task in json.loads(result.stdout)] == [t for t, _, _ in six]
    # Each list is read once, page by page, to its short (last) page: no page twice.
    assert sorted(lists(api)) == [(MULTI, "1"), (MULTI, "2"), (OMNI, "1"), (OMNI, "2"), (OMNI, "3")]


def test_status_filters_the_merged_list(
    mivid: RunMivid, api: EmulatorServer, six: list[tuple[str, str, str]], fake_clock: FakeClock
) -> None:
    assert mivid("list", "--status", "processing", "-q").stdout == ""
    assert mivid("list", "--status", "succeed", "-q").stdout.split() == [t for t, _, _ in six]


def test_a_list_the_api_refuses_is_left_out_with_a_warning(
    mivid: RunMivid, api: EmulatorServer, six: list[tuple[str, str, str]]
) -> None:
    """A gateway that offers only multi-image2video must not take `mivid list` away."""
    api.emulator.inject(Fault.error(1203, on="list", api="omni-video", times=None))
    result = mivid("list", "-q")
    assert result.exit_code == 0, result
    assert result.stdout.split() == [t for t, where, _ in six if where == "multi-image"]
    assert "warning: Omni-Video's task list was refused" in result.stderr
    assert "--endpoint multi-image lists the others alone" in result.stderr
    alone = mivid("list", "--endpoint", "omni")
    assert alone.exit_code == 4, alone  # asked for by name: its refusal is the answer


def test_a_bad_endpoint_is_refused_before_anything_is_sent(
    mivid: RunMivid, api: EmulatorServer
) -> None:
    result = mivid("list", "--endpoint", "video")
    assert result.exit_code == 2, result
    assert "--endpoint: `video` is not one of multi-image, omni" in result.stderr
    assert api.emulator.received == []


def test_list_local_filters_by_endpoint(
    mivid: RunMivid, api: EmulatorServer, six: list[tuple[str, str, str]]
) -> None:
    result = mivid("list", "--local", "--endpoint", "omni", "--json")
    assert result.exit_code == 0, result
    entries = json.loads(result.stdout)
    mine = [(t, model) for t, where, model in six if where == "omni" and model]
    assert [(e["task_id"], e["request"]["model_name"]) for e in entries] == mine
    assert api.emulator.received == []


def test_the_table_names_each_tasks_endpoint_and_model_and_at_80_columns_its_endpoint(
    api: EmulatorServer, six: list[tuple[str, str, str]]
) -> None:
    """Wide, each row says `omni · kling-video-o1`; at 80 columns the model gives way and the
    endpoint's name stays (`omni`, `multi-image`), the prompt taking the rest."""
    env = {"KLING_BASE_URL": api.url, "KLING_ACCESS_KEY": AK, "KLING_SECRET_KEY": SK}
    wide = InProcessTerminal(
        ["--no-color", "list"], env=env, columns=160, stdin=False, stderr=False
    )
    assert wide.finish(timeout=30) == 0, wide.raw()
    lines = [line for line in ANSI.sub("", wide.text()).splitlines() if line.strip()]
    assert "ENDPOINT" in lines[0].split()
    assert lines[-1].startswith("total: ")
    for (task_id, endpoint, model), line in zip(six, lines[1:-1], strict=True):
        assert line.startswith(task_id)
        assert (f"{endpoint} · {model}" if model else f" {endpoint} ") in line, line
    narrow = InProcessTerminal(
        ["--no-color", "list"], env=env, columns=80, stdin=False, stderr=False
    )
    assert narrow.finish(timeout=30) == 0, narrow.raw()
    lines = [line for line in narrow.text().splitlines() if line.strip()]
    assert all(len(line) <= 80 for line in lines), lines
    assert {"ENDPOINT", "PROMPT"} <= set(lines[0].split()), lines
    rows = lines[1:-1]
    for (task_id, endpoint, model), line in zip(six, rows, strict=True):
        assert line.startswith(task_id), lines
        assert f"  {endpoint}  " in line and "·" not in line, lines  # never `omni · kl…`
        assert not model or "<<<image_1>>>" in line, lines  # the prompt the journal knows
    # Narrower still, nothing breaks: the rows stay whole lines, each its task and endpoint.
    narrower = InProcessTerminal(
        ["--no-color", "list"], env=env, columns=60, stdin=False, stderr=False
    )
    assert narrower.finish(timeout=30) == 0, narrower.raw()
    lines = [line for line in narrower.text().splitlines() if line.strip()]
    assert all(len(line) <= 60 for line in lines), lines
    assert "ENDPOINT" in lines[0].split(), lines
    for (task_id, endpoint, _), line in zip(six, lines[1:], strict=False):
        assert line.startswith(task_id) and f"  {endpoint}  " in line, lines


def test_the_picker_offers_both_endpoints_tasks(
    api: EmulatorServer, six: list[tuple[str, str, str]]
) -> None:
    env = {"KLING_BASE_URL": api.url, "KLING_ACCESS_KEY": AK, "KLING_SECRET_KEY": SK}
    terminal = InProcessTerminal(["get", "--json"], env=env, columns=120)
    terminal.expect("q to quit]:", timeout=30)
    menu = terminal.text()
    assert all(task_id in menu for task_id, _, _ in six), menu
    assert "ENDPOINT" in menu
    for task_id, endpoint, _ in six:  # each task's endpoint, by its short name
        (line,) = [line for line in menu.splitlines() if task_id in line]
        assert f"{task_id}  {endpoint} " in line, menu
    terminal.type("3")  # the third newest: an omni task made by another client
    assert terminal.finish(timeout=30) == 0, terminal.text()
    assert f'"task_id": "{six[2][0]}"' in terminal.text()


def test_watch_draws_both_endpoints_tasks(
    api: EmulatorServer, six: list[tuple[str, str, str]]
) -> None:
    env = {"KLING_BASE_URL": api.url, "KLING_ACCESS_KEY": AK, "KLING_SECRET_KEY": SK}
    terminal = InProcessTerminal(
        ["--no-color", "list", "--watch"], env=env, columns=160, stdin=False
    )
    assert terminal.finish(timeout=30) == 0, terminal.raw()
    text = ANSI.sub("", terminal.text())
    assert "every task on the list has ended" in text
    assert all(task_id in text for task_id, _, _ in six)
    assert "omni · kling-v3-omni" in text and "multi-image · kling-v1-6" in text
