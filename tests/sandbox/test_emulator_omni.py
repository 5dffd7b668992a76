"""Omni-Video (`/v1/videos/omni-video`): its own body rules, limits and defaults, its own
query and list paths, and tasks that the multi-image paths do not see (nor it theirs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sandbox_helpers import (
    COLLECTION,
    OMNI,
    PNG,
    Api,
    MakeApi,
    assert_refused,
    image_b64,
)

from mivid.sandbox import OMNI_VIDEO, Emulator, EmulatorTransport, FakeClock

URL = "https://example.com/ref.jpg"
VIDEO = {"video_url": "https://example.com/clip.mp4", "refer_type": "feature"}
BASE_VIDEO = {"video_url": "https://example.com/clip.mov", "refer_type": "base"}


def refs(count: int) -> list[dict[str, str]]:
    return [{"image_url": URL} for _ in range(count)]


def elements(count: int) -> list[dict[str, int]]:
    return [{"element_id": 100 + index} for index in range(count)]


@pytest.fixture
def omni(emulated: MakeApi) -> Api:
    return emulated(units="whole")


# -- accepted bodies and defaults -----------------------------------------------------


def test_a_minimal_body_takes_the_defaults(omni: Api) -> None:
    data = omni.create_omni_ok()
    assert data["task_status"] == "submitted"
    omni.clock.advance(10)
    done = omni.get_omni(data["task_id"]).json()["data"]
    assert done["task_status"] == "succeed"
    # kling-video-o1, pro (the endpoint's dearer default), 5 s: whole units 2.
    assert done["final_unit_deduction"] == "2"
    [video] = done["task_result"]["videos"]
    assert video["duration"] == "5.1"
    assert omni.client.get(video["url"]).content[4:8] == b"ftyp"


def test_every_field_at_its_limits_is_accepted(omni: Api) -> None:
    omni.create_omni_ok(
        model_name="kling-v3-omni",
        image_list=[{"image_url": image_b64(300, 750)}, *refs(1), {"image_url": PNG}],
        element_list=elements(1),
        video_list=[{**VIDEO, "keep_original_sound": "yes"}],
        prompt="<<<image_3>>> and <<<element_1>>> in the style of <<<video_1>>>" + "p" * 2400,
        mode="std",
        duration="3",
        aspect_ratio="9:16",
        watermark_info={"enabled": True},
        callback_url="https://example.com/hook",
        external_task_id="omni-1",
    )


def test_a_text_only_video_is_accepted(omni: Api) -> None:
    omni.create_omni_ok(image_list=..., prompt="a lighthouse at dusk", duration="10")


def test_seven_images_or_seven_references(omni: Api) -> None:
    omni.create_omni_ok(image_list=refs(7), prompt="seven")
    omni.create_omni_ok(image_list=refs(4), element_list=elements(3), prompt="seven")
    omni.create_omni_ok(image_list=refs(2), element_list=elements(2), video_list=[VIDEO])


@pytest.mark.parametrize(
    "images",
    [
        [{"image_url": PNG, "type": "first_frame"}],
        [{"image_url": PNG, "type": "first_frame"}, {"image_url": URL, "type": "end_frame"}],
        [{"image_url": URL, "type": "end_frame"}, {"image_url": PNG, "type": "first_frame"}],
    ],
)
def test_frames_need_no_aspect_ratio(omni: Api, images: list[dict[str, str]]) -> None:
    omni.create_omni_ok(image_list=images, aspect_ratio=..., prompt="from here to there")


def test_a_base_video_needs_no_aspect_ratio_and_any_duration(omni: Api) -> None:
    omni.create_omni_ok(
        image_list=..., video_list=[BASE_VIDEO], aspect_ratio=..., duration="7", prompt="edit"
    )


# -- refused bodies ------------------------------------------------------------------------

CASES: list[tuple[str, dict[str, Any], int, str]] = [
    (
        "negative prompt",
        {"negative_prompt": "blur"},
        1201,
        "unknown field 'negative_prompt'; omni-video has no negative_prompt: write negative "
        "wishes into the prompt",
    ),
    ("unknown field", {"seed": 1}, 1201, "unknown field 'seed'"),
    ("multi-image model", {"model_name": "kling-v1-6"}, 1203, "'kling-v1-6' does not exist"),
    ("no prompt", {"prompt": ...}, 1200, "prompt is required"),
    ("prompt too long", {"prompt": "x" * 2501}, 1201, "2501 characters"),
    ("image key", {"image_list": [{"image": PNG}]}, 1201, "unknown key 'image'"),
    ("no image_url", {"image_list": [{"type": "first_frame"}]}, 1200, "image_url is required"),
    ("bad type", {"image_list": [{"image_url": URL, "type": "middle"}]}, 1201, 'type "middle"'),
    ("type not string", {"image_list": [{"image_url": URL, "type": 1}]}, 1201, "must be a string"),
    (
        "data prefix",
        {"image_list": [{"image_url": "data:image/png;base64," + PNG}]},
        1201,
        "'data:' prefix",
    ),
    ("small image", {"image_list": [{"image_url": image_b64(100, 100)}]}, 1201, "100x100"),
    ("too wide", {"image_list": [{"image_url": image_b64(751, 300)}]}, 1201, "1:2.5 and 2.5:1"),
    ("gif", {"image_list": [{"image_url": image_b64(400, 300, "GIF")}]}, 1201, "GIF"),
    ("eight images", {"image_list": refs(8)}, 1201, "has 8 items; send 0 to 7"),
    (
        "five images with a video",
        {"image_list": refs(5), "video_list": [VIDEO]},
        1201,
        "has 5 items; send 0 to 4 images with a reference video",
    ),
    (
        "eight references",
        {"image_list": refs(5), "element_list": elements(3)},
        1201,
        "5 images and 3 elements make 8 references; at most 7",
    ),
    (
        "five references with a video",
        {"image_list": refs(2), "element_list": elements(3), "video_list": [VIDEO]},
        1201,
        "at most 4 are allowed with a reference video",
    ),
    ("element not object", {"element_list": [7]}, 1201, "element_list[0] must be an object"),
    ("element id string", {"element_list": [{"element_id": "7"}]}, 1201, "must be an integer"),
    ("element id bool", {"element_list": [{"element_id": True}]}, 1201, "must be an integer"),
    ("element id zero", {"element_list": [{"element_id": 0}]}, 1201, "positive integer"),
    ("element key", {"element_list": [{"id": 7}]}, 1201, "unknown key 'id'"),
    ("two videos", {"video_list": [VIDEO, VIDEO]}, 1201, "video_list has 2 items; at most 1"),
    ("video not array", {"video_list": VIDEO}, 1201, "video_list must be an array"),
    (
        "video as base64",
        {"video_list": [{"video_url": "AAAAGGZ0eXBtcDQy", "refer_type": "base"}]},
        1201,
        "URL only",
    ),
    ("video ftp", {"video_list": [{**VIDEO, "video_url": "ftp://x/a.mp4"}]}, 1201, "'ftp'"),
    ("no refer type", {"video_list": [{"video_url": URL}]}, 1200, "refer_type is required"),
    ("bad refer type", {"video_list": [{**VIDEO, "refer_type": "style"}]}, 1201, "feature, base"),
    (
        "bad keep sound",
        {"video_list": [{**VIDEO, "keep_original_sound": True}]},
        1201,
        "keep_original_sound must be a string",
    ),
    (
        "end frame alone",
        {"image_list": [{"image_url": URL, "type": "end_frame"}]},
        1201,
        "end_frame but no first_frame",
    ),
    (
        "two first frames",
        {"image_list": [{"image_url": URL, "type": "first_frame"}] * 2},
        1201,
        "2 first_frame images",
    ),
    (
        "end frame with three images",
        {
            "image_list": [
                {"image_url": URL, "type": "first_frame"},
                {"image_url": URL, "type": "end_frame"},
                {"image_url": URL},
            ]
        },
        1201,
        "an end_frame is allowed with at most 2 images",
    ),
    ("no aspect ratio", {"aspect_ratio": ...}, 1200, "aspect_ratio is required unless"),
    (
        "no aspect ratio with a feature video",
        {"aspect_ratio": ..., "video_list": [VIDEO]},
        1200,
        "aspect_ratio is required",
    ),
    ("bad aspect ratio", {"aspect_ratio": "4:3"}, 1201, 'aspect_ratio "4:3"'),
    ("duration 2", {"duration": "2"}, 1201, 'duration "2" is not allowed'),
    ("duration 11", {"duration": "11"}, 1201, 'duration "11" is not allowed'),
    ("duration number", {"duration": 5}, 1201, "duration must be a string"),
    (
        "text-only 7 s",
        {"image_list": ..., "prompt": "a sea", "duration": "7"},
        1201,
        'duration "7" is not allowed for a text-only video; use one of: 5, 10',
    ),
    (
        "first frame 3 s",
        {
            "image_list": [{"image_url": URL, "type": "first_frame"}],
            "duration": "3",
            "prompt": "go",
        },
        1201,
        "not allowed for a video from a first_frame",
    ),
    ("bad mode", {"mode": "fast"}, 1201, "mode"),
    ("image 3 of 2", {"prompt": "<<<image_3>>> again"}, 1201, "<<<image_3>>> but the body has 2"),
    ("image 0", {"prompt": "<<<image_0>>>"}, 1201, "<<<image_0>>>"),
    ("element without one", {"prompt": "<<<element_1>>>"}, 1201, "has 0 elements"),
    ("video without one", {"prompt": "<<<video_1>>>"}, 1201, "has 0 videos"),
    ("external id empty", {"external_task_id": ""}, 1201, "external_task_id is empty"),
    ("watermark string", {"watermark_info": {"enabled": "y"}}, 1201, "true or false"),
]


@pytest.mark.parametrize(
    ("changes", "code", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_bad_body_is_refused(
    omni: Api, changes: dict[str, Any], code: int, fragment: str
) -> None:
    status = 404 if code == 1203 else 400
    assert_refused(omni.create_omni(**changes), code, status, fragment)
    assert omni.emulator.tasks() == []


@pytest.fixture(scope="module")
def counting_api() -> Iterator[Api]:
    """One in-process emulator for the property test (no concurrency limit to trip over)."""
    emulator = Emulator(
        access_keys={"test-ak": "test-sk"}, clock=FakeClock(), concurrency_limit=10**6
    )
    with httpx.Client(transport=EmulatorTransport(emulator), base_url="http://kling.test") as c:
        yield Api(c, emulator)
    emulator.close()


@given(
    images=st.integers(min_value=0, max_value=9),
    element_count=st.integers(min_value=0, max_value=9),
    with_video=st.booleans(),
)
def test_the_counts_allowed_are_exactly_the_contracts(
    counting_api: Api, images: int, element_count: int, with_video: bool
) -> None:
    fields: dict[str, Any] = {
        "image_list": refs(images),
        "element_list": elements(element_count),
        "prompt": "whatever is given",
    }
    if with_video:
        fields["video_list"] = [VIDEO]
    most = 4 if with_video else 7
    text_only = images == 0 and element_count == 0 and not with_video
    expected_ok = images <= most and images + element_count <= most
    response = counting_api.create_omni(**fields, duration="5" if text_only else "6")
    assert (response.json()["code"] == 0) == expected_ok, (fields, response.json())


# -- one endpoint's tasks are not another's --------------------------------------------------


def test_each_endpoint_sees_only_its_own_tasks(omni: Api) -> None:
    mine = omni.create_omni_ok(external_task_id="o-1")["task_id"]
    theirs = omni.create_ok(external_task_id="m-1")["task_id"]
    assert omni.get_omni(mine).json()["data"]["task_id"] == mine
    assert omni.get_omni("o-1").json()["data"]["task_id"] == mine
    for ident in (theirs, "m-1"):
        assert_refused(omni.get_omni(ident), 1203, 404, ident)
    for ident in (mine, "o-1"):
        assert_refused(omni.get(ident), 1203, 404, ident)
    by_query = omni.client.get(
        COLLECTION, params={"external_task_id": "o-1"}, headers=omni.headers()
    )
    assert_refused(by_query, 1203, 404)
    assert [t["task_id"] for t in omni.list_omni().json()["data"]] == [mine]
    assert [t["task_id"] for t in omni.list().json()["data"]] == [theirs]
    assert [t["task_id"] for t in omni.emulator.tasks("omni-video")] == [mine]


def test_the_omni_list_is_newest_first_and_paged_by_the_same_rules(omni: Api) -> None:
    ids = []
    for _ in range(3):
        ids.append(omni.create_omni_ok()["task_id"])
        omni.clock.advance(10)
    page = omni.list_omni(pageNum=1, pageSize=2).json()["data"]
    assert [t["task_id"] for t in page] == ids[::-1][:2]
    assert_refused(omni.list_omni(pageSize=501), 1201, 400, "pageSize must be between 1 and 500")
    assert_refused(omni.list_omni(page_size=1), 1201, 400, "unknown query parameter")


def test_external_ids_are_unique_per_account_across_endpoints(omni: Api) -> None:
    """The contract says "unique per account"; the emulator takes it at its word."""
    omni.create_ok(external_task_id="shared")
    assert_refused(omni.create_omni(external_task_id="shared"), 1201, 400, "already used")


def test_omni_paths_take_the_same_methods(omni: Api) -> None:
    assert_refused(omni.client.put(OMNI, headers=omni.headers()), 1202, 404, "PUT")
    assert_refused(omni.client.post(f"{OMNI}/123", headers=omni.headers()), 1202, 404, "POST")


def test_the_endpoint_description_is_what_the_contract_says() -> None:
    assert OMNI_VIDEO.path == "/v1/videos/omni-video"
    assert OMNI_VIDEO.default_model == "kling-video-o1"
    assert "kling-v3-omni" in OMNI_VIDEO.models
    assert OMNI_VIDEO.default_mode == "pro"
    assert OMNI_VIDEO.durations == tuple(str(n) for n in range(3, 11))
    assert "negative_prompt" not in OMNI_VIDEO.fields
