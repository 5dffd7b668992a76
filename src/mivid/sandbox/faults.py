"""Injected faults: what a flaky network, a hostile gateway or a broken CDN does to a request.

Tests queue faults with `Emulator.inject`. A fault matches a request by its
`on` ("create", "get", "list", "video", "account", or "any" for every request,
unknown paths included), and optionally by `api` (the endpoint's name,
"multi-image2video" or "omni-video"), `task` (a task id or external id: the
task a query, a video or a create is about) and `prompt` (text in the task's
prompt). A fault applies `times` times (None: forever), then leaves the queue.

Faults come in three layers, and one request takes the first matching fault of
each layer, so faults of different layers compose (a patched answer, dripped):

| layer  | kinds                                                     | acts on            |
|--------|-----------------------------------------------------------|--------------------|
| answer | error, html, not_json, raw, redirect, echo_authorization, | replaces the answer|
|        | endless, drop_before                                      |                    |
| data   | patch                                                     | the task objects in a JSON answer |
| wire   | drop_after, truncated, delay, drip, bad_gzip              | how the answer travels |

Whether the request is processed (a task really created) before it strikes:

| kind               | processed | the client sees                                          |
|--------------------|-----------|----------------------------------------------------------|
| error              | no (*)    | an error envelope with the code, its HTTP status, Retry-After |
| html               | no (*)    | an HTML page (a gateway's 502 by default; 200 on "video": a page, not a video) |
| not_json           | no (*)    | a plain-text body that is not JSON (status 200 by default) |
| raw                | no (*)    | exactly the status, headers and body bytes given          |
| redirect           | no (*)    | a redirect to `location` (default: the same URL: a loop)  |
| echo_authorization | no (*)    | an error whose message and data repeat the Authorization header |
| endless            | no (*)    | a 200 body that never ends (JSON, or on "video" an MP4)   |
| drop_before        | no        | the connection closes without an answer                  |
| patch              | yes       | the answer with fields of its task objects set or changed |
| drop_after         | yes       | no answer; on "video" with `bytes=N`: headers, N bytes, close |
| truncated          | yes       | the headers and about half of the body, then a close     |
| delay              | yes       | the answer, `seconds` late                                |
| drip               | yes       | the answer, one byte every `seconds`                      |
| bad_gzip           | yes       | `Content-Encoding: gzip` over bytes that are not gzip     |

(*) `after=True` processes the request first, then answers with the fault:
a create that times out at a gateway after the task was made.

`drip`, `delay` and `endless` take real time or never end: they are for the
socket server (the in-process transport plays them too, but a test there
would sleep; except a drip on an emulator with a `FakeClock`, which moves that
clock on between bytes instead). Ready-made patches: `Fault.nan_timestamps`, `Fault.control_chars`,
`Fault.invalid_video_url`, `Fault.non_finite`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict

if TYPE_CHECKING:
    from typing_extensions import Unpack

FaultKind = Literal[
    "error",
    "html",
    "not_json",
    "raw",
    "redirect",
    "echo_authorization",
    "endless",
    "drop_before",
    "patch",
    "drop_after",
    "truncated",
    "delay",
    "drip",
    "bad_gzip",
]
Endpoint = Literal["create", "get", "list", "video", "account", "any"]
Layer = Literal["answer", "data", "wire"]
ENDPOINTS: tuple[str, ...] = ("create", "get", "list", "video", "account", "any")
LAYERS: dict[str, Layer] = {
    "error": "answer",
    "html": "answer",
    "not_json": "answer",
    "raw": "answer",
    "redirect": "answer",
    "echo_authorization": "answer",
    "endless": "answer",
    "drop_before": "answer",
    "patch": "data",
    "drop_after": "wire",
    "truncated": "wire",
    "delay": "wire",
    "drip": "wire",
    "bad_gzip": "wire",
}

#: A patch value: set as is, or (a callable) applied to the value already there.
PatchValue = Any
Transform = Callable[[Any], Any]
CONTROL_CHARACTERS = "\x1b[2J\x1b]0;pwned\x07\r"
#: The task fields `Fault.control_chars` spoils (dotted paths into a task object).
TEXT_FIELDS = (
    "task_id",
    "task_status",
    "task_status_msg",
    "task_info.external_task_id",
    "task_result.videos.0.url",
    "task_result.videos.0.watermark_url",
)


class Match(TypedDict, total=False):
    """Which requests a fault strikes, and how often: every factory takes these keywords.

    Left out, each has `Fault`'s default: `on="any"`, `times=1`, no `api`, `task` or `prompt`.
    """

    on: Endpoint
    times: int | None
    api: str | None
    task: str | None
    prompt: str | None


class AnswerMatch(Match, total=False):
    """`Match`, and for the answer layer's kinds that replace an answer: `after=True` processes
    the request first (a create that times out at a gateway after the task was made)."""

    after: bool


@dataclass
class Fault:
    """One injected fault; build it with the class methods, e.g. `Fault.error(5000, on="create")`."""

    kind: FaultKind
    on: Endpoint = "any"
    times: int | None = 1
    code: int | None = None
    http_status: int | None = None
    message: str | None = None
    retry_after: float | None = None
    seconds: float = 0.0
    nbytes: int | None = None
    after: bool = False
    api: str | None = None
    task: str | None = None
    prompt: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    location: str | None = None
    values: Mapping[str, PatchValue] = field(default_factory=dict)
    where: Literal["task", "envelope"] = "task"

    def __post_init__(self) -> None:
        if self.on not in ENDPOINTS:
            raise ValueError(f"Fault on={self.on!r}: use one of {', '.join(ENDPOINTS)}")
        if self.times is not None and self.times < 1:
            raise ValueError(f"Fault times={self.times!r}: use a positive count or None (forever)")
        if self.kind == "drip" and not self.seconds > 0:
            raise ValueError(f"Fault.drip seconds={self.seconds!r}: use a positive interval")

    @property
    def layer(self) -> Layer:
        return LAYERS[self.kind]

    # -- the answer layer --------------------------------------------------------

    @classmethod
    def error(
        cls,
        code: int,
        http_status: int | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        **match: Unpack[AnswerMatch],
    ) -> Fault:
        """Answer with error `code` (HTTP status from the contract's table unless given)."""
        return cls(
            "error",
            code=code,
            http_status=http_status,
            message=message,
            retry_after=retry_after,
            **match,
        )

    @classmethod
    def html(cls, status: int = 502, **match: Unpack[AnswerMatch]) -> Fault:
        """Answer with an HTML page: a gateway's error page, or with 200 a page where a video was."""
        return cls("html", http_status=status, **match)

    @classmethod
    def not_json(cls, status: int = 200, **match: Unpack[AnswerMatch]) -> Fault:
        """Answer with a body that is not JSON."""
        return cls("not_json", http_status=status, **match)

    @classmethod
    def raw(
        cls,
        status: int,
        headers: Mapping[str, str] | tuple[tuple[str, str], ...] = (),
        body: bytes = b"",
        **match: Unpack[AnswerMatch],
    ) -> Fault:
        """Answer with exactly this status, these headers and these body bytes (nothing added:
        without a Content-Length the connection closes after the body)."""
        pairs = tuple(headers.items()) if isinstance(headers, Mapping) else tuple(headers)
        return cls("raw", http_status=status, headers=pairs, body=body, **match)

    @classmethod
    def redirect(
        cls, location: str | None = None, status: int = 302, **match: Unpack[AnswerMatch]
    ) -> Fault:
        """Redirect to `location`; by default to the very same URL, forever: a redirect loop."""
        # Forever unless told: a loop is the point of a redirect fault.
        match.setdefault("times", None)
        return cls("redirect", http_status=status, location=location, **match)

    @classmethod
    def echo_authorization(
        cls, code: int = 1000, http_status: int | None = None, **match: Unpack[AnswerMatch]
    ) -> Fault:
        """Answer with error `code` whose message (and data) repeat the Authorization header."""
        return cls("echo_authorization", code=code, http_status=http_status, **match)

    @classmethod
    def endless(cls, **match: Unpack[AnswerMatch]) -> Fault:
        """A 200 answer whose body never ends and has no Content-Length (an MP4 on "video")."""
        return cls("endless", **match)

    @classmethod
    def drop_before(cls, **match: Unpack[Match]) -> Fault:
        """Close the connection without answering; nothing is processed."""
        return cls("drop_before", **match)

    # -- the data layer ----------------------------------------------------------

    @classmethod
    def patch(
        cls,
        values: Mapping[str, PatchValue],
        *,
        where: Literal["task", "envelope"] = "task",
        **match: Unpack[Match],
    ) -> Fault:
        """Set fields of each task object in the answer (`where="envelope"`: of the envelope).

        Keys are dotted paths ("task_info.external_task_id", "task_result.videos.0.url").
        A plain value is set (objects on the way are made); a callable gets the value
        there and returns the new one, and is skipped where the path does not exist.
        Non-finite floats are written as JSON's NaN / Infinity / -Infinity tokens.
        """
        return cls("patch", values=dict(values), where=where, **match)

    @classmethod
    def nan_timestamps(cls, **match: Unpack[Match]) -> Fault:
        """`created_at` and `updated_at` as NaN."""
        return cls.patch({"created_at": math.nan, "updated_at": math.nan}, **match)

    @classmethod
    def non_finite(
        cls,
        fields: tuple[str, ...] = ("created_at", "updated_at", "final_unit_deduction"),
        value: float = math.inf,
        **match: Unpack[Match],
    ) -> Fault:
        """Each of `fields` (dotted paths) set to `value`: NaN, Infinity or -Infinity."""
        return cls.patch(dict.fromkeys(fields, value), **match)

    @classmethod
    def control_chars(
        cls,
        text: str = CONTROL_CHARACTERS,
        fields: tuple[str, ...] = TEXT_FIELDS,
        **match: Unpack[Match],
    ) -> Fault:
        """`text` (ESC, OSC, BEL, CR by default) put before each of `fields` that is there."""

        def spoil(value: Any) -> Any:
            return f"{text}{value}" if isinstance(value, str) else value

        return cls.patch(dict.fromkeys(fields, spoil), **match)

    @classmethod
    def invalid_video_url(
        cls, url: str = "http://[::1/out of brackets.mp4", **match: Unpack[Match]
    ) -> Fault:
        """Each video's `url` (and `watermark_url`, where there) replaced by `url`."""

        def replace(_: Any) -> str:
            return url

        fields = ("task_result.videos.0.url", "task_result.videos.0.watermark_url")
        return cls.patch(dict.fromkeys(fields, replace), **match)

    # -- the wire layer ----------------------------------------------------------

    @classmethod
    def drop_after(cls, *, bytes: int | None = None, **match: Unpack[Match]) -> Fault:
        """Process the request, then close without answering (video: after `bytes` bytes)."""
        return cls("drop_after", nbytes=bytes, **match)

    @classmethod
    def truncated(cls, **match: Unpack[Match]) -> Fault:
        """Process, send the headers and part of the body, then close."""
        return cls("truncated", **match)

    @classmethod
    def delay(cls, seconds: float, **match: Unpack[Match]) -> Fault:
        """Process, then answer normally after `seconds`."""
        return cls("delay", seconds=seconds, **match)

    @classmethod
    def drip(cls, seconds: float, **match: Unpack[Match]) -> Fault:
        """Process, then send the answer's body one byte every `seconds` (real time)."""
        return cls("drip", seconds=seconds, **match)

    @classmethod
    def bad_gzip(cls, **match: Unpack[Match]) -> Fault:
        """Process, then send the answer as `Content-Encoding: gzip` over bytes that are not gzip."""
        return cls("bad_gzip", **match)


@dataclass(frozen=True)
class Target:
    """What a request is about, for faults that match by task, prompt or endpoint.

    `task_keys` and `prompt` are computed only when a queued fault asks (a store lookup).
    """

    on: str
    api: str | None = None
    task_keys: Callable[[], set[str]] = lambda: set()
    prompt: Callable[[], str | None] = lambda: None


def _matches(fault: Fault, target: Target) -> bool:
    if fault.on not in ("any", target.on):
        return False
    if fault.api is not None and fault.api != target.api:
        return False
    if fault.task is not None and fault.task not in target.task_keys():
        return False
    if fault.prompt is not None:
        prompt = target.prompt()
        if prompt is None or fault.prompt not in prompt:
            return False
    return True


class FaultQueue:
    """Thread-safe queue of faults, matched in order, one per layer per request."""

    def __init__(self) -> None:
        self._items: list[tuple[Fault, list[int | None]]] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._items.append((fault, [fault.times]))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def pending(self) -> list[Fault]:
        """Faults still queued (a test can assert they were all used)."""
        with self._lock:
            return [fault for fault, _ in self._items]

    def take(self, target: Target) -> dict[Layer, Fault]:
        """The first fault of each layer that matches `target`, consuming one use of each."""
        taken: dict[Layer, Fault] = {}
        with self._lock:
            if not self._items:
                return taken
            for fault, left in self._items:
                if fault.layer in taken or not _matches(fault, target):
                    continue
                taken[fault.layer] = fault
                remaining = left[0]
                if remaining is not None:
                    left[0] = remaining - 1
            self._items = [(f, left) for f, left in self._items if left[0] is None or left[0] > 0]
        return taken
