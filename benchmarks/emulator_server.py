"""The API emulator in a process of its own, counting what it receives, for the scale figures.

    python emulator_server.py [--db FILE] [--task-seconds 6] [--processing-seconds 1]
                              [--concurrency-limit 1000] [--plain]

Prints its URL on stdout, then serves until killed. With `--db` the tasks
live in that SQLite file (pre-filled by the benchmark, which also adds tasks
to it while this runs: the emulator reads its status from the clock and the
store, so a row written there is a task it serves). Unless `--plain`:

    GET /_bench/counts     how many requests it answered, by kind:
                           {"create": 0, "get": 0, "list": 0, "video": 0, "other": 0}
    GET /_bench/reset      set them to zero (answers the counts before)

and the request log the emulator keeps for tests (`received`, bodies
included) is emptied after every request, so a thousand creates do not
pile up here. `--plain` serves the emulator exactly as `mivid sandbox serve`
does (for the latency figure).

Why a process of its own: the server's work then runs on its own interpreter,
neither slowing nor slowed by the benchmark, and a pre-filled store does not
have to be created through the API (100 000 creates would take minutes).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from mivid.sandbox import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    Emulator,
    EmulatorServer,
    Request,
    Response,
)

COLLECTION = "/v1/videos/multi-image2video"
KINDS = ("create", "get", "list", "video", "other")


def kind_of(request: Request) -> str:
    """What a request asks for, in the words of `/_bench/counts`."""
    if request.path == COLLECTION:
        if request.method == "POST":
            return "create"
        return "get" if any(name == "external_task_id" for name, _ in request.query) else "list"
    if request.path.startswith(COLLECTION + "/"):
        return "get"
    if request.path.startswith("/sandbox/videos/"):
        return "video"
    return "other"


class CountingEmulator(Emulator):
    """The emulator, counting requests by kind and keeping none of them."""

    def __init__(
        self,
        *,
        processing_after: float,
        succeed_after: float,
        concurrency_limit: int,
        db_path: Path | None,
    ) -> None:
        super().__init__(
            access_keys={SANDBOX_ACCESS_KEY: SANDBOX_SECRET_KEY},
            api_keys={"sandbox-api-key"},
            processing_after=processing_after,
            succeed_after=succeed_after,
            concurrency_limit=concurrency_limit,
            db_path=db_path,
        )
        self.counts = dict.fromkeys(KINDS, 0)
        self.counts_lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        if request.path in ("/_bench/counts", "/_bench/reset"):
            with self.counts_lock:
                body = json.dumps(self.counts).encode()
                if request.path == "/_bench/reset":
                    self.counts = dict.fromkeys(KINDS, 0)
            return Response(
                200,
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                body,
            )
        kind = kind_of(request)
        with self.counts_lock:
            self.counts[kind] += 1
        response = super().handle(request)
        received = getattr(self, "received", None)
        if isinstance(received, list):
            received.clear()
        return response


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="the SQLite file of the tasks (default: memory)")
    parser.add_argument("--task-seconds", type=float, default=6.0)
    parser.add_argument("--processing-seconds", type=float, default=1.0)
    parser.add_argument("--concurrency-limit", type=int, default=1000)
    parser.add_argument("--plain", action="store_true", help="no counting, as `sandbox serve`")
    args = parser.parse_args()
    emulator = (Emulator if args.plain else CountingEmulator)(
        processing_after=min(args.processing_seconds, args.task_seconds),
        succeed_after=args.task_seconds,
        concurrency_limit=args.concurrency_limit,
        db_path=args.db,
    )
    server = EmulatorServer(emulator)
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        emulator.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
