"""Suite-wide fixtures: a hermetic environment, the API emulator, and the command line.

Every test runs with HOME and the XDG directories inside its tmp_path, no
KLING_* or MIVID_* variable from the developer's shell, and COLUMNS=120.

`mivid(*args, input=..., env=...)` runs the real command line in this process
through `mivid.cli.run`, the same error boundary the console script uses, with
stdin, stdout and stderr captured apart. When the test uses the `server`
fixture, every request goes to that emulator through its in-process transport
(no socket); `mivid_process(...)` runs `python -m mivid` over the real socket,
for what only a real process shows (signals, pipes, start-up).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from helpers import Result, RunMivid, Sleepless, run_process
from helpers import Serve as Serve  # re-exported: test modules name the fixture's type here too
from mivid.cli import run
from mivid.clock import Clock
from mivid.sandbox import Emulator, EmulatorServer, EmulatorTransport, FakeClock

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
    monkeypatch.chdir(Path.cwd())  # restored after the test (an in-process terminal may move it)


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
def servers() -> list[EmulatorServer]:
    """Every emulator served in this test (the in-process `mivid` routes to them)."""
    return []


@pytest.fixture
def server(emulator: Emulator, servers: list[EmulatorServer]) -> Iterator[EmulatorServer]:
    """`emulator` served on 127.0.0.1; `server.url`, `server.emulator`."""
    with EmulatorServer(emulator) as running:
        servers.append(running)
        yield running


@pytest.fixture
def serve(servers: list[EmulatorServer], monkeypatch: pytest.MonkeyPatch) -> Iterator[Serve]:
    """`serve(emulator, keys=(ak, sk))`: serve another emulator and point mivid at it.

    Sets KLING_BASE_URL and the key pair; the emulator is closed after the test.
    """
    with ExitStack() as stack:

        def start(
            emulator: Emulator, *, keys: tuple[str, str] = ("test-ak", "test-sk")
        ) -> EmulatorServer:
            stack.callback(emulator.close)
            running = stack.enter_context(EmulatorServer(emulator))
            servers.append(running)
            monkeypatch.setenv("KLING_BASE_URL", running.url)
            monkeypatch.setenv("KLING_ACCESS_KEY", keys[0])
            monkeypatch.setenv("KLING_SECRET_KEY", keys[1])
            return running

        yield start


@pytest.fixture
def kling_env(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """Point mivid at the emulator through the environment, with the test keys."""
    monkeypatch.setenv("KLING_BASE_URL", server.url)
    monkeypatch.setenv("KLING_ACCESS_KEY", TEST_ACCESS_KEY)
    monkeypatch.setenv("KLING_SECRET_KEY", TEST_SECRET_KEY)
    return server


@pytest.fixture
def api(kling_env: EmulatorServer, fake_clock: FakeClock) -> EmulatorServer:
    """`kling_env`, its clock set to this very moment: mivid signs its JWTs with the real time.

    (A module may define its own `api`, an emulator served with other options.)
    """
    fake_clock.set(time.time())
    return kling_env


class InProcess(httpx.BaseTransport):
    """Requests to a served emulator's URL go to it in this process; others to the network."""

    def __init__(self, servers: list[EmulatorServer]) -> None:
        self.servers = servers
        # Made when first needed: an HTTPTransport loads the CA bundle (tens of ms a test).
        self.network: httpx.HTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for server in self.servers:
            url = httpx.URL(server.url)
            if (request.url.host, request.url.port) == (url.host, url.port):
                return EmulatorTransport(server.emulator).handle_request(request)
        if self.network is None:
            self.network = httpx.HTTPTransport()
        return self.network.handle_request(request)

    def close(self) -> None:
        if self.network is not None:
            self.network.close()


@pytest.fixture
def mivid(servers: list[EmulatorServer]) -> Iterator[RunMivid]:
    """The command line, in this process (see the module docstring)."""
    transport = InProcess(servers)

    def invoke(
        *args: str,
        input: str | bytes | None = None,
        env: Mapping[str, str | None] | None = None,
        clock: Clock | None = None,
    ) -> Result:
        runner = CliRunner()
        with runner.isolation(input=input, env=env) as (out, err, _mixed):
            code = run(list(args), transport=transport, clock=clock)
            sys.stdout.flush()
            sys.stderr.flush()
            return Result(code, out.getvalue().decode(), err.getvalue().decode())

    yield invoke
    transport.close()


@pytest.fixture
def sleepless(fake_clock: FakeClock) -> Sleepless:
    """Pass as `mivid(..., clock=sleepless)`: waits take no real time, the emulator's tasks age."""
    return Sleepless(fake_clock)


@pytest.fixture
def mivid_process() -> RunMivid:
    """`python -m mivid` as a separate process (over a real socket to the `server`)."""
    return run_process
