"""Injected faults, over real sockets: each kind, its matching, and whether the request ran."""

from __future__ import annotations

import time

import httpx
import pytest
from sandbox_helpers import COLLECTION, SSL_CONTEXT, Api, assert_refused, body

from mivid.sandbox import EmulatorServer, FakeClock, Fault
from polling import wait_until


def test_an_error_fault_answers_the_code_and_creates_nothing(api: Api) -> None:
    api.emulator.inject(Fault.error(5000, on="create"))
    assert_refused(api.create(), 5000, 500, "internal error")
    assert api.emulator.tasks() == []
    assert api.create().status_code == 200  # used up


def test_an_error_fault_takes_status_message_and_retry_after(api: Api) -> None:
    api.emulator.inject(Fault.error(1302, message="slow down", retry_after=2))
    response = api.list()
    assert_refused(response, 1302, 429, "slow down")
    assert response.headers["Retry-After"] == "2"
    api.emulator.inject(Fault.error(1102, http_status=403))
    assert_refused(api.list(), 1102, 403)


def test_an_error_after_processing_leaves_the_task_behind(api: Api) -> None:
    api.emulator.inject(Fault.error(5002, on="create", after=True))
    assert_refused(api.create(external_task_id="maybe"), 5002, 504)
    assert api.task("maybe")["task_status"] == "submitted"


def test_faults_match_their_endpoint_in_order(api: Api) -> None:
    api.emulator.inject(Fault.error(5001, on="get"))
    api.emulator.inject(Fault.error(1303, on="create"))
    api.emulator.inject(Fault.error(5000, on="create"))
    assert api.list().status_code == 200  # no list fault queued
    assert api.create().json()["code"] == 1303
    assert api.create().json()["code"] == 5000
    assert api.get("x").json()["code"] == 5001
    assert api.emulator.pending_faults() == []


def test_times_and_forever(api: Api) -> None:
    api.emulator.inject(Fault.error(5001, on="list", times=2))
    assert [api.list().json()["code"] for _ in range(3)] == [5001, 5001, 0]
    api.emulator.inject(Fault.error(5001, times=None))
    assert [api.list().json()["code"] for _ in range(4)] == [5001] * 4
    api.emulator.clear_faults()
    assert api.list().json()["code"] == 0


def test_drop_before_closes_without_creating(api: Api) -> None:
    api.emulator.inject(Fault.drop_before(on="create"))
    with pytest.raises(httpx.RemoteProtocolError):
        api.create(external_task_id="lost")
    assert api.emulator.tasks() == []
    assert len(api.emulator.received) == 1  # it did arrive
    assert api.list().status_code == 200  # and the client recovers on a new connection


def test_drop_after_creates_then_closes(api: Api) -> None:
    api.emulator.inject(Fault.drop_after(on="create"))
    with pytest.raises(httpx.RemoteProtocolError):
        api.create(external_task_id="made")
    assert api.task("made")["task_info"] == {"external_task_id": "made"}


def test_html_fault_is_a_gateway_page(api: Api) -> None:
    api.emulator.inject(Fault.html(on="list"))
    response = api.list()
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert b"<html>" in response.content


def test_truncated_fault_sends_part_of_the_json(api: Api) -> None:
    api.emulator.inject(Fault.truncated(on="create"))
    with pytest.raises(httpx.RemoteProtocolError):
        api.create(external_task_id="half")
    assert api.task("half")["task_status"] == "submitted"  # processed


def test_not_json_fault(api: Api) -> None:
    api.emulator.inject(Fault.not_json())
    response = api.list()
    assert response.status_code == 200
    with pytest.raises(ValueError, match="Expecting value"):
        response.json()
    api.emulator.inject(Fault.not_json(status=503))
    assert api.list().status_code == 503


def test_delay_answers_late_and_can_time_a_client_out(api: Api, server: EmulatorServer) -> None:
    api.emulator.inject(Fault.delay(0.2, on="create"))
    started = time.monotonic()
    assert api.create(external_task_id="slow").status_code == 200
    assert time.monotonic() - started >= 0.2
    api.emulator.inject(Fault.delay(20, on="create"))
    with (
        httpx.Client(base_url=server.url, timeout=0.05, verify=SSL_CONTEXT) as impatient,
        pytest.raises(httpx.ReadTimeout),
    ):
        impatient.post(COLLECTION, json=body(external_task_id="late"), headers=api.headers())
    # Processed before the wait: the task is there long before the 20 s answer.
    # (The server's thread may not have read the request yet when the client
    # gives up, so look until it has.)
    wait_until(lambda: api.get("late").status_code == 200, timeout=15, what="the late task")
    assert api.task("late")["task_status"] == "submitted"


def test_any_matches_unknown_paths_too(api: Api) -> None:
    api.emulator.inject(Fault.error(5000, on="any"))
    assert api.client.get("/nowhere").json()["code"] == 5000


def test_bad_fault_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="on="):
        Fault.error(5000, on="creat")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times="):
        Fault.drop_before(times=0)


def test_faults_come_before_auth(api: Api, clock: FakeClock) -> None:
    """A gateway fails whatever the credentials."""
    api.emulator.inject(Fault.html())
    assert api.client.get(COLLECTION).status_code == 502
