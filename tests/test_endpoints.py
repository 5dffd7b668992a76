"""Endpoints are data: a second description changes the paths, the body's image entries and the checks."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagefactory import make_png
from mivid.auth import ApiKeyCredentials
from mivid.client import KlingClient
from mivid.endpoints import DEFAULT_ENDPOINT, MULTI_IMAGE, all_choices, endpoint_for_model
from mivid.errors import InputError
from mivid.render.output import Form, Output, RecordView
from mivid.submission import prepare_create

#: An endpoint described the way Omni-Video would be (its own path, `image_url`, 7 images).
OTHER = replace(
    MULTI_IMAGE,
    name="other",
    title="Other Video",
    path="/v1/videos/other-video",
    image_key="image_url",
    models=("other-model",),
    default_model="other-model",
    max_images=7,
    durations=tuple(str(n) for n in range(3, 11)),
    fields=MULTI_IMAGE.fields - {"negative_prompt"},
)


def values(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "prompt": "waves",
        "model_name": "kling-v1-6",
        "mode": "std",
        "duration": "5",
        "aspect_ratio": "16:9",
    }
    return {**base, **changes}


def test_the_default_endpoint_is_multi_image2video() -> None:
    assert DEFAULT_ENDPOINT.path == "/v1/videos/multi-image2video"
    assert endpoint_for_model("kling-v1-6") is MULTI_IMAGE
    assert endpoint_for_model("kling-v9-unknown") is DEFAULT_ENDPOINT  # never refused locally
    assert all_choices("durations") == tuple(str(n) for n in range(3, 11))  # in order
    assert MULTI_IMAGE.task_path("a/b") == "/v1/videos/multi-image2video/a%2Fb"
    assert MULTI_IMAGE.task_path("..") == "/v1/videos/multi-image2video/%2E%2E"


def test_the_body_writes_each_image_as_its_endpoint_says(tmp_path: Path) -> None:
    image = make_png(tmp_path / "a.png", (640, 480))
    urls = ["https://example.com/b.jpg"]
    for endpoint, key in ((MULTI_IMAGE, "image"), (OTHER, "image_url")):
        prepared = prepare_create([str(image), *urls], endpoint=endpoint, **values())
        body = prepared.body
        sent = b"".join(body)
        assert len(sent) == body.content_length
        document = json.loads(sent)
        assert [sorted(entry) for entry in document["image_list"]] == [[key], [key]]
        assert document["image_list"][1][key] == urls[0]
        assert body.preview(shorten_images=False) == document


def test_the_limits_and_choices_are_the_endpoints(tmp_path: Path) -> None:
    images = [str(make_png(tmp_path / f"{n}.png", (640, 480))) for n in range(5)]
    with pytest.raises(InputError) as caught:
        prepare_create(images, endpoint=MULTI_IMAGE, **values())
    assert caught.value.problems == ["got 5 images — at most 4 are allowed"]
    prepared = prepare_create(images, endpoint=OTHER, **values(duration="7"))
    assert prepared.request.duration == "7"
    with pytest.raises(InputError) as caught:
        prepare_create(images[:1], endpoint=OTHER, **values(negative_prompt="blur"))
    assert caught.value.problems == ["--negative-prompt: not accepted by Other Video"]


def test_the_client_sends_to_the_endpoints_paths() -> None:
    seen: list[tuple[str, str]] = []
    task = {"task_id": "t1", "task_status": "submitted"}

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        listing = request.method == "GET" and request.url.path.endswith("video")
        data = [task] if listing else task
        return httpx.Response(200, json={"code": 0, "message": "SUCCEED", "data": data})

    client = KlingClient(
        "https://kling.test", ApiKeyCredentials("k"), transport=httpx.MockTransport(answer)
    )
    client.get_task("t1", endpoint=OTHER)
    client.list_tasks(endpoint=OTHER)
    client.create_task([b"{}"], content_length=2, external_task_id="x", endpoint=OTHER)
    assert seen == [
        ("GET", "/v1/videos/other-video/t1"),
        ("GET", "/v1/videos/other-video"),
        ("POST", "/v1/videos/other-video"),
    ]


@pytest.mark.parametrize("count", [0, 1, 3])
def test_json_records_stream_byte_for_byte_as_one_document(count: int) -> None:
    records = [{"n": n, "nested": {"list": [n, "x\ty"]}} for n in range(count)]
    stdout = io.StringIO()
    out = Output(stdout=stdout, stderr=io.StringIO(), stdin=None)
    view = RecordView[dict[str, object]](json=lambda r: r, lines=lambda r: [str(r["n"])])
    with out.records(view, Form.JSON) as sink:
        for record in records:
            sink.add(record)
    assert stdout.getvalue() == json.dumps(records, ensure_ascii=False, indent=2) + "\n"


def test_the_form_is_decided_in_one_place() -> None:
    out = Output(stdout=io.StringIO(), stderr=io.StringIO(), stdin=None)
    assert out.form() is Form.LINES  # not a terminal
    assert out.form(json=True) is Form.JSON
    assert out.form(quiet=True) is Form.IDS
    assert out.form(json=True, quiet=True) is Form.JSON
