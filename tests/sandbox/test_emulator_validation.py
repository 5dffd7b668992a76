"""The create body: every rule of the contract, each refusal with its code and a precise message."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from sandbox_helpers import COLLECTION, PNG, Api, assert_refused, body, image_b64, image_bytes


def _post_raw(
    api: Api, content: bytes, content_type: str | None = "application/json"
) -> httpx.Response:
    headers = api.headers()
    if content_type is not None:
        headers["Content-Type"] = content_type
    return api.client.post(COLLECTION, content=content, headers=headers)


def test_a_minimal_body_is_accepted(api: Api) -> None:
    data = api.create_ok()
    assert data["task_status"] == "submitted"


def test_every_field_at_its_limits_is_accepted(api: Api) -> None:
    data = api.create_ok(
        model_name="kling-v1-6",
        image_list=[
            {"image": image_b64(300, 300)},
            {"image": image_b64(750, 300, "JPEG")},
            {"image": image_b64(300, 750)},
            {"image": "https://example.com/cat.png"},
        ],
        prompt="p" * 2500,
        negative_prompt="n" * 2500,
        mode="pro",
        duration="10",
        aspect_ratio="9:16",
        watermark_info={"enabled": False},
        callback_url="https://example.com/hook",
        external_task_id="mine-1",
    )
    assert data["task_info"] == {"external_task_id": "mine-1"}


def _big_png_b64(size: int) -> str:
    """A valid PNG padded to `size` bytes (trailing bytes after IEND are ignored by readers)."""
    raw = image_bytes()
    return base64.b64encode(raw + b"\0" * (size - len(raw))).decode()


def test_an_image_of_exactly_10_mib_is_accepted(api: Api) -> None:
    api.create_ok(image_list=[{"image": _big_png_b64(10 * 1024 * 1024)}])


CASES: list[tuple[str, dict[str, Any], int, int, str]] = [
    ("unknown field", {"seed": 1}, 1201, 400, "unknown field 'seed'"),
    ("other model", {"model_name": "kling-v2-master"}, 1203, 404, "kling-v2-master"),
    ("model not string", {"model_name": 16}, 1201, 400, "model_name must be a string"),
    ("no image_list", {"image_list": ...}, 1200, 400, "image_list is required"),
    ("image_list not array", {"image_list": PNG}, 1201, 400, "must be an array"),
    ("no images", {"image_list": []}, 1201, 400, "has 0 items"),
    ("five images", {"image_list": [{"image": PNG}] * 5}, 1201, 400, "has 5 items"),
    ("bare string item", {"image_list": [PNG]}, 1201, 400, "image_list[0] must be an object"),
    ("extra key", {"image_list": [{"image": PNG, "x": 1}]}, 1201, 400, "unknown key 'x'"),
    ("no image key", {"image_list": [{}]}, 1200, 400, "image_list[0].image is required"),
    ("image not string", {"image_list": [{"image": 5}]}, 1201, 400, "must be a string"),
    ("empty image", {"image_list": [{"image": ""}]}, 1201, 400, "is empty"),
    (
        "data prefix",
        {"image_list": [{"image": "data:image/png;base64," + PNG}]},
        1201,
        400,
        "'data:' prefix",
    ),
    (
        "ftp url",
        {"image_list": [{"image": "ftp://example.com/a.png"}]},
        1201,
        400,
        "http(s) URL, got scheme 'ftp'",
    ),
    ("url without host", {"image_list": [{"image": "https:///a.png"}]}, 1201, 400, "no host"),
    ("not base64", {"image_list": [{"image": "not base64!"}]}, 1201, 400, "Base64"),
    ("url-safe base64", {"image_list": [{"image": PNG.replace("+", "-")}]}, 1201, 400, "Base64"),
    (
        "base64 with newlines",
        {"image_list": [{"image": PNG[:60] + "\n" + PNG[60:]}]},
        1201,
        400,
        "Base64",
    ),
    (
        "gif",
        {"image_list": [{"image": image_b64(400, 300, "GIF")}]},
        1201,
        400,
        "GIF image; only JPEG and PNG",
    ),
    (
        "webp",
        {"image_list": [{"image": image_b64(400, 300, "WEBP")}]},
        1201,
        400,
        "WEBP image",
    ),
    (
        "not an image",
        {"image_list": [{"image": base64.b64encode(b"hello world").decode()}]},
        1201,
        400,
        "could not be decoded",
    ),
    (
        "truncated png",
        {"image_list": [{"image": base64.b64encode(image_bytes()[:200]).decode()}]},
        1201,
        400,
        "could not be decoded",
    ),
    (
        "too narrow",
        {"image_list": [{"image": image_b64(299, 400)}]},
        1201,
        400,
        "299x400 px",
    ),
    (
        "too low",
        {"image_list": [{"image": image_b64(400, 299, "JPEG")}]},
        1201,
        400,
        "at least 300 px",
    ),
    ("too wide", {"image_list": [{"image": image_b64(751, 300)}]}, 1201, 400, "1:2.5 and 2.5:1"),
    ("too tall", {"image_list": [{"image": image_b64(300, 751)}]}, 1201, 400, "1:2.5 and 2.5:1"),
    (
        "second image is bad",
        {"image_list": [{"image": PNG}, {"image": image_b64(100, 100)}]},
        1201,
        400,
        "image_list[1].image is 100x100",
    ),
    ("no prompt", {"prompt": ...}, 1200, 400, "prompt is required"),
    ("prompt too long", {"prompt": "x" * 2501}, 1201, 400, "2501 characters"),
    ("prompt not string", {"prompt": ["a"]}, 1201, 400, "prompt must be a string, got array"),
    ("prompt null", {"prompt": None}, 1201, 400, "got null"),
    ("empty prompt", {"prompt": "  "}, 1201, 400, "prompt is empty"),
    ("negative too long", {"negative_prompt": "x" * 2501}, 1201, 400, "negative_prompt is 2501"),
    ("negative null", {"negative_prompt": None}, 1201, 400, "negative_prompt must be a string"),
    ("bad mode", {"mode": "fast"}, 1201, 400, 'mode "fast" is not allowed; use one of: std, pro'),
    ("duration number", {"duration": 5}, 1201, 400, "duration must be a string"),
    ("duration value", {"duration": "7"}, 1201, 400, 'duration "7" is not allowed'),
    ("bad aspect", {"aspect_ratio": "4:3"}, 1201, 400, 'aspect_ratio "4:3"'),
    ("watermark bool", {"watermark_info": True}, 1201, 400, "watermark_info must be an object"),
    (
        "watermark string",
        {"watermark_info": {"enabled": "yes"}},
        1201,
        400,
        "watermark_info.enabled must be true or false",
    ),
    ("watermark key", {"watermark_info": {"on": True}}, 1201, 400, "unknown key 'on'"),
    ("callback scheme", {"callback_url": "file:///tmp/x"}, 1201, 400, "callback_url must be"),
    ("external id number", {"external_task_id": 7}, 1201, 400, "external_task_id must be a string"),
    ("external id empty", {"external_task_id": ""}, 1201, 400, "external_task_id is empty"),
]


@pytest.mark.parametrize(
    ("changes", "code", "status", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_bad_body_is_refused(
    api: Api, changes: dict[str, Any], code: int, status: int, fragment: str
) -> None:
    assert_refused(api.create(**changes), code, status, fragment)
    assert api.emulator.tasks() == []


def test_an_image_over_10_mib_is_refused(api: Api) -> None:
    response = api.create(image_list=[{"image": _big_png_b64(10 * 1024 * 1024 + 1)}])
    assert_refused(response, 1201, 400, "10485761 bytes", "10 MiB")


def test_format_is_judged_by_content_not_claims(api: Api) -> None:
    """A JPEG is a JPEG whatever a client calls it; a GIF is refused even if named .png."""
    api.create_ok(image_list=[{"image": image_b64(400, 300, "JPEG")}])


@pytest.mark.parametrize(
    ("content_type", "fragment"),
    [(None, "Content-Type must be application/json"), ("text/plain", "got text/plain")],
)
def test_the_content_type_must_be_json(api: Api, content_type: str | None, fragment: str) -> None:
    response = _post_raw(api, json.dumps(body()).encode(), content_type)
    assert_refused(response, 1200, 400, fragment)


def test_a_charset_parameter_is_fine(api: Api) -> None:
    response = _post_raw(api, json.dumps(body()).encode(), "application/json; charset=utf-8")
    assert response.json()["code"] == 0


def test_invalid_json_is_1200(api: Api) -> None:
    assert_refused(_post_raw(api, b'{"prompt": '), 1200, 400, "not valid JSON")


def test_a_json_array_is_1200(api: Api) -> None:
    assert_refused(_post_raw(api, b"[]"), 1200, 400, "must be a JSON object, got array")


def test_a_chunked_body_is_refused_with_content_length_required(api: Api) -> None:
    payload = json.dumps(body()).encode()

    def chunks() -> Any:
        yield payload[:100]
        yield payload[100:]

    headers = {**api.headers(), "Content-Type": "application/json"}
    response = api.client.post(COLLECTION, content=chunks(), headers=headers)
    assert_refused(response, 1200, 400, "Content-Length required")
    received = api.emulator.received[-1]
    assert received.has_content_length is False
    assert received.body == payload  # the server still read the whole chunked body


def test_the_same_external_id_twice_is_refused_for_one_account(api: Api) -> None:
    api.create_ok(external_task_id="dup")
    assert_refused(api.create(external_task_id="dup"), 1201, 400, "'dup' is already used")
    # another account may use the same id
    response = api.create(credential="test-api-key", external_task_id="dup")
    assert response.json()["code"] == 0


def test_the_first_problem_is_the_one_reported(api: Api) -> None:
    response = api.create(mode="fast", duration=5)
    assert_refused(response, 1201, 400, "mode")


def test_a_picture_that_cannot_be_decoded_is_refused_in_the_same_words_every_time(
    api: Api,
) -> None:
    """Pillow names the buffer it read by its address: the refusal no longer carries it."""
    broken = base64.b64encode(b"no picture here " * 8).decode()
    first = api.create(image_list=[{"image": broken}])
    again = api.create(image_list=[{"image": broken}])
    assert_refused(first, 1201, 400, "could not be decoded as a JPEG or PNG image")
    assert first.json()["message"] == again.json()["message"]
    assert " at 0x" not in first.json()["message"]
