"""What each injected fault does to an answer (the faults themselves are `faults.py`'s).

The answer layer's pages and streams, the data layer's patches, the wire
layer's cuts, delays, drips and broken encodings. The error envelopes of
`error` and `echo_authorization` are the core's (`Emulator._fault_answer`), as
they follow its answer forms.
"""

from __future__ import annotations

import dataclasses
import http
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

from mivid.sandbox.faults import Fault
from mivid.sandbox.video import sample_mp4
from mivid.sandbox.wire import Request, Response, text_response, with_length


def html_page(status: int) -> Response:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    if status == 200:
        page = (
            "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
            "<body><h1>Sign in to continue</h1><p>This link has expired.</p></body></html>\n"
        )
    else:
        page = (
            f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {phrase}</h1></center>\r\n"
            "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        )
    return text_response(status, page, "text/html")


def endless(video: bool) -> Response:
    """A 200 whose body never ends: an MP4 that goes on, or a JSON string that never closes."""
    if video:
        head, filler, content_type = sample_mp4(), b"\0" * 65536, "video/mp4"
    else:
        head = b'{"code":0,"message":"SUCCEED","data":{"task_id":"'
        filler, content_type = b"9" * 65536, "application/json"

    def chunks() -> Iterator[bytes]:
        yield head
        while True:
            yield filler

    return Response(200, [("Content-Type", content_type)], b"", stream=chunks)


def _set_path(target: Any, path: str, value: Any) -> None:
    parts = path.split(".")
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if isinstance(target, list):
            if not part.isdigit() or int(part) >= len(target):
                return
            key: Any = int(part)
        elif isinstance(target, dict):
            key = part
            if key not in target:
                if callable(value):
                    return
                if not last:
                    target[key] = {}
        else:
            return
        if last:
            target[key] = value(target[key]) if callable(value) else value
            return
        target = target[key]


def patched(fault: Fault, response: Response) -> Response:
    """The response with the fault's values set in its task objects (or envelope)."""
    if response.stream is not None or not response.body.startswith(b"{"):
        return response
    try:
        payload = json.loads(response.body)
    except ValueError:
        return response
    if fault.where == "envelope":
        objects = [payload]
    else:
        data = payload.get("data")
        objects = data if isinstance(data, list) else [data]
    for obj in objects:
        if isinstance(obj, dict):
            for path, value in fault.values.items():
                _set_path(obj, path, value)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=True).encode()
    return dataclasses.replace(
        response, headers=with_length(response.headers, len(body)), body=body
    )


# The gzip magic, method and flags, then bytes that are no deflate stream.
_BROKEN_GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff\xfe this is not deflate data"


def on_the_wire(fault: Fault, response: Response) -> Response:
    """The response as the fault makes it travel."""
    if response.drop:
        return response
    kind = fault.kind
    if kind == "drop_after":
        if fault.nbytes is not None:
            response.cut_after = min(fault.nbytes, max(len(response.body) - 1, 0))
        else:
            response.drop = True
    elif kind == "truncated":
        response.cut_after = max(1, len(response.body) // 2)
    elif kind == "delay":
        response.delay = fault.seconds
    elif kind == "drip":
        response.drip = fault.seconds
    elif kind == "bad_gzip":
        headers = [(n, v) for n, v in response.headers if n.lower() != "content-encoding"]
        headers.append(("Content-Encoding", "gzip"))
        response = dataclasses.replace(
            response, headers=with_length(headers, len(_BROKEN_GZIP)), body=_BROKEN_GZIP
        )
    return response


def redirect(fault: Fault, request: Request) -> Response:
    """A redirect to the fault's location, or to the request's own URL (a loop)."""
    location = fault.location
    if location is None:
        query = f"?{urlencode(request.query)}" if request.query else ""
        location = f"{quote(request.path)}{query}"
    return Response(
        fault.http_status or 302, [("Location", location), ("Content-Length", "0")], b""
    )
