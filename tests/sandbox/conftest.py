"""Fixtures for the emulator's own tests: a fake clock and a bare API client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_helpers import SSL_CONTEXT, Api

from mivid.sandbox import Emulator, EmulatorServer, FakeClock


@pytest.fixture
def clock(emulator: Emulator) -> FakeClock:
    assert isinstance(emulator.clock, FakeClock)
    return emulator.clock


@pytest.fixture
def api(server: EmulatorServer) -> Iterator[Api]:
    with httpx.Client(base_url=server.url, timeout=5, verify=SSL_CONTEXT) as client:
        yield Api(client, server.emulator)
