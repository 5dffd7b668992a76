"""The journal of creates: intent before sending, outcome after, safe across processes."""

from __future__ import annotations

import threading
from pathlib import Path

from imagefactory import make_png
from mivid.journal import NOT_CREATED, SENDING, UNKNOWN, Journal
from mivid.submission import PreparedCreate, prepare_create

SERVICE = "https://kling.test"


def prepared(tmp_path: Path, external: str = "ext-1") -> PreparedCreate:
    image = make_png(tmp_path / "front.png", (640, 480))
    return prepare_create(
        [str(image), "https://example.com/b.jpg"],
        prompt="waves",
        model_name="kling-v1-6",
        mode="std",
        duration="5",
        aspect_ratio="16:9",
        external_task_id=external,
    )


def test_intent_then_task(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite3") as journal:
        journal.record_intent(prepared(tmp_path), service=SERVICE, sandbox=True)
        (entry,) = journal.entries(unsettled_only=True)
        assert entry.status == SENDING and entry.task_id is None and entry.sandbox
        assert entry.request["prompt"] == "waves" and "image_list" not in entry.request
        local, remote = entry.images
        assert (local["width"], local["height"]) == (640, 480)
        assert len(local["sha256"]) == 64 and local["name"].endswith("front.png")
        assert remote == {"url": "https://example.com/b.jpg", "role": "reference"}
        assert local["role"] == "reference"
        assert journal.record_task(
            {
                "task_id": "86",
                "task_status": "submitted",
                "task_info": {"external_task_id": "ext-1"},
            },
            service=SERVICE,
        )
        assert journal.entries(unsettled_only=True) == []
        assert journal.record_task({"task_id": "86", "task_status": "succeed"}, service=SERVICE)
        found = journal.find("86")
        assert found is not None and found.status == "succeed" and found.external_task_id == "ext-1"
        assert not journal.record_task({"task_id": "99", "task_status": "succeed"}, service=SERVICE)


def test_failures_and_filters(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite3") as journal:
        journal.record_intent(prepared(tmp_path, "a"), service=SERVICE)
        journal.record_intent(prepared(tmp_path, "b"), service=SERVICE)
        journal.record_intent(prepared(tmp_path, "c"), service="https://other.test")
        journal.record_failure("a", "timed out", service=SERVICE)
        journal.record_failure("b", "refused", service=SERVICE, created=False)
        assert [e.external_task_id for e in journal.entries()] == ["c", "b", "a"]
        assert [e.external_task_id for e in journal.entries(limit=1)] == ["c"]
        unsettled = journal.entries(unsettled_only=True, service=SERVICE)
        assert [(e.external_task_id, e.status, e.error) for e in unsettled] == [
            ("a", UNKNOWN, "timed out")
        ]
        b = journal.find("b")
        assert b is not None and b.status == NOT_CREATED
        assert journal.find("nope") is None


def test_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    ready = prepared(tmp_path)
    Journal.open(path).close()

    def write(n: int) -> None:
        with Journal.open(path) as journal:
            for i in range(20):
                journal.record_intent(
                    PreparedCreate(
                        ready.request.replaced(external_task_id=f"{n}-{i}"),
                        ready.images,
                    ),
                    service=SERVICE,
                )

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Journal.open(path) as journal:
        assert len(journal.entries()) == 80
