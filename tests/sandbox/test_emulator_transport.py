"""The in-process transport answers exactly like the server, faults included."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import COLLECTION, SSL_CONTEXT, Api, body

from mivid.sandbox import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    Emulator,
    EmulatorServer,
    EmulatorTransport,
    FakeClock,
    Fault,
)


def _emulator() -> Emulator:
    return Emulator(
        access_keys={"test-ak": "test-sk"}, api_keys={"test-api-key"}, clock=FakeClock()
    )


def _scenario(api: Api) -> list[Any]:
    """A run through the API; ids and request ids are masked so two runs compare."""
    clock = api.emulator.clock
    assert isinstance(clock, FakeClock)
    seen: list[Any] = []
    ids: dict[str, str] = {}

    def note(response: httpx.Response) -> None:
        text = response.text.replace(api.emulator.video_base_url, "<base>")
        for real, alias in ids.items():
            text = text.replace(real, alias)
        text = re.sub(r'"(id|request_id)":"[0-9a-f-]{36}"', r'"\1":"<uuid>"', text)
        seen.append((response.status_code, text))

    created = api.create(external_task_id="p-1")
    ids[created.json()["data"]["task_id"]] = "<task>"
    note(created)
    note(api.create(duration=5))
    note(api.create(external_task_id="p-1"))
    note(api.client.get(COLLECTION))
    note(api.list(page_num=1))
    clock.advance(1)
    note(api.get("p-1"))
    clock.advance(5)
    note(api.get(next(iter(ids))))
    note(api.list())
    api.emulator.inject(Fault.error(1302, retry_after=1))
    note(api.list())
    api.emulator.inject(Fault.html())
    note(api.list())
    note(api.client.delete(f"{COLLECTION}/1"))
    return seen


@pytest.fixture
def transport_api() -> Iterator[Api]:
    emulator = _emulator()
    transport = EmulatorTransport(emulator)
    with httpx.Client(transport=transport, base_url="http://kling.test", timeout=5) as client:
        yield Api(client, emulator)
    emulator.close()


def test_the_transport_answers_like_the_server(transport_api: Api) -> None:
    with (
        _emulator() as emulator,
        EmulatorServer(emulator) as server,
        httpx.Client(base_url=server.url, timeout=5, verify=SSL_CONTEXT) as client,
    ):
        over_http = _scenario(Api(client, emulator))
    in_process = _scenario(transport_api)
    assert in_process == over_http
    assert len(in_process) == 11


def test_the_transport_serves_videos_at_the_default_base_url(transport_api: Api) -> None:
    task_id = transport_api.create_ok()["task_id"]
    transport_api.emulator.clock.advance(6)  # type: ignore[attr-defined]
    url = transport_api.task(task_id)["task_result"]["videos"][0]["url"]
    assert url.startswith("http://sandbox.mivid.invalid/sandbox/videos/")
    response = transport_api.client.get(url, headers={"Range": "bytes=4-"})
    assert response.status_code == 206
    assert response.content.startswith(b"ftyp")


def test_transport_drops_raise_what_a_socket_would(transport_api: Api) -> None:
    emulator = transport_api.emulator
    emulator.inject(Fault.drop_before(on="create"))
    with pytest.raises(httpx.RemoteProtocolError):
        transport_api.create(external_task_id="a")
    assert emulator.tasks() == []
    emulator.inject(Fault.drop_after(on="create"))
    with pytest.raises(httpx.RemoteProtocolError):
        transport_api.create(external_task_id="b")
    emulator.inject(Fault.truncated(on="get"))
    with pytest.raises(httpx.RemoteProtocolError):
        transport_api.get("b")
    assert transport_api.task("b")["task_info"] == {"external_task_id": "b"}


def test_transport_delay_past_the_read_timeout_is_a_read_timeout(transport_api: Api) -> None:
    transport_api.emulator.inject(Fault.delay(5, on="list"))
    with pytest.raises(httpx.ReadTimeout):
        transport_api.client.get(COLLECTION, headers=transport_api.headers(), timeout=0.05)


def test_transport_sees_a_chunked_body(transport_api: Api) -> None:
    payload = json.dumps(body()).encode()
    headers = {**transport_api.headers(), "Content-Type": "application/json"}
    response = transport_api.client.post(COLLECTION, content=iter([payload]), headers=headers)
    assert response.json()["code"] == 1200
    assert "Content-Length required" in response.json()["message"]


def test_default_emulator_accepts_the_sandbox_keys() -> None:
    with Emulator() as emulator:
        api = Api(
            httpx.Client(transport=EmulatorTransport(emulator), base_url="http://x"), emulator
        )
        token_api_headers = {"Authorization": "Bearer " + _sandbox_token(emulator)}
        response = api.client.get(COLLECTION, headers=token_api_headers)
        api.client.close()
    assert response.json()["code"] == 0


def _sandbox_token(emulator: Emulator) -> str:
    from sandbox_helpers import make_token

    return make_token(emulator.clock, SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY)
