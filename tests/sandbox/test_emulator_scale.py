"""A long-lived sandbox stays small and quick: digests instead of bodies, indexed queries
whatever the number of tasks, old tasks trimmed, a first-release state file migrated."""

from __future__ import annotations

import base64
import gc
import hashlib
import io
import json
import random
import sqlite3
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sandbox_helpers import COLLECTION, OMNI, MakeApi, body, image_bytes, make_token

from mivid.sandbox import Emulator, FakeClock, Request
from mivid.sandbox.received import LONG_TEXT, digested
from mivid.sandbox.store import SCHEMA_VERSION

DAY = 86_400.0


def noisy_png(width: int, height: int, seed: int = 1) -> bytes:
    """A real PNG that does not compress: its bytes are about 3 x width x height."""
    pixels = random.Random(seed).randbytes(width * height * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), pixels).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


# -- what is remembered of a request ----------------------------------------------------------


def test_requests_are_remembered_by_digest_by_default(emulated: MakeApi) -> None:
    api = emulated()
    png = image_bytes(500, 400)
    url = "https://example.com/b.png"
    image_list = [{"image": base64.b64encode(png).decode()}, {"image": url}]
    sent = json.dumps(body(image_list=image_list, prompt="p" * 2500, external_task_id="d-1"))
    headers = {**api.headers(), "Content-Type": "application/json"}
    assert api.client.post(COLLECTION, content=sent, headers=headers).json()["code"] == 0
    [received] = api.emulator.received
    assert received.body_length == len(sent)
    assert received.body_sha256 == hashlib.sha256(sent.encode()).hexdigest()
    assert received.json["image_list"] == [
        {"image": {"sha256": hashlib.sha256(png).hexdigest(), "length": len(png)}},
        {"image": url},  # a URL stays readable
    ]
    assert received.json["prompt"] == "p" * 2500
    assert received.json["external_task_id"] == "d-1"
    with pytest.raises(LookupError, match="keep_bodies=True"):
        _ = received.body


def test_omni_images_and_long_strings_are_digested_too(emulated: MakeApi) -> None:
    api = emulated()
    png = image_bytes()
    api.client.post(
        OMNI,
        json={
            "image_list": [{"image_url": base64.b64encode(png).decode(), "type": "first_frame"}],
            "prompt": "not Base64! " * 500,
        },
        headers=api.headers(),
    )
    [received] = api.emulator.received
    assert received.json["image_list"][0] == {
        "image_url": {"sha256": hashlib.sha256(png).hexdigest(), "length": len(png)},
        "type": "first_frame",
    }
    text = ("not Base64! " * 500).encode()
    assert received.json["prompt"] == {
        "sha256": hashlib.sha256(text).hexdigest(),
        "length": len(text),
        "base64": False,
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.text(min_size=4097),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value.keys(), *(s for item in value.values() for s in _strings(item))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


@settings(max_examples=50)
@given(value=json_values)
def test_a_digest_keeps_no_long_string_and_nothing_short_changes(value: Any) -> None:
    kept = digested(value)
    assert all(len(text) <= LONG_TEXT for text in _strings(kept))
    if all(len(text) <= LONG_TEXT for text in _strings(value)) and "image_list" not in _strings(
        value
    ):
        assert kept == value


def test_a_request_without_a_body_has_an_empty_one(emulated: MakeApi) -> None:
    api = emulated()
    api.list()
    [received] = api.emulator.received
    assert (received.body, received.body_length, received.json) == (b"", 0, None)


def test_bodies_can_be_kept_for_byte_for_byte_tests(emulated: MakeApi) -> None:
    api = emulated(keep_bodies=True)
    sent = json.dumps(body()).encode()
    headers = {**api.headers(), "Content-Type": "application/json"}
    assert api.client.post(COLLECTION, content=sent, headers=headers).json()["code"] == 0
    [received] = api.emulator.received
    assert received.body == sent
    assert isinstance(received.json["image_list"][0]["image"], str)


def test_the_received_log_keeps_the_last_requests_only(emulated: MakeApi) -> None:
    api = emulated(received_limit=10)
    for page in range(1, 31):
        api.list(pageNum=page)
    assert 10 <= len(api.emulator.received) <= 13
    assert api.emulator.received[-1].query == {"pageNum": "30"}


def test_memory_stays_flat_over_big_creates() -> None:
    """Ten creates of a 2.7 MB body leave (almost) nothing behind in the emulator."""
    clock = FakeClock()
    image = base64.b64encode(noisy_png(820, 820)).decode()
    payload = json.dumps(body(image_list=[{"image": image}])).encode()
    assert len(payload) > 2_500_000
    with Emulator(access_keys={"test-ak": "test-sk"}, clock=clock, concurrency_limit=100) as emu:

        def create() -> None:
            request = Request(
                "POST",
                COLLECTION,
                headers={
                    "authorization": f"Bearer {make_token(clock)}",
                    "content-type": "application/json",
                },
                body=payload,
                has_content_length=True,
            )
            assert json.loads(emu.handle(request).body)["code"] == 0

        create()  # warm up: first-use caches, imports
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(10):
                create()
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert grown < 200_000, f"{grown} bytes kept after 10 creates of {len(payload)} bytes"


# -- query work does not grow with the number of tasks ------------------------------------------


def _fill(emulator: Emulator, count: int) -> None:
    """`count` finished tasks of one account, half with callbacks all delivered, straight in."""
    now = emulator.clock()
    params = json.dumps(
        {
            "model_name": "kling-v1-6",
            "mode": "std",
            "duration": "5",
            "prompt": "p",
            "images": 1,
            "callback_url": "https://e.com/h",
        }
    )
    rows = [
        (
            f"{10**17 + index}",
            "test-ak",
            f"ext-{index}",
            now - 100 - index,
            now - 99,
            now - 90,
            params if index % 2 else params.replace(', "callback_url": "https://e.com/h"', ""),
            3,
        )
        for index in range(count)
    ]
    db = emulator.store.connection
    db.executemany(
        "INSERT INTO tasks (task_id, account, external_task_id, created, processing_at, "
        "finish_at, params, delivered) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _work(emulator: Emulator, request: Request) -> int:
    """SQLite virtual-machine steps (in hundreds) the emulator's store spends on `request`."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    db = emulator.store.connection
    db.set_progress_handler(count, 100)
    try:
        response = emulator.handle(request)
    finally:
        db.set_progress_handler(None, 100)
    assert response.status in (200, 400, 404), response.body
    return steps[0]


@pytest.mark.parametrize(
    "path",
    [
        f"{COLLECTION}/{10**17 + 7}",  # by task id
        f"{COLLECTION}/ext-7",  # by external id
        f"{COLLECTION}/nowhere",  # not found
        f"{OMNI}/ext-7",  # not on this endpoint
        COLLECTION,  # a page of the list
    ],
)
def test_a_query_does_the_same_work_with_100_or_20000_tasks(path: str) -> None:
    works = []
    for count in (100, 20_000):
        with Emulator(access_keys={"test-ak": "test-sk"}, clock=FakeClock()) as emulator:
            _fill(emulator, count)
            headers = {"authorization": f"Bearer {make_token(emulator.clock)}"}
            works.append(_work(emulator, Request("GET", path, headers=headers)))
    small, large = works
    assert large <= small + 2, f"{small} -> {large} (x100 steps) from 100 to 20,000 tasks"


def test_callbacks_due_are_found_without_a_scan() -> None:
    with Emulator(access_keys={"test-ak": "test-sk"}, clock=FakeClock()) as emulator:
        _fill(emulator, 20_000)
        plan = emulator.store.connection.execute(
            "EXPLAIN QUERY PLAN SELECT task_id FROM tasks "
            "WHERE callback_due IS NOT NULL AND callback_due <= ?",
            (emulator.clock(),),
        ).fetchall()
    assert "USING INDEX tasks_callback_due" in " ".join(str(row[-1]) for row in plan)


# -- old tasks are trimmed ----------------------------------------------------------------------


def test_tasks_older_than_a_month_are_trimmed(emulated: MakeApi) -> None:
    api = emulated()
    old = api.create_ok(external_task_id="old", callback_url="https://e.com/h")["task_id"]
    api.clock.advance(29 * DAY)
    kept = api.create_ok()["task_id"]
    assert {t["task_id"] for t in api.emulator.tasks()} == {old, kept}
    api.clock.advance(2 * DAY)  # `old` is now 31 days old, `kept` 2
    newest = api.create_ok(external_task_id="old")["task_id"]  # the id is free again
    assert {t["task_id"] for t in api.emulator.tasks()} == {kept, newest}
    assert api.get(old).status_code == 404
    assert all(c.task["task_id"] != old for c in api.emulator.callbacks)


def test_trimming_can_be_turned_off(emulated: MakeApi) -> None:
    api = emulated(task_retention=None)
    api.create_ok()
    api.clock.advance(400 * DAY)
    api.create_ok()
    assert len(api.emulator.tasks()) == 2


def test_the_state_file_is_trimmed_by_the_emulators_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    db = tmp_path / "sandbox.sqlite3"
    keys = {"test-ak": "test-sk"}

    def create(emulator: Emulator) -> None:
        request = Request(
            "POST",
            COLLECTION,
            headers={
                "authorization": f"Bearer {make_token(clock)}",
                "content-type": "application/json",
            },
            body=json.dumps(body()).encode(),
            has_content_length=True,
        )
        assert json.loads(emulator.handle(request).body)["code"] == 0

    with Emulator(access_keys=keys, clock=clock, db_path=db) as first:
        create(first)
    clock.advance(31 * DAY)
    with Emulator(access_keys=keys, clock=clock, db_path=db) as second:
        create(second)
        assert len(second.tasks()) == 1
    (count,) = sqlite3.connect(db).execute("SELECT COUNT(*) FROM tasks").fetchone()
    assert count == 1


# -- a state file from the first release ----------------------------------------------------------

FIRST_RELEASE_SCHEMA = """
CREATE TABLE tasks (
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
CREATE INDEX tasks_by_account ON tasks (account, created);
CREATE TABLE callbacks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    task TEXT NOT NULL
);
"""


def test_a_first_release_state_file_is_migrated_losing_nothing(tmp_path: Path) -> None:
    clock = FakeClock()
    now = clock()
    db = tmp_path / "sandbox.sqlite3"
    old = sqlite3.connect(db)
    old.executescript(FIRST_RELEASE_SCHEMA)
    params = {
        "model_name": "kling-v1-6",
        "prompt": "old",
        "mode": "pro",
        "duration": "10",
        "aspect_ratio": "16:9",
        "watermark": False,
        "images": 2,
        "callback_url": "https://e.com/h",
    }
    old.execute(
        "INSERT INTO tasks (task_id, account, external_task_id, created, processing_at, "
        "finish_at, fail_message, params, delivered) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, 1)",
        ("123456789012345678", "test-ak", "kept", now - 2, now - 1, now + 4, json.dumps(params)),
    )
    old.execute("INSERT INTO callbacks (url, task) VALUES (?, ?)", ("https://e.com/h", "{}"))
    old.commit()
    old.close()

    with Emulator(
        access_keys={"test-ak": "test-sk"}, clock=clock, db_path=db, units="whole"
    ) as emulator:
        [task] = emulator.tasks("multi-image2video")
        assert task["task_info"] == {"external_task_id": "kept"}
        assert task["task_status"] == "processing"
        clock.advance(10)
        [done] = emulator.tasks()
        assert done["final_unit_deduction"] == "4"  # priced from its parameters
        statuses = [c.task.get("task_status") for c in emulator.callbacks]
        assert statuses == [None, "processing", "succeed"]  # the old delivery, then those due
    (version,) = sqlite3.connect(db).execute("PRAGMA user_version").fetchone()
    assert version == SCHEMA_VERSION


def test_migrating_twice_is_harmless(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite3"
    for _ in range(2):
        with Emulator(clock=FakeClock(), db_path=db) as emulator:
            assert emulator.tasks() == []
