"""Tasks over time: lifecycle by the fake clock, queries, the list, the concurrency limit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sandbox_helpers import COLLECTION, Api, assert_refused

from mivid.sandbox import DEFAULT_FAILURE_MESSAGE, FakeClock


def test_the_create_answer_holds_only_the_contract_fields(api: Api, clock: FakeClock) -> None:
    data = api.create_ok(external_task_id="e-1")
    assert set(data) == {"task_id", "task_status", "task_info", "created_at", "updated_at"}
    assert re.fullmatch(r"[1-9]\d{17}", data["task_id"])
    assert data["task_status"] == "submitted"
    assert data["task_info"] == {"external_task_id": "e-1"}
    assert data["created_at"] == data["updated_at"] == int(clock() * 1000)


def test_without_external_id_there_is_no_task_info(api: Api) -> None:
    data = api.create_ok()
    assert "task_info" not in data
    assert "task_info" not in api.task(data["task_id"])


def test_status_follows_the_clock(api: Api, clock: FakeClock) -> None:
    start = int(clock() * 1000)
    task_id = api.create_ok()["task_id"]
    submitted = api.task(task_id)
    assert submitted == {
        "task_id": task_id,
        "task_status": "submitted",
        "task_status_msg": "",
        "watermark_info": {"enabled": False},
        "created_at": start,
        "updated_at": start,
    }
    clock.advance(1.0)
    processing = api.task(task_id)
    assert processing["task_status"] == "processing"
    assert processing["updated_at"] == start + 1000
    assert "task_result" not in processing
    clock.advance(5.0)
    done = api.task(task_id)
    assert done["task_status"] == "succeed"
    assert done["updated_at"] == start + 6000
    assert done["final_unit_deduction"] == "1"
    [video] = done["task_result"]["videos"]
    assert video["url"] == f"{api.emulator.video_base_url}/sandbox/videos/{task_id}.mp4"
    assert video["duration"] == "5.1"
    assert video["id"]
    assert "watermark_url" not in video


def test_watermark_pro_and_ten_seconds_show_in_the_result(api: Api, clock: FakeClock) -> None:
    task_id = api.create_ok(mode="pro", duration="10", watermark_info={"enabled": True})["task_id"]
    clock.advance(6)
    done = api.task(task_id)
    [video] = done["task_result"]["videos"]
    assert video["duration"] == "10.1"
    assert video["watermark_url"].endswith(f"/sandbox/videos/{task_id}_wm.mp4")
    assert done["watermark_info"] == {"enabled": True}
    assert done["final_unit_deduction"] == "4"


def test_a_task_is_found_by_its_external_id_both_ways(api: Api) -> None:
    task_id = api.create_ok(external_task_id="order-42")["task_id"]
    assert api.task("order-42")["task_id"] == task_id
    response = api.client.get(
        COLLECTION, params={"external_task_id": "order-42"}, headers=api.headers()
    )
    assert response.status_code == 200
    assert response.json()["data"]["task_id"] == task_id  # one object, not a list


def test_an_unknown_task_is_404_1203(api: Api) -> None:
    assert_refused(api.get("123456789012345678"), 1203, 404, "123456789012345678")
    response = api.client.get(
        COLLECTION, params={"external_task_id": "nope"}, headers=api.headers()
    )
    assert_refused(response, 1203, 404, "nope")


def test_scripted_failure_ends_failed_with_the_message(api: Api, clock: FakeClock) -> None:
    api.emulator.script_failure("content-safety: the images were refused")
    failing = api.create_ok()["task_id"]
    fine = api.create_ok()["task_id"]  # only the next task fails
    clock.advance(6)
    failed = api.task(failing)
    assert failed["task_status"] == "failed"
    assert failed["task_status_msg"] == "content-safety: the images were refused"
    assert "task_result" not in failed
    assert "final_unit_deduction" not in failed
    assert api.task(fine)["task_status"] == "succeed"


def test_a_fail_marker_in_the_prompt_fails_the_task(api: Api, clock: FakeClock) -> None:
    task_id = api.create_ok(prompt="a cat [fail]")["task_id"]
    clock.advance(1)
    assert api.task(task_id)["task_status"] == "processing"
    clock.advance(5)
    failed = api.task(task_id)
    assert failed["task_status"] == "failed"
    assert failed["task_status_msg"].startswith(DEFAULT_FAILURE_MESSAGE)


def test_a_refused_create_does_not_use_up_a_scripted_failure(api: Api, clock: FakeClock) -> None:
    api.emulator.script_failure("boom")
    assert api.create(mode="fast").status_code == 400
    task_id = api.create_ok()["task_id"]
    clock.advance(6)
    assert api.task(task_id)["task_status_msg"] == "boom"


def test_the_list_is_newest_first_and_paged(api: Api, clock: FakeClock) -> None:
    ids = []
    for _ in range(5):
        ids.append(api.create_ok()["task_id"])
        clock.advance(10)  # each one ends, so the concurrency limit never bites
    newest_first = list(reversed(ids))
    assert [t["task_id"] for t in api.list().json()["data"]] == newest_first
    pages = [api.list(pageNum=n, pageSize=2).json()["data"] for n in (1, 2, 3, 4)]
    assert [[t["task_id"] for t in page] for page in pages] == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:],
        [],
    ]
    assert all(t["task_status"] == "succeed" for t in pages[0])


def test_the_list_defaults_to_30(api: Api, clock: FakeClock) -> None:
    for _ in range(31):
        api.create_ok()
        clock.advance(10)
    assert len(api.list().json()["data"]) == 30
    assert len(api.list(pageNum=2).json()["data"]) == 1
    assert len(api.list(pageSize=500).json()["data"]) == 31


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"pageNum": 0}, "pageNum must be between 1 and 1000"),
        ({"pageNum": 1001}, "between 1 and 1000, got 1001"),
        ({"pageSize": 0}, "pageSize must be between 1 and 500"),
        ({"pageSize": 501}, "got 501"),
        ({"pageSize": "ten"}, "pageSize must be an integer"),
        ({"pageSize": "-1"}, "must be an integer"),
        ({"pageNum": "1.0"}, "must be an integer"),
        ({"pageNum": ""}, "must be an integer"),
        ({"page_num": 1}, "unknown query parameter 'page_num'"),
        ({"page_size": 1}, "unknown query parameter 'page_size'"),
        ({"status": "succeed"}, "unknown query parameter 'status'"),
        ({"pageNum": [1, 2]}, "more than once"),
    ],
)
def test_bad_list_parameters_are_1201(api: Api, params: dict[str, Any], fragment: str) -> None:
    assert_refused(api.list(**params), 1201, 400, fragment)


def test_query_parameters_on_a_single_task_query_are_refused(api: Api) -> None:
    task_id = api.create_ok()["task_id"]
    response = api.client.get(f"{COLLECTION}/{task_id}", params={"x": 1}, headers=api.headers())
    assert_refused(response, 1201, 400, "'x'")


def test_the_concurrency_limit_is_1303_and_creates_nothing(api: Api, clock: FakeClock) -> None:
    for _ in range(5):
        api.create_ok()
    assert_refused(api.create(external_task_id="sixth"), 1303, 429, "limit is 5")
    assert len(api.emulator.tasks()) == 5
    assert_refused(api.get("sixth"), 1203, 404)
    # another account has its own slots
    assert api.create(credential="test-api-key").json()["code"] == 0
    clock.advance(6)  # all five end and free their slots
    assert api.create(external_task_id="sixth").json()["code"] == 0


def test_failed_tasks_free_their_slot_too(api: Api, clock: FakeClock) -> None:
    api.emulator.concurrency_limit = 1
    api.create_ok(prompt="[fail]")
    assert api.create().status_code == 429
    clock.advance(6)
    api.create_ok()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", COLLECTION),
        ("DELETE", COLLECTION),
        ("POST", f"{COLLECTION}/123456789012345678"),
        ("PATCH", f"{COLLECTION}/123456789012345678"),
    ],
)
def test_a_wrong_method_is_1202(api: Api, method: str, path: str) -> None:
    response = api.client.request(method, path, headers=api.headers())
    assert_refused(response, 1202, 404, method)


@pytest.mark.parametrize(
    "path", ["/v1/videos/image2video", "/kling/v1/videos/multi-image2video", f"{COLLECTION}/a/b"]
)
def test_an_unknown_path_is_404(api: Api, path: str) -> None:
    assert_refused(api.client.get(path, headers=api.headers()), 1202, 404, "no such endpoint")


def test_every_request_is_recorded(api: Api) -> None:
    api.create_ok(external_task_id="rec")
    api.list(pageNum=1)
    create, listing = api.emulator.received
    assert create.method == "POST"
    assert create.path == COLLECTION
    assert create.headers["content-type"] == "application/json"
    assert create.headers["authorization"].startswith("Bearer ")
    assert create.has_content_length is True
    assert create.json["external_task_id"] == "rec"
    assert create.body.startswith(b"{")
    assert listing.query == {"pageNum": "1"}
    assert listing.json is None


def test_tasks_lists_every_account_oldest_first(api: Api) -> None:
    first = api.create_ok()["task_id"]
    second = api.create(credential="test-api-key").json()["data"]["task_id"]
    assert [t["task_id"] for t in api.emulator.tasks()] == [first, second]


def test_callbacks_record_every_status_change(api: Api, clock: FakeClock) -> None:
    task_id = api.create_ok(callback_url="http://127.0.0.1:9/hook")["task_id"]
    api.create_ok()  # no callback_url: no deliveries
    assert [c.task["task_status"] for c in api.emulator.callbacks] == ["submitted"]
    clock.advance(3)
    clock.advance(10)  # processing and succeed both happened since the last look
    deliveries = api.emulator.callbacks
    assert [c.task["task_status"] for c in deliveries] == ["submitted", "processing", "succeed"]
    assert {c.url for c in deliveries} == {"http://127.0.0.1:9/hook"}
    assert {c.task["task_id"] for c in deliveries} == {task_id}
    assert "task_result" in deliveries[-1].task
    assert len(api.emulator.callbacks) == 3  # looking again delivers nothing new
