"""A strict emulator of Kling's Multi-Image to Video API, written from the contract alone.

It backs the test suite (`EmulatorServer` on 127.0.0.1) and `mivid --sandbox`
(`EmulatorTransport`, in-process), and `mivid sandbox serve` (`run_server`).
It imports nothing from the rest of mivid on purpose: a client that misreads
the contract is then caught here instead of agreeing with itself.

    emu = Emulator(access_keys={"ak": "sk"}, clock=FakeClock())
    with EmulatorServer(emu) as server:
        ...  # talk to server.url; emu.inject(Fault.error(5000, on="create")); emu.tasks()
"""

from mivid.sandbox.app import (
    DEFAULT_FAILURE_MESSAGE,
    FAIL_MARKER,
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    Callback,
    Emulator,
    ReceivedRequest,
    Request,
    Response,
)
from mivid.sandbox.clock import FakeClock
from mivid.sandbox.faults import Fault
from mivid.sandbox.server import EmulatorServer, EmulatorTransport, run_server

__all__ = [
    "DEFAULT_FAILURE_MESSAGE",
    "FAIL_MARKER",
    "SANDBOX_ACCESS_KEY",
    "SANDBOX_SECRET_KEY",
    "Callback",
    "Emulator",
    "EmulatorServer",
    "EmulatorTransport",
    "FakeClock",
    "Fault",
    "ReceivedRequest",
    "Request",
    "Response",
    "run_server",
]
