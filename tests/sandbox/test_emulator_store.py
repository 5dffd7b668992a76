"""The store and the server under load: SQLite shared by instances and processes, threads."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sandbox_helpers import COLLECTION, SSL_CONTEXT, Api, body, make_token, serving_process

from mivid.sandbox import Emulator, EmulatorServer, EmulatorTransport, FakeClock, Request
from polling import PATIENCE


def _create(emulator: Emulator, **fields: object) -> dict[str, Any]:
    payload = json.dumps(body(**fields)).encode()
    request = Request(
        "POST",
        COLLECTION,
        headers={
            "authorization": f"Bearer {make_token(emulator.clock)}",
            "content-type": "application/json",
        },
        body=payload,
        has_content_length=True,
    )
    answer: dict[str, Any] = json.loads(emulator.handle(request).body)
    return answer


def test_two_instances_on_one_file_share_tasks(tmp_path: Path) -> None:
    clock = FakeClock()
    keys = {"test-ak": "test-sk"}
    db = tmp_path / "sandbox.sqlite"
    with Emulator(access_keys=keys, clock=clock, db_path=db) as first:
        created = _create(first, external_task_id="shared", callback_url="http://127.0.0.1/h")
    assert created["code"] == 0
    clock.advance(6)
    with Emulator(access_keys=keys, clock=clock, db_path=db, concurrency_limit=1) as second:
        [task] = second.tasks()
        assert task["task_info"] == {"external_task_id": "shared"}
        assert task["task_status"] == "succeed"
        assert _create(second, external_task_id="shared")["code"] == 1201  # still unique
        assert [c.task["task_status"] for c in second.callbacks] == [
            "submitted",
            "processing",
            "succeed",
        ]


def test_another_process_sees_the_same_tasks(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite"
    with Emulator(access_keys={"test-ak": "test-sk"}, db_path=db) as emulator:
        assert _create(emulator, external_task_id="from-parent")["code"] == 0
    script = textwrap.dedent(
        f"""
        import json
        from mivid.sandbox import Emulator
        with Emulator(access_keys={{"test-ak": "test-sk"}}, db_path={str(db)!r}) as emulator:
            print(json.dumps([t["task_info"] for t in emulator.tasks()]))
        """
    )
    src = Path(__file__).resolve().parents[2] / "src"
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(src), "PATH": ""},
    )
    assert json.loads(result.stdout) == [{"external_task_id": "from-parent"}]


def test_concurrent_creates_respect_the_limit(emulator: Emulator) -> None:
    emulator.concurrency_limit = 3
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: _create(emulator)["code"], range(8)))
    assert sorted(codes) == [0, 0, 0] + [1303] * 5
    assert len(emulator.tasks()) == 3


def test_the_server_answers_many_clients_at_once(api: Api, server: EmulatorServer) -> None:
    def one(_: int) -> int:
        with httpx.Client(base_url=server.url, timeout=5, verify=SSL_CONTEXT) as client:
            code: int = client.get(COLLECTION, headers=api.headers()).json()["code"]
            return code

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert list(pool.map(one, range(20))) == [0] * 20


def test_a_keep_alive_connection_serves_many_requests(api: Api) -> None:
    ports = set()
    for _ in range(5):
        response = api.list()
        assert response.status_code == 200
        assert response.headers["content-length"] == str(len(response.content))
        stream = response.extensions["network_stream"]
        ports.add(stream.get_extra_info("client_addr"))
    assert len(ports) == 1  # one connection, reused


def test_error_answers_carry_content_length(api: Api) -> None:
    response = api.client.get(COLLECTION)
    assert response.status_code == 401
    assert response.headers["content-length"] == str(len(response.content))


def test_a_transport_and_a_server_can_share_one_emulator(api: Api) -> None:
    task_id = api.create_ok()["task_id"]
    transport = EmulatorTransport(api.emulator)
    with httpx.Client(transport=transport, base_url="http://in-process") as client:
        response = client.get(f"{COLLECTION}/{task_id}", headers=api.headers())
    assert response.json()["data"]["task_id"] == task_id


def test_run_server_serves_until_ctrl_c() -> None:
    script = (
        "from mivid.sandbox import run_server\n"
        "run_server(port=0, ready=lambda url: print(url, flush=True))\n"
        "print('stopped', flush=True)\n"
    )
    with serving_process(script) as served:
        # A fresh process answers its first request slowly on a busy machine.
        with httpx.Client(base_url=served.url, timeout=PATIENCE, verify=SSL_CONTEXT) as client:
            answer = client.get(COLLECTION, headers={"Authorization": "Bearer x"}).json()
        assert answer["code"] == 1002
    assert served.process.returncode == 0
    assert served.stdout == "stopped\n"
    assert served.stderr == ""  # quiet: no request log, no traceback
