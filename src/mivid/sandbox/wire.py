"""What goes over the wire: the request the core sees and the response it gives back.

Shared by the core (`app.py`), the fault effects (`fault_effects.py`) and the
carriers (`server.py`: sockets, and the in-process httpx transport).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    """A request as the core sees it; header names in lower case."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    has_content_length: bool = False


@dataclass
class Response:
    """What to answer, and how a fault bends the answering.

    `drop`: close without answering. `cut_after`: send the headers and only that
    many body bytes, then close. `delay`: seconds to wait before answering.
    `drip`: seconds between the body's bytes. `stream`: a body that is made as it
    is sent (no Content-Length; the connection closes after it), used instead of `body`.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    delay: float = 0.0
    drop: bool = False
    cut_after: int | None = None
    drip: float | None = None
    stream: Callable[[], Iterator[bytes]] | None = None


def json_response(
    status: int, payload: dict[str, Any], extra: list[tuple[str, str]] | None = None
) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return Response(status, headers + (extra or []), body)


def text_response(status: int, text: str, content_type: str = "text/plain") -> Response:
    body = text.encode()
    headers = [
        ("Content-Type", f"{content_type}; charset=utf-8"),
        ("Content-Length", str(len(body))),
    ]
    return Response(status, headers, body)


def with_length(headers: list[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    kept = [(name, value) for name, value in headers if name.lower() != "content-length"]
    return [*kept, ("Content-Length", str(length))]
