"""The emulator's core: one request in, one response out, no sockets.

`Emulator.handle` is a function of the request (and the emulator's clock,
store and queued faults), used alike by the HTTP server and the in-process
httpx transport. Routes, for each create endpoint in `endpoints.py`
(`/v1/videos/multi-image2video`, `/v1/videos/omni-video`):

    POST {path}                                  create a task
    GET  {path}?pageNum=&pageSize=               list, newest first
    GET  {path}?external_task_id=X               one task (the UNSURE form)
    GET  {path}/{id}                             one task, by task_id or external_task_id

and `GET /account/costs` (resource packs, `billing.py`) and
`GET /sandbox/videos/{task_id}.mp4`, `{task_id}_wm.mp4` (result videos, no
auth, Range). A task is seen only through the paths of the endpoint that made
it.

A task is `submitted` for `processing_after` seconds after its creation,
`processing` until `succeed_after`, then `succeed`, or `failed` when it was
scripted to fail: by `script_failure()`, or by a prompt containing `[fail]`.
How answers are worded (documented or live forms) is `answers.py`'s; every
other behaviour is an option of `Emulator` (see its docstring).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote

from mivid.sandbox import fault_effects
from mivid.sandbox.answers import (
    DEFAULT_ANSWERS,
    PRESETS,
    AnswerForms,
    Answers,
    CreateTaskInfo,
    Envelope,
    FailedResult,
    Units,
    Wording,
    retirement_time,
)
from mivid.sandbox.auth import authenticate
from mivid.sandbox.billing import (
    ResourcePack,
    choose_pack,
    costs_window,
    pack_infos,
    settle_packs,
)
from mivid.sandbox.clock import Clock
from mivid.sandbox.codes import MEANING, RefusalError, http_status_for
from mivid.sandbox.endpoints import (
    ACCOUNT_COSTS_PATH,
    CREATE_ENDPOINTS,
    LIST_DEFAULT_PAGE_SIZE,
    LIST_PAGE_NUM,
    LIST_PAGE_SIZE,
    VIDEO_PREFIX,
    CreateEndpoint,
    endpoint_named,
)
from mivid.sandbox.faults import Fault, FaultQueue, Target
from mivid.sandbox.received import ReceivedRequest, digested
from mivid.sandbox.store import (
    ConcurrencyLimitError,
    DuplicateExternalIdError,
    NewTask,
    StoredTask,
    TaskStore,
    stage_of,
)
from mivid.sandbox.validation import create_body, parse_json, validate_create
from mivid.sandbox.video import parse_range, video_bytes
from mivid.sandbox.wire import Request, Response, json_response, text_response

SANDBOX_ACCESS_KEY = "sandbox-access-key"
SANDBOX_SECRET_KEY = "sandbox-secret-key-not-a-real-secret"
DEFAULT_VIDEO_BASE_URL = "http://sandbox.mivid.invalid"
FAIL_MARKER = "[fail]"
DEFAULT_FAILURE_MESSAGE = "content-safety policy triggered: the sandbox was told to fail this task"
MONTH = 30 * 86_400.0
LIST_PARAMS = ("pageNum", "pageSize")


@dataclass(frozen=True)
class Callback:
    """One delivery the service makes to a task's callback_url."""

    url: str
    task: dict[str, Any]


@dataclass(frozen=True)
class Route:
    """Where a request goes: `kind` (create, get, list, video, account, other), the create
    endpoint it belongs to, and its target (a task id or external id; a video's file stem).
    `by_query`: a get in the `?external_task_id=` form."""

    kind: str
    endpoint: CreateEndpoint | None = None
    target: str = ""
    by_query: bool = False


class EmulatorOptions(TypedDict, total=False):
    """Every `Emulator` option, by name (what `run_server` passes on)."""

    access_keys: dict[str, str] | None
    api_keys: set[str] | None
    clock: Clock
    processing_after: float
    succeed_after: float
    concurrency_limit: int
    db_path: Path | None
    video_base_url: str
    range_support: bool
    answers: Answers | None
    not_found: Wording | None
    duplicate_external_id: Wording | None
    create_task_info: CreateTaskInfo | None
    failed_result: FailedResult | None
    envelope: Envelope | None
    units: Units | None
    token_messages: Wording | None
    retired_models: Mapping[str, str] | None
    succeed_status: str
    first_status: str
    video_head_status: int | None
    task_ids: Iterable[str] | None
    invisible_for: float
    keep_bodies: bool
    received_limit: int | None
    task_retention: float | None
    packs: Sequence[ResourcePack] | None
    units_left: float | None
    account_rate_limit: float | None


@dataclass
class ReadBody:
    """A request's body as the emulator read it: parsed (or why not), and its inline images
    as the record decoded them, by the id of their text (the parsed body keeps those texts
    alive until the answer): validation reads those bytes, not the Base64 again."""

    parsed: Any = None
    error: str | None = None
    decoded: dict[int, bytes] = field(default_factory=dict)


def _digested_or_none(parsed: Any, decoded: dict[int, bytes]) -> Any:
    try:
        return digested(parsed, decoded)
    except RecursionError:  # JSON nested as deep as the parser allows: nothing worth keeping
        return None


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _random_task_id() -> str:
    return str(10**17 + secrets.randbelow(9 * 10**17))


class Emulator:
    """A strict, in-process Kling video service (Multi-Image to Video and Omni-Video).

    The service:
      `access_keys` maps access keys to secret keys (default: the sandbox pair when
      neither keys argument is given); `api_keys` are static bearer tokens. `clock`
      gives the time (a `FakeClock` in tests). A task is `submitted` until
      `processing_after` s, `processing` until `succeed_after` s. `concurrency_limit`
      unfinished tasks per account, then 1303. `db_path`: a SQLite file shared by
      processes (default: in memory). Result videos are served under `video_base_url`.

    How answers are worded (`answers.py`): `answers` ("documented" or "live", default
      `answers.DEFAULT_ANSWERS`) picks every form at once; `not_found`,
      `duplicate_external_id`, `create_task_info`, `failed_result`, `envelope`, `units`,
      `token_messages` and `retired_models` override one each.
      `succeed_status` ("succeed"; "succeeded" as newer APIs and gateways spell it) and
      `first_status` ("submitted"; e.g. "queued", a status a client does not know, which a
      task then reports until it starts processing) name the statuses.

    The world:
      `video_head_status` (403 or 405): the video host refuses HEAD that way.
      `range_support=False`: the video host ignores Range.
      `task_ids`: the ids of the next tasks, in order (then random 18-digit ones), e.g. a
      22-character or a 300-character id. `invisible_for`: seconds after its create during
      which a task is "not found" by queries and missing from the list.

    Billing (`billing.py`): `packs` every account starts with (default: one online video
      pack of a million units), or `units_left` for that one pack with only so many units;
      `account_rate_limit`: seconds between two `/account/costs` calls (None: no limit).

    Scale: `keep_bodies` keeps request bodies in `received` (default: digests only,
      `received.py`); `received_limit` keeps only that many last requests (None: all);
      `task_retention` seconds after which tasks are deleted (None: never).
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
        *,
        answers: Answers | None = None,
        not_found: Wording | None = None,
        duplicate_external_id: Wording | None = None,
        create_task_info: CreateTaskInfo | None = None,
        failed_result: FailedResult | None = None,
        envelope: Envelope | None = None,
        units: Units | None = None,
        token_messages: Wording | None = None,
        retired_models: Mapping[str, str] | None = None,
        succeed_status: str = "succeed",
        first_status: str = "submitted",
        video_head_status: int | None = None,
        task_ids: Iterable[str] | None = None,
        invisible_for: float = 0.0,
        keep_bodies: bool = False,
        received_limit: int | None = 10_000,
        task_retention: float | None = MONTH,
        packs: Sequence[ResourcePack] | None = None,
        units_left: float | None = None,
        account_rate_limit: float | None = 1.0,
    ) -> None:
        if not 0 <= processing_after <= succeed_after:
            raise ValueError("need 0 <= processing_after <= succeed_after")
        if video_head_status is not None and not 400 <= video_head_status <= 599:
            raise ValueError("video_head_status: an error status such as 403 or 405, or None")
        if packs is not None and units_left is not None:
            raise ValueError("give packs or units_left, not both")
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
        preset = PRESETS[answers or DEFAULT_ANSWERS]
        self.forms = AnswerForms(
            not_found=not_found or preset.not_found,
            duplicate_external_id=duplicate_external_id or preset.duplicate_external_id,
            create_task_info=create_task_info or preset.create_task_info,
            failed_result=failed_result or preset.failed_result,
            envelope=envelope or preset.envelope,
            units=units or preset.units,
            token_messages=token_messages or preset.token_messages,
            retired_models=dict(
                retired_models if retired_models is not None else preset.retired_models
            ),
        )
        self._retired_from = {
            model: retirement_time(day) for model, day in self.forms.retired_models.items()
        }
        self.succeed_status = succeed_status
        self.first_status = first_status
        self.video_head_status = video_head_status
        self._task_ids = iter(task_ids) if task_ids is not None else None
        self.invisible_for = invisible_for
        self.keep_bodies = keep_bodies
        self.received_limit = received_limit
        self.task_retention = task_retention
        self.account_rate_limit = account_rate_limit
        if units_left is not None:
            # A pack of just those units (`3 / 3`, not `3 / 1000000`, which reads as 999997
            # used); none left: a used-up pack of the usual size.
            total = units_left if units_left > 0 else 1_000_000
            packs = (ResourcePack(total=total, remaining=units_left),)
        self._packs = settle_packs(packs if packs is not None else (ResourcePack(),), clock())
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

    def tasks(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """Every stored task object, all accounts, oldest first, as of the clock
        (only those of the endpoint named, e.g. "omni-video", when one is)."""
        now = self.clock()
        return [
            self._task_object(task, now)
            for task in self._store.all()
            if endpoint is None or task.endpoint == endpoint
        ]

    @property
    def callbacks(self) -> list[Callback]:
        """Every callback delivery so far, in order."""
        self._deliver_callbacks(self.clock())
        return [Callback(url, task) for url, task in self._store.callbacks()]

    @property
    def store(self) -> TaskStore:
        """The task store (tests look at how much work its queries do)."""
        return self._store

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the request path ----------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request."""
        reads = request.body or request.method == "POST"
        read = ReadBody(*parse_json(request.body)) if reads else ReadBody()
        self._record(request, read)
        route = self._route(request)
        faults = self._faults.take(self._target(request, route, read.parsed))
        answer = faults.get("answer")
        if answer is not None and not answer.after:
            response = self._fault_answer(answer, request, route)
        else:
            response = self._process(request, route, read)
            if answer is not None:
                response = self._fault_answer(answer, request, route)
        patch = faults.get("data")
        if patch is not None:
            response = fault_effects.patched(patch, response)
        wire = faults.get("wire")
        if wire is not None:
            response = fault_effects.on_the_wire(wire, response)
        return response

    def _record(self, request: Request, read: ReadBody) -> None:
        record = ReceivedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            json=read.parsed if self.keep_bodies else _digested_or_none(read.parsed, read.decoded),
            has_content_length=request.has_content_length,
            body_length=len(request.body),
            body_sha256=hashlib.sha256(request.body).hexdigest(),
            kept_body=request.body if self.keep_bodies else None,
        )
        with self._lock:
            self.received.append(record)
            limit = self.received_limit
            # Trim in batches: deleting from the front of a list costs its length.
            if limit is not None and len(self.received) > limit + max(1, limit // 4):
                del self.received[: len(self.received) - limit]

    def _route(self, request: Request) -> Route:
        path = request.path
        for endpoint in CREATE_ENDPOINTS:
            if path == endpoint.path:
                if request.method == "POST":
                    return Route("create", endpoint)
                for name, value in request.query:
                    if name == "external_task_id":
                        return Route("get", endpoint, value, by_query=True)
                return Route("list", endpoint)
            prefix = endpoint.path + "/"
            if path.startswith(prefix) and len(path) > len(prefix):
                return Route("get", endpoint, path[len(prefix) :])
        if path == ACCOUNT_COSTS_PATH:
            return Route("account")
        if path.startswith(VIDEO_PREFIX) and path.endswith(".mp4"):
            return Route("video", target=path[len(VIDEO_PREFIX) : -len(".mp4")])
        return Route("other")

    def _target(self, request: Request, route: Route, parsed: Any) -> Target:
        """What the request is about, for faults that match by task or prompt."""
        api = route.endpoint.name if route.endpoint is not None else None
        if route.kind == "create":
            body = parsed if isinstance(parsed, dict) else {}
            external = body.get("external_task_id")
            text = body.get("prompt")
            return Target(
                "create",
                api,
                task_keys=lambda: {external} if isinstance(external, str) else set(),
                prompt=lambda: text if isinstance(text, str) else None,
            )
        if route.kind not in ("get", "video"):
            return Target(route.kind, api)

        @functools.cache
        def task() -> StoredTask | None:
            if route.kind == "video":
                found = self._video_task(route.target)
                return found[0] if found is not None else None
            return self._store.any_task(route.target, api or "")

        def keys() -> set[str]:
            found = task()
            if found is None:
                return {route.target}
            return {route.target, found.task_id} | (
                {found.external_task_id} if found.external_task_id else set()
            )

        def prompt() -> str | None:
            found = task()
            value = found.params.get("prompt") if found is not None else None
            return value if isinstance(value, str) else None

        return Target(route.kind, api, task_keys=keys, prompt=prompt)

    def _process(self, request: Request, route: Route, read: ReadBody) -> Response:
        try:
            response = self._dispatch(request, route, read)
        except RefusalError as failure:
            response = self._error(
                failure.code, failure.message, failure.http_status, failure.retry_after
            )
        except Exception as exc:  # an emulator bug: say so instead of hanging up
            response = self._error(5000, f"internal error in the sandbox emulator: {exc!r}")
        self._deliver_callbacks(self.clock())
        return response

    def _dispatch(self, request: Request, route: Route, read: ReadBody) -> Response:
        method = request.method
        if route.kind == "video":
            if method not in ("GET", "HEAD"):
                response = text_response(405, "method not allowed\n")
                response.headers.append(("Allow", "GET, HEAD"))
                return response
            return self._video(request, route.target)
        if route.kind == "other":
            served = "; ".join(
                f"POST/GET {endpoint.path}, GET {endpoint.path}/{{task_id}}"
                for endpoint in CREATE_ENDPOINTS
            )
            raise RefusalError(
                1202,
                f"no such endpoint: {method} {request.path}; this service answers {served}, "
                f"GET {ACCOUNT_COSTS_PATH}",
            )
        by_path = route.kind == "get" and not route.by_query
        allowed = ("GET",) if by_path or route.kind == "account" else ("POST", "GET")
        if method not in allowed:
            raise RefusalError(
                1202,
                f"method {method} is not allowed on {request.path}; use {' or '.join(allowed)}",
            )
        if by_path and ("/" in route.target or not route.target.strip()):
            raise RefusalError(1202, f"no such endpoint: {method} {request.path}")
        now = self.clock()
        account = authenticate(
            request.headers.get("authorization"),
            access_keys=self.access_keys,
            api_keys=self.api_keys,
            now=now,
            live_messages=self.forms.token_messages == "live",
        )
        if route.kind == "account":
            return self._account(request, account, now)
        endpoint = route.endpoint
        assert endpoint is not None
        if route.kind == "create":
            return self._create(request, endpoint, account, now, read)
        if route.kind == "list":
            return self._list(request, endpoint, account, now)
        if not route.by_query:
            if request.query:
                name = request.query[0][0]
                raise RefusalError(1201, f"unknown query parameter {name!r} on a task query")
            return self._get(account, endpoint, route.target, now)
        return self._get_by_query(request, endpoint, account, now)

    # -- endpoints -----------------------------------------------------------

    def _create(
        self,
        request: Request,
        endpoint: CreateEndpoint,
        account: str,
        now: float,
        read: ReadBody,
    ) -> Response:
        if not request.has_content_length:
            raise RefusalError(
                1200, "Content-Length required: send the create body with a Content-Length header"
            )
        body = create_body(request.headers.get("content-type"), read.parsed, read.error)
        create = validate_create(
            body, endpoint, retired=lambda model: self._retired(model, now), decoded=read.decoded
        )
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
        if create.elements:
            params["elements"] = create.elements
        if create.video is not None:
            params["video"] = create.video
        if create.callback_url is not None:
            params["callback_url"] = create.callback_url
        with self._lock:
            scripted = self._failures[0] if self._failures else None
        fail_message = scripted if scripted is not None else fail_message
        cost = Decimal(
            endpoint.units(
                create.model_name,
                create.mode,
                create.duration,
                fractional=self.forms.units == "fractional",
            )
        )

        def charge(used: Mapping[str, Decimal]) -> tuple[str, Decimal] | None:
            pack = choose_pack(self._packs, used, cost, now)
            return None if fail_message is not None else (pack.pack_id, cost)

        new = NewTask(
            account=account,
            endpoint=endpoint.name,
            external_task_id=create.external_task_id,
            created=now,
            processing_at=now + self.processing_after,
            finish_at=now + self.succeed_after,
            fail_message=fail_message,
            params=params,
            callback=create.callback_url is not None,
        )
        try:
            task = self._store.insert(
                new,
                new_task_id=self._new_task_id,
                concurrency_limit=self.concurrency_limit,
                charge=charge,
                keep_after=None if self.task_retention is None else now - self.task_retention,
            )
        except DuplicateExternalIdError as exc:
            raise RefusalError(1201, self._duplicate_message(create.external_task_id)) from exc
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
        return self._success(self._create_answer(task, now))

    def _duplicate_message(self, external_task_id: str | None) -> str:
        if self.forms.duplicate_external_id == "live":
            return f"External_task_id {external_task_id} already exists"
        return (
            f"external_task_id {external_task_id!r} is already used by another task "
            "of this account; it must be unique"
        )

    def _retired(self, model: str, now: float) -> bool:
        since = self._retired_from.get(model)
        return since is not None and now >= since

    def _new_task_id(self) -> str:
        with self._lock:
            if self._task_ids is not None:
                for task_id in self._task_ids:
                    return task_id
                self._task_ids = None
        return _random_task_id()

    def _visible(self, task: StoredTask | None, now: float) -> StoredTask | None:
        if task is None or now - task.created < self.invisible_for:
            return None
        return task

    def _not_found(self, ident: str, documented: str) -> RefusalError:
        if self.forms.not_found == "live":
            return RefusalError(1201, f"Task not found by id/external id: {ident}")
        return RefusalError(1203, documented)

    def _get(self, account: str, endpoint: CreateEndpoint, ident: str, now: float) -> Response:
        task = self._visible(self._store.find(account, endpoint.name, ident), now)
        if task is None:
            raise self._not_found(
                ident, f"task {ident!r} does not exist (no such task_id or external_task_id)"
            )
        return self._success(self._task_object(task, now))

    def _get_by_query(
        self, request: Request, endpoint: CreateEndpoint, account: str, now: float
    ) -> Response:
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
        task = self._visible(self._store.find(account, endpoint.name, ident), now)
        if task is None or task.external_task_id != ident:
            raise self._not_found(ident, f"no task with external_task_id {ident!r}")
        return self._success(self._task_object(task, now))

    def _list(
        self, request: Request, endpoint: CreateEndpoint, account: str, now: float
    ) -> Response:
        values: dict[str, int] = {"pageNum": LIST_PAGE_NUM[0], "pageSize": LIST_DEFAULT_PAGE_SIZE}
        limits = {"pageNum": LIST_PAGE_NUM, "pageSize": LIST_PAGE_SIZE}
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
            if not raw.isascii() or not raw.isdigit():
                raise RefusalError(1201, f"{name} must be an integer, got {raw!r}")
            value = int(raw)
            low, high = limits[name]
            if not low <= value <= high:
                raise RefusalError(1201, f"{name} must be between {low} and {high}, got {value}")
            values[name] = value
        created_by = now - self.invisible_for if self.invisible_for > 0 else None
        tasks = self._store.page(
            account, endpoint.name, values["pageNum"], values["pageSize"], created_by
        )
        return self._success([self._task_object(task, now) for task in tasks])

    def _account(self, request: Request, account: str, now: float) -> Response:
        window = costs_window(request.query)
        if self.account_rate_limit is not None:
            wait = self._store.account_call(account, now, self.account_rate_limit)
            if wait is not None:
                raise RefusalError(
                    1302,
                    f"requests too fast: the account endpoint answers at most one request "
                    f"every {self.account_rate_limit:g} s",
                    retry_after=max(1, round(wait + 0.4999)),
                )
        infos = pack_infos(self._packs, self._store.usage(account), now, window)
        return self._success({"code": 0, "msg": "SUCCEED", "resource_pack_subscribe_infos": infos})

    def _video_task(self, stem: str) -> tuple[StoredTask, bool] | None:
        task = self._store.by_task_id(stem)
        if task is not None:
            return task, False
        if stem.endswith("_wm"):
            task = self._store.by_task_id(stem[: -len("_wm")])
            if task is not None:
                return task, True
        return None

    def _video(self, request: Request, stem: str) -> Response:
        if request.method == "HEAD" and self.video_head_status is not None:
            status = self.video_head_status
            refusal = text_response(status, "HEAD is not allowed here\n")
            if status == 405:
                refusal.headers.append(("Allow", "GET"))
            return refusal
        found = self._video_task(stem)
        now = self.clock()
        if found is None:
            return text_response(404, "no such video\n")
        task, watermarked = found
        if task.stage_at(now) != "succeed" or (watermarked and not task.params.get("watermark")):
            return text_response(404, "no such video\n")
        content = video_bytes(task.task_id, watermarked=watermarked)
        length = len(content)
        headers = [("Content-Type", "video/mp4")]
        status = 200
        if self.range_support:
            headers.append(("Accept-Ranges", "bytes"))
            header = request.headers.get("range")
            if header is not None:
                span = parse_range(header, length)
                if span is None:
                    headers += [("Content-Range", f"bytes */{length}"), ("Content-Length", "0")]
                    return Response(416, headers, b"")
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
        return f"{self.video_base_url}{VIDEO_PREFIX}{quote(task_id, safe='')}{suffix}.mp4"

    def _status(self, stage: str) -> str:
        if stage == "submitted":
            return self.first_status
        if stage == "succeed":
            return self.succeed_status
        return stage

    def _units_of(self, task: StoredTask) -> str:
        if task.units is not None:
            return task.units
        # A task from before units were stored: priced as it would be now.
        params = task.params
        return endpoint_named(task.endpoint).units(
            str(params.get("model_name")),
            str(params.get("mode")),
            str(params.get("duration", "5")),
            fractional=self.forms.units == "fractional",
        )

    def _task_object(self, task: StoredTask, now: float) -> dict[str, Any]:
        stage = task.stage_at(now)
        failed_form = self.forms.failed_result
        obj: dict[str, Any] = {
            "task_id": task.task_id,
            "task_status": self._status(stage),
            "task_status_msg": task.fail_message if stage == "failed" else "",
        }
        if task.external_task_id is not None:
            obj["task_info"] = {"external_task_id": task.external_task_id}
        elif stage == "failed" and failed_form != "omit":
            obj["task_info"] = {}
        watermark = bool(task.params.get("watermark"))
        if stage == "succeed":
            video: dict[str, Any] = {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"mivid-sandbox:{task.task_id}")),
                "url": self.video_url(task.task_id),
                "duration": f"{task.params.get('duration', '5')}.1",
            }
            if watermark:
                video["watermark_url"] = self.video_url(task.task_id, watermarked=True)
            obj["task_result"] = {"videos": [video]}
        elif stage == "failed" and failed_form == "empty":
            obj["task_result"] = {}
        elif stage == "failed" and failed_form == "null_videos":
            obj["task_result"] = {"videos": None}
        obj["watermark_info"] = {"enabled": watermark}
        if stage == "succeed":
            obj["final_unit_deduction"] = self._units_of(task)
        obj["created_at"] = _ms(task.created)
        obj["updated_at"] = _ms(task.changed_at(now))
        return obj

    def _create_answer(self, task: StoredTask, now: float) -> dict[str, Any]:
        full = self._task_object(task, now)
        data: dict[str, Any] = {"task_id": full["task_id"], "task_status": full["task_status"]}
        form = self.forms.create_task_info
        if form == "echo" and "task_info" in full:
            data["task_info"] = full["task_info"]
        elif form == "empty":
            data["task_info"] = {}
        data["created_at"] = full["created_at"]
        data["updated_at"] = full["updated_at"]
        return data

    def _deliver_callbacks(self, now: float) -> None:
        for task in self._store.due_callbacks(now):
            stage = stage_of(task, now)
            times = (task.created, task.processing_at, task.finish_at)
            deliveries = [
                (str(task.params["callback_url"]), self._task_object(task, times[index]))
                for index in range(task.delivered, stage)
            ]
            self._store.record_deliveries(task, stage, deliveries, now)

    def _success(self, data: Any) -> Response:
        payload: dict[str, Any] = {"code": 0, "message": "SUCCEED"}
        if self.forms.envelope == "documented":
            payload["request_id"] = str(uuid.uuid4())
        payload["data"] = data
        return json_response(200, payload)

    def _error(
        self,
        code: int,
        message: str,
        http_status: int | None = None,
        retry_after: float | None = None,
        data: Any = None,
    ) -> Response:
        extra = []
        if retry_after is not None:
            text = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
            extra.append(("Retry-After", text))
        status = http_status if http_status is not None else http_status_for(code)
        payload: dict[str, Any] = {"code": code, "message": message}
        if self.forms.envelope == "documented":
            payload["request_id"] = str(uuid.uuid4())
            if data is not None:
                payload["data"] = data
        else:
            payload["data"] = data
        return json_response(status, payload, extra)

    # -- faults ----------------------------------------------------------------

    def _fault_answer(self, fault: Fault, request: Request, route: Route) -> Response:
        kind = fault.kind
        if kind == "drop_before":
            return Response(0, [], b"", drop=True)
        if kind == "error":
            code = fault.code if fault.code is not None else 5000
            message = fault.message or MEANING.get(code, "error")
            return self._error(code, message, fault.http_status, fault.retry_after)
        if kind == "echo_authorization":
            code = fault.code if fault.code is not None else 1000
            header = request.headers.get("authorization", "")
            return self._error(
                code,
                f"{MEANING.get(code, 'error')} for Authorization: {header}",
                fault.http_status,
                data={"request_headers": {"Authorization": header}},
            )
        if kind == "html":
            return fault_effects.html_page(fault.http_status or 502)
        if kind == "not_json":
            return text_response(
                fault.http_status or 200, "upstream sent something that is not JSON\n"
            )
        if kind == "raw":
            return Response(fault.http_status or 200, list(fault.headers), fault.body)
        if kind == "redirect":
            return fault_effects.redirect(fault, request)
        if kind == "endless":
            return fault_effects.endless(route.kind == "video")
        raise AssertionError(f"not an answer fault: {kind}")
