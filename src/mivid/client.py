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
  every task it accepts. Resending with the same external id is safe: the
  service refuses a second create with an id it has seen (code 1201, nothing
  billed), and one query by that id then tells whether the task exists
  (the refusal's wording is never trusted alone);
- "no such task", decided in one place (`_not_found`): a single-task query
  refused with 1203 (documented) or 1201 (the live service's
  `Task not found by id/external id: …`). A task this client has just created
  may not be visible yet: "not found" then means "not yet" for a bounded time
  (`RetryPolicy.visibility_grace`);
- the account's resource packs (`account_costs`), never asked for faster than
  one request a second (`RateGate`, on the injected clock: retries included);
- what a server may make it do: every request has a total deadline (its retry
  budget, a create's also time to upload its images, never past the run's own
  deadline such as `wait --timeout`), kept however slowly the answer drips in;
  no answer is read beyond `MAX_ANSWER_BYTES`; nothing the service writes
  into a message carries a credential (`Secrets`).

It never prints: what happens is reported through `on_event` (for `--verbose`).
Tasks come back as the service's raw dicts, checked only for shape; `mivid.models`
gives the typed view.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import httpcore
import httpx

from mivid import __version__, hints
from mivid.auth import ApiKeyCredentials, Credentials
from mivid.endpoints import (
    ACCOUNT_CALL_INTERVAL,
    ACCOUNT_COSTS_PATH,
    DEFAULT_ENDPOINT,
    Endpoint,
)
from mivid.errors import (
    AccountError,
    ApiError,
    CreateOutcomeUnknownError,
    CredentialsError,
    DeadlineError,
    ExternalIdTakenError,
    MividError,
    NotFoundError,
    ServiceError,
)
from mivid.plaintext import parse_json, printable, public_url

USER_AGENT = f"mivid/{__version__}"

#: The most mivid reads of one answer of the API. A full page of 500 tasks is about a
#: megabyte; anything this large is no answer of the API (a gateway's loop, a hostile
#: server) and is refused before it costs memory.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
#: A create's deadline grows by one second for every this many bytes of its body: a slow
#: uplink still gets its 55 MB of images through, a server that reads nothing does not hold
#: mivid for ever.
UPLOAD_BYTES_PER_SECOND = 32 * 1024
#: A request sent after the retry budget is spent (the lookup after a lost create) still gets
#: this long (or the whole budget, when that is shorter).
FIRST_ATTEMPT_SECONDS = 10.0

# Codes the contract says to retry. 1302/1303 are refused before anything is
# created, so a create may be resent; after 5000/5002 the task may exist.
RATE_LIMITED = {1302, 1303}
SERVER_RETRYABLE = {5000, 5001, 5002}
CREATE_AMBIGUOUS = {5000, 5002}
TOKEN_RENEWABLE = {1003, 1004}
#: The codes with which the service says a queried task does not exist (`KlingClient._not_found`):
#: 1203 as documented, 1201 as the live service answers.
NOT_FOUND_CODES = {1201, 1203}
#: The code of a create refused for one of its values, the external id being taken among them.
CREATE_VALUE_REFUSED = 1201

#: What to do after each code. The credentials' codes (1000–1004) speak of the access key and
#: secret key mivid signs its tokens with; with a static API key, `API_KEY_HINTS` replaces them.
HINTS: dict[int, str] = {
    1000: "check the access key and secret key, and the region",
    1001: "this is a mivid bug: the Authorization header was not sent; please report it",
    1002: "check the access key and secret key, the region (--region china for keys from the "
    "Beijing console), and that a gateway's token is sent as is (KLING_API_KEY)",
    1003: "the token is not valid yet: check this machine's clock",
    1004: "the token expired: check this machine's clock",
    1100: "the account has a problem: check it in the Kling console",
    1101: "the account is in arrears: top it up in the Kling console",
    1102: "the resource pack is used up or expired: buy or renew one in the Kling console",
    1103: "the key has no permission for this resource (model or region)",
    1200: "check the request's options",
    1201: "check the option named in the message",
    # The live service answers 1202 to a path it does not know: a base URL with a wrong path.
    1202: "the service does not know this address: check the base URL",
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

#: The credentials' hints for a static API key (`KLING_API_KEY`): it is sent as it is, so there
#: is no access key or secret key to check, and no token mivid signs with this machine's clock.
API_KEY_HINTS: dict[int, str] = {
    1000: "check the API key (KLING_API_KEY or api-key in the config file), and the region",
    1002: "check the API key (KLING_API_KEY or api-key in the config file), and the region "
    "(--region china for keys from the Beijing console)",
    1003: "the API key is a token that is not valid yet: wait until it starts, or get one "
    "that is (mivid sends it as it is)",
    1004: "the API key is a token that has expired: get a fresh one (mivid sends it as it is "
    "and cannot renew it), or set KLING_ACCESS_KEY and KLING_SECRET_KEY and mivid signs its own",
}


def error_class(code: int) -> type[MividError]:
    """The exception class (and so the exit status) for an API error code."""
    # By family, so a code the contract does not list yet (1005, 1104, 1305 …)
    # still lands with its neighbours rather than posing as a network failure.
    if 1000 <= code <= 1099:
        return CredentialsError
    if 1100 <= code <= 1199:
        return AccountError
    if 1200 <= code <= 1399:
        # "No such task" is not a code's meaning but a query's outcome: `KlingClient._not_found`.
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
    # False: a create refused with 1303 raises at once (`mivid batch` waits for a slot itself).
    retry_concurrency_limit: bool = True
    # A task just created may not be found by queries at once (the live service takes
    # a moment): for this long after its create, "not found" means "not yet".
    visibility_grace: float = 20.0

    def delay(
        self, attempt: int, *, code: int | None, retry_after: float | None, rnd: float
    ) -> float:
        """Delay before attempt number `attempt + 1` (attempt counts from 1).

        Exponential backoff with "equal jitter": between half and all of
        base × 2^(attempt-1), capped at max_delay, so concurrent clients spread
        out but never hammer. `Retry-After`, when the service sends it, is a floor.
        """
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 60))
        wait = ceiling * (0.5 + rnd / 2)
        if code == 1303:
            wait = max(wait, self.concurrency_min_delay)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait

    def tuned(
        self,
        *,
        attempts: int | None = None,
        total_seconds: float | None = None,
        base_delay: float | None = None,
    ) -> RetryPolicy:
        """This policy with the settings' overrides (`MIVID_RETRY_*`, read by `mivid.settings`)."""
        policy = self
        if base_delay is not None:
            # Keep the shape of the schedule: the caps scale with the base delay.
            policy = replace(
                policy,
                base_delay=base_delay,
                max_delay=min(policy.max_delay, 16 * base_delay),
                concurrency_min_delay=min(policy.concurrency_min_delay, 2 * base_delay),
                visibility_grace=min(policy.visibility_grace, 40 * base_delay),
            )
        return replace(
            policy,
            attempts=attempts if attempts is not None else policy.attempts,
            total_seconds=total_seconds if total_seconds is not None else policy.total_seconds,
        )


@dataclass
class RateGate:
    """At most one call every `interval` seconds: a call that comes too soon waits its turn.

    On the client's injected clock and sleep, so a test sees the pause without taking it.
    """

    interval: float
    clock: Callable[[], float]
    sleep: Callable[[float], object]
    _last: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wait_turn(self) -> None:
        with self._lock:
            if self._last is not None:
                wait = self._last + self.interval - self.clock()
                if wait > 0:
                    self.sleep(wait)
            self._last = self.clock()


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
    # No host by that name, or nothing listening: waiting will not change that (one quick retry).
    hopeless: bool = False
    snippet: str = ""
    past_deadline: bool = False  # stopped (or never sent) because the request's time ran out
    too_large: bool = False  # the body went past MAX_ANSWER_BYTES (and was not read further)
    code_zero: bool = False  # an envelope with code 0 (success) that holds no `data` at all
    #: A redirect's Location (3xx): the request was not handled at this URL, nothing was done.
    location: str | None = None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _scrubbed(body: bytes, scrub: Callable[[str], str]) -> bytes:
    """The answer's body with any credential it echoes cut out, before anything reads it.

    What the service sends travels on into sidecars, the journal and the gallery page,
    where the output's own redaction never reaches: a key echoed in a task's message or
    URL is cut out here, at the door. A copy JSON escapes hide (`\\u0061`, `\\/`) is cut
    out of the parsed answer (`Secrets.scrub_data`); a body that is not UTF-8 is refused.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    cleaned = scrub(text)
    return body if cleaned is text else cleaned.encode("utf-8")


def _snippet(body: bytes, limit: int = 120) -> str:
    text = printable(body[:limit].decode("utf-8", errors="replace"))
    return (text or "(empty body)") + ("…" if len(body) > limit else "")


def require_task_shape(
    data: Any, *, what: str, http_status: int | None = None, request_id: str | None = None
) -> dict[str, Any]:
    """Check that `data` looks like a task object: cheap, no pydantic."""
    if (
        isinstance(data, dict)
        and _usable_task_id(data.get("task_id"))
        and isinstance(data.get("task_status"), str)
    ):
        return data
    status = f" (HTTP {http_status})" if http_status is not None else ""
    raise ServiceError(
        f"the service's answer to {what} is not a task object{status}: "
        f"{_snippet(json.dumps(data, ensure_ascii=False).encode())}",
        hint="the API may have changed, or a gateway rewrote the answer; try again with --verbose",
        http_status=http_status,
        request_id=request_id,
    )


def _usable_task_id(value: Any) -> bool:
    """A task id a person or a later query can use: a number, or a string not blank."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(value.strip()))


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
    # Told (seconds to wait, attempt number, reason, what happens then: "trying again",
    # "looking again") before each retry, so a person is not left staring at a silent
    # terminal, nor left to fear that a create is paid twice.
    on_retry: Callable[[float, int, str, str], None] | None = None
    sleep: Callable[[float], object] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rnd: Callable[[], float] = random.random
    #: No request goes on past this moment (of `clock`): the end of a `wait --timeout`.
    deadline: float | None = None
    _http: httpx.Client | None = field(default=None, repr=False)
    _account_gate: RateGate | None = field(default=None, repr=False)
    # Task ids and external ids this client created, with when (its clock): see get_task.
    _made: dict[str, float] = field(default_factory=dict, repr=False)
    # Ids known to be task ids (not external ids): a query for one is answered by that task.
    _task_ids: set[str] = field(default_factory=set, repr=False)

    # -- plumbing ---------------------------------------------------------------

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                transport=self.transport if self.transport is not None else deadline_transport(),
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

    @contextmanager
    def until(self, moment: float | None) -> Iterator[None]:
        """No request goes on past `moment` (of `clock`) while inside; None: no such limit."""
        saved, self.deadline = self.deadline, moment
        try:
            yield
        finally:
            self.deadline = saved

    def _deadline(self, started: float, *, first: bool) -> float:
        """When an attempt of an operation whose budget began at `started` must be over.

        The retry budget (at least a second); a first attempt made after the
        budget is spent (a create's lookup) still gets `FIRST_ATTEMPT_SECONDS`;
        never past the run's `deadline`.
        """
        budget = max(self.retry.total_seconds, 1.0)
        end = started + budget
        if first:
            end = max(end, self.clock() + min(budget, FIRST_ATTEMPT_SECONDS))
        return end if self.deadline is None else min(end, self.deadline)

    def _timeouts(self, remaining: float) -> httpx.Timeout:
        """The client's timeouts, none longer than the time the request has left."""

        def within(seconds: float | None) -> float:
            return remaining if seconds is None else min(seconds, remaining)

        base = self.timeout
        return httpx.Timeout(
            connect=within(base.connect),
            read=within(base.read),
            write=within(base.write),
            pool=within(base.pool),
        )

    def _emit(self, event: RequestEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        deadline: float,
        params: dict[str, Any] | None = None,
        body: Iterable[bytes] | None = None,
        content_length: int | None = None,
        attempt: int = 1,
    ) -> _Answer:
        """One request and its whole answer, by `deadline` (of `clock`), classified."""
        started = self.clock()
        answer = self._send(
            method, url, deadline, params=params, body=body, content_length=content_length
        )
        if self.on_event is not None:  # --verbose: not paid for on every query otherwise
            self._emit(
                RequestEvent(
                    method=method,
                    url=public_url(str(httpx.URL(url, params=params)) if params else url),
                    status=answer.status,
                    elapsed=self.clock() - started,
                    request_id=answer.request_id,
                    code=answer.code,
                    attempt=attempt,
                    note=_describe_transport(answer.error) if answer.error else "",
                )
            )
        return answer

    def _send(
        self,
        method: str,
        url: str,
        deadline: float,
        *,
        params: dict[str, Any] | None,
        body: Iterable[bytes] | None,
        content_length: int | None,
    ) -> _Answer:
        remaining = deadline - self.clock()
        if remaining <= 0:
            return _Answer("transport", nothing_sent=True, past_deadline=True)
        headers = {"Authorization": self.credentials.authorization()}
        if body is not None:
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(content_length)
        with over_by(remaining):  # the status line and headers too, however they drip
            answer = self._send_within(method, url, deadline, remaining, params, headers, body)
        if answer.kind == "transport" and self.clock() >= deadline:
            answer.past_deadline = True
        return answer

    def _send_within(
        self,
        method: str,
        url: str,
        deadline: float,
        remaining: float,
        params: dict[str, Any] | None,
        headers: dict[str, str],
        body: Iterable[bytes] | None,
    ) -> _Answer:
        try:
            request = self.http.build_request(
                method,
                url,
                params=params,
                headers=headers,
                content=body,
                timeout=self._timeouts(remaining),
            )
            response = self.http.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            answer = _Answer("transport", error=exc, nothing_sent=True, hopeless=_hopeless(exc))
        except httpx.DecodingError as exc:
            answer = _Answer("unreadable", snippet=f"(the body could not be decoded: {exc})")
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            answer = _Answer("transport", error=exc)
        else:
            try:
                answer = self._classify(response, self._read(response, deadline))
            except _TooLargeError:
                answer = _Answer(
                    "unreadable",
                    status=response.status_code,
                    snippet=f"(more than {MAX_ANSWER_BYTES // (1024 * 1024)} MiB, the most "
                    "mivid reads of an answer of the API; not read further)",
                    too_large=True,
                )
            except httpx.DecodingError as exc:
                answer = _Answer(
                    "unreadable",
                    status=response.status_code,
                    snippet=f"(the body could not be decoded: {exc})",
                )
            except (httpx.TransportError, _PastDeadlineError) as exc:
                error = exc if isinstance(exc, httpx.TransportError) else None
                answer = _Answer("transport", status=response.status_code, error=error)
            finally:
                response.close()
        return answer

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        """The answer's body, by `deadline` and at most `MAX_ANSWER_BYTES` (decoded)."""
        announced = response.headers.get("content-length", "")
        if announced.isdigit() and int(announced) > MAX_ANSWER_BYTES:
            raise _TooLargeError
        chunks: list[bytes] = []
        size = 0
        with _Watchdog(response, deadline - self.clock()):
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise _TooLargeError
                chunks.append(chunk)
                if self.clock() >= deadline:  # a drip keeps every single read short
                    raise _PastDeadlineError
        return b"".join(chunks)

    def _classify(self, response: httpx.Response, body: bytes) -> _Answer:
        """The answer, its texts scrubbed of any credential a server may echo back."""
        secrets = self.credentials.secrets
        scrub = secrets.scrub
        # A body with escapes is parsed as it came (a stretch cut out of its text could
        # start inside an escape and leave it unreadable) and its parsed strings scrubbed.
        escaped = b"\\" in body
        answer = self._classify_raw(response, body if escaped else _scrubbed(body, scrub))
        if escaped and answer.data is not None:
            # An escape can spell a key the body's text does not hold: its strings decoded.
            try:
                answer.data = secrets.scrub_data(answer.data)
            except RecursionError:  # nested as deep as the parser allows: not kept
                return _Answer(
                    "unreadable",
                    status=answer.status,
                    snippet="(nested too deeply to be checked for echoed credentials)",
                )
        answer.message, answer.snippet = scrub(answer.message), scrub(answer.snippet)
        if answer.location is not None:
            answer.location = scrub(answer.location)
        if answer.request_id is not None:  # quoted in errors and --verbose
            answer.request_id = scrub(answer.request_id)
        return answer

    @staticmethod
    def _classify_raw(response: httpx.Response, body: bytes) -> _Answer:
        status = response.status_code
        if response.has_redirect_location:
            # Not followed (the key would go wherever the server says), and nothing was done.
            return _Answer(
                "unreadable",
                status=status,
                snippet=_snippet(body),
                location=printable(public_url(response.headers["location"])),
            )
        try:
            # NaN, Infinity and 1e999 are read as null: the answer is data for strict JSON,
            # in UTF-8 as JSON between systems must be (RFC 8259), nothing read around it.
            envelope = parse_json(body.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            # Not UTF-8: its bytes are not quoted (UTF-16's NULs between a key's letters
            # hid it from every scrub), only how many there are.
            snippet = (
                f"(not UTF-8: {len(body)} bytes, not shown)"
                if isinstance(exc, UnicodeDecodeError)
                else _snippet(body)
            )
            return _Answer(
                "unreadable",
                status=status,
                snippet=snippet,
                retry_after=_retry_after(response),
            )
        code = envelope.get("code") if isinstance(envelope, dict) else None
        if not isinstance(code, int) or isinstance(code, bool):
            return _Answer(
                "unreadable",
                status=status,
                snippet=_snippet(body),
                retry_after=_retry_after(response),
            )
        message = envelope.get("message")
        request_id = envelope.get("request_id")
        answer = _Answer(
            "ok" if code == 0 else "api_error",
            status=status,
            code=code,
            message=printable(message) if isinstance(message, str) else "",
            request_id=printable(request_id) if isinstance(request_id, str) else None,
            retry_after=_retry_after(response),
        )
        if code == 0 and "data" in envelope:
            answer.data = envelope["data"]
            return answer
        if code == 0:
            answer.kind = "unreadable"
            answer.code = None
            answer.code_zero = True
        answer.snippet = _snippet(body)  # only a failure quotes the body
        return answer

    def _failure(self, answer: _Answer, url: str) -> MividError:
        """The exception for a final, unsuccessful answer."""
        if answer.past_deadline:
            # Whatever the last read said, mivid itself ended it: say what was seen.
            what = "its answer was still coming in" if answer.status else "no answer yet"
            return DeadlineError(
                f"no whole answer from {public_url(url)} in the time a request may take ({what})",
                hint="the service or the network is very slow: try again later "
                "(MIVID_RETRY_MAX_SECONDS sets how long one request may take, retries included)",
                http_status=answer.status,
            )
        if answer.kind == "api_error" and answer.code is not None:
            cls = error_class(answer.code)
            detail = f" — {answer.message}" if answer.message else ""
            hint = self._code_hint(answer.code)
            if answer.code == 1000:
                hint = f"{hint} ({hints.command('config', 'show')})"
            elif answer.code == 1202:
                hint = self._base_url_hint(url)
            return cls(
                f"the API refused the request: code {answer.code}{detail}",
                hint=hint,
                code=answer.code,
                request_id=answer.request_id,
                http_status=answer.status,
            )
        if answer.location is not None:
            return self._redirected(answer, url)
        if answer.kind in ("unreadable", "ok"):
            status = f"HTTP {answer.status}" if answer.status is not None else "no status"
            hint = (
                # Nothing of the API lives there: the address is wrong, and waiting will not help.
                self._base_url_hint(url)
                if answer.status in (404, 405)
                else "the service or a gateway in front of it failed; try again later "
                "(--verbose shows each request)"
            )
            if answer.too_large:
                hint = (
                    "that is no answer of the API: check the base URL, or try again later "
                    "(for `list`, a smaller --page-size asks for less at once)"
                )
            return ServiceError(
                f"unreadable answer from {public_url(url)} ({status}): "
                f"{answer.snippet or '(empty body)'}",
                hint=hint,
                http_status=answer.status,
                request_id=answer.request_id,
            )
        return ServiceError(
            f"{_describe_transport(answer.error)} — tried {public_url(url)}",
            hint="check the network, the region and the base URL (KLING_BASE_URL, --base-url); "
            "--verbose shows each request",
        )

    def _code_hint(self, code: int) -> str | None:
        """What to do after an error code, in the words of the credentials in use."""
        if isinstance(self.credentials, ApiKeyCredentials) and code in API_KEY_HINTS:
            return API_KEY_HINTS[code]
        return HINTS.get(code)

    def _redirected(self, answer: _Answer, url: str) -> ServiceError:
        """A redirect from the API's address: the base URL is not where the API answers."""
        location = answer.location or ""
        path = url[len(self.base_url.rstrip("/")) :]
        # The same request's path at another address: that address is the base URL to use.
        base = location[: -len(path)] if path and location.endswith(path) else None
        use = f"use {base} as the base URL" if base else "check the base URL"
        return ServiceError(
            f"the server at {public_url(self.base_url)} redirects the request (HTTP "
            f"{answer.status}) to `{location}`; mivid does not follow it with your key, "
            "and nothing was done",
            hint=f"{use} (--base-url or KLING_BASE_URL)",
            http_status=answer.status,
        )

    def _base_url_hint(self, url: str) -> str:
        """For an address the service does not know: the URL used, and the setting that made it."""
        return (
            f"no API endpoint at {public_url(url)}: check the base URL "
            f"{public_url(self.base_url)} (--base-url or KLING_BASE_URL; a gateway's path "
            "prefix belongs in it, the API's /v1/... does not)"
        )

    def _retryable(self, answer: _Answer) -> bool:
        if answer.kind == "transport":
            return True
        if answer.location is not None:
            return False  # asking again at the same address brings the same redirect
        if answer.kind == "unreadable":
            # A gateway's own 429 page is a rate limit too, just not in Kling's words.
            return answer.status is None or answer.status >= 500 or answer.status == 429
        if answer.code == 1303 and not self.retry.retry_concurrency_limit:
            return False
        return answer.code in RATE_LIMITED or answer.code in SERVER_RETRYABLE

    def _query(
        self,
        url: str,
        params: dict[str, Any] | None = None,
        *,
        started: float | None = None,
        gate: RateGate | None = None,
    ) -> _Answer:
        """A GET with the contract's retries; returns the successful answer.

        `started` shares a time budget with an enclosing operation (a create's lookup);
        `gate` paces every attempt.
        """
        started = self.clock() if started is None else started
        renewed = False
        attempt = 1
        while True:
            if gate is not None:
                gate.wait_turn()
            deadline = self._deadline(started, first=attempt == 1)
            answer = self._exchange("GET", url, deadline=deadline, params=params, attempt=attempt)
            if answer.kind == "ok":
                return answer
            if answer.code in TOKEN_RENEWABLE and not renewed and self.credentials.renew():
                renewed = True
                continue
            if not self._retryable(answer) or not self._may_retry(attempt, started, answer):
                raise self._failure(answer, url)
            attempt += 1

    def _may_retry(
        self, attempt: int, started: float, answer: _Answer, then: str = "trying again"
    ) -> bool:
        """Sleep before the next attempt, or return False when the budget is spent.

        A host name that does not resolve, or a connection refused, gets one quick
        retry at most (a network that just came up, a server restarting); the
        patient schedule is for what time mends: timeouts, 5xx, 1302/1303.
        """
        if attempt >= self.retry.attempts or (answer.hopeless and attempt >= 2):
            return False
        wait = self.retry.delay(
            attempt, code=answer.code, retry_after=answer.retry_after, rnd=self.rnd()
        )
        if answer.hopeless:
            wait = min(wait, HOPELESS_RETRY_DELAY)
        if self.clock() - started + wait > self.retry.total_seconds:
            return False
        if self.deadline is not None and self.clock() + wait >= self.deadline:
            return False
        if self.on_retry is not None:
            self.on_retry(wait, attempt + 1, _retry_reason(answer), then)
        self.sleep(wait)
        return True

    # -- the API ------------------------------------------------------------------

    def get_task(
        self,
        task_id: str,
        *,
        endpoint: Endpoint = DEFAULT_ENDPOINT,
        _started: float | None = None,
    ) -> dict[str, Any]:
        """One task by task id or external task id (NotFoundError when there is none).

        An id known to be a task id (this client made it, or `is_task_id`) answered
        with another task is a broken answer (ServiceError), never taken for it.

        A task this client created moments ago may not be visible yet: it is
        asked again (with backoff) until `RetryPolicy.visibility_grace` has passed
        since its create, before "not found" is believed.
        """
        if not task_id:
            raise NotFoundError("empty task id")
        url = self.url(endpoint.task_path(task_id))
        attempt = 1
        while True:
            try:
                answer = self._query(url, started=_started)
            except ApiError as exc:
                missing = self._not_found(exc, task_id)
                if missing is None:
                    raise
                pause = self._not_visible_yet(task_id, attempt)
                if pause is None:
                    raise missing from exc
                self.sleep(pause)
                attempt += 1
                continue
            task = require_task_shape(
                answer.data,
                what=f"the query for task {printable(task_id)}",
                http_status=answer.status,
                request_id=answer.request_id,
            )
            if task_id in self._task_ids and str(task["task_id"]) != task_id:
                # Filing it under either id would lose the paid task's record (or mix two).
                raise ServiceError(
                    f"the service answered the query for task {printable(task_id)} with "
                    f"another task, {printable(str(task['task_id']))}",
                    hint="the service or a gateway rewrote the answer: check the base URL; "
                    "--verbose shows each request",
                    http_status=answer.status,
                    request_id=answer.request_id,
                )
            return task

    def _not_found(self, refusal: ApiError, task_id: str) -> NotFoundError | None:
        """The one place that decides whether a refused task query means "no such task".

        A single-task query carries nothing but the id, so a refusal of its value
        (1201, the live service's `Task not found by id/external id: …`) or of the
        resource (1203, as documented) both mean the service has no such task.
        """
        if refusal.code not in NOT_FOUND_CODES:
            return None
        said = refusal.message.partition(f"code {refusal.code} — ")[2]
        return NotFoundError(
            f"no task `{printable(task_id)}` at {public_url(self.base_url)} "
            f"(code {refusal.code}{': ' + said if said else ''})",
            hint=self._not_found_hint(),
            code=refusal.code,
            request_id=refusal.request_id,
            http_status=refusal.http_status,
        )

    def _not_found_hint(self) -> str:
        """What to check: the region only when talking to one of Kling's regional hosts."""
        from urllib.parse import urlsplit

        from mivid.connection import SANDBOX_BASE_URL

        if self.base_url.rstrip("/") == SANDBOX_BASE_URL:
            return (
                "check the task id (or external id): the sandbox knows the tasks made with "
                "--sandbox on this machine"
            )
        if (urlsplit(self.base_url).hostname or "").endswith(".klingai.com"):
            return HINTS[1203]
        return "check the task id (or external id) and the base URL the task was made at"

    def made_ago(self, task_id: str, seconds: float) -> None:
        """The task `task_id` names was created `seconds` ago, by another run (its journal says).

        Like a task this client created: "not found" within `RetryPolicy.visibility_grace`
        of its create means "not yet" (`mivid create` in one process, `mivid wait ID`
        in the next, against a service that shows new tasks after a moment).
        """
        if 0 <= seconds < self.retry.visibility_grace:
            made = self.clock() - seconds
            self._made[task_id] = max(made, self._made.get(task_id, made))

    def is_task_id(self, task_id: str) -> None:
        """`task_id` is a task's id, not an external id (its journal says): see get_task."""
        self._task_ids.add(task_id)

    def _not_visible_yet(self, task_id: str, attempt: int) -> float | None:
        """The pause before asking again for a task created moments ago; None: believe it."""
        made = self._made.get(task_id)
        if made is None:
            return None
        pause = self.retry.delay(attempt, code=None, retry_after=None, rnd=self.rnd())
        if self.clock() + pause - made > self.retry.visibility_grace:
            return None
        if self.on_retry is not None:
            self.on_retry(
                pause, attempt + 1, f"task {printable(task_id)} is not visible yet", "looking again"
            )
        return pause

    def find_task(
        self,
        task_id: str,
        *,
        endpoint: Endpoint = DEFAULT_ENDPOINT,
        _started: float | None = None,
    ) -> dict[str, Any] | None:
        """Like get_task, but None when the service has no such task."""
        try:
            return self.get_task(task_id, endpoint=endpoint, _started=_started)
        except NotFoundError:
            return None

    def list_tasks(
        self, *, page: int = 1, page_size: int = 30, endpoint: Endpoint = DEFAULT_ENDPOINT
    ) -> list[dict[str, Any]]:
        """One page of an endpoint's tasks, newest first."""
        url = self.url(endpoint.list_path)
        answer = self._query(url, params={"pageNum": page, "pageSize": page_size})
        data = answer.data
        if not isinstance(data, list):
            raise ServiceError(
                f"the service's answer to the task list is not a list (HTTP {answer.status}): "
                f"{_snippet(json.dumps(data, ensure_ascii=False).encode())}",
                hint="the API may have changed, or a gateway rewrote the answer",
                http_status=answer.status,
                request_id=answer.request_id,
            )
        return [
            require_task_shape(
                item, what="the task list", http_status=answer.status, request_id=answer.request_id
            )
            for item in data
        ]

    def account_costs(self, *, start_time: int, end_time: int) -> list[dict[str, Any]]:
        """The resource packs valid at some time in [start_time, end_time] (Unix milliseconds).

        The service's `resource_pack_subscribe_infos`, each checked to be an object.
        Never sent faster than one request a second from this client.
        """
        if self._account_gate is None:
            self._account_gate = RateGate(ACCOUNT_CALL_INTERVAL, self.clock, self.sleep)
        url = self.url(ACCOUNT_COSTS_PATH)
        answer = self._query(
            url, params={"start_time": start_time, "end_time": end_time}, gate=self._account_gate
        )
        data = answer.data
        inner = data.get("code") if isinstance(data, dict) else None
        if isinstance(inner, int) and not isinstance(inner, bool) and inner != 0:
            message = data.get("msg")
            detail = f" — {printable(message)}" if isinstance(message, str) and message else ""
            raise error_class(inner)(
                f"the account endpoint refused: code {inner}{detail}",
                hint=self._code_hint(inner),
                code=inner,
                request_id=answer.request_id,
                http_status=answer.status,
            )
        infos = data.get("resource_pack_subscribe_infos") if isinstance(data, dict) else None
        if not isinstance(infos, list):
            raise ServiceError(
                f"the service's answer about the account is not a list of resource packs "
                f"(HTTP {answer.status}): "
                f"{_snippet(json.dumps(data, ensure_ascii=False).encode())}",
                hint="the API may have changed, or a gateway does not serve /account/costs",
                http_status=answer.status,
                request_id=answer.request_id,
            )
        return [info for info in infos if isinstance(info, dict)]

    def create_task(
        self,
        body: Iterable[bytes],
        *,
        content_length: int,
        external_task_id: str,
        endpoint: Endpoint = DEFAULT_ENDPOINT,
        on_ambiguous: Callable[[str, str], None] | None = None,
    ) -> dict[str, Any]:
        """Send a create and return the task object; never leaves two tasks behind.

        `body` must be re-iterable (it is sent again after a safe failure) and
        carry `external_task_id`. `on_ambiguous` hears about each failure after
        which the task may exist, before it is looked up: what failed, and the
        external id it is looked up by.

        Raises `ExternalIdTakenError` when the service already had a task with
        this external id before this call (nothing created), and
        `CreateOutcomeUnknownError` when the task may exist but could not be found.
        Any other error means no task was made by this call.
        """
        url = self.url(endpoint.create_path)
        # The budget counts from here plus the time a slow uplink needs for the images.
        started = self.clock() + content_length / UPLOAD_BYTES_PER_SECOND
        renewed = False
        attempt = 1
        maybe_created = False
        # An answer with code 0 (accepted) but no usable task: the task almost surely exists.
        accepted: _Answer | None = None
        while True:
            answer = self._exchange(
                "POST",
                url,
                deadline=self._deadline(started, first=attempt == 1),
                body=body,
                content_length=content_length,
                attempt=attempt,
            )
            if answer.kind == "ok":
                if _is_task(answer.data):
                    return self._made_now(answer.data, external_task_id)
                accepted = answer = self._accepted_without_task(answer)
            elif answer.kind == "unreadable" and answer.code_zero:
                accepted = answer
            if answer.code in TOKEN_RENEWABLE and not renewed and self.credentials.renew():
                renewed = True
                continue
            if answer.kind == "api_error" and answer.code == CREATE_VALUE_REFUSED:
                return self._refused_value(
                    answer, url, external_task_id, endpoint, started, maybe_created=maybe_created
                )
            ambiguous = self._is_ambiguous(answer)
            if ambiguous:
                maybe_created = True
                if on_ambiguous is not None:
                    said = answer is accepted and _accepted_text(answer)
                    on_ambiguous(said or self._failure(answer, url).message, external_task_id)
            # After a send that may have made the task, the next step is a look-up: the
            # create goes out again (same external id) only when no task was made.
            then = "looking the task up by its external id" if ambiguous else "trying again"
            if not self._retryable(answer) or not self._may_retry(attempt, started, answer, then):
                if maybe_created:
                    # The first send may have made the task: look (patiently, a task
                    # just made may not show at once) before saying none was made.
                    existing = self._look_up(external_task_id, started, endpoint, patient=True)
                    if existing is not None:
                        return self._made_now(existing, external_task_id)
                if accepted is not None:
                    # The service said yes: "not found" only means "not visible yet". Saying
                    # "not created" would let a rerun (with a new external id) pay twice.
                    raise CreateOutcomeUnknownError(
                        f"{_accepted_text(accepted)}; no task with external id "
                        f"`{printable(external_task_id)}` can be found yet, so it may "
                        "well have been made",
                        external_task_id=external_task_id,
                        accepted=True,
                    )
                if maybe_created:
                    # Not found within the grace is no proof: a slow service may show it
                    # later. Unknown, so recover asks again and a rerun reuses the id.
                    raise CreateOutcomeUnknownError(
                        f"{self._failure(answer, url).message}; a send of this create may "
                        f"have made the task, and no task with external id "
                        f"`{printable(external_task_id)}` can be found yet",
                        external_task_id=external_task_id,
                    )
                raise self._failure(answer, url)
            attempt += 1
            if ambiguous:
                # Resending with the same external id is safe (a duplicate is refused),
                # so one quick look is enough here.
                existing = self._look_up(external_task_id, started, endpoint, patient=False)
                if existing is not None:
                    return self._made_now(existing, external_task_id)

    def _accepted_without_task(self, answer: _Answer) -> _Answer:
        """A create answered with code 0 whose `data` is no task with a usable id, as unreadable.

        Its snippet quotes what came in `data` (a success carries no snippet of its own).
        """
        shown = json.dumps(answer.data, ensure_ascii=False)
        return replace(
            answer,
            kind="unreadable",
            code=None,
            code_zero=True,
            data=None,
            snippet=self.credentials.secrets.scrub(f'"data": {_snippet(shown.encode())}'),
        )

    def _refused_value(
        self,
        answer: _Answer,
        url: str,
        external_task_id: str,
        endpoint: Endpoint,
        started: float,
        *,
        maybe_created: bool,
    ) -> dict[str, Any]:
        """A create refused with 1201: its external id taken, or a value it does not accept.

        The live service says `External_task_id … already exists`; the wording is
        not trusted alone: one query by the external id tells whether the task exists.
        After an ambiguous send, a task found is the one that send made.
        """
        existing = self._look_up(external_task_id, started, endpoint, patient=maybe_created)
        if existing is not None and maybe_created:
            return self._made_now(existing, external_task_id)
        if existing is not None:
            refusal = self._failure(answer, url)
            raise ExternalIdTakenError(
                f"external id `{printable(external_task_id)}` is already used by task "
                f"{printable(str(existing['task_id']))}; nothing was created",
                task=existing,
                external_task_id=external_task_id,
                code=refusal.code,
                request_id=refusal.request_id,
                http_status=refusal.http_status,
            )
        if maybe_created:
            raise CreateOutcomeUnknownError(
                f"the create was sent again and refused ({self._failure(answer, url).message}), "
                f"and no task with external id `{printable(external_task_id)}` can be found yet",
                external_task_id=external_task_id,
            )
        raise self._failure(answer, url)

    def _made_now(self, task: dict[str, Any], external_task_id: str) -> dict[str, Any]:
        """Remember a task this client created (see get_task), and return it."""
        now = self.clock()
        self._made[str(task["task_id"])] = now
        self._made[external_task_id] = now
        self._task_ids.add(str(task["task_id"]))
        return task

    @staticmethod
    def _is_ambiguous(answer: _Answer) -> bool:
        """Might the service have created the task despite this answer?"""
        if answer.kind == "transport":
            return not answer.nothing_sent
        if answer.location is not None:  # redirected: not handled there
            return False
        if answer.kind in ("unreadable", "ok"):
            return True
        # A code outside the contract's table (a gateway's own envelope, a new
        # code) says nothing about whether the task was made: look before saying no.
        return answer.code in CREATE_AMBIGUOUS or answer.code not in HINTS

    def _look_up(
        self, external_task_id: str, started: float, endpoint: Endpoint, *, patient: bool
    ) -> dict[str, Any] | None:
        """The task with this external id, if the service has it (the create's own lookup).

        `patient`: a task created moments ago may not be visible yet, so "not
        found" is asked again until `RetryPolicy.visibility_grace` has passed.
        """
        since = self.clock()
        attempt = 1
        while True:
            try:
                found = self.find_task(external_task_id, endpoint=endpoint, _started=started)
            except MividError as exc:
                raise CreateOutcomeUnknownError(
                    f"the create's outcome is unknown and the task could not be looked up: "
                    f"{exc.message}",
                    external_task_id=external_task_id,
                ) from exc
            if found is not None or not patient:
                return found
            pause = self.retry.delay(attempt, code=None, retry_after=None, rnd=self.rnd())
            if self.clock() + pause - since > self.retry.visibility_grace:
                return None
            if self.on_retry is not None:
                self.on_retry(
                    pause,
                    attempt + 1,
                    f"no task with external id {printable(external_task_id)} yet",
                    "looking again",
                )
            self.sleep(pause)
            attempt += 1


#: When (time.monotonic()) the request being sent in this context must be over: every socket
#: operation of it (connecting, the TLS handshake, writing, reading the status line, the
#: headers and the body) waits at most until then, however slowly a server drips its bytes.
_OVER_BY: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "mivid_over_by", default=None
)


@contextmanager
def over_by(seconds: float | None) -> Iterator[None]:
    """Inside, each socket operation of a request (on a `deadline_transport`) ends `seconds`
    from now at the latest; None: no such limit."""
    token = _OVER_BY.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _OVER_BY.reset(token)


def _within(timeout: float | None, *, connecting: bool = False) -> float | None:
    """A socket operation's timeout, cut to what is left of the request's time."""
    by = _OVER_BY.get()
    if by is None:
        return timeout
    left = by - time.monotonic()
    if left <= 0:
        error = httpcore.ConnectTimeout if connecting else httpcore.ReadTimeout
        raise error("the request's time ran out")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write keeps the request's deadline (`over_by`)."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _within(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _within(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _within(timeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own network, each connection a `_DeadlineStream`."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _within(timeout, connecting=True), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(
            path, _within(timeout, connecting=True), socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport() -> httpx.HTTPTransport:
    """httpx's transport to the network, its connections keeping `over_by`'s deadline.

    A per-read timeout never expires while a server sends a byte now and then; the
    body's watchdog (`_Watchdog`) starts only once the headers are in. httpx takes no
    network backend, so it is set on the pool it made (a test drips headers to prove it).
    """
    transport = httpx.HTTPTransport()
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
    return transport


class _TooLargeError(Exception):
    """The body went past MAX_ANSWER_BYTES (private signal of `_read`)."""


class _PastDeadlineError(Exception):
    """The request's deadline passed while its answer came in (private signal of `_read`)."""


class _Watchdog:
    """Ends a connection's reads at a deadline, however the server trickles its bytes.

    Each read of a socket waits at most the read timeout, but a server that sends
    a byte every few seconds never lets one expire: at the deadline the socket is
    shut down from the timer thread, which ends the read in progress at once. (An
    in-process transport has no socket: `_read` checks the clock between chunks.)
    One timer thread serves every request (`_Deadlines`): a thread started and
    stopped for each answer cost more CPU than the rest of the query.
    """

    def __init__(self, response: httpx.Response, seconds: float) -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        self.sock = sock if isinstance(sock, socket.socket) else None
        self.seconds = max(0.0, seconds)
        self.token: int | None = None

    def __enter__(self) -> None:
        if self.sock is not None:
            self.token = _DEADLINES.watch(self.sock, self.seconds)

    def __exit__(self, *exc: object) -> None:
        if self.token is not None:
            _DEADLINES.release(self.token)


@contextmanager
def read_deadline(response: httpx.Response, seconds: float | None) -> Iterator[None]:
    """Inside, the response's socket is shut `seconds` from now (None: never): a deadline
    that holds however slowly the body drips (downloads keep `wait --timeout` with it)."""
    if seconds is None:
        yield
        return
    with _Watchdog(response, seconds):
        yield


class _Deadlines:
    """The sockets to shut at their deadlines, and the one daemon thread that does it.

    It sleeps until the earliest deadline; a new one wakes it only when earlier
    still, and a released one not at all (it then wakes for nothing, once).
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._due: dict[int, tuple[float, socket.socket]] = {}
        self._tokens = itertools.count()
        self._wakes_at = float("inf")
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket, seconds: float) -> int:
        at = time.monotonic() + seconds
        with self._condition:
            token = next(self._tokens)
            self._due[token] = (at, sock)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mivid-deadlines", daemon=True
                )
                self._thread.start()
            elif at < self._wakes_at:
                self._condition.notify()
        return token

    def release(self, token: int) -> None:
        with self._condition:
            self._due.pop(token, None)

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                for token in [t for t, (at, _) in self._due.items() if at <= now]:
                    _shut(self._due.pop(token)[1])
                self._wakes_at = min((at for at, _ in self._due.values()), default=float("inf"))
                wait = None if self._wakes_at == float("inf") else self._wakes_at - now
                self._condition.wait(wait)


_DEADLINES = _Deadlines()


def _shut(sock: socket.socket) -> None:
    with suppress(OSError):  # closed already: the answer was over
        sock.shutdown(socket.SHUT_RDWR)


def _accepted_text(answer: _Answer) -> str:
    """What a create answered with code 0 but no usable task held (its snippet is scrubbed)."""
    status = f"HTTP {answer.status}, " if answer.status is not None else ""
    return (
        f"the service accepted the create ({status}code 0) but its answer holds no usable "
        f"task id: {answer.snippet or '(no data)'}"
    )


def _is_task(data: Any) -> bool:
    try:
        require_task_shape(data, what="")
    except ServiceError:
        return False
    return True


#: The one retry after a DNS failure or a refused connection comes this soon (seconds).
HOPELESS_RETRY_DELAY = 0.5


def _hopeless(error: BaseException) -> bool:
    """A DNS failure or a refused connection (not a timeout): retrying will not mend it."""
    if not isinstance(error, httpx.ConnectError) or isinstance(error, httpx.TimeoutException):
        return False
    lowered = str(error).lower()
    return "refused" in lowered or any(marker in lowered for marker in _DNS_FAILURES)


_DNS_FAILURES = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated with hostname",
    "getaddrinfo failed",
    "name resolution",
)


def _retry_reason(answer: _Answer) -> str:
    if answer.kind == "transport":
        return _describe_transport(answer.error)
    if answer.kind == "unreadable":
        return f"unreadable answer (HTTP {answer.status})"
    return f"code {answer.code}" + (f" — {printable(answer.message)}" if answer.message else "")


def _describe_transport(error: BaseException | None) -> str:
    """A sentence a person understands for a network failure."""
    if error is None:
        return "network failure"
    text = printable(str(error)) or type(error).__name__
    lowered = text.lower()
    if isinstance(error, httpx.ConnectTimeout):
        return "could not connect: the server did not answer in time"
    if isinstance(error, httpx.TimeoutException):
        return "the server took too long to answer"
    if isinstance(error, httpx.UnsupportedProtocol):
        return f"the base URL is not http(s): {text}"
    if isinstance(error, httpx.InvalidURL):
        return f"the URL is not valid: {text}"
    if isinstance(error, httpx.ConnectError):
        if any(marker in lowered for marker in _DNS_FAILURES):
            return "could not find the server (DNS lookup failed: check the host name)"
        if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
            return f"the secure connection failed (TLS): {text}"
        if "refused" in lowered:
            return "could not connect: the connection was refused (nothing is listening there)"
        if "unreachable" in lowered:
            return "could not connect: the network or host is unreachable"
        return f"could not connect: {text}"
    if isinstance(error, httpx.RemoteProtocolError):
        return "the server closed the connection without a complete answer"
    if isinstance(error, httpx.LocalProtocolError) and "header" in lowered:
        # Its text quotes the header, and the Authorization header holds the key.
        return "the request could not be sent: a header value is not allowed in HTTP"
    if isinstance(error, (httpx.ReadError, httpx.WriteError)):
        return f"the connection broke: {text}"
    if isinstance(error, httpx.TooManyRedirects):
        return "too many redirects (the server sends the request round in a loop)"
    if isinstance(error, httpx.DecodingError):
        return f"the answer could not be decoded (a broken compressed body?): {text}"
    return f"network failure: {text}"


def network_failure(error: Exception) -> ServiceError | None:
    """An httpx error that reached the command line, as the one line a person reads (exit 5).

    None for anything that is no network error. The URL asked for is named.
    """
    if isinstance(error, httpx.InvalidURL):  # the base URL is checked first: an answer's URL
        return ServiceError(
            f"an answer holds a URL that is not valid ({printable(str(error))})",
            hint="the service or a gateway rewrote the answer: check the base URL, try again later",
        )
    if not isinstance(error, httpx.HTTPError):
        return None
    url = ""
    if isinstance(error, httpx.RequestError):
        with suppress(RuntimeError):  # an error raised before its request was made
            url = f" — {public_url(str(error.request.url))}"
    return ServiceError(
        f"{_describe_transport(error)}{url}",
        hint="the service, a gateway or the video's server misbehaved; try again later",
    )
