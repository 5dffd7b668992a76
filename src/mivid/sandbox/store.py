"""Where tasks live: SQLite, in memory or in a file shared by several processes.

A task is stored once, with the times at which it starts processing and ends;
its status is derived from the clock when it is read, so no background thread
moves tasks along and two processes on one file agree. Writes are short
`BEGIN IMMEDIATE` transactions; a file database runs in WAL mode with a busy
timeout so readers and writers of other processes wait instead of failing.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
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
CREATE INDEX IF NOT EXISTS tasks_by_account ON tasks (account, created);
CREATE TABLE IF NOT EXISTS callbacks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    task TEXT NOT NULL
);
"""

STATUSES = ("submitted", "processing", "succeed", "failed")


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

    def status_at(self, now: float) -> str:
        if now < self.processing_at:
            return "submitted"
        if now < self.finish_at:
            return "processing"
        return "failed" if self.fail_message is not None else "succeed"

    def changed_at(self, now: float) -> float:
        """When the status seen at `now` began."""
        status = self.status_at(now)
        if status == "submitted":
            return self.created
        if status == "processing":
            return self.processing_at
        return self.finish_at


_COLUMNS = (
    "task_id, account, external_task_id, created, processing_at, finish_at, "
    "fail_message, params, delivered"
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
    )


class TaskStore:
    """Tasks and recorded callbacks; safe to share between threads."""

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
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def insert(
        self,
        *,
        account: str,
        external_task_id: str | None,
        created: float,
        processing_at: float,
        finish_at: float,
        fail_message: str | None,
        params: dict[str, Any],
        concurrency_limit: int,
    ) -> StoredTask:
        """Create a task atomically, after the duplicate and concurrency checks."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if external_task_id is not None:
                    row = self._db.execute(
                        "SELECT 1 FROM tasks WHERE account = ? AND external_task_id = ?",
                        (account, external_task_id),
                    ).fetchone()
                    if row is not None:
                        raise DuplicateExternalIdError(external_task_id)
                (running,) = self._db.execute(
                    "SELECT COUNT(*) FROM tasks WHERE account = ? AND finish_at > ?",
                    (account, created),
                ).fetchone()
                if running >= concurrency_limit:
                    raise ConcurrencyLimitError(running)
                while True:
                    task_id = str(10**17 + secrets.randbelow(9 * 10**17))
                    exists = self._db.execute(
                        "SELECT 1 FROM tasks WHERE task_id = ?", (task_id,)
                    ).fetchone()
                    if exists is None:
                        break
                self._db.execute(
                    f"INSERT INTO tasks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                    (
                        task_id,
                        account,
                        external_task_id,
                        created,
                        processing_at,
                        finish_at,
                        fail_message,
                        json.dumps(params),
                    ),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return StoredTask(
            task_id=task_id,
            account=account,
            external_task_id=external_task_id,
            created=created,
            processing_at=processing_at,
            finish_at=finish_at,
            fail_message=fail_message,
            params=params,
            delivered=0,
        )

    def _select(self, where: str, args: tuple[Any, ...]) -> list[StoredTask]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM tasks {where}", args).fetchall()
        return [_task(row) for row in rows]

    def find(self, account: str, ident: str) -> StoredTask | None:
        """The account's task whose task_id, or else external_task_id, is `ident`."""
        for column in ("task_id", "external_task_id"):
            found = self._select(f"WHERE account = ? AND {column} = ?", (account, ident))
            if found:
                return found[0]
        return None

    def by_task_id(self, task_id: str) -> StoredTask | None:
        found = self._select("WHERE task_id = ?", (task_id,))
        return found[0] if found else None

    def page(self, account: str, page_num: int, page_size: int) -> list[StoredTask]:
        """One page of the account's tasks, newest first."""
        return self._select(
            "WHERE account = ? ORDER BY created DESC, seq DESC LIMIT ? OFFSET ?",
            (account, page_size, (page_num - 1) * page_size),
        )

    def all(self) -> list[StoredTask]:
        """Every task of every account, oldest first."""
        return self._select("ORDER BY created, seq", ())

    def undelivered(self, now: float) -> list[StoredTask]:
        """Tasks with a callback_url whose status moved since the last delivery."""
        tasks = self._select("WHERE delivered < 3 AND params LIKE '%callback_url%'", ())
        return [
            task
            for task in tasks
            if task.params.get("callback_url") and task.delivered < stage_of(task, now)
        ]

    def record_deliveries(
        self, task: StoredTask, stage: int, deliveries: list[tuple[str, dict[str, Any]]]
    ) -> None:
        """Record deliveries up to `stage`, once even with several processes racing."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(
                    "UPDATE tasks SET delivered = ? WHERE task_id = ? AND delivered = ?",
                    (stage, task.task_id, task.delivered),
                )
                if cursor.rowcount == 1:
                    self._db.executemany(
                        "INSERT INTO callbacks (url, task) VALUES (?, ?)",
                        [(url, json.dumps(obj)) for url, obj in deliveries],
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def callbacks(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute("SELECT url, task FROM callbacks ORDER BY seq").fetchall()
        return [(url, json.loads(task)) for url, task in rows]


def stage_of(task: StoredTask, now: float) -> int:
    """How many statuses the task has been through at `now` (1 to 3)."""
    return {"submitted": 1, "processing": 2}.get(task.status_at(now), 3)
