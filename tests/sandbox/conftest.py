"""Fixtures for the emulator's own tests: a fake clock, a bare API client, and emulators
made with options (in-process through the transport, or on a socket)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sandbox_helpers import SSL_CONTEXT, Api, MakeApi

from mivid.sandbox import Emulator, EmulatorServer, EmulatorTransport, FakeClock


@pytest.fixture
def emulator(fake_clock: FakeClock) -> Iterator[Emulator]:
    """The suite's emulator (see tests/conftest.py), pinned to the documented answer forms:
    the tests here that use it check those forms whatever `DEFAULT_ANSWERS` says; the live
    forms have their own tests."""
    emu = Emulator(
        access_keys={"test-ak": "test-sk"},
        api_keys={"test-api-key"},
        clock=fake_clock,
        concurrency_limit=5,
        keep_bodies=True,
        answers="documented",
    )
    yield emu
    emu.close()


@pytest.fixture
def clock(emulator: Emulator) -> FakeClock:
    assert isinstance(emulator.clock, FakeClock)
    return emulator.clock


@pytest.fixture
def api(server: EmulatorServer) -> Iterator[Api]:
    with httpx.Client(base_url=server.url, timeout=5, verify=SSL_CONTEXT) as client:
        yield Api(client, server.emulator)


@pytest.fixture
def emulated() -> Iterator[MakeApi]:
    """Make an emulator with `options` (test keys, a FakeClock, the documented answer forms
    unless `answers` says otherwise) and a client that reaches it in-process; closed at the
    end of the test."""
    made: list[tuple[Emulator, httpx.Client]] = []

    def make(**options: Any) -> Api:
        options.setdefault("clock", FakeClock())
        options.setdefault("answers", "documented")
        emulator = Emulator(
            access_keys={"test-ak": "test-sk"}, api_keys={"test-api-key"}, **options
        )
        client = httpx.Client(
            transport=EmulatorTransport(emulator), base_url="http://kling.test", timeout=5
        )
        made.append((emulator, client))
        return Api(client, emulator)

    yield make
    for emulator, client in made:
        client.close()
        emulator.close()


@pytest.fixture
def served() -> Iterator[MakeApi]:
    """Like `emulated`, but over a real socket on 127.0.0.1 (for faults that take real time)."""
    made: list[tuple[Emulator, EmulatorServer, httpx.Client]] = []

    def make(**options: Any) -> Api:
        options.setdefault("clock", FakeClock())
        options.setdefault("answers", "documented")
        emulator = Emulator(
            access_keys={"test-ak": "test-sk"}, api_keys={"test-api-key"}, **options
        )
        server = EmulatorServer(emulator).start()
        client = httpx.Client(base_url=server.url, timeout=5, verify=SSL_CONTEXT)
        made.append((emulator, server, client))
        return Api(client, emulator)

    yield make
    for emulator, server, client in made:
        client.close()
        server.stop()
        emulator.close()
