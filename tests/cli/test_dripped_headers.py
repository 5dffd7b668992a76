"""A server that drips its status line and headers a byte at a time cannot hold mivid past a deadline.

Each read hears a byte before its timeout, so only an overall deadline ends it:
the request's time (MIVID_RETRY_MAX_SECONDS) for a query, `wait --timeout` for
a wait. Real sockets and a real clock: what is tested is the socket's time.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from helpers import RunMivid

TASK = b'{"code":0,"message":"SUCCEED","request_id":"r","data":{"task_id":"T1","task_status":"processing"}}'
#: Whole, it takes 0.05 s a byte: about a minute, far past every deadline below.
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    + b"".join(b"X-Pad-%d: %s\r\n" % (n, b"x" * 40) for n in range(20))
    + b"Content-Length: %d\r\n\r\n" % len(TASK)
    + TASK
)


class DrippingServer:
    """On 127.0.0.1: reads a request, then answers one byte every `interval` seconds."""

    def __init__(self, *, endless: bool, interval: float = 0.05) -> None:
        self.endless, self.interval = endless, interval
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stop = threading.Event()
        self.requests = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _stream(self) -> Iterator[bytes]:
        if self.endless:  # header lines for ever
            yield b"HTTP/1.1 200 OK\r\n"
            while True:
                yield b"X-A: b\r\n"
        yield ANSWER

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                request += chunk
            self.requests += 1
            try:
                for piece in self._stream():
                    for byte in piece:
                        if self.stop.wait(self.interval):
                            return
                        connection.sendall(bytes([byte]))
            except OSError:  # mivid hung up: what the test wants
                return

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture(params=["slow headers", "endless headers"])
def dripping(request: pytest.FixtureRequest) -> Iterator[DrippingServer]:
    server = DrippingServer(endless=request.param == "endless headers")
    yield server
    server.close()


def env(server: DrippingServer) -> dict[str, str]:
    return {"KLING_BASE_URL": server.url, "KLING_API_KEY": "test-api-key-0123456789"}


def test_a_query_ends_at_its_time_budget(mivid_process: RunMivid, dripping: DrippingServer) -> None:
    started = time.monotonic()
    result = mivid_process(
        "get", "T1", env={**env(dripping), "MIVID_RETRY_MAX_SECONDS": "1"}, timeout=60
    )
    took = time.monotonic() - started
    assert result.exit_code == 5, result
    assert "no whole answer" in result.stderr, result
    assert "Traceback" not in result.stderr
    assert took < 20  # Python's start-up on a busy machine included; the drip takes 60 s
    assert dripping.requests >= 1


def test_wait_ends_at_its_timeout(mivid_process: RunMivid, dripping: DrippingServer) -> None:
    started = time.monotonic()
    result = mivid_process("wait", "T1", "--timeout", "2", env=env(dripping), timeout=60)
    took = time.monotonic() - started
    assert result.exit_code == 6, result
    assert "Traceback" not in result.stderr
    assert took < 20
