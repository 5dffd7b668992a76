"""KlingClient over an httpx.MockTransport: the retry schedule, Retry-After, error mapping.

Sleep, clock and randomness are injected: nothing here really waits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mivid.auth import ApiKeyCredentials
from mivid.client import (
    KlingClient,
    RequestEvent,
    RetryPolicy,
    require_task_shape,
)
from mivid.errors import (
    AccountError,
    ApiError,
    CreateOutcomeUnknownError,
    CredentialsError,
    InputError,
    NotFoundError,
    ServiceError,
)
from mivid.settings import read_tuning

BASE = "https://kling.test"
TASK = {"task_id": "860000000000000001", "task_status": "submitted"}


def envelope(code: int = 0, data: Any = None, message: str = "SUCCEED") -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "request_id": "rid-1"}
    if code == 0:
        body["data"] = data
    return body


class Fake:
    """A scripted service: answers in order, then repeats the last one."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.now = 0.0
        self.sleeps: list[float] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def client(self, policy: RetryPolicy | None = None, **kw: Any) -> KlingClient:
        return KlingClient(
            BASE,
            ApiKeyCredentials("key-123456789"),
            transport=httpx.MockTransport(self.handler),
            retry=policy or RetryPolicy(),
            sleep=self.sleep,
            clock=lambda: self.now,
            rnd=lambda: 1.0,
            **kw,
        )


def answer(code: int = 0, data: Any = TASK, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=envelope(code, data), headers=headers)


# -- the schedule -------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_with_equal_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0)
    top = [policy.delay(n, code=None, retry_after=None, rnd=1.0) for n in range(1, 6)]
    low = [policy.delay(n, code=None, retry_after=None, rnd=0.0) for n in range(1, 6)]
    assert top == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert low == [0.25, 0.5, 1.0, 2.0, 2.0]


@given(attempt=st.integers(1, 200), rnd=st.floats(0, 1), after=st.none() | st.floats(0, 1e6))
def test_delay_is_bounded_and_honours_retry_after(
    attempt: int, rnd: float, after: float | None
) -> None:
    policy = RetryPolicy()
    wait = policy.delay(attempt, code=1302, retry_after=after, rnd=rnd)
    assert wait >= (after or 0.0)
    assert wait <= max(policy.max_delay, after or 0.0)


def test_1303_never_retries_faster_than_a_second() -> None:
    policy = RetryPolicy(base_delay=0.01)
    assert policy.delay(1, code=1303, retry_after=None, rnd=0.0) == 1.0


def policy_from(environ: dict[str, str]) -> RetryPolicy:
    """The retry policy the settings read from this environment (as `open_client` builds it)."""
    tuning = read_tuning(environ)
    return RetryPolicy().tuned(
        attempts=tuning.retry_attempts,
        total_seconds=tuning.retry_max_seconds,
        base_delay=tuning.retry_base_delay,
    )


def test_policy_from_the_environment() -> None:
    policy = policy_from(
        {
            "MIVID_RETRY_ATTEMPTS": "2",
            "MIVID_RETRY_MAX_SECONDS": "9",
            "MIVID_RETRY_BASE_DELAY": "0.01",
        }
    )
    assert (policy.attempts, policy.total_seconds, policy.base_delay) == (2, 9.0, 0.01)
    assert policy.max_delay == pytest.approx(0.16)
    assert policy.concurrency_min_delay == pytest.approx(0.02)
    assert policy_from({}) == RetryPolicy()
    with pytest.raises(InputError) as caught:
        policy_from({"MIVID_RETRY_ATTEMPTS": "0", "MIVID_RETRY_MAX_SECONDS": "x"})
    assert len(caught.value.problems) == 2


def test_retries_sleep_by_the_schedule_then_succeed() -> None:
    fake = Fake(answer(1302, status=429), answer(5001, status=503), answer(data=TASK))
    events: list[RequestEvent] = []
    client = fake.client(RetryPolicy(base_delay=1.0), on_event=events.append)
    assert client.get_task("t1") == TASK
    assert fake.sleeps == [1.0, 2.0]
    assert [e.attempt for e in events] == [1, 2, 3]
    assert [e.code for e in events] == [1302, 5001, 0]


def test_retry_after_seconds_and_http_date() -> None:
    fake = Fake(
        answer(1302, status=429, **{"Retry-After": "7"}),
        answer(1302, status=429, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        answer(),
    )
    client = fake.client(RetryPolicy(base_delay=0.1))
    client.get_task("t1")
    assert fake.sleeps[0] == 7.0
    assert fake.sleeps[1] == pytest.approx(0.2)  # a date in the past: no extra wait


def test_retry_after_beyond_the_time_budget_stops_without_sleeping() -> None:
    fake = Fake(answer(1302, status=429, **{"Retry-After": "120"}))
    client = fake.client(RetryPolicy(total_seconds=60))
    with pytest.raises(ApiError) as caught:
        client.get_task("t1")
    assert caught.value.code == 1302
    assert fake.sleeps == []


def test_attempts_are_bounded() -> None:
    fake = Fake(answer(5000, status=500))
    with pytest.raises(ServiceError):
        fake.client(RetryPolicy(attempts=4)).get_task("t1")
    assert len(fake.requests) == 4


# -- error mapping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (1000, CredentialsError),
        (1102, AccountError),
        (1103, AccountError),
        (1201, ApiError),
        (1203, NotFoundError),
        (1301, ApiError),
        (1304, ApiError),
        (9999, ServiceError),
    ],
)
def test_final_codes_are_not_retried(code: int, error: type[Exception]) -> None:
    fake = Fake(answer(code, status=400))
    with pytest.raises(error):
        fake.client().get_task("t1")
    assert len(fake.requests) == 1


def test_an_expired_token_is_renewed_once() -> None:
    fake = Fake(answer(1004, status=401))
    renewals: list[int] = []

    class Renewable(ApiKeyCredentials):
        def renew(self) -> bool:
            renewals.append(1)
            return True

    client = KlingClient(
        BASE, Renewable("k" * 20), transport=httpx.MockTransport(fake.handler), sleep=fake.sleep
    )
    with pytest.raises(CredentialsError):
        client.get_task("t1")
    assert len(renewals) == 1
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(502, text="<html>Bad Gateway</html>"), "HTTP 502): <html>Bad Gateway"),
        (httpx.Response(200, content=b'{"code":0,"data":{"task_'), 'HTTP 200): {"code":0'),
        (httpx.Response(200, json={"code": 0, "message": "ok"}), "HTTP 200"),
        (httpx.Response(200, json={"code": "0", "data": TASK}), "HTTP 200"),
        (httpx.Response(200, json=envelope(0, {"task_id": 1.5})), "not a task object (HTTP 200)"),
        (httpx.Response(200, json=envelope(0, None)), "not a task object (HTTP 200)"),
        (httpx.Response(200, content=b""), "(empty body)"),
        (httpx.Response(200, content=b"\x1b[31mred\x00"), "\\x1b[31mred\\x00"),
    ],
)
def test_unreadable_answers_are_service_errors_with_status_and_first_bytes(
    response: httpx.Response, expected: str
) -> None:
    fake = Fake(response)
    with pytest.raises(ServiceError) as caught:
        fake.client(RetryPolicy(attempts=2)).get_task("t1")
    assert expected in caught.value.message
    assert "\x1b" not in caught.value.message


def test_connection_refused_names_the_url() -> None:
    fake = Fake(httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(ServiceError) as caught:
        fake.client(RetryPolicy(attempts=2)).get_task("t1")
    assert "connection was refused" in caught.value.message
    assert f"{BASE}/v1/videos/multi-image2video/t1" in caught.value.message


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        (httpx.ConnectError("[Errno -2] Name or service not known"), "DNS lookup failed"),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            "secure connection failed (TLS)",
        ),
        (httpx.ReadTimeout("timed out"), "took too long to answer"),
        (httpx.RemoteProtocolError("Server disconnected"), "closed the connection"),
    ],
)
def test_network_failures_read_as_sentences(error: Exception, sentence: str) -> None:
    fake = Fake(error)
    with pytest.raises(ServiceError) as caught:
        fake.client(RetryPolicy(attempts=1)).get_task("t1")
    assert sentence in caught.value.message


# -- the idempotent create --------------------------------------------------------------------


def create(client: KlingClient) -> dict[str, Any]:
    body = [b'{"external_task_id":"ext-1"}']
    return client.create_task(body, content_length=len(body[0]), external_task_id="ext-1")


def routed(
    on_post: Callable[[int], httpx.Response | Exception],
    on_get: Callable[[int], httpx.Response | Exception],
) -> tuple[Fake, list[str]]:
    fake = Fake(httpx.Response(500))
    log: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        log.append(f"{request.method} {request.url.path}")
        count = sum(1 for line in log if line.startswith(request.method))
        result = (on_post if request.method == "POST" else on_get)(count)
        if isinstance(result, Exception):
            raise result
        return result

    fake.handler = handler  # type: ignore[method-assign]
    return fake, log


def test_a_create_whose_answer_was_lost_is_looked_up_not_resent() -> None:
    fake, log = routed(
        lambda n: httpx.ReadTimeout("timed out"),
        lambda n: answer(data=TASK),
    )
    assert create(fake.client()) == TASK
    assert log == ["POST /v1/videos/multi-image2video", "GET /v1/videos/multi-image2video/ext-1"]


def test_a_create_refused_with_5000_is_resent_after_the_lookup_finds_nothing() -> None:
    fake, log = routed(
        lambda n: answer(5000, status=500) if n == 1 else answer(data=TASK),
        lambda n: answer(1203, status=404),
    )
    assert create(fake.client()) == TASK
    assert [line.split()[0] for line in log] == ["POST", "GET", "POST"]


def test_a_create_whose_lookup_fails_is_unknown_and_never_resent() -> None:
    fake, log = routed(
        lambda n: httpx.ReadTimeout("timed out"),
        lambda n: answer(5001, status=503),
    )
    with pytest.raises(CreateOutcomeUnknownError) as caught:
        create(fake.client(RetryPolicy(attempts=3)))
    assert caught.value.external_task_id == "ext-1"
    assert "mivid recover" in (caught.value.hint or "")
    assert [line.split()[0] for line in log].count("POST") == 1


def test_a_resend_refused_as_duplicate_returns_the_first_task() -> None:
    lookups = iter([answer(1203, status=404), answer(data=TASK)])
    fake, log = routed(
        lambda n: answer(5002, status=504) if n == 1 else answer(1201, status=400),
        lambda n: next(lookups),
    )
    assert create(fake.client()) == TASK
    assert [line.split()[0] for line in log] == ["POST", "GET", "POST", "GET"]


def test_require_task_shape() -> None:
    assert require_task_shape(TASK, what="x") is TASK
    bad: object
    for bad in ({"task_id": True, "task_status": "x"}, {"task_id": "1"}, [], "x", None):
        with pytest.raises(ServiceError):
            require_task_shape(bad, what="x")


def test_verbose_events_hold_no_credential() -> None:
    fake = Fake(answer(1302, status=429), answer())
    events: list[RequestEvent] = []
    fake.client(on_event=events.append).get_task("t1")
    assert "key-123456789" not in json.dumps([vars(e) for e in events])
    assert fake.requests[0].headers["authorization"] == "Bearer key-123456789"
