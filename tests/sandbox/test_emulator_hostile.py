"""A hostile world on demand: the faults that broke mivid (issue 13), each reproducible.

Faults that take real time or never end run over a real socket (`served`), the rest
in-process (`emulated`)."""

from __future__ import annotations

import json
import math
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import COLLECTION, Api, MakeApi, assert_refused

from mivid.sandbox import Emulator, EmulatorServer, FakeClock, Fault
from mivid.sandbox.faults import CONTROL_CHARACTERS


def _succeeded(api: Api, **fields: Any) -> dict[str, Any]:
    task_id = api.create_ok(**fields)["task_id"]
    api.clock.advance(10)
    return api.task(task_id)


def _read_at_most(chunks: Iterator[bytes], limit: int) -> int:
    """Bytes read from a streamed body up to `limit` (the body goes on past it)."""
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen >= limit:
            break
    return seen


# -- bodies that take forever or never end --------------------------------------------------


def test_drip_sends_a_valid_answer_one_byte_at_a_time(served: MakeApi) -> None:
    """Each byte comes before the read timeout, so only an overall deadline stops it."""
    api = served(envelope="gateway")
    api.emulator.inject(Fault.drip(0.01, on="list"))
    started = time.monotonic()
    response = api.client.get(COLLECTION, headers=api.headers(), timeout=0.2)
    elapsed = time.monotonic() - started
    assert response.json() == {"code": 0, "message": "SUCCEED", "data": []}
    assert elapsed >= 0.3  # 41 bytes, 10 ms apart: far longer than one read timeout
    assert api.list().status_code == 200  # used up


def test_an_endless_api_body_never_ends(served: MakeApi) -> None:
    api = served()
    api.emulator.inject(Fault.endless(on="get"))
    with api.client.stream("GET", f"{COLLECTION}/anything", headers=api.headers()) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert "content-length" not in response.headers
        assert _read_at_most(response.iter_raw(), 4 * 1024 * 1024) >= 4 * 1024 * 1024


def test_an_endless_video_never_ends(served: MakeApi) -> None:
    api = served()
    url = _succeeded(api)["task_result"]["videos"][0]["url"]
    api.emulator.inject(Fault.endless(on="video"))
    with api.client.stream("GET", url) as response:
        assert response.headers["content-type"] == "video/mp4"
        assert "content-length" not in response.headers
        chunks = response.iter_raw()
        first = next(chunks)
        assert first[4:8] == b"ftyp"
        assert _read_at_most(chunks, 8 * 1024 * 1024) >= 8 * 1024 * 1024 - len(first)


def test_the_transport_streams_an_endless_body_too(emulated: MakeApi) -> None:
    api = emulated()
    api.emulator.inject(Fault.endless(on="list"))
    with api.client.stream("GET", COLLECTION, headers=api.headers()) as response:
        assert _read_at_most(response.iter_raw(), 1024 * 1024) >= 1024 * 1024


# -- pages and bytes that are not what they claim -------------------------------------------


def test_a_video_url_can_answer_200_with_an_html_page(emulated: MakeApi) -> None:
    api = emulated()
    url = _succeeded(api)["task_result"]["videos"][0]["url"]
    api.emulator.inject(Fault.html(200, on="video"))
    response = api.client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.content.startswith(b"<!DOCTYPE html>")
    assert api.client.get(url).content[4:8] == b"ftyp"  # used up


def test_raw_answers_exactly_the_bytes_given(served: MakeApi) -> None:
    api = served()
    api.emulator.inject(
        Fault.raw(203, {"Content-Type": "application/json", "X-Odd": "1"}, b'{"code":0', on="list")
    )
    response = api.list()
    assert response.status_code == 203
    assert response.headers["x-odd"] == "1"
    assert response.content == b'{"code":0'  # no Content-Length: the close ends it


def test_raw_over_the_transport(emulated: MakeApi) -> None:
    api = emulated()
    api.emulator.inject(Fault.raw(500, (("Content-Length", "3"),), b"bad", on="any"))
    response = api.list()
    assert (response.status_code, response.content) == (500, b"bad")


def test_a_broken_gzip_body(served: MakeApi) -> None:
    api = served()
    api.emulator.inject(Fault.bad_gzip(on="list"))
    with pytest.raises(httpx.DecodingError):
        api.list()


def test_a_redirect_loop(served: MakeApi) -> None:
    api = served()
    api.emulator.inject(Fault.redirect(on="get"))
    with pytest.raises(httpx.TooManyRedirects):
        api.client.get(f"{COLLECTION}/x?y=1", headers=api.headers(), follow_redirects=True)
    api.emulator.clear_faults()
    api.emulator.inject(Fault.redirect(f"{COLLECTION}", on="get", times=1))
    response = api.client.get(f"{COLLECTION}/x", headers=api.headers(), follow_redirects=True)
    assert response.json()["data"] == []  # followed once, to the list


# -- answers with poisoned values ------------------------------------------------------------


def test_nan_timestamps(emulated: MakeApi) -> None:
    api = emulated()
    task_id = api.create_ok()["task_id"]
    api.emulator.inject(Fault.nan_timestamps(on="get"))
    response = api.get(task_id)
    assert '"created_at":NaN' in response.text
    with pytest.raises(ValueError, match="NaN"):
        json.loads(response.text, parse_constant=_refuse)
    assert math.isnan(response.json()["data"]["updated_at"])


def _refuse(token: str) -> Any:
    raise ValueError(f"not JSON: {token}")


def test_infinity_anywhere(emulated: MakeApi) -> None:
    api = emulated()
    task_id = _succeeded(api)["task_id"]
    api.emulator.inject(Fault.non_finite(("final_unit_deduction",), -math.inf, on="get"))
    assert '"final_unit_deduction":-Infinity' in api.get(task_id).text


def test_control_characters_in_every_text_field(emulated: MakeApi) -> None:
    api = emulated()
    done = _succeeded(api, external_task_id="ext")
    api.emulator.inject(Fault.control_chars(on="list"))
    [listed] = api.list().json()["data"]
    for value in (
        listed["task_id"],
        listed["task_status"],
        listed["task_status_msg"],
        listed["task_info"]["external_task_id"],
        listed["task_result"]["videos"][0]["url"],
    ):
        assert value.startswith(CONTROL_CHARACTERS)
    assert listed["task_id"] == CONTROL_CHARACTERS + done["task_id"]
    assert "watermark_url" not in listed["task_result"]["videos"][0]  # not made where absent


def test_control_characters_in_a_failure_reason(emulated: MakeApi) -> None:
    api = emulated()
    api.emulator.script_failure("refused \x1b[31mred\x07\r")
    task_id = api.create_ok()["task_id"]
    api.clock.advance(10)
    assert api.task(task_id)["task_status_msg"] == "refused \x1b[31mred\x07\r"


def test_an_invalid_video_url(emulated: MakeApi) -> None:
    api = emulated()
    task_id = _succeeded(api, watermark_info={"enabled": True})["task_id"]
    api.emulator.inject(Fault.invalid_video_url(on="get"))
    [video] = api.task(task_id)["task_result"]["videos"]
    assert video["url"] == video["watermark_url"] == "http://[::1/out of brackets.mp4"
    with pytest.raises(httpx.InvalidURL):
        httpx.URL(video["url"])


def test_a_patch_can_set_any_field_even_in_the_envelope(emulated: MakeApi) -> None:
    api = emulated()
    task_id = api.create_ok()["task_id"]
    api.emulator.inject(Fault.patch({"task_id": "9" * 300, "task_info.external_task_id": "x"}))
    data = api.task(task_id)
    assert data["task_id"] == "9" * 300
    assert data["task_info"] == {"external_task_id": "x"}
    api.emulator.inject(Fault.patch({"code": math.nan}, where="envelope"))
    assert '"code":NaN' in api.get(task_id).text


def test_an_answer_that_echoes_the_authorization_header(emulated: MakeApi) -> None:
    api = emulated()
    headers = api.headers()
    api.emulator.inject(Fault.echo_authorization(5000, on="get"))
    response = api.client.get(f"{COLLECTION}/x", headers=headers)
    assert response.status_code == 500
    token = headers["Authorization"]
    assert token in response.json()["message"]
    assert response.json()["data"] == {"request_headers": {"Authorization": token}}


# -- faults aimed at one task -----------------------------------------------------------------


def test_one_tasks_query_keeps_answering_502(emulated: MakeApi) -> None:
    api = emulated()
    doomed = api.create_ok(external_task_id="job-3")["task_id"]
    fine = api.create_ok(external_task_id="job-4")["task_id"]
    api.emulator.inject(Fault.html(502, on="get", times=None, task="job-3"))
    for _ in range(3):
        assert api.get(doomed).status_code == 502  # by task id
        assert api.get("job-3").status_code == 502  # by external id
        assert api.get(fine).status_code == 200
    assert api.list().status_code == 200


def test_a_fault_can_aim_at_the_task_whose_prompt_says_so(emulated: MakeApi) -> None:
    api = emulated()
    api.emulator.inject(Fault.error(5000, on="create", prompt="second job", after=True))
    api.emulator.inject(Fault.html(502, on="get", times=None, prompt="second job"))
    first = api.create_ok(prompt="first job")["task_id"]
    assert api.create(prompt="second job").status_code == 500  # created all the same
    [second] = [t["task_id"] for t in api.emulator.tasks() if t["task_id"] != first]
    assert api.get(second).status_code == 502
    assert api.get(first).status_code == 200


def test_a_fault_can_aim_at_one_endpoint(emulated: MakeApi) -> None:
    api = emulated()
    api.emulator.inject(Fault.error(5000, on="create", api="omni-video"))
    api.create_ok()
    assert_refused(api.create_omni(), 5000, 500)
    api.create_omni_ok()


# -- composing ------------------------------------------------------------------------------


def test_one_fault_per_layer_composes(emulated: MakeApi) -> None:
    api = emulated()
    task_id = api.create_ok()["task_id"]
    api.emulator.inject(Fault.patch({"task_status": "queued"}, on="get"))
    api.emulator.inject(Fault.truncated(on="get"))
    with pytest.raises(httpx.RemoteProtocolError):
        api.get(task_id)  # patched, then cut: both spent on one request
    assert api.emulator.pending_faults() == []


def test_two_faults_of_one_layer_take_turns(emulated: MakeApi) -> None:
    api = emulated()
    api.emulator.inject(Fault.error(5001, on="list"))
    api.emulator.inject(Fault.html(502, on="list"))
    assert [api.list().status_code for _ in range(3)] == [503, 502, 200]


def test_a_drip_of_a_patched_answer(served: MakeApi) -> None:
    api = served(envelope="gateway")
    api.emulator.inject(Fault.patch({"message": "SLOW"}, where="envelope", on="list"))
    api.emulator.inject(Fault.drip(0.001, on="list"))
    assert api.list().json()["message"] == "SLOW"


def test_a_drip_ends_when_the_server_stops() -> None:
    """Stopping the server does not wait a minute per byte still to send."""
    with Emulator(clock=FakeClock()) as emulator:
        server = EmulatorServer(emulator).start()
        emulator.inject(Fault.drip(60, on="list"))
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as raw:
            raw.sendall(f"GET {COLLECTION} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert raw.recv(4096).startswith(b"HTTP/1.1 401")  # headers, then a byte a minute
            started = time.monotonic()
            server.stop()
            assert time.monotonic() - started < 5
            raw.settimeout(5)
            rest = b""
            while chunk := raw.recv(4096):  # the connection ends, the body unfinished
                rest += chunk
            assert len(rest) <= 1


def test_drip_needs_a_positive_interval() -> None:
    with pytest.raises(ValueError, match="drip"):
        Fault.drip(0)
