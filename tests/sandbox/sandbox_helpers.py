"""Talking to the emulator by hand: raw httpx, tokens minted with PyJWT, real images.

Nothing from mivid's client is used here: these tests pin the emulator to the
contract on their own.
"""

from __future__ import annotations

import base64
import contextlib
import io
import signal
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt
from PIL import Image

from mivid.sandbox import Emulator, FakeClock
from polling import PATIENCE

COLLECTION = "/v1/videos/multi-image2video"
OMNI = "/v1/videos/omni-video"
COSTS = "/account/costs"
# Building an SSL context costs ~30 ms per httpx.Client; the emulator speaks plain
# http, so every test client shares this one.
SSL_CONTEXT = ssl.create_default_context()
#: The folder holding the `mivid` package's source (the sandbox's only way in, in a process).
SOURCE = Path(__file__).resolve().parents[2] / "src"


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


def omni_body(**fields: Any) -> dict[str, Any]:
    """A valid Omni-Video create body (two reference images); `fields` as for `body`."""
    payload: dict[str, Any] = {
        "image_list": [{"image_url": PNG}, {"image_url": "https://example.com/b.jpg"}],
        "prompt": "<<<image_1>>> walks into <<<image_2>>>",
        "aspect_ratio": "16:9",
    }
    for name, value in fields.items():
        if value is ...:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


def ok_data(response: httpx.Response) -> dict[str, Any]:
    """The `data` of an answer that must be a 200."""
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


class Api:
    """A bare client of the emulator with a fresh token per request."""

    def __init__(self, client: httpx.Client, emulator: Emulator) -> None:
        self.client = client
        self.emulator = emulator

    @property
    def clock(self) -> FakeClock:
        clock = self.emulator.clock
        assert isinstance(clock, FakeClock)
        return clock

    def headers(self, credential: str | None = None) -> dict[str, str]:
        token = credential if credential is not None else make_token(self.emulator.clock)
        return {"Authorization": f"Bearer {token}"}

    def create(self, credential: str | None = None, **fields: Any) -> httpx.Response:
        return self.client.post(COLLECTION, json=body(**fields), headers=self.headers(credential))

    def create_ok(self, **fields: Any) -> dict[str, Any]:
        return ok_data(self.create(**fields))

    def get(self, ident: str, credential: str | None = None) -> httpx.Response:
        return self.client.get(f"{COLLECTION}/{ident}", headers=self.headers(credential))

    def task(self, ident: str) -> dict[str, Any]:
        return ok_data(self.get(ident))

    def list(self, credential: str | None = None, **params: Any) -> httpx.Response:
        return self.client.get(COLLECTION, params=params, headers=self.headers(credential))

    def create_omni(self, credential: str | None = None, **fields: Any) -> httpx.Response:
        return self.client.post(OMNI, json=omni_body(**fields), headers=self.headers(credential))

    def create_omni_ok(self, **fields: Any) -> dict[str, Any]:
        return ok_data(self.create_omni(**fields))

    def get_omni(self, ident: str) -> httpx.Response:
        return self.client.get(f"{OMNI}/{ident}", headers=self.headers())

    def list_omni(self, **params: Any) -> httpx.Response:
        return self.client.get(OMNI, params=params, headers=self.headers())

    def costs(self, **params: Any) -> httpx.Response:
        return self.client.get(COSTS, params=params, headers=self.headers())


class MakeApi(Protocol):
    """Makes an emulator with the given options and a client of it (see conftest)."""

    def __call__(self, **options: Any) -> Api: ...


def assert_refused(response: httpx.Response, code: int, status: int, *fragments: str) -> None:
    """The response is a documented error envelope: `code`, `status`, a request_id, no data,
    and a message saying each of `fragments`."""
    assert response.status_code == status, response.text
    payload = response.json()
    assert payload["code"] == code, payload
    assert "data" not in payload
    assert payload["request_id"]
    for fragment in fragments:
        assert fragment in payload["message"], payload["message"]


def assert_gateway_refused(response: httpx.Response, code: int, status: int, message: str) -> None:
    """The response is a gateway-style error envelope: no request_id, `"data": null`, and
    exactly `message`."""
    assert response.status_code == status, response.text
    assert response.json() == {"code": code, "message": message, "data": None}


@dataclass
class ServingProcess:
    """A Python process running the emulator's server: its URL, and once stopped its output."""

    process: subprocess.Popen[str]
    url: str = ""
    stdout: str = ""
    stderr: str = ""


@contextlib.contextmanager
def serving_process(script: str) -> Iterator[ServingProcess]:
    """`python -c script` with nothing but the source on its path (no PATH either), `script`
    printing the server's URL first; stopped with Ctrl-C (SIGINT) when the block ends
    normally, killed when it fails."""
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(SOURCE), "PATH": ""},
    )
    served = ServingProcess(process)
    try:
        assert process.stdout is not None
        served.url = process.stdout.readline().strip()
        yield served
        process.send_signal(signal.SIGINT)
        served.stdout, served.stderr = process.communicate(timeout=PATIENCE)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
