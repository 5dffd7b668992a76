"""The local journal of creates: what was asked, and what became of it.

Every create is billed, and an answer can be lost on the way back. So before
a create is sent its *intent* is written here (the external task id, the
request's fields, each image's name, SHA-256 and size, the time, the service),
and it is updated as the outcome becomes known: the task id and status after
the create, each later sighting of the task, or "unknown" when the create
failed in a way that may have made the task. `mivid recover` settles the
unknown ones with the service by external id.

Each entry records the endpoint its create went to (`mivid.endpoints`), so a
task is always queried where it was made; the units the task deducted, once a
sighting says (`final_unit_deduction`: `mivid spent` and the batch estimates
read them); and the task it was made from (`create --from`).

Nothing of the images themselves is stored (their hashes and sizes only),
and no key or token. The file is SQLite in WAL mode in the state folder; each
write is one short transaction, so concurrent mivid processes share it safely.

An entry is one external id at one service (the sandbox is a service of its
own): the same id tried in the sandbox and then for real makes two entries.
What the journal holds is never overwritten by another request: an entry
that has a task id is only ever updated with what the service says of that
task, and an external id the journal holds for another request is refused
before anything is sent (`claim`). `claim` is also what keeps two mivid
processes from sending the same create at once: the first writes its intent,
the second sees it in flight.

A journal that cannot be used (corrupt, foreign, unreadable, in a read-only
folder) raises `JournalError` (exit 2): `create` and `batch` then send
nothing, the read-only commands go on without it. A row whose JSON cannot be
read is read as having no request or images rather than stop everything.

Statuses an entry goes through::

    sending ──▶ submitted / processing / succeed / failed   (the service's words)
       │
       ├──▶ unknown       the create failed ambiguously, or the process died
       │       └──▶ (recover) the service's status, or "not created"
       └──▶ not created   refused, or the service confirmed it has no such task
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from mivid import __version__
from mivid.endpoints import DEFAULT_ENDPOINT, Endpoint, endpoint_named
from mivid.errors import JournalError
from mivid.units import Kind, kind_of, parse_units, task_units, units_text
from mivid.vocabulary import FINAL_STATUSES, REFERENCE, UNFINISHED, external_id_of, status_of

if TYPE_CHECKING:
    import sqlite3
    from decimal import Decimal

    from typing_extensions import Unpack

    from mivid.submission import PreparedCreate

SENDING = "sending"
UNKNOWN = "unknown"
NOT_CREATED = "not created"
#: How the reason of an `unknown` create the service accepted (code 0) without naming its task
#: begins: `JournalEntry.accepted`. Its task almost surely exists, so "not found" means "not
#: visible yet" and never "not created" (`mivid recover` keeps asking).
ACCEPTED_REASON = "accepted by the service without a task id: "
FILE_NAME = "journal.sqlite3"

#: The journal's layout, in SQLite's `user_version`. 0: mivid 0.1.0 (no version, no endpoint);
#: 1: each entry names its endpoint; 2: the units each task deducted, and what it was made from;
#: 3: an index for `list --local`'s page (sandbox, newest first); 4: an entry is one external
#: id at one service (the key is both), so the sandbox and the service keep their own;
#: 5: where each task's video was last saved (`saved`: `mivid open` finds it from anywhere).
SCHEMA_VERSION = 5

_TABLE = f"""
CREATE TABLE {{name}} (
    external_task_id TEXT NOT NULL,
    task_id TEXT,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    request TEXT NOT NULL,
    images TEXT NOT NULL,
    service TEXT NOT NULL,
    sandbox INTEGER NOT NULL DEFAULT 0,
    mivid_version TEXT NOT NULL,
    error TEXT,
    host TEXT NOT NULL DEFAULT '',
    pid INTEGER NOT NULL DEFAULT 0,
    endpoint TEXT NOT NULL DEFAULT '{DEFAULT_ENDPOINT.name}',
    units TEXT,
    made_from TEXT,
    PRIMARY KEY (service, external_task_id)
)"""

#: Where each task's video was last saved (an absolute path), by the service that made it: any
#: task mivid saved, made from this machine or not. A table of its own, so the creates stay
#: one row per create and an older mivid reads the journal as before.
_SAVED_TABLE = """
CREATE TABLE IF NOT EXISTS saved (
    service TEXT NOT NULL,
    task_id TEXT NOT NULL,
    path TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (service, task_id)
)"""

_INDEXES = (
    "CREATE INDEX IF NOT EXISTS creates_task_id ON creates (task_id)",
    "CREATE INDEX IF NOT EXISTS creates_created ON creates (created)",
    "CREATE INDEX IF NOT EXISTS creates_sandbox_created ON creates (sandbox, created)",
    "CREATE INDEX IF NOT EXISTS creates_external_task_id ON creates (external_task_id)",
)


#: What takes a journal of each older version to the next (statements run in one
#: transaction). Each step keeps every row.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 0.1.0 sent every create to multi-image2video: that is each old entry's endpoint.
    0: (
        f"ALTER TABLE creates ADD COLUMN endpoint TEXT NOT NULL DEFAULT '{DEFAULT_ENDPOINT.name}'",
    ),
    # Deductions seen before this version are unknown (NULL) until the task is seen again.
    1: (
        "ALTER TABLE creates ADD COLUMN units TEXT",
        "ALTER TABLE creates ADD COLUMN made_from TEXT",
    ),
    # A page of `list --local` from a journal of 50,000 creates reads 30 rows, not all of them.
    2: ("CREATE INDEX IF NOT EXISTS creates_sandbox_created ON creates (sandbox, created)",),
    # SQLite cannot change a key in place: the table is copied (rowids kept) under the new one.
    3: (
        _TABLE.format(name="creates_by_service"),
        "INSERT INTO creates_by_service (rowid, {columns}) SELECT rowid, {columns} FROM creates",
        "DROP TABLE creates",
        "ALTER TABLE creates_by_service RENAME TO creates",
        *_INDEXES,
    ),
    4: (_SAVED_TABLE,),
}


@dataclass(frozen=True)
class JournalEntry:
    """One create as the journal knows it."""

    external_task_id: str
    task_id: str | None
    status: str
    created: float
    request: dict[str, Any]
    images: list[dict[str, Any]]
    service: str
    mivid_version: str
    error: str | None
    sandbox: bool = False
    updated: float = 0.0
    host: str = ""
    pid: int = 0
    endpoint: str = DEFAULT_ENDPOINT.name
    #: What the task deducted (`final_unit_deduction`, plain decimal text), once seen; else None.
    units: str | None = None
    #: The task id (or external id) of the task this create was made from (`create --from`).
    made_from: str | None = None

    @property
    def kind(self) -> Kind:
        """What this create's price depends on (endpoint, model, mode, duration)."""
        return kind_of(self.endpoint, self.request)

    @property
    def deducted(self) -> Decimal | None:
        return parse_units(self.units)

    @property
    def api(self) -> Endpoint:
        """The endpoint description this create went to."""
        return endpoint_named(self.endpoint)

    @property
    def accepted(self) -> bool:
        """The service accepted this create (code 0) but its answer named no task."""
        return (
            self.task_id is None
            and self.status == UNKNOWN
            and (self.error or "").startswith(ACCEPTED_REASON)
        )

    @property
    def unsettled(self) -> bool:
        """Intent recorded, outcome not known: the task may or may not exist."""
        return self.task_id is None and self.status != NOT_CREATED

    def in_flight(self) -> bool:
        """Still being sent by a live process on this machine (not for recover to judge)."""
        if self.status != SENDING or self.host != socket.gethostname() or self.pid <= 0:
            return False
        if self.pid == os.getpid():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


class EntryFilters(TypedDict, total=False):
    """Which creates `Journal.entries` and `Journal.each_entry` read (see `each_entry`)."""

    unsettled_only: bool
    service: str | None
    sandbox: bool | None
    status: str | None
    since: float | None
    endpoint: str | None
    offset: int
    limit: int | None


def default_path() -> Path:
    from mivid.settings import state_dir

    return state_dir() / FILE_NAME


def describe_images(prepared: PreparedCreate) -> list[dict[str, Any]]:
    """What the journal keeps of each image: its name or URL, hash, size and role (never its bytes).

    The role is `first_frame`, `end_frame` or `reference`, as it was sent.
    """
    import hashlib

    from mivid.fit import FittedImage
    from mivid.images import LocalImage

    described: list[dict[str, Any]] = []
    roles = list(prepared.roles) + [None] * (len(prepared.images) - len(prepared.roles))
    for image, role in zip(prepared.images, roles, strict=True):
        entry: dict[str, Any]
        if isinstance(image, (LocalImage, FittedImage)):
            entry = {"name": image.argument, "path": str(image.path.absolute())}
            if isinstance(image, FittedImage):
                # What was sent is the fitted copy; the original is named by its hash too.
                entry["sha256"] = hashlib.sha256(image.data).hexdigest()
                entry["original_sha256"] = image.original_sha256
                entry["fitted"] = image.note
            else:
                entry["sha256"] = image.sha256
            entry.update(
                bytes=image.size, width=image.width, height=image.height, format=image.format
            )
        else:
            entry = {"url": image.url}
        # The gallery orders and labels a card's images by it (`mivid.gallery`).
        entry["role"] = role or REFERENCE
        described.append(entry)
    return described


#: What `Journal.claim` found for a create about to be sent.
SEND = "send"  # the intent is written: send it
KNOWN = "known"  # this very request already made its task (the entry has its id)
LOOK_UP = "look up"  # this very request was sent before and its outcome is unknown
IN_FLIGHT = "in flight"  # another live mivid process is sending it right now
TAKEN = "taken"  # the journal holds this external id for another request


@dataclass(frozen=True)
class Claim:
    """What the journal said to a create about to be sent (`Journal.claim`)."""

    action: str
    entry: JournalEntry | None = None


def request_of(prepared: PreparedCreate) -> tuple[dict[str, Any], list[str]]:
    """What makes two creates the same request: the body's fields and each image's content."""
    fields = json.loads(json.dumps(prepared.request.fields(), ensure_ascii=False, sort_keys=True))
    return fields, _image_identities(describe_images(prepared))


def _image_identities(images: list[dict[str, Any]]) -> list[str]:
    return [str(image.get("sha256") or image.get("url") or "") for image in images]


def same_request(entry: JournalEntry, prepared: PreparedCreate) -> bool:
    fields, images = request_of(prepared)
    return (
        entry.endpoint == prepared.endpoint.name
        and entry.request == fields
        and _image_identities(entry.images) == images
    )


def _same_service(service: str) -> str:
    """A base URL as the journal compares it (a trailing slash is no other service)."""
    return service.rstrip("/")


class Journal:
    """The journal file; open it with `Journal.open()` (or `open_existing()` to only read)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        #: Whether the journal holds no create of unknown outcome (None: not asked yet).
        self._no_unsettled: bool | None = None

    @classmethod
    def open(cls, path: Path | str | None = None) -> Journal:
        """The journal, made when missing; `JournalError` when it cannot be used."""
        import sqlite3

        target = Path(path) if path is not None else default_path()
        connection: sqlite3.Connection | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() and not target.is_file():
                raise JournalError(str(target), "it is not a file")
            fresh = not target.exists()
            connection = sqlite3.connect(target, timeout=10.0, isolation_level=None)
            if fresh:
                target.chmod(0o600)
            connection.execute("PRAGMA busy_timeout = 10000")
            _use_wal(connection)
            connection.execute("PRAGMA synchronous = NORMAL")
            _upgrade(connection, str(target))
        except JournalError:
            if connection is not None:
                connection.close()
            raise
        except (OSError, sqlite3.Error) as exc:
            if connection is not None:
                connection.close()
            cannot_make = not target.exists() and not target.is_symlink()
            raise JournalError(
                str(target), _reason(exc), full=_full(exc), cannot_make=cannot_make
            ) from exc
        return cls(connection, target)

    @classmethod
    def open_existing(cls, path: Path | str | None = None) -> Journal | None:
        """The journal for reading, or None when there is none yet (never creates the file).

        `JournalError` when there is one that cannot be used.
        """
        target = Path(path) if path is not None else default_path()
        if not target.exists() and not target.is_symlink():
            return None
        return cls.open(target)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        """One statement; any SQLite failure (corruption found late, a full disk) as JournalError."""
        import sqlite3

        try:
            return self._db.execute(sql, tuple(params))
        except sqlite3.Error as exc:
            raise JournalError(str(self.path), _reason(exc), full=_full(exc)) from exc

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        import sqlite3

        try:
            return self._run(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise JournalError(str(self.path), _reason(exc), full=_full(exc)) from exc

    # -- writing -------------------------------------------------------------------

    def claim(
        self,
        prepared: PreparedCreate,
        *,
        service: str,
        sandbox: bool = False,
        take_over: bool = False,
    ) -> Claim:
        """Write down a create about to be sent, unless the journal says not to send it.

        In one transaction, so two processes never both get SEND for one id:
        - no entry for this external id at `service` (or one that made nothing): SEND;
        - an entry with a task: KNOWN when it is this very request, else TAKEN;
        - an entry being sent by another live process: IN_FLIGHT;
        - an entry whose outcome is unknown: LOOK_UP for this very request (the
          caller asks the service, then claims again with `take_over` when it has
          no such task), TAKEN for another (that task may exist).
        """
        import sqlite3

        service = _same_service(service)
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise JournalError(str(self.path), _reason(exc), full=_full(exc)) from exc
        try:
            claim = self._claim(prepared, service=service, sandbox=sandbox, take_over=take_over)
            self._run("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        return claim

    def _claim(
        self, prepared: PreparedCreate, *, service: str, sandbox: bool, take_over: bool
    ) -> Claim:
        rows = self._rows(
            f"SELECT {_COLUMNS} FROM creates WHERE external_task_id = ? "
            "AND rtrim(service, '/') = ?",
            (prepared.external_task_id, service),
        )
        if not rows:
            self._insert_intent(prepared, service=service, sandbox=sandbox)
            return Claim(SEND)
        entry = _entry(rows[0])
        same = same_request(entry, prepared)
        if entry.task_id is not None:
            return Claim(KNOWN if same else TAKEN, entry)
        if entry.in_flight() and entry.pid != os.getpid():
            return Claim(IN_FLIGHT, entry)
        if entry.status != NOT_CREATED and not same:
            return Claim(TAKEN, entry)
        if entry.status != NOT_CREATED and not take_over:
            return Claim(LOOK_UP, entry)
        self._run(
            "DELETE FROM creates WHERE external_task_id = ? AND rtrim(service, '/') = ? "
            "AND task_id IS NULL",
            (prepared.external_task_id, service),
        )
        self._insert_intent(prepared, service=service, sandbox=sandbox)
        return Claim(SEND)

    def _insert_intent(self, prepared: PreparedCreate, *, service: str, sandbox: bool) -> None:
        self._no_unsettled = False  # a create being sent: its task is not known yet
        now = time.time()
        request = prepared.request.fields()
        self._run(
            "INSERT INTO creates (external_task_id, task_id, status, created, "
            "updated, request, images, service, sandbox, mivid_version, error, host, pid, "
            "endpoint, made_from) VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)",
            (
                prepared.external_task_id,
                SENDING,
                now,
                now,
                json.dumps(request, ensure_ascii=False, sort_keys=True),
                json.dumps(describe_images(prepared), ensure_ascii=False),
                service,
                int(sandbox),
                __version__,
                socket.gethostname(),
                os.getpid(),
                prepared.endpoint.name,
                prepared.made_from,
            ),
        )

    def record_intent(
        self, prepared: PreparedCreate, *, service: str, sandbox: bool = False
    ) -> None:
        """Write down a create about to be sent; `JournalError` when the journal says not to.

        (`claim` says why not; this is for callers that checked beforehand.)
        """
        claim = self.claim(prepared, service=service, sandbox=sandbox, take_over=True)
        if claim.action != SEND:
            raise JournalError(
                str(self.path),
                f"it already holds external id {prepared.external_task_id} ({claim.action})",
            )

    def record_task(
        self,
        task: dict[str, Any],
        *,
        service: str,
        external_task_id: str | None = None,
    ) -> bool:
        """Note what `service` said about a task; False when the journal has no such create.

        Only entries made at `service` are touched: another service's task with
        the same id is another task. The entry is found by `external_task_id`
        (the id a create sent: the live service's create answer does not echo
        it), else by the id the task object echoes, else by its task id; an
        entry that holds another task's id is never given this one. A deduction
        once known is kept: a later object without one does not erase it.
        """
        task_id = task.get("task_id")
        status = status_of(task)
        if task_id is None or not isinstance(task.get("task_status"), str):
            return False
        external = external_task_id or external_id_of(task)
        deducted = task_units(task)
        cursor = self._run(
            "UPDATE creates SET task_id = ?, status = ?, updated = ?, error = ?, "
            "units = COALESCE(?, units) WHERE (external_task_id = ? OR task_id = ?) "
            "AND rtrim(service, '/') = ? AND (task_id IS NULL OR task_id = ?)",
            (
                str(task_id),
                status,
                time.time(),
                task.get("task_status_msg") or None,
                units_text(deducted) if deducted is not None else None,
                external,
                str(task_id),
                _same_service(service),
                str(task_id),
            ),
        )
        return cursor.rowcount > 0

    def record_failure(
        self,
        external_task_id: str,
        reason: str,
        *,
        service: str,
        created: bool | None = None,
        accepted: bool = False,
    ) -> None:
        """A create that failed: `created=False` when it surely made no task, else unknown;
        `accepted`: the service said yes (code 0) without naming the task (see ACCEPTED_REASON)."""
        status = NOT_CREATED if created is False else UNKNOWN
        if accepted and created is not False:
            reason = ACCEPTED_REASON + reason
        self._run(
            "UPDATE creates SET status = ?, error = ?, updated = ? "
            "WHERE external_task_id = ? AND rtrim(service, '/') = ? AND task_id IS NULL",
            (status, reason, time.time(), external_task_id, _same_service(service)),
        )

    def record_saved(self, saved: Mapping[str, Path], *, service: str) -> None:
        """Where these tasks' videos (task id → file) were saved just now, by `service`'s id."""
        if not saved:
            return
        now = time.time()
        self._run("BEGIN IMMEDIATE")
        try:
            for task_id, path in saved.items():
                self._run(
                    "INSERT OR REPLACE INTO saved (service, task_id, path, updated) "
                    "VALUES (?, ?, ?, ?)",
                    (_same_service(service), task_id, str(path), now),
                )
            self._run("COMMIT")
        except BaseException:
            with contextlib.suppress(JournalError):
                self._run("ROLLBACK")
            raise

    # -- reading ---------------------------------------------------------------------

    def saved_path(self, task_id: str, *, service: str | None = None) -> Path | None:
        """Where the task's video was last saved (at `service`, when given), as recorded."""
        sql = "SELECT path FROM saved WHERE task_id = ?"
        params: list[Any] = [task_id]
        if service is not None:
            sql += " AND service = ?"
            params.append(_same_service(service))
        rows = self._rows(sql + " ORDER BY updated DESC LIMIT 1", params)
        return Path(rows[0][0]) if rows and isinstance(rows[0][0], str) else None

    def find(self, id_or_external_id: str, *, service: str | None = None) -> JournalEntry | None:
        """The newest entry with this task id or external id (made at `service`, when given)."""
        sql = f"SELECT {_COLUMNS} FROM creates WHERE (external_task_id = ? OR task_id = ?)"
        params: list[Any] = [id_or_external_id, id_or_external_id]
        if service is not None:
            sql += " AND rtrim(service, '/') = ?"
            params.append(_same_service(service))
        rows = self._rows(sql + " ORDER BY created DESC LIMIT 1", params)
        return _entry(rows[0]) if rows else None

    def unsettled_by_external_ids(
        self, external_ids: Iterable[str], *, service: str
    ) -> list[JournalEntry]:
        """The creates made at `service` with those external ids whose task is not known yet
        (their outcome unknown, or being sent): one indexed query, and none at all while the
        journal holds no such create (asked once per journal: a list of 1000 pages asks once)."""
        if self._no_unsettled is None:
            rows = self._rows(
                "SELECT 1 FROM creates WHERE task_id IS NULL AND status != ? LIMIT 1",
                (NOT_CREATED,),
            )
            self._no_unsettled = not rows
        wanted = list(dict.fromkeys(external_ids))
        if self._no_unsettled or not wanted:
            return []
        return self._entries_among(
            "external_task_id",
            wanted,
            "AND task_id IS NULL AND status != ? AND rtrim(service, '/') = ?",
            [NOT_CREATED, _same_service(service)],
        )

    def unsettled_twin(self, prepared: PreparedCreate, *, service: str) -> JournalEntry | None:
        """The newest earlier create of this very request (its external id apart) at `service`
        whose outcome nobody learned, unless another live process is sending it.

        A rerun of `mivid create` after an unknown outcome sends under that entry's external
        id instead of a fresh one: the service then refuses a second task (never billed twice).
        """
        rows = self._rows(
            f"SELECT {_COLUMNS} FROM creates WHERE task_id IS NULL AND status != ? "
            "AND rtrim(service, '/') = ? AND endpoint = ? ORDER BY created DESC",
            (NOT_CREATED, _same_service(service), prepared.endpoint.name),
        )
        fields, images = request_of(prepared)
        fields.pop("external_task_id", None)
        for row in rows:
            entry = _entry(row)
            request = {k: v for k, v in entry.request.items() if k != "external_task_id"}
            if (
                request == fields
                and _image_identities(entry.images) == images
                and not (entry.in_flight() and entry.pid != os.getpid())
            ):
                return entry
        return None

    def by_task_ids(
        self, task_ids: Iterable[str], *, service: str | None = None
    ) -> dict[str, JournalEntry]:
        """The entries of those task ids the journal knows (the newest per id; made at
        `service`, when given)."""
        wanted = list(dict.fromkeys(str(task_id) for task_id in task_ids))
        where = "" if service is None else "AND rtrim(service, '/') = ?"
        extra = [] if service is None else [_same_service(service)]
        found: dict[str, JournalEntry] = {}
        for entry in self._entries_among("task_id", wanted, f"{where} ORDER BY created", extra):
            if entry.task_id is not None:
                found[entry.task_id] = entry  # the newest last: it stays
        return found

    def _entries_among(
        self, column: str, values: list[str], rest: str, params: list[Any]
    ) -> list[JournalEntry]:
        """The entries whose `column` is one of `values`, `rest` (SQL after the IN test) with
        its `params` applied to each chunk: SQLite binds at most so many parameters."""
        found: list[JournalEntry] = []
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self._rows(
                f"SELECT {_COLUMNS} FROM creates WHERE {column} IN ({marks}) {rest}",
                [*chunk, *params],
            )
            found += [_entry(row) for row in rows]
        return found

    def entries(self, **filters: Unpack[EntryFilters]) -> list[JournalEntry]:
        """Creates, newest first; filtered, skipped and limited in SQL (only those rows decoded).

        `since` (Unix seconds): only those made at or after it; `endpoint`: only those
        sent to that endpoint (`mivid.endpoints`' name).
        """
        return list(self.each_entry(**filters))

    def each_entry(
        self,
        *,
        unsettled_only: bool = False,
        service: str | None = None,
        sandbox: bool | None = None,
        status: str | None = None,
        since: float | None = None,
        endpoint: str | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Generator[JournalEntry, None, None]:
        """`entries`, read and decoded a few hundred rows at a time, while the journal is open:
        `list --local --all` and `spent` on 50,000 creates never hold them all."""
        import sqlite3

        where, params = self._where(
            unsettled_only=unsettled_only,
            service=service,
            sandbox=sandbox,
            status=status,
            since=since,
            endpoint=endpoint,
        )
        sql = f"SELECT {_COLUMNS} FROM creates{where} ORDER BY created DESC, rowid DESC"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if limit is None else limit, offset]
        cursor = self._run(sql, params)
        try:
            while True:
                try:
                    rows = cursor.fetchmany(_ROWS_AT_ONCE)
                except sqlite3.Error as exc:  # a page found corrupt on the way
                    raise JournalError(str(self.path), _reason(exc), full=_full(exc)) from exc
                if not rows:
                    return
                for row in rows:
                    yield _entry(row)
        finally:
            cursor.close()

    def count(self, *, sandbox: bool | None = None) -> int:
        """How many creates the journal holds (made in the sandbox or not, when given)."""
        where, params = self._where(sandbox=sandbox)
        ((found,),) = self._rows(f"SELECT COUNT(*) FROM creates{where}", params)
        return int(found)

    @staticmethod
    def _where(
        *,
        unsettled_only: bool = False,
        service: str | None = None,
        sandbox: bool | None = None,
        status: str | None = None,
        since: float | None = None,
        endpoint: str | None = None,
    ) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if unsettled_only:
            where.append("task_id IS NULL AND status != ?")
            params.append(NOT_CREATED)
        if service is not None:
            where.append("rtrim(service, '/') = ?")
            params.append(_same_service(service))
        if since is not None:
            where.append("created >= ?")
            params.append(since)
        if sandbox is not None:
            where.append("sandbox = ?")
            params.append(int(sandbox))
        if status == UNFINISHED:  # a task that had not ended when this machine last saw it
            where.append("task_id IS NOT NULL AND status NOT IN (?, ?)")
            params += list(FINAL_STATUSES)
        elif status is not None:
            where.append("status = ?")
            params.append(status)
        if endpoint is not None:
            where.append("endpoint = ?")
            params.append(endpoint)
        return (" WHERE " + " AND ".join(where) if where else ""), params

    def known_costs(self, service: str) -> dict[Kind, Decimal]:
        """The latest deduction the journal saw for each kind of task made at `service`."""
        rows = self._rows(
            "SELECT endpoint, json_extract(request, '$.model_name'), json_extract(request, "
            "'$.mode'), json_extract(request, '$.duration'), units, max(updated) FROM creates "
            "WHERE units IS NOT NULL AND json_valid(request) AND rtrim(service, '/') = ? "
            "GROUP BY 1, 2, 3, 4",
            (_same_service(service),),
        )
        costs: dict[Kind, Decimal] = {}
        for endpoint, model, mode, duration, units, _updated in rows:
            cost = parse_units(units)
            if cost is not None:
                request = {"model_name": model, "mode": mode, "duration": duration}
                costs[kind_of(endpoint, request)] = cost
        return costs


#: Rows read from SQLite at a time when entries are streamed (`each_entry`).
_ROWS_AT_ONCE = 500
_COLUMNS = (
    "external_task_id, task_id, status, created, request, images, service, mivid_version, "
    "error, sandbox, updated, host, pid, endpoint, units, made_from"
)


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    return JournalEntry(
        external_task_id=str(row[0]),
        task_id=None if row[1] is None else str(row[1]),
        status=str(row[2]),
        created=_number(row[3]),
        request=_json(row[4], dict),
        images=[image for image in _json(row[5], list) if isinstance(image, dict)],
        service=str(row[6]),
        mivid_version=str(row[7]),
        error=row[8] if isinstance(row[8], str) else None,
        sandbox=bool(row[9]),
        updated=_number(row[10]),
        host=str(row[11]),
        pid=row[12] if isinstance(row[12], int) else 0,
        endpoint=str(row[13]),
        units=row[14] if isinstance(row[14], str) else None,
        made_from=row[15] if isinstance(row[15], str) else None,
    )


def _json(text: Any, kind: type[Any]) -> Any:
    """A column's JSON, or an empty `kind` when it is not readable JSON of that kind.

    One damaged row must not make every command that reads the journal fail.
    """
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return kind()
    return value if isinstance(value, kind) else kind()


def _number(value: Any) -> float:
    """A time column (Unix seconds); 0 for one no clock could have written (not a number, not
    finite, before 1970 or after 9999: a damaged row is read, never a crash)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    return float(value) if 0 <= value < _YEAR_10000 else 0.0


#: The first second `datetime` cannot hold (and ISO 8601's four-digit years end at).
_YEAR_10000 = 253_402_300_800


def _reason(error: BaseException) -> str:
    """Why SQLite or the file system refused, in a few words."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    text = str(error) or type(error).__name__
    if text == "file is not a database":
        return "it is not a SQLite file (damaged, or not mivid's journal)"
    return text


_SQLITE_FULL = 13  # SQLite's result code (the stubs lack sqlite3.SQLITE_FULL)


def _full(error: BaseException) -> bool:
    """Did SQLite or the file system refuse for want of room (a full disk, `ulimit -f`)?"""
    import errno

    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
    if getattr(error, "sqlite_errorcode", None) == _SQLITE_FULL:
        return True
    # SQLite says it in these words for SQLITE_FULL (Python 3.10 has no error code).
    return "database or disk is full" in str(error)


def _use_wal(connection: sqlite3.Connection, seconds: float = 10.0) -> None:
    """Put the journal in WAL mode (kept in the file: once is enough for every later open).

    Switching needs the file to itself and does not wait as `busy_timeout` says: two
    runs of a batch opening a new journal at once had one fail, "database is locked".
    """
    import sqlite3

    (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    if str(mode).lower() == "wal":
        return
    deadline = time.monotonic() + seconds
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _tables(connection: sqlite3.Connection) -> set[str]:
    return {
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }


def _create(connection: sqlite3.Connection, path: str) -> None:
    """Make the tables of a new journal: in one transaction, as another process may be too."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        tables = _tables(connection)
        if tables and "creates" not in tables:
            raise JournalError(
                path, f"it is another program's database (tables {', '.join(sorted(tables))})"
            )
        if not tables:
            connection.execute(_TABLE.format(name="creates"))
            for statement in (*_INDEXES, _SAVED_TABLE):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _upgrade(connection: sqlite3.Connection, path: str) -> None:
    """Create the tables, or bring a journal of an older layout up to `SCHEMA_VERSION`.

    A journal newer than this mivid is left as it is (its extra columns are
    not read). Each step runs in one transaction: a crash leaves the old layout.
    A file that is some other program's SQLite database is never written to, and
    one whose `creates` table lacks what mivid reads is refused (`JournalError`).
    """
    if "creates" not in _tables(connection):
        _create(connection, path)
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    while version < SCHEMA_VERSION:
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have upgraded it since we looked.
            (version,) = connection.execute("PRAGMA user_version").fetchone()
            if version < SCHEMA_VERSION:
                for statement in _MIGRATIONS[version]:
                    connection.execute(statement.replace("{columns}", _COLUMNS))
                version += 1
                connection.execute(f"PRAGMA user_version = {version}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    present = {row[1] for row in connection.execute("PRAGMA table_info(creates)")}
    missing = [name for name in _COLUMNS.split(", ") if name not in present]
    if missing:
        raise JournalError(
            path, f"its table of creates lacks {', '.join(missing)} (not a journal mivid wrote?)"
        )
