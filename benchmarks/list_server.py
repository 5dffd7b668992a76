"""A purpose-built task-list server for the scale figures: many tasks, no work per request.

    python list_server.py [--tasks 50000]

Prints its URL on stdout, then serves until killed. Under `/n/<N>` it is a
service holding the newest N of its tasks (N up to --tasks), so one server
backs every size: point a client at `KLING_BASE_URL=<url>/n/30000` (the
contract allows a base URL with a path). It answers only what `list --all`
asks: `GET …/v1/videos/multi-image2video?pageNum=&pageSize=`, with the
contract's ranges (pageNum 1..1000, pageSize 1..500; else 400, code 1201)
and its envelope, newest first, and a 401 (1001) without a bearer token.
The Omni-Video list (`…/v1/videos/omni-video`) is there and empty, as on an
account that never used it (`mivid list` reads both endpoints' lists).
`GET /_bench/requests` answers how many multi-image list requests each N
received (Omni's under "omni").

Why not the emulator: it stores and serves tasks faithfully but spends
more time per page than the clients being measured (its pages are SQLite
OFFSET scans), which would dilute their ratio. Here every task object is
encoded once at start-up and a page is a slice joined into bytes, so what
is timed is the client. The task objects follow the contract's shape (the
fields the emulator also fills in), most succeeded with a video, some
failed, some still running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

COLLECTION = "/v1/videos/multi-image2video"
MAX_PAGE = 1000
MAX_PAGE_SIZE = 500
_PATH = re.compile(r"/n/([0-9]+)" + re.escape(COLLECTION))
_OMNI = re.compile(r"/n/([0-9]+)/v1/videos/omni-video")
#: The newest task's creation time (ms); each older one 37 s before the next.
NEWEST_MS = 1_774_805_076_166


def task_object(index: int) -> dict[str, Any]:
    """The index-th newest task, as the service would answer it."""
    task_id = str(800_000_000_000_000_000 + index * 7919)
    created = NEWEST_MS - index * 37_000
    status = "failed" if index % 50 == 7 else "processing" if index < 3 else "succeed"
    task: dict[str, Any] = {
        "task_id": task_id,
        "task_status": status,
        "task_status_msg": "content-safety policy triggered" if status == "failed" else "",
        "task_info": {"external_task_id": f"bench-{index:06d}"} if index % 3 else {},
        "watermark_info": {"enabled": index % 4 == 0},
        "created_at": created,
        "updated_at": created + 95_000,
    }
    if status == "succeed":
        video = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, task_id)),
            "url": f"https://cdn.example.invalid/videos/{task_id}.mp4",
            "duration": "10.1" if index % 5 == 0 else "5.1",
        }
        if index % 4 == 0:
            video["watermark_url"] = f"https://cdn.example.invalid/videos/{task_id}_wm.mp4"
        task["task_result"] = {"videos": [video]}
        task["final_unit_deduction"] = "2" if index % 5 == 0 else "1"
    else:
        task["task_result"] = {}
    return task


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, tasks: int) -> None:
        self.encoded = [
            json.dumps(task_object(i), separators=(",", ":")).encode() for i in range(tasks)
        ]
        self.requests: dict[int, int] = {}
        self.omni = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        import socket

        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        target = urlsplit(self.path)
        if target.path == "/_bench/requests":
            with self.server.lock:
                counts = {str(n): count for n, count in self.server.requests.items()}
                counts["omni"] = self.server.omni
            self._send(200, json.dumps(counts).encode())
            return
        match = _PATH.fullmatch(target.path)
        if match is None and _OMNI.fullmatch(target.path):
            with self.server.lock:
                self.server.omni += 1
            self._send(200, b'{"code":0,"message":"SUCCEED","request_id":"omni","data":[]}')
            return
        if match is None:
            self._error(404, 1202, f"no such endpoint: GET {target.path}")
            return
        size = min(int(match.group(1)), len(self.server.encoded))
        with self.server.lock:
            self.server.requests[size] = self.server.requests.get(size, 0) + 1
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            self._error(401, 1001, "Authorization header missing")
            return
        values = {"pageNum": 1, "pageSize": 30}
        for name, raw in parse_qsl(target.query, keep_blank_values=True):
            limit = {"pageNum": MAX_PAGE, "pageSize": MAX_PAGE_SIZE}.get(name)
            if limit is None:
                self._error(400, 1201, f"unknown query parameter {name!r}")
                return
            if not raw.isdigit() or not 1 <= int(raw) <= limit:
                self._error(400, 1201, f"{name} must be between 1 and {limit}, got {raw!r}")
                return
            values[name] = int(raw)
        start = (values["pageNum"] - 1) * values["pageSize"]
        page = self.server.encoded[start : min(start + values["pageSize"], size)]
        body = (
            b'{"code":0,"message":"SUCCEED","request_id":"'
            + str(uuid.uuid4()).encode()
            + b'","data":['
            + b",".join(page)
            + b"]}"
        )
        self._send(200, body)

    def _error(self, status: int, code: int, message: str) -> None:
        payload = {"code": code, "message": message, "request_id": str(uuid.uuid4())}
        self._send(status, json.dumps(payload).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=50_000, help="tasks held (default 50000)")
    args = parser.parse_args()
    server = _Server(args.tasks)
    host, port = server.server_address[:2]
    shown = host if isinstance(host, str) else host.decode()
    print(f"http://{shown}:{port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
