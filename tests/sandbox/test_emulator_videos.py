"""Result videos: real MP4 bytes, unique per task, byte ranges, no credentials."""

from __future__ import annotations

import struct

import httpx
import pytest
from sandbox_helpers import Api

from mivid.sandbox import FakeClock, Fault


def _boxes(data: bytes) -> list[str]:
    """The top-level MP4 box types, walking the size fields to the very end."""
    kinds, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        assert size >= 8
        kinds.append(kind.decode())
        offset += size
    assert offset == len(data)
    return kinds


def _read_into(response: httpx.Response, received: bytearray) -> None:
    for chunk in response.iter_bytes():
        received += chunk


def _succeeded(api: Api, clock: FakeClock, **fields: object) -> dict[str, str]:
    task_id = api.create_ok(**fields)["task_id"]
    clock.advance(6)
    video: dict[str, str] = api.task(task_id)["task_result"]["videos"][0]
    return video


def test_a_video_is_a_real_mp4_served_without_credentials(api: Api, clock: FakeClock) -> None:
    video = _succeeded(api, clock)
    response = api.client.get(video["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.content[4:8] == b"ftyp"
    kinds = _boxes(response.content)
    assert {"ftyp", "moov", "mdat"} <= set(kinds)
    assert kinds[-1] == "free"


def test_each_task_has_its_own_bytes(api: Api, clock: FakeClock) -> None:
    first = api.client.get(_succeeded(api, clock)["url"]).content
    second_video = _succeeded(api, clock, watermark_info={"enabled": True})
    second = api.client.get(second_video["url"]).content
    watermarked = api.client.get(second_video["watermark_url"]).content
    assert len({first, second, watermarked}) == 3
    assert _boxes(watermarked)[-1] == "free"


def test_a_range_resumes_a_download(api: Api, clock: FakeClock) -> None:
    url = _succeeded(api, clock)["url"]
    full = api.client.get(url).content
    response = api.client.get(url, headers={"Range": "bytes=100-"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-{len(full) - 1}/{len(full)}"
    assert response.headers["content-length"] == str(len(full) - 100)
    assert response.content == full[100:]
    assert api.client.get(url, headers={"Range": "bytes=0-9"}).content == full[:10]
    assert api.client.get(url, headers={"Range": "bytes=-10"}).content == full[-10:]


def test_an_unsatisfiable_range_is_416(api: Api, clock: FakeClock) -> None:
    url = _succeeded(api, clock)["url"]
    length = len(api.client.get(url).content)
    response = api.client.get(url, headers={"Range": f"bytes={length}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{length}"


def test_range_support_can_be_turned_off(api: Api, clock: FakeClock) -> None:
    url = _succeeded(api, clock)["url"]
    api.emulator.range_support = False
    response = api.client.get(url, headers={"Range": "bytes=100-"})
    assert response.status_code == 200
    assert "accept-ranges" not in response.headers
    assert response.content[4:8] == b"ftyp"


def test_head_gives_the_length_without_the_body(api: Api, clock: FakeClock) -> None:
    url = _succeeded(api, clock)["url"]
    response = api.client.head(url)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(api.client.get(url).content)


def test_no_video_before_success_or_without_watermark(api: Api, clock: FakeClock) -> None:
    task_id = api.create_ok()["task_id"]
    base = f"{api.emulator.video_base_url}/sandbox/videos/{task_id}"
    assert api.client.get(f"{base}.mp4").status_code == 404
    clock.advance(6)
    assert api.client.get(f"{base}.mp4").status_code == 200
    assert api.client.get(f"{base}_wm.mp4").status_code == 404
    assert api.client.post(f"{base}.mp4").status_code == 405


def test_a_video_drop_after_bytes_cuts_the_download(api: Api, clock: FakeClock) -> None:
    url = _succeeded(api, clock)["url"]
    full = api.client.get(url).content
    api.emulator.inject(Fault.drop_after(on="video", bytes=1000))
    received = bytearray()
    with api.client.stream("GET", url) as response:
        assert response.headers["content-length"] == str(len(full))
        with pytest.raises(httpx.RemoteProtocolError):
            _read_into(response, received)
    assert bytes(received) == full[:1000]
    resumed = api.client.get(url, headers={"Range": f"bytes={len(received)}-"})
    assert bytes(received) + resumed.content == full


def test_video_faults_do_not_touch_the_api(api: Api, clock: FakeClock) -> None:
    api.emulator.inject(Fault.html(on="video"))
    url = _succeeded(api, clock)["url"]
    assert api.client.get(url).status_code == 502
