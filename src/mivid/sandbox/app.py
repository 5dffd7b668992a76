"""The emulator's core: one request in, one response out, no sockets.

`Emulator.handle` is a function of the request (and the emulator's clock,
store and queued faults), used alike by the HTTP server and the in-process
httpx transport. Routes:

    POST /v1/videos/multi-image2video                 create a task
    GET  /v1/videos/multi-image2video?pageNum=&pageSize=   list, newest first
    GET  /v1/videos/multi-image2video?external_task_id=X   one task (the UNSURE form)
    GET  /v1/videos/multi-image2video/{id}            one task, by task_id or external_task_id
    GET  /sandbox/videos/{task_id}.mp4, {task_id}_wm.mp4   result videos, no auth, Range

A task is `submitted` for `processing_after` seconds after its creation,
`processing` until `succeed_after`, then `succeed`, or `failed` when it was
scripted to fail: by `script_failure()`, or by a prompt containing `[fail]`.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mivid.sandbox.auth import authenticate
from mivid.sandbox.clock import Clock
from mivid.sandbox.codes import MEANING, RefusalError, http_status_for
from mivid.sandbox.faults import Fault, FaultQueue
from mivid.sandbox.store import (
    ConcurrencyLimitError,
    DuplicateExternalIdError,
    StoredTask,
    TaskStore,
    stage_of,
)
from mivid.sandbox.validation import parse_create_body, validate_create
from mivid.sandbox.video import parse_range, video_bytes

SANDBOX_ACCESS_KEY = "sandbox-access-key"
SANDBOX_SECRET_KEY = "sandbox-secret-key-not-a-real-secret"
DEFAULT_VIDEO_BASE_URL = "http://sandbox.mivid.invalid"
FAIL_MARKER = "[fail]"
DEFAULT_FAILURE_MESSAGE = "content-safety policy triggered: the sandbox was told to fail this task"
COLLECTION = "/v1/videos/multi-image2video"
LIST_PARAMS = ("pageNum", "pageSize")
_VIDEO_PATH = re.compile(r"/sandbox/videos/(\d{18})(_wm)?\.mp4")


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
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    delay: float = 0.0
    drop: bool = False
    cut_after: int | None = None


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as it arrived, for tests to inspect."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any
    has_content_length: bool


@dataclass(frozen=True)
class Callback:
    """One delivery the service makes to a task's callback_url."""

    url: str
    task: dict[str, Any]


def _json_response(
    status: int, payload: dict[str, Any], extra: list[tuple[str, str]] | None = None
) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return Response(status, headers + (extra or []), body)


def _text_response(status: int, text: str, content_type: str = "text/plain") -> Response:
    body = text.encode()
    headers = [
        ("Content-Type", f"{content_type}; charset=utf-8"),
        ("Content-Length", str(len(body))),
    ]
    return Response(status, headers, body)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _units(params: dict[str, Any]) -> str:
    units = (2 if params.get("mode") == "pro" else 1) * (2 if params.get("duration") == "10" else 1)
    return str(units)


class Emulator:
    """A strict, in-process Kling Multi-Image to Video service.

    `access_keys` maps access keys to secret keys (default: the sandbox pair
    when neither keys argument is given); `api_keys` are static bearer tokens.
    """

    def __init__(
        self,
        access_keys: dict[str, str] | None = None,
        api_keys: set[str] | None = None,
        clock: Clock = time.time,
        processing_after: float = 1.0,
        succeed_after: float = 6.0,
        concurrency_limit: int = 5,
        db_path: Path | None = None,
        video_base_url: str = DEFAULT_VIDEO_BASE_URL,
        range_support: bool = True,
    ) -> None:
        if not 0 <= processing_after <= succeed_after:
            raise ValueError("need 0 <= processing_after <= succeed_after")
        if access_keys is None and api_keys is None:
            access_keys = {SANDBOX_ACCESS_KEY: SANDBOX_SECRET_KEY}
        self.access_keys: dict[str, str] = dict(access_keys or {})
        self.api_keys: set[str] = set(api_keys or ())
        self.clock = clock
        self.processing_after = processing_after
        self.succeed_after = succeed_after
        self.concurrency_limit = concurrency_limit
        self.video_base_url = video_base_url.rstrip("/")
        self.range_support = range_support
        self.received: list[ReceivedRequest] = []
        self._store = TaskStore(db_path)
        self._faults = FaultQueue()
        self._failures: list[str] = []
        self._lock = threading.Lock()

    # -- test controls -------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        """Queue a fault; see `mivid.sandbox.faults` for the kinds."""
        self._faults.add(fault)

    def pending_faults(self) -> list[Fault]:
        """Faults not used up yet."""
        return self._faults.pending()

    def clear_faults(self) -> None:
        self._faults.clear()

    def script_failure(self, message: str = DEFAULT_FAILURE_MESSAGE) -> None:
        """Make the next created task end `failed` with `message` as its task_status_msg."""
        with self._lock:
            self._failures.append(message)

    def tasks(self) -> list[dict[str, Any]]:
        """Every stored task object, all accounts, oldest first, as of the clock."""
        now = self.clock()
        return [self._task_object(task, now) for task in self._store.all()]

    @property
    def callbacks(self) -> list[Callback]:
        """Every callback delivery so far, in order."""
        self._deliver_callbacks(self.clock())
        return [Callback(url, task) for url, task in self._store.callbacks()]

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the request path ----------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request."""
        self._record(request)
        endpoint, target = self._route(request)
        fault = self._faults.take(endpoint)
        if fault is not None and not fault.after:
            if fault.kind == "drop_before":
                return Response(0, [], b"", drop=True)
            if fault.kind in ("error", "html", "not_json"):
                return self._fault_response(fault)
        try:
            response = self._dispatch(request, endpoint, target)
        except RefusalError as failure:
            response = self._error(failure.code, failure.message, failure.http_status)
        except Exception as exc:  # an emulator bug: say so instead of hanging up
            response = self._error(5000, f"internal error in the sandbox emulator: {exc!r}")
        self._deliver_callbacks(self.clock())
        if fault is not None:
            response = self._apply_after(fault, endpoint, response)
        return response

    def _record(self, request: Request) -> None:
        parsed: Any = None
        if request.body:
            try:
                parsed = json.loads(request.body)
            except ValueError:
                parsed = None
        record = ReceivedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=request.body,
            json=parsed,
            has_content_length=request.has_content_length,
        )
        with self._lock:
            self.received.append(record)

    def _route(self, request: Request) -> tuple[str, str]:
        """(endpoint kind for faults, target) where target is a task id or video path."""
        path = request.path
        if path == COLLECTION:
            if request.method == "POST":
                return "create", ""
            if any(name == "external_task_id" for name, _ in request.query):
                return "get", ""
            return "list", ""
        if path.startswith(COLLECTION + "/") and len(path) > len(COLLECTION) + 1:
            return "get", path[len(COLLECTION) + 1 :]
        if _VIDEO_PATH.fullmatch(path):
            return "video", path
        return "other", ""

    def _dispatch(self, request: Request, endpoint: str, target: str) -> Response:
        method = request.method
        if endpoint == "video":
            if method not in ("GET", "HEAD"):
                response = _text_response(405, "method not allowed\n")
                response.headers.append(("Allow", "GET, HEAD"))
                return response
            return self._video(request, target)
        if endpoint == "other":
            raise RefusalError(
                1202,
                f"no such endpoint: {method} {request.path}; this service answers "
                f"POST/GET {COLLECTION} and GET {COLLECTION}/{{task_id}}",
            )
        allowed = ("POST", "GET") if endpoint in ("create", "list") or not target else ("GET",)
        if method not in allowed:
            raise RefusalError(
                1202,
                f"method {method} is not allowed on {request.path}; use {' or '.join(allowed)}",
            )
        if endpoint == "get" and target and ("/" in target or not target.strip()):
            raise RefusalError(1202, f"no such endpoint: {method} {request.path}")
        now = self.clock()
        account = authenticate(
            request.headers.get("authorization"),
            access_keys=self.access_keys,
            api_keys=self.api_keys,
            now=now,
        )
        if endpoint == "create":
            return self._create(request, account, now)
        if endpoint == "list":
            return self._list(request, account, now)
        if target:
            if request.query:
                name = request.query[0][0]
                raise RefusalError(1201, f"unknown query parameter {name!r} on a task query")
            return self._get(account, target, now)
        return self._get_by_query(request, account, now)

    # -- endpoints -----------------------------------------------------------

    def _create(self, request: Request, account: str, now: float) -> Response:
        if not request.has_content_length:
            raise RefusalError(
                1200, "Content-Length required: send the create body with a Content-Length header"
            )
        body = parse_create_body(request.headers.get("content-type"), request.body)
        create = validate_create(body)
        fail_message = None
        if FAIL_MARKER in create.prompt:
            fail_message = f"{DEFAULT_FAILURE_MESSAGE} (the prompt contains {FAIL_MARKER})"
        params: dict[str, Any] = {
            "model_name": create.model_name,
            "prompt": create.prompt,
            "mode": create.mode,
            "duration": create.duration,
            "aspect_ratio": create.aspect_ratio,
            "watermark": create.watermark,
            "images": create.images,
        }
        if create.callback_url is not None:
            params["callback_url"] = create.callback_url
        with self._lock:
            scripted = self._failures[0] if self._failures else None
        try:
            task = self._store.insert(
                account=account,
                external_task_id=create.external_task_id,
                created=now,
                processing_at=now + self.processing_after,
                finish_at=now + self.succeed_after,
                fail_message=scripted if scripted is not None else fail_message,
                params=params,
                concurrency_limit=self.concurrency_limit,
            )
        except DuplicateExternalIdError as exc:
            raise RefusalError(
                1201,
                f"external_task_id {create.external_task_id!r} is already used by another task "
                "of this account; it must be unique",
            ) from exc
        except ConcurrencyLimitError as exc:
            raise RefusalError(
                1303,
                f"too many concurrent tasks: {exc.args[0]} unfinished, the limit is "
                f"{self.concurrency_limit}; retry when one ends",
            ) from exc
        if scripted is not None:
            with self._lock:
                if self._failures and self._failures[0] == scripted:
                    self._failures.pop(0)
        full = self._task_object(task, now)
        data = {
            key: full[key]
            for key in ("task_id", "task_status", "task_info", "created_at", "updated_at")
            if key in full
        }
        return self._success(data)

    def _get(self, account: str, ident: str, now: float) -> Response:
        task = self._store.find(account, ident)
        if task is None:
            raise RefusalError(
                1203, f"task {ident!r} does not exist (no such task_id or external_task_id)"
            )
        return self._success(self._task_object(task, now))

    def _get_by_query(self, request: Request, account: str, now: float) -> Response:
        names = [name for name, _ in request.query]
        for name in names:
            if name != "external_task_id":
                raise RefusalError(
                    1201, f"query parameter {name!r} cannot be combined with external_task_id"
                )
        if len(names) > 1:
            raise RefusalError(1201, "external_task_id is given more than once")
        ident = request.query[0][1]
        if not ident:
            raise RefusalError(1201, "external_task_id is empty")
        task = self._store.find(account, ident)
        if task is None or task.external_task_id != ident:
            raise RefusalError(1203, f"no task with external_task_id {ident!r}")
        return self._success(self._task_object(task, now))

    def _list(self, request: Request, account: str, now: float) -> Response:
        values: dict[str, int] = {"pageNum": 1, "pageSize": 30}
        limits = {"pageNum": 1000, "pageSize": 500}
        seen: set[str] = set()
        for name, raw in request.query:
            if name not in LIST_PARAMS:
                raise RefusalError(
                    1201,
                    f"unknown query parameter {name!r}; the list takes pageNum and pageSize "
                    "(camelCase)",
                )
            if name in seen:
                raise RefusalError(1201, f"query parameter {name} is given more than once")
            seen.add(name)
            if not re.fullmatch(r"[0-9]+", raw):
                raise RefusalError(1201, f"{name} must be an integer, got {raw!r}")
            value = int(raw)
            if not 1 <= value <= limits[name]:
                raise RefusalError(
                    1201, f"{name} must be between 1 and {limits[name]}, got {value}"
                )
            values[name] = value
        tasks = self._store.page(account, values["pageNum"], values["pageSize"])
        return self._success([self._task_object(task, now) for task in tasks])

    def _video(self, request: Request, path: str) -> Response:
        match = _VIDEO_PATH.fullmatch(path)
        assert match is not None
        task_id, watermarked = match.group(1), match.group(2) is not None
        task = self._store.by_task_id(task_id)
        now = self.clock()
        if (
            task is None
            or task.status_at(now) != "succeed"
            or (watermarked and not task.params.get("watermark"))
        ):
            return _text_response(404, "no such video\n")
        content = video_bytes(task_id, watermarked=watermarked)
        length = len(content)
        headers = [("Content-Type", "video/mp4")]
        status = 200
        if self.range_support:
            headers.append(("Accept-Ranges", "bytes"))
            header = request.headers.get("range")
            if header is not None:
                span = parse_range(header, length)
                if span is None:
                    body = b""
                    headers += [("Content-Range", f"bytes */{length}"), ("Content-Length", "0")]
                    return Response(416, headers, body)
                first, last = span
                content = content[first : last + 1]
                headers.append(("Content-Range", f"bytes {first}-{last}/{length}"))
                status = 206
        headers.append(("Content-Length", str(len(content))))
        if request.method == "HEAD":
            content = b""
        return Response(status, headers, content)

    # -- task objects and envelopes -------------------------------------------

    def video_url(self, task_id: str, *, watermarked: bool = False) -> str:
        suffix = "_wm" if watermarked else ""
        return f"{self.video_base_url}/sandbox/videos/{quote(task_id)}{suffix}.mp4"

    def _task_object(self, task: StoredTask, now: float) -> dict[str, Any]:
        status = task.status_at(now)
        obj: dict[str, Any] = {
            "task_id": task.task_id,
            "task_status": status,
            "task_status_msg": task.fail_message if status == "failed" else "",
        }
        if task.external_task_id is not None:
            obj["task_info"] = {"external_task_id": task.external_task_id}
        watermark = bool(task.params.get("watermark"))
        if status == "succeed":
            seconds = "10.1" if task.params.get("duration") == "10" else "5.1"
            video: dict[str, Any] = {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"mivid-sandbox:{task.task_id}")),
                "url": self.video_url(task.task_id),
                "duration": seconds,
            }
            if watermark:
                video["watermark_url"] = self.video_url(task.task_id, watermarked=True)
            obj["task_result"] = {"videos": [video]}
        obj["watermark_info"] = {"enabled": watermark}
        if status == "succeed":
            obj["final_unit_deduction"] = _units(task.params)
        obj["created_at"] = _ms(task.created)
        obj["updated_at"] = _ms(task.changed_at(now))
        return obj

    def _deliver_callbacks(self, now: float) -> None:
        for task in self._store.undelivered(now):
            stage = stage_of(task, now)
            times = (task.created, task.processing_at, task.finish_at)
            deliveries = [
                (str(task.params["callback_url"]), self._task_object(task, times[index]))
                for index in range(task.delivered, stage)
            ]
            self._store.record_deliveries(task, stage, deliveries)

    @staticmethod
    def _request_id() -> str:
        return str(uuid.uuid4())

    def _success(self, data: Any) -> Response:
        return _json_response(
            200,
            {"code": 0, "message": "SUCCEED", "request_id": self._request_id(), "data": data},
        )

    def _error(
        self,
        code: int,
        message: str,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> Response:
        extra = []
        if retry_after is not None:
            text = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
            extra.append(("Retry-After", text))
        status = http_status if http_status is not None else http_status_for(code)
        payload = {"code": code, "message": message, "request_id": self._request_id()}
        return _json_response(status, payload, extra)

    def _fault_response(self, fault: Fault) -> Response:
        if fault.kind == "error":
            code = fault.code if fault.code is not None else 5000
            message = fault.message or MEANING.get(code, "error")
            return self._error(code, message, fault.http_status, fault.retry_after)
        if fault.kind == "html":
            status = fault.http_status or 502
            page = (
                f"<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n"
                f"<center><h1>{status} Bad Gateway</h1></center>\r\n"
                "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            )
            return _text_response(status, page, "text/html")
        status = fault.http_status or 200
        return _text_response(status, "upstream sent something that is not JSON\n")

    def _apply_after(self, fault: Fault, endpoint: str, response: Response) -> Response:
        if fault.kind in ("error", "html", "not_json"):
            return self._fault_response(fault)
        if fault.kind == "drop_after":
            if fault.nbytes is not None:
                response.cut_after = min(fault.nbytes, max(len(response.body) - 1, 0))
            else:
                response.drop = True
        elif fault.kind == "truncated":
            response.cut_after = max(1, len(response.body) // 2)
        elif fault.kind == "delay":
            response.delay = fault.seconds
        return response
