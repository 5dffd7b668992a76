"""The emulator's options: one list for `Emulator` and `run_server`.

(That the sandbox imports nothing else of mivid is tests/test_layers.py's.)"""

from __future__ import annotations

import inspect
import time

import httpx
import pytest
from sandbox_helpers import COLLECTION, SSL_CONTEXT, body, make_token, serving_process

from mivid.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Emulator, EmulatorOptions
from mivid.sandbox import run_server as run_server_function
from polling import PATIENCE


def test_every_emulator_option_can_be_given_to_run_server() -> None:
    parameters = set(inspect.signature(Emulator.__init__).parameters) - {"self"}
    assert parameters == set(EmulatorOptions.__annotations__)


def test_run_server_takes_options_or_an_emulator_not_both() -> None:
    with Emulator() as emulator, pytest.raises(ValueError, match="not both"):
        run_server_function(port=0, emulator=emulator, answers="live")


def test_run_server_makes_its_emulator_from_options() -> None:
    script = (
        "from mivid.sandbox import run_server\n"
        "run_server(port=0, ready=lambda url: print(url, flush=True), answers='live',"
        " units_left=0)\n"
    )
    with serving_process(script) as served:
        token = make_token(time.time, SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY)
        with httpx.Client(base_url=served.url, timeout=PATIENCE, verify=SSL_CONTEXT) as client:
            headers = {"Authorization": f"Bearer {token}"}
            missing = client.get(f"{COLLECTION}/nope", headers=headers).json()
            created = client.post(COLLECTION, json=body(), headers=headers).json()
        assert missing == {
            "code": 1201,
            "message": "Task not found by id/external id: nope",
            "data": None,
        }
        assert created["code"] == 1102
    assert served.process.returncode == 0
