"""Where tasks live: SQLite, in memory or in a file shared by several processes.

A task is stored once, with the times at which it starts processing and ends;
its status is derived from the clock when it is read, so no background thread
moves tasks along and two processes on one file agree. Writes are short
`BEGIN IMMEDIATE` transactions; a file database runs in WAL mode with a busy
timeout so readers and writers of other processes wait instead of failing.

Every query a request makes is answered from an index, so its cost does not
grow with the number of stored tasks: a task by id or external id (unique
indexes), a page of the list (account, endpoint, created), the running count
(account, finish_at), and the callbacks due (a partial index on the time the
next delivery is due, instead of a scan for tasks with a callback_url).
Tasks older than the retention are deleted when a task is created.

Schema versions (`PRAGMA user_version`): 0, the first release's file (no
endpoint, callback-due, units or pack columns), is migrated in place to 1.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
DEFAULT_ENDPOINT = "multi-image2video"

_TABLES = """
CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    external_task_id TEXT,
    created REAL NOT NULL,
    processing_at REAL NOT NULL,
    finish_at REAL NOT NULL,
    fail_message TEXT,
    params TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, external_task_id)
);
CREATE TABLE IF NOT EXISTS callbacks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    task TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pack_usage (
    account TEXT NOT NULL,
    pack_id TEXT NOT NULL,
    used TEXT NOT NULL,
    PRIMARY KEY (account, pack_id)
);
CREATE TABLE IF NOT EXISTS account_calls (
    account TEXT PRIMARY KEY,
    at REAL NOT NULL
);
"""

# Columns added by version 1, with their definitions (ALTER TABLE on a version-0 file).
_NEW_COLUMNS = {
    "tasks": (
        ("endpoint", f"TEXT NOT NULL DEFAULT '{DEFAULT_ENDPOINT}'"),
        ("callback_due", "REAL"),
        ("units", "TEXT"),
        ("pack_id", "TEXT"),
    ),
    "callbacks": (("task_id", "TEXT"), ("at", "REAL")),  # at: when it was recorded
}

_INDEXES = """
DROP INDEX IF EXISTS tasks_by_account;
CREATE INDEX IF NOT EXISTS tasks_by_endpoint ON tasks (account, endpoint, created, seq);
CREATE INDEX IF NOT EXISTS tasks_running ON tasks (account, finish_at);
CREATE INDEX IF NOT EXISTS tasks_by_age ON tasks (created);
CREATE INDEX IF NOT EXISTS tasks_callback_due ON tasks (callback_due)
    WHERE callback_due IS NOT NULL;
CREATE INDEX IF NOT EXISTS callbacks_by_task ON callbacks (task_id);
"""

# A version-0 file's pending callbacks get their due time from what was delivered.
_BACKFILL_DUE = """
UPDATE tasks SET callback_due = CASE delivered
    WHEN 0 THEN created WHEN 1 THEN processing_at ELSE finish_at END
WHERE delivered < 3 AND params LIKE '%"callback_url"%'
"""

STAGES = ("submitted", "processing", "succeed", "failed")


class DuplicateExternalIdError(Exception):
    """The account already has a task with this external_task_id."""


class ConcurrencyLimitError(Exception):
    """The account already has as many unfinished tasks as it may."""


@dataclass(frozen=True)
class StoredTask:
    task_id: str
    account: str
    external_task_id: str | None
    created: float
    processing_at: float
    finish_at: float
    fail_message: str | None
    params: dict[str, Any]
    delivered: int
    endpoint: str = DEFAULT_ENDPOINT
    units: str | None = None

    def stage_at(self, now: float) -> str:
        """One of STAGES: how far the task is at `now`."""
        if now < self.processing_at:
            return "submitted"
        if now < self.finish_at:
            return "processing"
        return "failed" if self.fail_message is not None else "succeed"

    def changed_at(self, now: float) -> float:
        """When the stage seen at `now` began."""
        stage = self.stage_at(now)
        if stage == "submitted":
            return self.created
        if stage == "processing":
            return self.processing_at
        return self.finish_at


@dataclass(frozen=True)
class NewTask:
    """What a create stores (the store adds the task id)."""

    account: str
    endpoint: str
    external_task_id: str | None
    created: float
    processing_at: float
    finish_at: float
    fail_message: str | None
    params: dict[str, Any]
    callback: bool


_COLUMNS = (
    "task_id, account, external_task_id, created, processing_at, finish_at, "
    "fail_message, params, delivered, endpoint, units"
)


def _task(row: tuple[Any, ...]) -> StoredTask:
    return StoredTask(
        task_id=row[0],
        account=row[1],
        external_task_id=row[2],
        created=row[3],
        processing_at=row[4],
        finish_at=row[5],
        fail_message=row[6],
        params=json.loads(row[7]),
        delivered=row[8],
        endpoint=row[9],
        units=row[10],
    )


def stage_of(task: StoredTask, now: float) -> int:
    """How many statuses the task has been through at `now` (1 to 3)."""
    return {"submitted": 1, "processing": 2}.get(task.stage_at(now), 3)


def _next_due(task: StoredTask, stage: int) -> float | None:
    """When the delivery after `stage` deliveries is due (None: all three made)."""
    return (task.created, task.processing_at, task.finish_at, None)[stage]


# A charge decides, inside the create's transaction, which pack pays and how much:
# it gets the account's use per pack and returns (pack_id, units), or None (nothing charged).
Charge = Callable[[Mapping[str, Decimal]], tuple[str, Decimal] | None]


class TaskStore:
    """Tasks, recorded callbacks, pack use and account calls; safe to share between threads."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.RLock()
        target = ":memory:" if path is None else str(path)
        self._db = sqlite3.connect(
            target, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        with self._lock:
            self._db.execute("PRAGMA busy_timeout = 30000")
            if path is not None:
                self._db.execute("PRAGMA journal_mode = WAL")
            self._migrate()

    def _migrate(self) -> None:
        with self._transaction():
            (version,) = self._db.execute("PRAGMA user_version").fetchone()
            if version >= SCHEMA_VERSION:
                return
            for statement in _TABLES.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            for table, columns in _NEW_COLUMNS.items():
                present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
                for name, definition in columns:
                    if name not in present:
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")
            self._db.execute(_BACKFILL_DUE)
            for statement in _INDEXES.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection (tests measure the work a query does through it)."""
        return self._db

    def insert(
        self,
        task: NewTask,
        *,
        new_task_id: Callable[[], str],
        concurrency_limit: int,
        charge: Charge,
        keep_after: float | None,
    ) -> StoredTask:
        """Create a task atomically, after the duplicate, units and concurrency checks.

        `keep_after`: tasks created before this time are deleted first (None: none).
        """
        with self._transaction():
            if keep_after is not None:
                self._db.execute(
                    "DELETE FROM callbacks WHERE task_id IN "
                    "(SELECT task_id FROM tasks WHERE created < ?)",
                    (keep_after,),
                )
                self._db.execute("DELETE FROM tasks WHERE created < ?", (keep_after,))
            if task.external_task_id is not None:
                row = self._db.execute(
                    "SELECT 1 FROM tasks WHERE account = ? AND external_task_id = ?",
                    (task.account, task.external_task_id),
                ).fetchone()
                if row is not None:
                    raise DuplicateExternalIdError(task.external_task_id)
            charged = charge(self._usage(task.account))
            (running,) = self._db.execute(
                "SELECT COUNT(*) FROM tasks WHERE account = ? AND finish_at > ?",
                (task.account, task.created),
            ).fetchone()
            if running >= concurrency_limit:
                raise ConcurrencyLimitError(running)
            task_id = self._free_task_id(new_task_id)
            pack_id, units = charged if charged is not None else (None, None)
            self._db.execute(
                f"INSERT INTO tasks ({_COLUMNS}, callback_due, pack_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
                (
                    task_id,
                    task.account,
                    task.external_task_id,
                    task.created,
                    task.processing_at,
                    task.finish_at,
                    task.fail_message,
                    json.dumps(task.params),
                    task.endpoint,
                    None if units is None else str(units),
                    task.created if task.callback else None,
                    pack_id,
                ),
            )
            if pack_id is not None and units is not None:
                self._add_usage(task.account, pack_id, units)
        return StoredTask(
            task_id=task_id,
            account=task.account,
            external_task_id=task.external_task_id,
            created=task.created,
            processing_at=task.processing_at,
            finish_at=task.finish_at,
            fail_message=task.fail_message,
            params=task.params,
            delivered=0,
            endpoint=task.endpoint,
            units=None if units is None else str(units),
        )

    def _free_task_id(self, new_task_id: Callable[[], str]) -> str:
        for _ in range(1000):
            task_id = new_task_id()
            taken = self._db.execute("SELECT 1 FROM tasks WHERE task_id = ?", (task_id,))
            if taken.fetchone() is None:
                return task_id
        raise RuntimeError("no free task id after 1000 tries: the task id source repeats itself")

    def _usage(self, account: str) -> dict[str, Decimal]:
        rows = self._db.execute(
            "SELECT pack_id, used FROM pack_usage WHERE account = ?", (account,)
        ).fetchall()
        return {pack_id: Decimal(used) for pack_id, used in rows}

    def _add_usage(self, account: str, pack_id: str, units: Decimal) -> None:
        used = self._usage(account).get(pack_id, Decimal(0)) + units
        self._db.execute(
            "INSERT INTO pack_usage (account, pack_id, used) VALUES (?, ?, ?) "
            "ON CONFLICT (account, pack_id) DO UPDATE SET used = excluded.used",
            (account, pack_id, str(used)),
        )

    def usage(self, account: str) -> dict[str, Decimal]:
        """Units used per pack by the account's tasks so far."""
        with self._lock:
            return self._usage(account)

    def account_call(self, account: str, now: float, interval: float) -> float | None:
        """Record a call to the account endpoint; or, if the last was under `interval` s ago,
        record nothing and return how long to wait."""
        with self._transaction():
            row = self._db.execute(
                "SELECT at FROM account_calls WHERE account = ?", (account,)
            ).fetchone()
            if row is not None and 0 <= now - row[0] < interval:
                return float(interval - (now - row[0]))
            self._db.execute(
                "INSERT INTO account_calls (account, at) VALUES (?, ?) "
                "ON CONFLICT (account) DO UPDATE SET at = excluded.at",
                (account, now),
            )
        return None

    def _select(self, where: str, args: tuple[Any, ...]) -> list[StoredTask]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM tasks {where}", args).fetchall()
        return [_task(row) for row in rows]

    def find(self, account: str, endpoint: str, ident: str) -> StoredTask | None:
        """The account's task on `endpoint` whose task_id, or else external_task_id, is `ident`."""
        for column in ("task_id", "external_task_id"):
            found = self._select(
                f"WHERE account = ? AND {column} = ? AND endpoint = ?", (account, ident, endpoint)
            )
            if found:
                return found[0]
        return None

    def any_task(self, ident: str, endpoint: str) -> StoredTask | None:
        """A task on `endpoint`, of any account, whose task_id or external_task_id is `ident`."""
        for column in ("task_id", "external_task_id"):
            found = self._select(f"WHERE {column} = ? AND endpoint = ? LIMIT 1", (ident, endpoint))
            if found:
                return found[0]
        return None

    def by_task_id(self, task_id: str) -> StoredTask | None:
        found = self._select("WHERE task_id = ?", (task_id,))
        return found[0] if found else None

    def page(
        self,
        account: str,
        endpoint: str,
        page_num: int,
        page_size: int,
        created_by: float | None = None,
    ) -> list[StoredTask]:
        """One page of the account's tasks on `endpoint`, newest first (made by `created_by`)."""
        limit = float("inf") if created_by is None else created_by
        return self._select(
            "WHERE account = ? AND endpoint = ? AND created <= ? "
            "ORDER BY created DESC, seq DESC LIMIT ? OFFSET ?",
            (account, endpoint, limit, page_size, (page_num - 1) * page_size),
        )

    def all(self) -> list[StoredTask]:
        """Every task of every account, oldest first."""
        return self._select("ORDER BY created, seq", ())

    def due_callbacks(self, now: float) -> list[StoredTask]:
        """Tasks with a callback delivery due at `now` (an index lookup, not a scan)."""
        return self._select("WHERE callback_due IS NOT NULL AND callback_due <= ?", (now,))

    def record_deliveries(
        self, task: StoredTask, stage: int, deliveries: list[tuple[str, dict[str, Any]]], now: float
    ) -> None:
        """Record deliveries up to `stage`, once even with several processes racing."""
        with self._transaction():
            cursor = self._db.execute(
                "UPDATE tasks SET delivered = ?, callback_due = ? "
                "WHERE task_id = ? AND delivered = ?",
                (stage, _next_due(task, stage), task.task_id, task.delivered),
            )
            if cursor.rowcount == 1:
                self._db.executemany(
                    "INSERT INTO callbacks (url, task, task_id, at) VALUES (?, ?, ?, ?)",
                    [(url, json.dumps(obj), task.task_id, now) for url, obj in deliveries],
                )

    def callbacks(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute("SELECT url, task FROM callbacks ORDER BY seq").fetchall()
        return [(url, json.loads(task)) for url, task in rows]
