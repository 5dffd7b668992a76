"""Talking to the emulator by hand: raw httpx, tokens minted with PyJWT, real images.

Nothing from mivid's client is used here: these tests pin the emulator to the
contract on their own.
"""

from __future__ import annotations

import base64
import io
import ssl
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from PIL import Image

from mivid.sandbox import Emulator

COLLECTION = "/v1/videos/multi-image2video"
# Building an SSL context costs ~30 ms per httpx.Client; the emulator speaks plain
# http, so every test client shares this one.
SSL_CONTEXT = ssl.create_default_context()


def image_bytes(width: int = 400, height: int = 300, kind: str = "PNG") -> bytes:
    """A small real image made with Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 60)).save(buffer, kind)
    return buffer.getvalue()


def image_b64(width: int = 400, height: int = 300, kind: str = "PNG") -> str:
    return base64.b64encode(image_bytes(width, height, kind)).decode()


PNG = image_b64()


def make_token(
    clock: Callable[[], float],
    access_key: str = "test-ak",
    secret_key: str = "test-sk",
    **overrides: Any,
) -> str:
    """A contract-shaped JWT; `overrides` replace claims (None removes one)."""
    now = int(clock())
    claims: dict[str, Any] = {"iss": access_key, "exp": now + 1800, "nbf": now - 5}
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, secret_key, algorithm="HS256", headers={"typ": "JWT"})


def body(**fields: Any) -> dict[str, Any]:
    """A valid create body; `fields` replace fields (a value of ... removes one)."""
    payload: dict[str, Any] = {"image_list": [{"image": PNG}], "prompt": "a cat on a skateboard"}
    for name, value in fields.items():
        if value is ...:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


class Api:
    """A bare client of the emulator with a fresh token per request."""

    def __init__(self, client: httpx.Client, emulator: Emulator) -> None:
        self.client = client
        self.emulator = emulator

    def headers(self, credential: str | None = None) -> dict[str, str]:
        token = credential if credential is not None else make_token(self.emulator.clock)
        return {"Authorization": f"Bearer {token}"}

    def create(self, credential: str | None = None, **fields: Any) -> httpx.Response:
        return self.client.post(COLLECTION, json=body(**fields), headers=self.headers(credential))

    def create_ok(self, **fields: Any) -> dict[str, Any]:
        response = self.create(**fields)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def get(self, ident: str, credential: str | None = None) -> httpx.Response:
        return self.client.get(f"{COLLECTION}/{ident}", headers=self.headers(credential))

    def task(self, ident: str) -> dict[str, Any]:
        response = self.get(ident)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def list(self, credential: str | None = None, **params: Any) -> httpx.Response:
        return self.client.get(COLLECTION, params=params, headers=self.headers(credential))


def assert_refused(response: httpx.Response, code: int, status: int, *fragments: str) -> None:
    """The response is an error envelope with `code`, `status`, no data, and says `fragments`."""
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["code"] == code, payload
    assert "data" not in payload
    assert payload["request_id"]
    for fragment in fragments:
        assert fragment in payload["message"], payload["message"]
