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

Statuses an entry goes through::

    sending ──▶ submitted / processing / succeed / failed   (the service's words)
       │
       ├──▶ unknown       the create failed ambiguously, or the process died
       │       └──▶ (recover) the service's status, or "not created"
       └──▶ not created   refused, or the service confirmed it has no such task
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mivid import __version__
from mivid.endpoints import DEFAULT_ENDPOINT, Endpoint, endpoint_named
from mivid.units import Kind, kind_of, parse_units, task_units, units_text
from mivid.vocabulary import REFERENCE, external_id_of, status_of

if TYPE_CHECKING:
    import sqlite3
    from decimal import Decimal

    from mivid.submission import PreparedCreate

SENDING = "sending"
UNKNOWN = "unknown"
NOT_CREATED = "not created"
FILE_NAME = "journal.sqlite3"

#: The journal's layout, in SQLite's `user_version`. 0: mivid 0.1.0 (no version, no endpoint);
#: 1: each entry names its endpoint; 2: the units each task deducted, and what it was made from;
#: 3: an index for `list --local`'s page (sandbox, newest first).
SCHEMA_VERSION = 3

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS creates (
    external_task_id TEXT PRIMARY KEY,
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
    made_from TEXT
);
CREATE INDEX IF NOT EXISTS creates_task_id ON creates (task_id);
CREATE INDEX IF NOT EXISTS creates_created ON creates (created);
CREATE INDEX IF NOT EXISTS creates_sandbox_created ON creates (sandbox, created);
"""

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


class Journal:
    """The journal file; open it with `Journal.open()`."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path | str | None = None) -> Journal:
        import sqlite3

        target = Path(path) if path is not None else default_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        fresh = not target.exists()
        connection = sqlite3.connect(target, timeout=10.0, isolation_level=None)
        if fresh:
            target.chmod(0o600)
        connection.execute("PRAGMA busy_timeout = 10000")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        _upgrade(connection)
        return cls(connection, target)

    @classmethod
    def open_existing(cls, path: Path | str | None = None) -> Journal | None:
        """The journal for reading, or None when there is none yet (never creates the file)."""
        import sqlite3

        target = Path(path) if path is not None else default_path()
        if not target.is_file():
            return None
        try:
            return cls.open(target)
        except (OSError, sqlite3.Error):
            return None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------

    def record_intent(
        self, prepared: PreparedCreate, *, service: str, sandbox: bool = False
    ) -> None:
        """Write down a create about to be sent (before the first byte goes out)."""
        now = time.time()
        request = prepared.request.fields()
        self._db.execute(
            "INSERT OR REPLACE INTO creates (external_task_id, task_id, status, created, "
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

    def record_task(self, task: dict[str, Any], *, external_task_id: str | None = None) -> bool:
        """Note what the service said about a task; False when the journal has no such create.

        The entry is found by `external_task_id` (the id a create sent: the live
        service's create answer does not echo it), else by the id the task object
        echoes, else by its task id. A deduction once known is kept: a later object
        without one does not erase it.
        """
        task_id = task.get("task_id")
        status = status_of(task)
        if task_id is None or not isinstance(task.get("task_status"), str):
            return False
        external = external_task_id or external_id_of(task)
        deducted = task_units(task)
        cursor = self._db.execute(
            "UPDATE creates SET task_id = ?, status = ?, updated = ?, error = ?, "
            "units = COALESCE(?, units) WHERE external_task_id = ? OR task_id = ?",
            (
                str(task_id),
                status,
                time.time(),
                task.get("task_status_msg") or None,
                units_text(deducted) if deducted is not None else None,
                external,
                str(task_id),
            ),
        )
        return cursor.rowcount > 0

    def record_failure(
        self, external_task_id: str, reason: str, *, created: bool | None = None
    ) -> None:
        """A create that failed: `created=False` when it surely made no task, else unknown."""
        status = NOT_CREATED if created is False else UNKNOWN
        self._db.execute(
            "UPDATE creates SET status = ?, error = ?, updated = ? "
            "WHERE external_task_id = ? AND task_id IS NULL",
            (status, reason, time.time(), external_task_id),
        )

    # -- reading ---------------------------------------------------------------------

    def find(self, id_or_external_id: str) -> JournalEntry | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM creates WHERE external_task_id = ? OR task_id = ? "
            "ORDER BY created DESC LIMIT 1",
            (id_or_external_id, id_or_external_id),
        ).fetchone()
        return _entry(row) if row else None

    def by_task_ids(self, task_ids: Iterable[str]) -> dict[str, JournalEntry]:
        """The entries of those task ids the journal knows (the newest per id)."""
        wanted = list(dict.fromkeys(str(task_id) for task_id in task_ids))
        found: dict[str, JournalEntry] = {}
        for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM creates WHERE task_id IN ({marks}) ORDER BY created",
                chunk,
            ).fetchall()
            for row in rows:
                entry = _entry(row)
                if entry.task_id is not None:
                    found[entry.task_id] = entry
        return found

    def entries(
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
    ) -> list[JournalEntry]:
        """Creates, newest first; filtered, skipped and limited in SQL (only those rows decoded).

        `since` (Unix seconds): only those made at or after it; `endpoint`: only those
        sent to that endpoint (`mivid.endpoints`' name).
        """
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
        return [_entry(row) for row in self._db.execute(sql, params).fetchall()]

    def count(self, *, sandbox: bool | None = None) -> int:
        """How many creates the journal holds (made in the sandbox or not, when given)."""
        where, params = self._where(sandbox=sandbox)
        (found,) = self._db.execute(f"SELECT COUNT(*) FROM creates{where}", params).fetchone()
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
            where.append("service = ?")
            params.append(service)
        if since is not None:
            where.append("created >= ?")
            params.append(since)
        if sandbox is not None:
            where.append("sandbox = ?")
            params.append(int(sandbox))
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if endpoint is not None:
            where.append("endpoint = ?")
            params.append(endpoint)
        return (" WHERE " + " AND ".join(where) if where else ""), params

    def known_costs(self, service: str) -> dict[Kind, Decimal]:
        """The latest deduction the journal saw for each kind of task made at `service`."""
        rows = self._db.execute(
            "SELECT endpoint, json_extract(request, '$.model_name'), json_extract(request, "
            "'$.mode'), json_extract(request, '$.duration'), units, max(updated) FROM creates "
            "WHERE units IS NOT NULL AND service = ? GROUP BY 1, 2, 3, 4",
            (service,),
        ).fetchall()
        costs: dict[Kind, Decimal] = {}
        for endpoint, model, mode, duration, units, _updated in rows:
            cost = parse_units(units)
            if cost is not None:
                request = {"model_name": model, "mode": mode, "duration": duration}
                costs[kind_of(endpoint, request)] = cost
        return costs


_COLUMNS = (
    "external_task_id, task_id, status, created, request, images, service, mivid_version, "
    "error, sandbox, updated, host, pid, endpoint, units, made_from"
)


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    return JournalEntry(
        external_task_id=row[0],
        task_id=row[1],
        status=row[2],
        created=row[3],
        request=json.loads(row[4]),
        images=json.loads(row[5]),
        service=row[6],
        mivid_version=row[7],
        error=row[8],
        sandbox=bool(row[9]),
        updated=row[10],
        host=row[11],
        pid=row[12],
        endpoint=row[13],
        units=row[14],
        made_from=row[15],
    )


def _upgrade(connection: sqlite3.Connection) -> None:
    """Create the tables, or bring a journal of an older layout up to `SCHEMA_VERSION`.

    A journal newer than this mivid is left as it is (its extra columns are
    not read). Each step runs in one transaction: a crash leaves the old layout.
    """
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'creates'"
    ).fetchone()
    if not exists:
        connection.executescript(_SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")
        return
    while version < SCHEMA_VERSION:
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have upgraded it since we looked.
            (version,) = connection.execute("PRAGMA user_version").fetchone()
            if version < SCHEMA_VERSION:
                for statement in _MIGRATIONS[version]:
                    connection.execute(statement)
                version += 1
                connection.execute(f"PRAGMA user_version = {version}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
