"""The live service's answers (the contract's "What the live service really answers"):
each form on its own option, all of them behind answers="live", the documented ones by default."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from sandbox_helpers import (
    COLLECTION,
    Api,
    MakeApi,
    assert_gateway_refused,
    assert_refused,
)

from mivid.sandbox import DEFAULT_ANSWERS, DOCUMENTED, LIVE, Emulator, FakeClock
from mivid.sandbox.clock import FAKE_CLOCK_START

# FakeClock's start is 2026-03-29; Kling retired models on 2026-09-15.
RETIREMENT_DAY = "2026-09-15"
AFTER_RETIREMENT = 1_789_430_400.0  # 2026-09-15T00:00:00Z


def test_an_emulator_not_told_answers_the_default_way() -> None:
    with Emulator() as emulator:
        assert emulator.forms == {"documented": DOCUMENTED, "live": LIVE}[DEFAULT_ANSWERS]
    with Emulator(answers="live") as emulator:
        assert emulator.forms == LIVE
    with Emulator(answers="documented") as emulator:
        assert emulator.forms == DOCUMENTED


# -- not found ---------------------------------------------------------------------


def test_live_not_found_is_400_1201_naming_the_value(emulated: MakeApi) -> None:
    api = emulated(not_found="live")
    expected = "Task not found by id/external id: "
    assert_refused(api.get("123456789012345678"), 1201, 400, expected + "123456789012345678")
    assert_refused(api.get("my-id"), 1201, 400, expected + "my-id")
    by_query = api.client.get(
        COLLECTION, params={"external_task_id": "nope"}, headers=api.headers()
    )
    assert_refused(by_query, 1201, 400, expected + "nope")
    assert_refused(api.get_omni("my-id"), 1201, 400, expected + "my-id")


def test_live_not_found_message_is_exactly_the_live_sentence(emulated: MakeApi) -> None:
    api = emulated(answers="live")
    assert_gateway_refused(api.get("gone"), 1201, 400, "Task not found by id/external id: gone")


def test_the_documented_not_found_stays_available_beside_live_answers(emulated: MakeApi) -> None:
    api = emulated(answers="live", not_found="documented", envelope="documented")
    assert_refused(api.get("gone"), 1203, 404, "gone")


# -- a reused external id ---------------------------------------------------------------


def test_a_reused_external_id_is_refused_the_live_way_and_not_billed(emulated: MakeApi) -> None:
    api = emulated(duplicate_external_id="live", units="fractional")
    api.create_ok(external_task_id="order-7")
    window = {"start_time": int(api.clock() * 1000), "end_time": int(api.clock() * 1000)}
    left = api.costs(**window).json()["data"]["resource_pack_subscribe_infos"][0]
    api.clock.advance(1)
    response = api.create(external_task_id="order-7")
    assert_refused(response, 1201, 400)
    assert response.json()["message"] == "External_task_id order-7 already exists"
    assert len(api.emulator.tasks()) == 1  # nothing created
    api.clock.advance(1)
    after = api.costs(**window).json()["data"]["resource_pack_subscribe_infos"][0]
    assert after["remaining_quantity"] == left["remaining_quantity"]  # nothing billed


def test_a_reused_external_id_is_refused_on_omni_too(emulated: MakeApi) -> None:
    api = emulated(answers="live")
    api.create_omni_ok(external_task_id="shot-1")
    assert_gateway_refused(
        api.create_omni(external_task_id="shot-1"),
        1201,
        400,
        "External_task_id shot-1 already exists",
    )


# -- create answers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("echo", {"external_task_id": "e-1"}),
        ("omit", None),
        ("empty", {}),
    ],
)
def test_the_create_answer_echoes_omits_or_empties_task_info(
    emulated: MakeApi, form: Any, expected: dict[str, str] | None
) -> None:
    api = emulated(create_task_info=form)
    data = api.create_ok(external_task_id="e-1")
    assert data.get("task_info") == expected
    assert ("task_info" in data) == (expected is not None)
    assert set(data) - {"task_info"} == {"task_id", "task_status", "created_at", "updated_at"}
    # The query still knows the external id: only the create answer is terse.
    assert api.task("e-1")["task_info"] == {"external_task_id": "e-1"}


def test_the_vendor_sample_create_answer_is_the_live_default(emulated: MakeApi) -> None:
    data = emulated(answers="live").create_ok(external_task_id="e-2")
    assert set(data) == {"task_id", "task_status", "created_at", "updated_at"}


# -- failed tasks ----------------------------------------------------------------------


def _failed(api: Api) -> dict[str, Any]:
    task_id = api.create_ok(prompt="a cat [fail]")["task_id"]
    api.clock.advance(10)
    return api.task(task_id)


def test_a_failed_task_has_no_result_by_default(emulated: MakeApi) -> None:
    failed = _failed(emulated())
    assert failed["task_status"] == "failed"
    assert "task_result" not in failed
    assert "task_info" not in failed


def test_a_failed_task_can_carry_empty_result_and_info(emulated: MakeApi) -> None:
    failed = _failed(emulated(failed_result="empty"))
    assert failed["task_result"] == {}
    assert failed["task_info"] == {}
    assert "final_unit_deduction" not in failed


def test_a_failed_task_can_carry_null_videos(emulated: MakeApi) -> None:
    failed = _failed(emulated(failed_result="null_videos"))
    assert failed["task_result"] == {"videos": None}


def test_a_failed_task_keeps_its_external_id(emulated: MakeApi) -> None:
    api = emulated(failed_result="empty")
    api.create_ok(prompt="[fail]", external_task_id="x-1")
    api.clock.advance(10)
    assert api.task("x-1")["task_info"] == {"external_task_id": "x-1"}


# -- the envelope --------------------------------------------------------------------


def test_gateway_envelopes_drop_request_id_and_carry_null_data_on_errors(
    emulated: MakeApi,
) -> None:
    api = emulated(envelope="gateway")
    ok = api.list().json()
    assert ok == {"code": 0, "message": "SUCCEED", "data": []}
    refused = api.create(mode="fast").json()
    assert set(refused) == {"code", "message", "data"}
    assert refused["data"] is None
    assert refused["code"] == 1201


def test_documented_envelopes_carry_request_id_and_no_data_on_errors(emulated: MakeApi) -> None:
    api = emulated()
    assert re.fullmatch(r"[0-9a-f-]{36}", api.list().json()["request_id"])
    assert_refused(api.create(mode="fast"), 1201, 400)


# -- retired models ------------------------------------------------------------------


def test_a_model_is_refused_from_its_retirement_day(emulated: MakeApi) -> None:
    clock = FakeClock(start=AFTER_RETIREMENT - 60)
    api = emulated(clock=clock, retired_models={"kling-v1-6": RETIREMENT_DAY})
    api.create_ok(model_name="kling-v1-6")  # the day before: still served
    clock.advance(60)
    response = api.create(model_name="kling-v1-6", external_task_id="late")
    assert_refused(response, 1201, 400)
    assert response.json()["message"] == (
        "The model 'kling-v1-6' has been discontinued and is no longer available."
    )
    # The endpoint's default model is retired too when the body names none.
    assert_refused(api.create(), 1201, 400, "discontinued")
    assert [t["task_info"] for t in api.emulator.tasks() if "task_info" in t] == []


def test_a_retired_omni_model_is_refused_and_the_other_still_runs(emulated: MakeApi) -> None:
    api = emulated(
        clock=FakeClock(start=AFTER_RETIREMENT), retired_models={"kling-video-o1": RETIREMENT_DAY}
    )
    assert_refused(api.create_omni(), 1201, 400, "'kling-video-o1' has been discontinued")
    api.create_omni_ok(model_name="kling-v3-omni")


def test_the_live_preset_has_retired_kling_v1(emulated: MakeApi) -> None:
    before = emulated(answers="live", clock=FakeClock(start=FAKE_CLOCK_START))
    assert before.create(model_name="kling-v1").json()["code"] == 1203  # not this endpoint's
    after = emulated(answers="live", clock=FakeClock(start=AFTER_RETIREMENT))
    assert_gateway_refused(
        after.create(model_name="kling-v1"),
        1201,
        400,
        "The model 'kling-v1' has been discontinued and is no longer available.",
    )


def test_a_bad_retirement_day_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="does not match format"):
        Emulator(retired_models={"kling-v1-6": "15/09/2026"})


# -- the video host ------------------------------------------------------------------


def _video_url(api: Api) -> str:
    task_id = api.create_ok()["task_id"]
    api.clock.advance(10)
    url: str = api.task(task_id)["task_result"]["videos"][0]["url"]
    return url


@pytest.mark.parametrize("status", [403, 405])
def test_the_video_host_can_refuse_head(emulated: MakeApi, status: int) -> None:
    api = emulated(video_head_status=status)
    url = _video_url(api)
    assert api.client.head(url).status_code == status
    assert api.client.get(url).status_code == 200  # GET still works


def test_a_one_byte_range_tells_the_size(emulated: MakeApi) -> None:
    api = emulated(video_head_status=403)
    url = _video_url(api)
    total = len(api.client.get(url).content)
    response = api.client.get(url, headers={"Range": "bytes=0-0"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 0-0/{total}"
    assert response.content == b"\0"  # the first byte of an MP4's first box size
    assert response.headers["content-length"] == "1"


def test_bad_head_statuses_are_refused() -> None:
    with pytest.raises(ValueError, match="video_head_status"):
        Emulator(video_head_status=200)


# -- statuses ------------------------------------------------------------------------


def test_the_terminal_status_can_be_spelled_succeeded(emulated: MakeApi) -> None:
    api = emulated(succeed_status="succeeded")
    task_id = api.create_ok(callback_url="https://example.com/hook")["task_id"]
    api.clock.advance(10)
    assert api.task(task_id)["task_status"] == "succeeded"
    assert api.list().json()["data"][0]["task_status"] == "succeeded"
    assert [c.task["task_status"] for c in api.emulator.callbacks][-1] == "succeeded"
    video = api.task(task_id)["task_result"]["videos"][0]
    assert api.client.get(video["url"]).status_code == 200


def test_a_task_can_report_a_status_the_client_does_not_know_for_a_while(
    emulated: MakeApi,
) -> None:
    api = emulated(first_status="queued", processing_after=3, succeed_after=6)
    data = api.create_ok()
    assert data["task_status"] == "queued"
    api.clock.advance(2.9)
    assert api.task(data["task_id"])["task_status"] == "queued"
    api.clock.advance(0.1)
    assert api.task(data["task_id"])["task_status"] == "processing"
    api.clock.advance(3)
    assert api.task(data["task_id"])["task_status"] == "succeed"


# -- units -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "path", "fields", "expected"),
    [
        ("whole", COLLECTION, {}, "1"),
        ("whole", COLLECTION, {"mode": "pro", "duration": "10"}, "4"),
        ("fractional", COLLECTION, {}, "1.1"),
        ("fractional", COLLECTION, {"mode": "pro"}, "2.2"),
        ("fractional", COLLECTION, {"mode": "pro", "duration": "10"}, "4.4"),
        ("fractional", "omni", {"mode": "std"}, "1.235"),
        ("fractional", "omni", {"mode": "std", "duration": "3"}, "0.741"),
        ("fractional", "omni", {}, "2.47"),
        ("fractional", "omni", {"model_name": "kling-v3-omni", "duration": "10"}, "6"),
        ("whole", "omni", {"duration": "7"}, "4"),
    ],
)
def test_final_unit_deduction_is_deterministic_by_model_mode_and_duration(
    emulated: MakeApi, units: Any, path: str, fields: dict[str, str], expected: str
) -> None:
    api = emulated(units=units)
    if path == "omni":
        task_id = api.create_omni_ok(**fields)["task_id"]
        api.clock.advance(10)
        done = api.get_omni(task_id).json()["data"]
    else:
        task_id = api.create_ok(**fields)["task_id"]
        api.clock.advance(10)
        done = api.task(task_id)
    assert done["final_unit_deduction"] == expected


# -- malformed API keys ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("credential", "got"), [("not-a-key", "0"), ("a.b", "2"), ("a.b.c.d", "> 3")]
)
def test_a_malformed_key_gets_the_live_sentence(
    emulated: MakeApi, credential: str, got: str
) -> None:
    api = emulated(token_messages="live")
    response = api.list(credential=credential)
    assert_refused(response, 1002, 401)
    assert response.json()["message"] == f"The token was expected to have 3 parts, but got {got}"


# -- the switch ------------------------------------------------------------------------


def test_answers_live_turns_every_live_form_on(emulated: MakeApi) -> None:
    api = emulated(answers="live")
    created = api.create_ok(external_task_id="l-1", mode="pro", duration="10")
    assert "task_info" not in created
    assert_gateway_refused(api.get("nope"), 1201, 400, "Task not found by id/external id: nope")
    assert_gateway_refused(
        api.create(external_task_id="l-1"), 1201, 400, "External_task_id l-1 already exists"
    )
    api.clock.advance(10)
    done = api.task("l-1")
    assert done["final_unit_deduction"] == "4.4"
    assert "request_id" not in api.list().json()
    failing = api.create_ok(prompt="[fail]")["task_id"]
    api.clock.advance(10)
    assert api.task(failing)["task_result"] == {}


def test_any_option_overrides_the_preset(emulated: MakeApi) -> None:
    api = emulated(answers="live", units="whole", create_task_info="echo")
    assert api.create_ok(external_task_id="o-1")["task_info"] == {"external_task_id": "o-1"}
    api.clock.advance(10)
    assert api.task("o-1")["final_unit_deduction"] == "1"


# -- task ids and visibility -----------------------------------------------------------


def test_task_ids_can_be_given_22_characters_or_300(emulated: MakeApi) -> None:
    long_id = "7" * 300
    api = emulated(task_ids=["CjhJY2VZ4pQAAAAAAaBc1w", long_id])
    first = api.create_ok()["task_id"]
    second = api.create_ok(external_task_id="long")["task_id"]
    third = api.create_ok()["task_id"]
    assert (first, second) == ("CjhJY2VZ4pQAAAAAAaBc1w", long_id)
    assert re.fullmatch(r"[1-9]\d{17}", third)  # then the usual ones
    assert api.task(long_id)["task_info"] == {"external_task_id": "long"}
    api.clock.advance(10)
    url = api.task(first)["task_result"]["videos"][0]["url"]
    assert url.endswith("/sandbox/videos/CjhJY2VZ4pQAAAAAAaBc1w.mp4")
    assert api.client.get(url).content[4:8] == b"ftyp"


def test_a_task_id_with_control_characters_is_served(emulated: MakeApi) -> None:
    api = emulated(task_ids=["\x1b[2J\x07\r42"])
    task_id = api.create_ok()["task_id"]
    assert task_id == "\x1b[2J\x07\r42"
    api.clock.advance(10)
    url = api.task(quote(task_id, safe=""))["task_result"]["videos"][0]["url"]
    assert "%1B%5B2J%07%0D42" in url  # quoted in the URL, so the URL stays valid
    assert api.client.get(url).status_code == 200


def test_a_task_can_be_invisible_for_a_while_after_its_create(emulated: MakeApi) -> None:
    api = emulated(invisible_for=2.0)
    task_id = api.create_ok(external_task_id="fresh")["task_id"]
    assert_refused(api.get(task_id), 1203, 404)
    assert_refused(api.get("fresh"), 1203, 404)
    assert api.list().json()["data"] == []
    assert_refused(api.create(external_task_id="fresh"), 1201, 400)  # it does exist
    api.clock.advance(2)
    assert api.task("fresh")["task_id"] == task_id
    assert [t["task_id"] for t in api.list().json()["data"]] == [task_id]
