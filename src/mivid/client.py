"""KlingClient: create, get and list tasks over httpx, with the contract's error handling.

What it owns:
- the envelope (`code`, `message`, `request_id`, `data`) and the mapping of
  every error code to an exception class (and so to an exit status);
- retries by error class: 1302/1303, 5000–5002, connection failures, timeouts
  and non-JSON 5xx answers are retried with exponential backoff and jitter,
  honouring `Retry-After`, bounded in attempts and total time; 1003/1004 mint
  a fresh token once;
- the idempotent create: a create whose outcome is unknown (timeout, dropped
  connection, 5000, 5002, unreadable answer) is looked up by its
  `external_task_id` before it is ever sent again, because the service bills
  every task it accepts.

It never prints: what happens is reported through `on_event` (for `--verbose`).
Tasks come back as the service's raw dicts, checked only for shape; `mivid.models`
gives the typed view.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx

from mivid import __version__
from mivid.auth import Credentials
from mivid.errors import (
    AccountError,
    ApiError,
    CredentialsError,
    MividError,
    NotFoundError,
    ServiceError,
)

TASKS_PATH = "/v1/videos/multi-image2video"
USER_AGENT = f"mivid/{__version__}"

# Codes the contract says to retry. 1302/1303 are refused before anything is
# created, so a create may be resent; after 5000/5002 the task may exist.
RATE_LIMITED = {1302, 1303}
SERVER_RETRYABLE = {5000, 5001, 5002}
CREATE_AMBIGUOUS = {5000, 5002}
TOKEN_RENEWABLE = {1003, 1004}

HINTS: dict[int, str] = {
    1000: "check the access key and secret key (mivid config show), and the region",
    1001: "this is a mivid bug: the Authorization header was not sent; please report it",
    1002: "check the key, the region (--region china for keys from the Beijing console) "
    "and that a gateway's token is sent as is (KLING_API_KEY)",
    1003: "the token is not valid yet: check this machine's clock",
    1004: "the token expired: check this machine's clock",
    1100: "the account has a problem: check it in the Kling console",
    1101: "the account is in arrears: top it up in the Kling console",
    1102: "the resource pack is used up or expired: buy or renew one in the Kling console",
    1103: "the key has no permission for this resource (model or region)",
    1200: "check the request's options",
    1201: "check the option named in the message",
    1202: "this is a mivid bug (wrong method); please report it",
    1203: "check the task id (or external id) and the region the task was made in",
    1300: "the platform's policy refused the request",
    1301: "content-safety refused it: change the prompt or the images",
    1302: "too many requests: wait a little and try again",
    1303: "too many tasks are running for this resource pack: wait for one to finish",
    1304: "this IP address is not on the account's allow-list",
    5000: "the service failed: try again later",
    5001: "the service is temporarily unavailable: try again later",
    5002: "the service timed out: try again later",
}


def error_class(code: int) -> type[MividError]:
    """The exception class (and so the exit status) for an API error code."""
    if 1000 <= code <= 1004:
        return CredentialsError
    if 1100 <= code <= 1103:
        return AccountError
    if code == 1203:
        return NotFoundError
    if 1200 <= code <= 1304:
        return ApiError
    return ServiceError


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Sleep and clock are injected so tests never really wait."""

    attempts: int = 5
    total_seconds: float = 60.0
    base_delay: float = 0.5
    max_delay: float = 8.0
    # 1303 means "wait for a running task to end": never retry faster than this.
    concurrency_min_delay: float = 1.0

    def delay(
        self, attempt: int, *, code: int | None, retry_after: float | None, rnd: float
    ) -> float:
        """Delay before attempt number `attempt + 1` (attempt counts from 1): full jitter."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        wait = ceiling * (0.5 + rnd / 2)
        if code == 1303:
            wait = max(wait, self.concurrency_min_delay)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait


@dataclass(frozen=True)
class RequestEvent:
    """One HTTP exchange, for `--verbose`. Holds nothing secret."""

    method: str
    url: str
    status: int | None
    elapsed: float
    request_id: str | None = None
    code: int | None = None
    attempt: int = 1
    note: str = ""


@dataclass
class _Answer:
    """An exchange's outcome, classified."""

    kind: Literal["ok", "api_error", "unreadable", "transport"]
    status: int | None = None
    code: int | None = None
    message: str = ""
    request_id: str | None = None
    data: Any = None
    retry_after: float | None = None
    error: BaseException | None = None
    nothing_sent: bool = False  # a connection that never opened: resending is safe
    snippet: str = ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _snippet(body: bytes, limit: int = 120) -> str:
    text = body[:limit].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text + ("…" if len(body) > limit else "")


def require_task_shape(data: Any, *, what: str) -> dict[str, Any]:
    """Check that `data` looks like a task object: cheap, no pydantic."""
    if (
        isinstance(data, dict)
        and isinstance(data.get("task_id"), (str, int))
        and not isinstance(data.get("task_id"), bool)
        and isinstance(data.get("task_status"), str)
    ):
        return data
    raise ServiceError(
        f"the service's answer to {what} is not a task object: {_snippet(json.dumps(data).encode())}",
        hint="the API may have changed, or a gateway rewrote the answer; try again with --verbose",
    )


@dataclass
class KlingClient:
    base_url: str
    credentials: Credentials
    transport: httpx.BaseTransport | None = None
    timeout: httpx.Timeout = field(
        default_factory=lambda: httpx.Timeout(30.0, connect=10.0, write=120.0)
    )
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    on_event: Callable[[RequestEvent], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rnd: Callable[[], float] = random.random
    _http: httpx.Client | None = field(default=None, repr=False)

    # -- plumbing ---------------------------------------------------------------

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                transport=self.transport,
                timeout=self.timeout,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                follow_redirects=False,
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> KlingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def _emit(self, event: RequestEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        body: Iterable[bytes] | None = None,
        content_length: int | None = None,
        attempt: int = 1,
    ) -> _Answer:
        headers = {"Authorization": self.credentials.authorization()}
        if body is not None:
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(content_length)
        started = self.clock()
        try:
            response = self.http.request(method, url, params=params, headers=headers, content=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            answer = _Answer("transport", error=exc, nothing_sent=True)
        except httpx.TransportError as exc:
            answer = _Answer("transport", error=exc)
        else:
            answer = self._classify(response)
        self._emit(
            RequestEvent(
                method=method,
                url=str(httpx.URL(url, params=params)) if params else url,
                status=answer.status,
                elapsed=self.clock() - started,
                request_id=answer.request_id,
                code=answer.code,
                attempt=attempt,
                note=_describe_transport(answer.error) if answer.error else "",
            )
        )
        return answer

    @staticmethod
    def _classify(response: httpx.Response) -> _Answer:
        status = response.status_code
        body = response.content
        try:
            envelope = json.loads(body)
        except ValueError:
            return _Answer(
                "unreadable",
                status=status,
                snippet=_snippet(body),
                retry_after=_retry_after(response),
            )
        if not isinstance(envelope, dict) or not isinstance(envelope.get("code"), int):
            return _Answer("unreadable", status=status, snippet=_snippet(body))
        code = envelope["code"]
        message = envelope.get("message")
        request_id = envelope.get("request_id")
        answer = _Answer(
            "ok" if code == 0 else "api_error",
            status=status,
            code=code,
            message=message if isinstance(message, str) else "",
            request_id=request_id if isinstance(request_id, str) else None,
            retry_after=_retry_after(response),
            snippet=_snippet(body),
        )
        if code == 0:
            if "data" not in envelope:
                return _Answer(
                    "unreadable",
                    status=status,
                    snippet=_snippet(body),
                    request_id=answer.request_id,
                )
            answer.data = envelope["data"]
        return answer

    def _failure(self, answer: _Answer, url: str) -> MividError:
        """The exception for a final, unsuccessful answer."""
        if answer.kind == "api_error" and answer.code is not None:
            cls = error_class(answer.code)
            detail = f" — {answer.message}" if answer.message else ""
            return cls(
                f"the API refused the request: code {answer.code}{detail}",
                hint=HINTS.get(answer.code),
                code=answer.code,
                request_id=answer.request_id,
                http_status=answer.status,
            )
        if answer.kind == "unreadable":
            return ServiceError(
                f"unreadable answer from {url} (HTTP {answer.status}): {answer.snippet or '(empty)'}",
                hint="the service or a gateway in front of it failed; try again later",
                http_status=answer.status,
                request_id=answer.request_id,
            )
        return ServiceError(
            f"{_describe_transport(answer.error)} ({url})",
            hint="check the network, the region and KLING_BASE_URL; try again with --verbose",
        )

    def _retryable(self, answer: _Answer) -> bool:
        if answer.kind == "transport":
            return True
        if answer.kind == "unreadable":
            return answer.status is None or answer.status >= 500
        return answer.code in RATE_LIMITED or answer.code in SERVER_RETRYABLE

    def _query(self, url: str, params: dict[str, Any] | None = None) -> Any:
        """A GET with the contract's retries; returns the envelope's `data`."""
        started = self.clock()
        renewed = False
        attempt = 1
        while True:
            answer = self._exchange("GET", url, params=params, attempt=attempt)
            if answer.kind == "ok":
                return answer.data
            if answer.code in TOKEN_RENEWABLE and not renewed and self.credentials.renew():
                renewed = True
                continue
            if not self._retryable(answer) or not self._may_retry(attempt, started, answer):
                raise self._failure(answer, url)
            attempt += 1

    def _may_retry(self, attempt: int, started: float, answer: _Answer) -> bool:
        """Sleep before the next attempt, or return False when the budget is spent."""
        if attempt >= self.retry.attempts:
            return False
        wait = self.retry.delay(
            attempt, code=answer.code, retry_after=answer.retry_after, rnd=self.rnd()
        )
        if self.clock() - started + wait > self.retry.total_seconds:
            return False
        self.sleep(wait)
        return True

    # -- the API ------------------------------------------------------------------

    def get_task(self, task_id: str) -> dict[str, Any]:
        """One task by task id or external task id."""
        if not task_id:
            raise NotFoundError("empty task id")
        url = self.url(f"{TASKS_PATH}/{quote(task_id, safe='')}")
        try:
            data = self._query(url)
        except NotFoundError as exc:
            exc.message = f"no task `{task_id}` at {self.base_url}" + (
                f" (code {exc.code})" if exc.code else ""
            )
            raise
        return require_task_shape(data, what=f"the query for task {task_id}")

    def find_task(self, task_id: str) -> dict[str, Any] | None:
        """Like get_task, but None when the service has no such task."""
        try:
            return self.get_task(task_id)
        except NotFoundError:
            return None

    def list_tasks(self, *, page: int = 1, page_size: int = 30) -> list[dict[str, Any]]:
        """One page of tasks, newest first."""
        url = self.url(TASKS_PATH)
        data = self._query(url, params={"pageNum": page, "pageSize": page_size})
        if not isinstance(data, list):
            raise ServiceError(
                f"the service's answer to the task list is not a list: "
                f"{_snippet(json.dumps(data).encode())}",
                hint="the API may have changed, or a gateway rewrote the answer",
            )
        return [require_task_shape(item, what="the task list") for item in data]

    def create_task(
        self,
        body: Iterable[bytes],
        *,
        content_length: int,
        external_task_id: str,
        on_ambiguous: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """Send a create and return the task object; never leaves two tasks behind.

        `body` must be re-iterable (it is sent again after a safe failure) and
        carry `external_task_id`. `on_ambiguous` hears about each failure after
        which the task may exist, before it is looked up.
        """
        url = self.url(TASKS_PATH)
        started = self.clock()
        renewed = False
        attempt = 1
        maybe_created = False
        while True:
            answer = self._exchange(
                "POST", url, body=body, content_length=content_length, attempt=attempt
            )
            if answer.kind == "ok":
                return require_task_shape(answer.data, what="the create")
            if answer.code in TOKEN_RENEWABLE and not renewed and self.credentials.renew():
                renewed = True
                continue
            ambiguous = self._is_ambiguous(answer)
            if ambiguous:
                maybe_created = True
                if on_ambiguous is not None:
                    on_ambiguous(self._failure(answer, url).message)
            elif maybe_created and answer.kind == "api_error" and answer.code not in RATE_LIMITED:
                # A resend refused (e.g. the external id is taken): the first
                # send may have made the task after all.
                existing = self.find_task(external_task_id)
                if existing is not None:
                    return existing
            if not self._retryable(answer) or not self._may_retry(attempt, started, answer):
                if maybe_created:
                    existing = self._look_up_after_failure(external_task_id)
                    if existing is not None:
                        return existing
                    raise ServiceError(
                        f"the create's outcome is unknown: {self._failure(answer, url).message}",
                        hint=f"the task may exist: check with `mivid get {external_task_id}` "
                        "or `mivid recover` before creating it again",
                    )
                raise self._failure(answer, url)
            attempt += 1
            if ambiguous:
                existing = self._look_up_after_failure(external_task_id)
                if existing is not None:
                    return existing

    @staticmethod
    def _is_ambiguous(answer: _Answer) -> bool:
        """Might the service have created the task despite this answer?"""
        if answer.kind == "transport":
            return not answer.nothing_sent
        if answer.kind == "unreadable":
            return True
        return answer.code in CREATE_AMBIGUOUS

    def _look_up_after_failure(self, external_task_id: str) -> dict[str, Any] | None:
        """The task made by a create whose answer was lost, if the service has it."""
        try:
            return self.find_task(external_task_id)
        except MividError as exc:
            raise ServiceError(
                f"the create's outcome is unknown and the task could not be looked up: "
                f"{exc.message}",
                hint=f"check with `mivid get {external_task_id}` or `mivid recover` "
                "before creating it again",
            ) from exc


def _describe_transport(error: BaseException | None) -> str:
    """A sentence a person understands for a network failure."""
    if error is None:
        return "network failure"
    text = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectTimeout):
        return "could not connect: the server did not answer in time"
    if isinstance(error, httpx.TimeoutException):
        return "the server took too long to answer"
    if isinstance(error, httpx.ConnectError):
        lowered = text.lower()
        if (
            "name or service not known" in lowered
            or "nodename nor servname" in lowered
            or ("temporary failure in name resolution" in lowered)
        ):
            return "could not find the server (DNS lookup failed)"
        if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
            return f"the secure connection failed (TLS): {text}"
        if "refused" in lowered:
            return "could not connect: the connection was refused"
        return f"could not connect: {text}"
    if isinstance(error, httpx.RemoteProtocolError):
        return "the server closed the connection without a complete answer"
    if isinstance(error, (httpx.ReadError, httpx.WriteError)):
        return f"the connection broke: {text}"
    return f"network failure: {text}"
