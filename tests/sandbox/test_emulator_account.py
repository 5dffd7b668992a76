"""`GET /account/costs` and the resource packs behind it: units that go down by what tasks
deduct, running out (1102), pack statuses, and the one-request-per-second limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import COSTS, Api, MakeApi, assert_refused, body, make_token

from mivid.sandbox import Emulator, FakeClock, Request, ResourcePack

DAY = 86_400.0


def window(api: Api, days: float = 1) -> dict[str, int]:
    now = int(api.clock() * 1000)
    return {"start_time": now - int(days * DAY * 1000), "end_time": now}


def packs(api: Api, **params: Any) -> list[dict[str, Any]]:
    """The packs listed now (the clock moves a second on, past the rate limit)."""
    response = api.costs(**(params or window(api)))
    assert response.status_code == 200, response.text
    api.clock.advance(1)
    listed: list[dict[str, Any]] = response.json()["data"]["resource_pack_subscribe_infos"]
    return listed


def test_the_answer_has_the_contracts_shape(emulated: MakeApi) -> None:
    api = emulated()
    response = api.costs(**window(api))
    envelope = response.json()
    assert envelope["code"] == 0 and envelope["message"] == "SUCCEED" and envelope["request_id"]
    data = envelope["data"]
    assert data["code"] == 0 and isinstance(data["msg"], str)
    [pack] = data["resource_pack_subscribe_infos"]
    assert pack == {
        "resource_pack_name": "Sandbox video pack",
        "resource_pack_id": pack["resource_pack_id"],
        "resource_pack_type": "decreasing_total",
        "total_quantity": 1_000_000.0,
        "remaining_quantity": 1_000_000.0,
        "purchase_time": pack["effective_time"],
        "effective_time": int((api.clock() - 30 * DAY) * 1000),
        "invalid_time": int((api.clock() + 3620 * DAY) * 1000),
        "status": "online",
    }
    assert isinstance(pack["resource_pack_id"], str) and pack["resource_pack_id"]


def test_units_go_down_by_what_tasks_deduct(emulated: MakeApi) -> None:
    api = emulated(units="fractional")
    task_id = api.create_ok(mode="pro", duration="10")["task_id"]
    api.create_omni_ok(mode="std")
    [pack] = packs(api)
    assert pack["remaining_quantity"] == pytest.approx(1_000_000 - 4.4 - 1.235)
    api.clock.advance(10)
    assert api.task(task_id)["final_unit_deduction"] == "4.4"


def test_a_failed_task_deducts_nothing(emulated: MakeApi) -> None:
    api = emulated()
    api.create_ok(prompt="[fail]")
    api.emulator.script_failure("no")
    api.create_ok()
    assert packs(api)[0]["remaining_quantity"] == 1_000_000


def test_running_out_refuses_creates_with_1102(emulated: MakeApi) -> None:
    api = emulated(units_left=2)
    dear = api.create(mode="pro", duration="10", external_task_id="dear")
    assert_refused(dear, 1102, 429, "the 4 units this task costs")
    assert api.emulator.tasks() == []
    api.create_ok()
    [pack] = packs(api)
    assert (pack["remaining_quantity"], pack["status"]) == (1.0, "online")
    api.create_ok()
    [pack] = packs(api)
    assert (pack["remaining_quantity"], pack["status"]) == (0.0, "runOut")
    assert_refused(api.create(), 1102, 429, "used up or expired")
    assert_refused(api.create_omni(), 1102, 429)
    assert len(api.emulator.tasks()) == 2


def test_an_account_can_start_with_no_units(emulated: MakeApi) -> None:
    api = emulated(units_left=0)
    assert packs(api)[0]["status"] == "runOut"
    assert_refused(api.create(), 1102, 429)


def test_each_account_spends_its_own_packs(emulated: MakeApi) -> None:
    api = emulated(units_left=1)
    api.create_ok()
    assert_refused(api.create(), 1102, 429)
    assert api.create(credential="test-api-key").json()["code"] == 0


def test_pack_statuses_follow_the_clock(emulated: MakeApi) -> None:
    clock = FakeClock()
    now = clock()
    api = emulated(
        clock=clock,
        packs=[
            ResourcePack("old", total=100, effective_at=now - 90 * DAY, invalid_at=now - DAY),
            ResourcePack("next", total=100, effective_at=now + DAY, invalid_at=now + 60 * DAY),
            ResourcePack("images", total=100, product="image"),
            ResourcePack("monthly", total=10, remaining=0, pack_type="constant_period"),
        ],
    )
    wide = {"start_time": int((now - 100 * DAY) * 1000), "end_time": int((now + 100 * DAY) * 1000)}
    listed = {p["resource_pack_name"]: p for p in packs(api, **wide)}
    assert {name: p["status"] for name, p in listed.items()} == {
        "old": "expired",
        "next": "toBeOnline",
        "images": "online",
        "monthly": "runOut",
    }
    assert listed["monthly"]["resource_pack_type"] == "constant_period"
    assert_refused(api.create(), 1102, 429)  # no online video pack: an image pack does not pay
    clock.advance(DAY)
    assert packs(api, **wide)[1]["status"] == "online"
    api.create_ok()


def test_the_pack_that_ends_first_pays(emulated: MakeApi) -> None:
    clock = FakeClock()
    now = clock()
    api = emulated(
        clock=clock,
        packs=[
            ResourcePack("later", total=10, invalid_at=now + 90 * DAY),
            ResourcePack("sooner", total=1, invalid_at=now + 10 * DAY),
        ],
    )
    api.create_ok()  # 1 unit: sooner pays
    api.create_ok()  # sooner is out: later pays
    remaining = {p["resource_pack_name"]: p["remaining_quantity"] for p in packs(api)}
    assert remaining == {"later": 9.0, "sooner": 0.0}


def test_the_window_and_the_name_choose_the_packs(emulated: MakeApi) -> None:
    clock = FakeClock()
    now = clock()
    api = emulated(
        clock=clock,
        packs=[
            ResourcePack("a", effective_at=now - 10 * DAY, invalid_at=now + DAY),
            ResourcePack("b", effective_at=now + 5 * DAY, invalid_at=now + 50 * DAY),
        ],
    )
    assert [p["resource_pack_name"] for p in packs(api)] == ["a"]
    ahead = {"start_time": int(now * 1000), "end_time": int((now + 6 * DAY) * 1000)}
    assert [p["resource_pack_name"] for p in packs(api, **ahead)] == ["a", "b"]
    named = {**ahead, "resource_pack_name": "b"}
    assert [p["resource_pack_name"] for p in packs(api, **named)] == ["b"]


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({}, 1200, "start_time is required"),
        ({"start_time": 1_700_000_000_000}, 1200, "end_time is required"),
        ({"start_time": "soon", "end_time": 1_700_000_000_000}, 1201, "must be an integer"),
        ({"start_time": 1_700_000_000, "end_time": 1_700_000_000}, 1201, "looks like seconds"),
        ({"start_time": 1_700_000_000_001, "end_time": 1_700_000_000_000}, 1201, "is after"),
        (
            {"start_time": 1_700_000_000_000, "end_time": 1_700_000_000_000, "page": 1},
            1201,
            "unknown query parameter 'page'",
        ),
        (
            {"start_time": [1_700_000_000_000] * 2, "end_time": 1_700_000_000_000},
            1201,
            "more than once",
        ),
    ],
)
def test_bad_parameters_are_refused(
    emulated: MakeApi, params: dict[str, Any], code: int, fragment: str
) -> None:
    api = emulated()
    assert_refused(api.costs(**params), code, 400, fragment)


def test_at_most_one_request_per_second(emulated: MakeApi) -> None:
    api = emulated()
    assert api.costs(**window(api)).status_code == 200
    api.clock.advance(0.5)
    refused = api.costs(**window(api))
    assert_refused(refused, 1302, 429, "at most one request every 1 s")
    assert refused.headers["retry-after"] == "1"
    assert api.costs(**window(api), bogus=1).status_code == 400  # refused calls do not count
    api.clock.advance(0.5)  # a second after the last answered call
    assert api.costs(**window(api)).status_code == 200


def test_the_rate_limit_is_per_account_and_can_be_lifted(emulated: MakeApi) -> None:
    api = emulated()
    other = {"Authorization": "Bearer test-api-key"}
    assert api.costs(**window(api)).status_code == 200
    assert api.client.get(COSTS, params=window(api), headers=other).status_code == 200
    unlimited = emulated(account_rate_limit=None)
    assert [unlimited.costs(**window(unlimited)).status_code for _ in range(3)] == [200] * 3


def test_the_account_endpoint_needs_credentials_and_get(emulated: MakeApi) -> None:
    api = emulated()
    assert_refused(api.client.get(COSTS, params=window(api)), 1001, 401)
    assert_refused(api.client.post(COSTS, headers=api.headers()), 1202, 404, "POST")


def test_packs_and_the_limit_are_shared_through_the_state_file(tmp_path: Path) -> None:
    clock = FakeClock()
    db = tmp_path / "sandbox.sqlite3"
    keys = {"test-ak": "test-sk"}
    auth = {"authorization": f"Bearer {make_token(clock)}"}
    create = Request(
        "POST",
        "/v1/videos/multi-image2video",
        headers={**auth, "content-type": "application/json"},
        body=json.dumps(body()).encode(),
        has_content_length=True,
    )
    now = str(int(clock() * 1000))
    costs = Request("GET", COSTS, [("start_time", now), ("end_time", now)], auth)
    with Emulator(access_keys=keys, clock=clock, db_path=db, units_left=1, units="whole") as first:
        assert json.loads(first.handle(create).body)["code"] == 0
        assert first.handle(costs).status == 200
    with Emulator(access_keys=keys, clock=clock, db_path=db, units_left=1, units="whole") as second:
        assert json.loads(second.handle(create).body)["code"] == 1102  # spent by the first
        assert json.loads(second.handle(costs).body)["code"] == 1302  # a second process, too soon


def test_packs_and_units_left_do_not_mix() -> None:
    with pytest.raises(ValueError, match="not both"):
        Emulator(packs=[ResourcePack()], units_left=3)
    with pytest.raises(ValueError, match="remaining"):
        ResourcePack(total=1, remaining=2)
