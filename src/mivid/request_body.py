"""The create request's JSON body, streamed image by image.

Four 10 MB images make a ~55 MB body. Building it as one string would hold the
raw bytes, their Base64, the JSON text and its encoding at once (about 5× the
images). Instead the body is a sequence of small pieces: the JSON around the
images, and each image's Base64 read from disk as it is sent. Its length is
known in advance (Base64 of n bytes is 4·⌈n/3⌉ characters), so the request
carries a Content-Length, as the contract asks, and is byte-identical to
`json.dumps(body, separators=(",", ":"), ensure_ascii=False)`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mivid.endpoints import DEFAULT_ENDPOINT, Endpoint
from mivid.images import RemoteImage


class EncodedImage(Protocol):
    """An image sent as Base64: a checked file (`LocalImage`) or a fitted copy (`FittedImage`)."""

    @property
    def argument(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    def base64_length(self) -> int: ...
    def iter_base64(self) -> Iterator[bytes]: ...


BodyImage = EncodedImage | RemoteImage


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class CreateBody:
    """A re-iterable request body: each iteration re-reads the images from disk.

    The endpoint says how each `image_list` entry is written (its key, its role).
    """

    fields: dict[str, Any]
    images: Sequence[BodyImage]
    endpoint: Endpoint = DEFAULT_ENDPOINT
    roles: Sequence[str | None] = ()

    def _role(self, index: int) -> str | None:
        return self.roles[index] if index < len(self.roles) else None

    def _entry_around(self, index: int) -> tuple[bytes, bytes]:
        """The JSON text before and after an image's Base64 in its `image_list` entry."""
        marker = "\x00image\x00"
        text = _dumps(self.endpoint.image_entry(marker, self._role(index)))
        before, _, after = text.partition(_dumps(marker)[1:-1])
        return before, after

    def _pieces(self) -> Iterator[bytes | EncodedImage]:
        # model_name first, then the images, then the other fields, as a person
        # reading the dry-run would expect.
        head = {"model_name": self.fields["model_name"]} if "model_name" in self.fields else {}
        rest = {k: v for k, v in self.fields.items() if k != "model_name"}
        opening = _dumps(head)[:-1]  # drop the closing brace
        yield opening + (b"," if head else b"") + b'"image_list":['
        for index, image in enumerate(self.images):
            if index:
                yield b","
            if isinstance(image, RemoteImage):
                yield _dumps(self.endpoint.image_entry(image.url, self._role(index)))
            else:
                before, after = self._entry_around(index)
                yield before
                yield image
                yield after
        closing = _dumps(rest)
        yield b"]" + (b"," + closing[1:] if rest else b"}")

    @property
    def content_length(self) -> int:
        total = 0
        for piece in self._pieces():
            total += len(piece) if isinstance(piece, bytes) else piece.base64_length()
        return total

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._pieces():
            if isinstance(piece, bytes):
                yield piece
            else:
                yield from piece.iter_base64()

    def preview(self, *, shorten_images: bool) -> dict[str, Any]:
        """The body as a dict, for `--dry-run` (images shortened for people)."""
        image_list: list[dict[str, Any]] = []
        for index, image in enumerate(self.images):
            if not isinstance(image, RemoteImage):
                if shorten_images:
                    text = (
                        f"<{image.base64_length()} Base64 characters of {image.argument}, "
                        f"sha256 {image.sha256[:12]}…>"
                    )
                else:
                    text = b"".join(image.iter_base64()).decode("ascii")
                image_list.append(self.endpoint.image_entry(text, self._role(index)))
            else:
                image_list.append(self.endpoint.image_entry(image.url, self._role(index)))
        body: dict[str, Any] = {}
        if "model_name" in self.fields:
            body["model_name"] = self.fields["model_name"]
        body["image_list"] = image_list
        body.update({k: v for k, v in self.fields.items() if k != "model_name"})
        return body
