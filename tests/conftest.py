"""Suite-wide fixtures: a hermetic environment, and the API emulator on 127.0.0.1.

Every test runs with HOME and the XDG directories inside its tmp_path, no
KLING_* or MIVID_* variable from the developer's shell, and COLUMNS=120.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from mivid.sandbox import Emulator, EmulatorServer, FakeClock

TEST_ACCESS_KEY = "test-ak"
TEST_SECRET_KEY = "test-sk"
TEST_API_KEY = "test-api-key"

# Hypothesis' per-example deadline and its "too slow" health check measure wall
# time, which a loaded machine stretches: they would fail a correct test. CI also
# derandomizes, so a run there gives the same examples as the run before it.
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci",
    parent=settings.get_profile("dev"),
    derandomize=True,
    database=None,
    print_blob=True,
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_configure(config: pytest.Config) -> None:
    # PyJWT warns about HMAC secrets shorter than 32 bytes; the tests' "test-sk"
    # is short on purpose (it is the contract's credential shape, not its length).
    config.addinivalue_line("filterwarnings", "ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture(autouse=True)
def hermetic_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's home, config and credentials out of every test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_DATA_HOME", ".local/share"),
    ):
        monkeypatch.setenv(name, str(home / sub))
    for name in list(os.environ):
        if name.startswith(("KLING_", "MIVID_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "120")


@pytest.fixture
def fake_clock() -> FakeClock:
    """Starts at the real time: mivid signs its JWTs with this machine's clock."""
    return FakeClock(start=float(int(time.time())))


@pytest.fixture
def emulator(fake_clock: FakeClock) -> Iterator[Emulator]:
    """An emulator with one access key pair, one API key and a fake clock (`emulator.clock`)."""
    emu = Emulator(
        access_keys={TEST_ACCESS_KEY: TEST_SECRET_KEY},
        api_keys={TEST_API_KEY},
        clock=fake_clock,
        concurrency_limit=5,
        keep_bodies=True,  # tests compare the bytes mivid sent
    )
    yield emu
    emu.close()


@pytest.fixture
def server(emulator: Emulator) -> Iterator[EmulatorServer]:
    """`emulator` served on 127.0.0.1; `server.url`, `server.emulator`."""
    with EmulatorServer(emulator) as running:
        yield running


@pytest.fixture
def kling_env(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """Point mivid at the emulator through the environment, with the test keys."""
    monkeypatch.setenv("KLING_BASE_URL", server.url)
    monkeypatch.setenv("KLING_ACCESS_KEY", TEST_ACCESS_KEY)
    monkeypatch.setenv("KLING_SECRET_KEY", TEST_SECRET_KEY)
    return server
