"""What the emulator remembers of each request it received, for tests to inspect.

A create body can be 55 MB of JSON; a long-lived `mivid sandbox serve` that
kept every body would grow without end. So by default a request is remembered
by the SHA-256 and length of its body, and by its parsed JSON with every image
(a Base64 `image` / `image_url` in `image_list`) and every other string longer
than `LONG_TEXT` characters replaced by a digest:

    {"sha256": "<hex of the decoded file>", "length": <bytes of the file>}

(a string that is not valid Base64 is digested as text, with `"base64": false`).
An image URL stays as it was. `Emulator(keep_bodies=True)` keeps the bytes and the
JSON as sent, for tests that compare them byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

#: Strings longer than this anywhere in a body are kept as a digest only.
LONG_TEXT = 4096
_IMAGE_KEYS = ("image", "image_url")


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as it arrived.

    `json` is the parsed body (None when there is none or it is not JSON), with
    images digested unless the emulator keeps bodies; `body` is the raw bytes,
    only when it keeps them (reading it otherwise raises LookupError).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    has_content_length: bool
    body_length: int
    body_sha256: str
    kept_body: bytes | None = None

    @property
    def body(self) -> bytes:
        if self.kept_body is None:
            if self.body_length == 0:
                return b""
            raise LookupError(
                "this emulator keeps digests of request bodies, not the bodies "
                "(body_sha256, body_length, json); make it with Emulator(keep_bodies=True)"
            )
        return self.kept_body


def digest_text(text: str, decoded: dict[int, bytes] | None = None) -> dict[str, Any]:
    """The digest that stands for an image or a long string (an image's bytes go into
    `decoded` by the id of its text: decoding 10 MB of Base64 takes 30 ms)."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = text.encode("utf-8", "surrogatepass")
        return {"sha256": hashlib.sha256(raw).hexdigest(), "length": len(raw), "base64": False}
    if decoded is not None:
        decoded[id(text)] = data
    return {"sha256": hashlib.sha256(data).hexdigest(), "length": len(data)}


def _is_inline_image(value: object) -> bool:
    # Base64 has no colon: a string with one is a URL (and stays readable).
    return isinstance(value, str) and ":" not in value


def digested(value: Any, decoded: dict[int, bytes] | None = None) -> Any:
    """`value` (parsed JSON) with inline images and long strings replaced by digests."""
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if key == "image_list" and isinstance(item, list):
                result[key] = [_digested_image_item(entry, decoded) for entry in item]
            else:
                result[key] = digested(item, decoded)
        return result
    if isinstance(value, list):
        return [digested(item, decoded) for item in value]
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return digest_text(value, decoded)
    return value


def _digested_image_item(entry: Any, decoded: dict[int, bytes] | None) -> Any:
    if not isinstance(entry, dict):
        return digested(entry, decoded)
    return {
        key: digest_text(item, decoded)
        if key in _IMAGE_KEYS and _is_inline_image(item)
        else digested(item, decoded)
        for key, item in entry.items()
    }
