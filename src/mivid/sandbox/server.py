"""Putting the emulator on the wire: a threaded HTTP/1.1 server and an httpx transport.

Both turn their requests into `app.Request`, call `Emulator.handle`, and
carry out the response, faults included: a dropped connection really closes
the socket (the transport raises the httpx error a client would see), a cut
body sends the headers with the full Content-Length and then closes early.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from mivid.sandbox.app import Emulator, EmulatorOptions
from mivid.sandbox.clock import FakeClock
from mivid.sandbox.wire import Request, Response

if TYPE_CHECKING:
    from typing_extensions import Unpack


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        # Set when the server stops: answers that take real time (delay, drip) end then.
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients that hang up mid-answer are part of the tests."""

    def close_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _BadRequestError(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    # An idle keep-alive connection is closed after this long.
    timeout = 30

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without this, Nagle's algorithm
        # and the client's delayed ACK add 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """No request log: the emulator is quiet."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def _read_body(self) -> tuple[bytes, bool]:
        length = self.headers.get("Content-Length")
        if length is not None:
            if not length.strip().isdigit():
                raise _BadRequestError(f"bad Content-Length {length!r}")
            return self.rfile.read(int(length)), True
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError as exc:
                    raise _BadRequestError("bad chunk size") from exc
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks), False
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        return b"", False

    def _serve(self) -> None:
        try:
            body, has_length = self._read_body()
        except _BadRequestError as exc:
            self.close_connection = True
            self.send_error(400, str(exc))
            return
        target = urlsplit(self.path)
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        request = Request(
            method=self.command,
            path=unquote(target.path),
            query=parse_qsl(target.query, keep_blank_values=True),
            headers=headers,
            body=body,
            has_content_length=has_length,
        )
        response = self.server.emulator.handle(request)
        self._send(response)

    def _send(self, response: Response) -> None:
        if response.delay and self.server.stopping.wait(response.delay):
            response.drop = True
        if response.drop:
            self.close_connection = True
            return
        announced = any(name.lower() == "content-length" for name, _ in response.headers)
        # A body without a Content-Length ends when the connection does.
        closing = (
            response.cut_after is not None
            or response.stream is not None
            or not announced
            or self.close_connection
        )
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if closing:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            self.wfile.flush()
            return
        if response.stream is not None:
            self._send_stream(response.stream())
            return
        body = response.body
        if response.cut_after is not None:
            body = body[: response.cut_after]
        if response.drip:
            self._drip(body, response.drip)
            return
        self.wfile.write(body)
        self.wfile.flush()

    def _send_stream(self, chunks: Iterator[bytes]) -> None:
        """Send until the client hangs up or the server stops (an endless body)."""
        with contextlib.suppress(OSError):
            for chunk in chunks:
                if self.server.stopping.is_set():
                    return
                self.wfile.write(chunk)
                self.wfile.flush()

    def _drip(self, body: bytes, interval: float) -> None:
        """One byte every `interval` seconds: a valid answer that takes forever to arrive."""
        with contextlib.suppress(OSError):
            for index in range(len(body)):
                self.wfile.write(body[index : index + 1])
                self.wfile.flush()
                if index + 1 < len(body) and self.server.stopping.wait(interval):
                    self.close_connection = True  # the body is unfinished: end the connection
                    return


class EmulatorServer:
    """The emulator on 127.0.0.1 (a free port by default), served from a daemon thread.

    Entering sets the emulator's `video_base_url` to `url`, so result URLs point here.
    """

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        self._httpd = _Server((host, port), emulator)
        bound_host, bound_port = self._httpd.server_address[:2]
        shown = bound_host if isinstance(bound_host, str) else bound_host.decode()
        self.url = f"http://{shown}:{bound_port}"
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until `stop()` from another thread, or an exception."""
        self.emulator.video_base_url = self.url
        self._httpd.serve_forever(poll_interval=0.2)

    def start(self) -> EmulatorServer:
        """Serve from a daemon thread and return at once."""
        self.emulator.video_base_url = self.url
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            # How soon `stop` is noticed: tests start and stop a server each.
            kwargs={"poll_interval": 0.005},
            name="mivid-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.close_connections()
        self._httpd.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _CutStream(httpx.SyncByteStream):
    """A body that ends early, the way a closed connection ends it."""

    def __init__(self, part: bytes, expected: int) -> None:
        self._part = part
        self._expected = expected

    def __iter__(self) -> Iterator[bytes]:
        if self._part:
            yield self._part
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body: "
            f"received {len(self._part)} bytes, expected {self._expected}"
        )


class _Chunks(httpx.SyncByteStream):
    """A body made as it is read: an endless one, or one dripped byte by byte."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks


def _dripped(
    body: bytes, interval: float, pause: Callable[[float], object] = time.sleep
) -> Iterator[bytes]:
    for index in range(len(body)):
        if index:
            pause(interval)
        yield body[index : index + 1]


class EmulatorTransport(httpx.BaseTransport):
    """Answers httpx requests in-process (API and video URLs alike), no sockets.

    Faults behave as over the network: drops raise `httpx.RemoteProtocolError`,
    cut bodies raise it while reading, and a delay longer than the request's
    read timeout waits that timeout and raises `httpx.ReadTimeout`. Endless and
    dripped bodies are streams. A drip on an emulator with a `FakeClock` moves
    that clock on between bytes instead of sleeping (a test whose client reads
    the same clock sees a slow answer at no real cost); on a real clock it
    really sleeps (and the socket server always does).
    """

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def _pause(self) -> Callable[[float], object]:
        """How a drip waits between bytes: the fake clock moves on, a real one is slept on."""
        clock = self.emulator.clock
        return clock.advance if isinstance(clock, FakeClock) else time.sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        headers: dict[str, str] = {}
        for name, value in request.headers.multi_items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        core_request = Request(
            method=request.method,
            path=request.url.path,
            query=parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True),
            headers=headers,
            body=body,
            has_content_length="content-length" in headers,
        )
        response = self.emulator.handle(core_request)
        if response.delay:
            timeouts = request.extensions.get("timeout", {})
            read_timeout = timeouts.get("read") if isinstance(timeouts, dict) else None
            if read_timeout is not None and response.delay > read_timeout:
                time.sleep(read_timeout)
                raise httpx.ReadTimeout("timed out", request=request)
            time.sleep(response.delay)
        if response.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if response.cut_after is not None:
            part = response.body[: response.cut_after]
            return httpx.Response(
                response.status,
                headers=response.headers,
                stream=_CutStream(part, len(response.body)),
                request=request,
            )
        if response.stream is not None or response.drip:
            chunks = (
                response.stream()
                if response.stream is not None
                else _dripped(response.body, response.drip or 0.0, self._pause())
            )
            return httpx.Response(
                response.status, headers=response.headers, stream=_Chunks(chunks), request=request
            )
        return httpx.Response(
            response.status, headers=response.headers, content=response.body, request=request
        )


def run_server(
    host: str = "127.0.0.1",
    port: int = 8787,
    emulator: Emulator | None = None,
    ready: Callable[[str], None] | None = None,
    **options: Unpack[EmulatorOptions],
) -> None:
    """Serve until Ctrl-C (or SIGINT), then return. `ready` is called with the URL once listening.

    Without an emulator, one is made from `options` (any `Emulator` option, e.g.
    `answers="live"`, `units_left=3`, `retired_models={"kling-v1-6": "2026-09-15"}`),
    with the sandbox keys and a real clock by default.
    """
    if emulator is not None and options:
        raise ValueError(f"give an emulator or options for one, not both: {', '.join(options)}")
    emulator = emulator if emulator is not None else Emulator(**options)
    server = EmulatorServer(emulator, host=host, port=port)
    try:
        if ready is not None:
            ready(server.url)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
