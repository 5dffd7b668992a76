"""A strict emulator of Kling's video API (Multi-Image to Video, Omni-Video, account costs),
written from the contract alone.

It backs the test suite (`EmulatorServer` on 127.0.0.1) and `mivid --sandbox`
(`EmulatorTransport`, in-process), and `mivid sandbox serve` (`run_server`).
It imports nothing from the rest of mivid on purpose: a client that misreads
the contract is then caught here instead of agreeing with itself.

    emu = Emulator(access_keys={"ak": "sk"}, clock=FakeClock(), answers="live")
    with EmulatorServer(emu) as server:
        ...  # talk to server.url; emu.inject(Fault.error(5000, on="create")); emu.tasks()

Where things are: `endpoints` (the endpoints as data), `validation` (create
bodies), `answers` (documented or live wording), `billing` (resource packs),
`faults` (injected trouble), `store` (SQLite), `received` (what tests inspect),
`server` (sockets and the httpx transport).
"""

from mivid.sandbox.answers import DEFAULT_ANSWERS, DOCUMENTED, LIVE, AnswerForms
from mivid.sandbox.app import (
    DEFAULT_FAILURE_MESSAGE,
    FAIL_MARKER,
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    Callback,
    Emulator,
    EmulatorOptions,
)
from mivid.sandbox.billing import ResourcePack
from mivid.sandbox.clock import FakeClock
from mivid.sandbox.endpoints import CREATE_ENDPOINTS, MULTI_IMAGE, OMNI_VIDEO, CreateEndpoint
from mivid.sandbox.faults import Fault
from mivid.sandbox.received import ReceivedRequest
from mivid.sandbox.server import EmulatorServer, EmulatorTransport, run_server
from mivid.sandbox.wire import Request, Response

__all__ = [
    "CREATE_ENDPOINTS",
    "DEFAULT_ANSWERS",
    "DEFAULT_FAILURE_MESSAGE",
    "DOCUMENTED",
    "FAIL_MARKER",
    "LIVE",
    "MULTI_IMAGE",
    "OMNI_VIDEO",
    "SANDBOX_ACCESS_KEY",
    "SANDBOX_SECRET_KEY",
    "AnswerForms",
    "Callback",
    "CreateEndpoint",
    "Emulator",
    "EmulatorOptions",
    "EmulatorServer",
    "EmulatorTransport",
    "FakeClock",
    "Fault",
    "ReceivedRequest",
    "Request",
    "ResourcePack",
    "Response",
    "run_server",
]
