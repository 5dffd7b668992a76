"""Injected faults: what a flaky network or gateway does to a request.

Tests queue faults with `Emulator.inject`; each request takes the first queued
fault whose `on` matches its endpoint ("create", "get", "list", "video", or
"any" for every request, unknown paths included). A fault applies `times` times
(None: forever) and then leaves the queue.

What each kind does, and whether the request is processed (a task really
created) before it strikes:

| kind        | processed | the client sees                                            |
|-------------|-----------|------------------------------------------------------------|
| error       | no (*)    | an error envelope with the code, its HTTP status, Retry-After |
| drop_before | no        | the connection closes without an answer                    |
| drop_after  | yes       | the connection closes without an answer; on "video" with   |
|             |           | `bytes=N`: the headers and the first N bytes, then a close |
| html        | no (*)    | a gateway's HTML error page (status 502 by default)         |
| truncated   | yes       | the headers and about half of the JSON body, then a close   |
| not_json    | no        | a plain-text body that is not JSON (status 200 by default)  |
| delay       | yes       | the normal answer, `seconds` late                           |

(*) `after=True` processes the request first, then answers with the fault:
a create that times out at a gateway after the task was made.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["error", "drop_before", "drop_after", "html", "truncated", "not_json", "delay"]
Endpoint = Literal["create", "get", "list", "video", "any"]
ENDPOINTS: tuple[str, ...] = ("create", "get", "list", "video", "any")


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

    def __post_init__(self) -> None:
        if self.on not in ENDPOINTS:
            raise ValueError(f"Fault on={self.on!r}: use one of {', '.join(ENDPOINTS)}")
        if self.times is not None and self.times < 1:
            raise ValueError(f"Fault times={self.times!r}: use a positive count or None (forever)")

    @classmethod
    def error(
        cls,
        code: int,
        http_status: int | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        *,
        on: Endpoint = "any",
        times: int | None = 1,
        after: bool = False,
    ) -> Fault:
        """Answer with error `code` (HTTP status from the contract's table unless given)."""
        return cls(
            "error",
            on=on,
            times=times,
            code=code,
            http_status=http_status,
            message=message,
            retry_after=retry_after,
            after=after,
        )

    @classmethod
    def drop_before(cls, *, on: Endpoint = "any", times: int | None = 1) -> Fault:
        """Close the connection without answering; nothing is processed."""
        return cls("drop_before", on=on, times=times)

    @classmethod
    def drop_after(
        cls, *, on: Endpoint = "any", times: int | None = 1, bytes: int | None = None
    ) -> Fault:
        """Process the request, then close without answering (video: after `bytes` bytes)."""
        return cls("drop_after", on=on, times=times, nbytes=bytes)

    @classmethod
    def html(
        cls, status: int = 502, *, on: Endpoint = "any", times: int | None = 1, after: bool = False
    ) -> Fault:
        """Answer with a gateway's HTML error page."""
        return cls("html", on=on, times=times, http_status=status, after=after)

    @classmethod
    def truncated(cls, *, on: Endpoint = "any", times: int | None = 1) -> Fault:
        """Process, send the headers and part of the body, then close."""
        return cls("truncated", on=on, times=times)

    @classmethod
    def not_json(cls, status: int = 200, *, on: Endpoint = "any", times: int | None = 1) -> Fault:
        """Answer with a body that is not JSON."""
        return cls("not_json", on=on, times=times, http_status=status)

    @classmethod
    def delay(cls, seconds: float, *, on: Endpoint = "any", times: int | None = 1) -> Fault:
        """Process, then answer normally after `seconds`."""
        return cls("delay", on=on, times=times, seconds=seconds)


class FaultQueue:
    """Thread-safe queue of faults, matched in order."""

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

    def take(self, endpoint: str) -> Fault | None:
        """The first fault matching `endpoint`, consuming one of its uses."""
        with self._lock:
            for index, (fault, left) in enumerate(self._items):
                if fault.on not in ("any", endpoint):
                    continue
                remaining = left[0]
                if remaining is not None:
                    if remaining <= 1:
                        del self._items[index]
                    else:
                        left[0] = remaining - 1
                return fault
        return None
