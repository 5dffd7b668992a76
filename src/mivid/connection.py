"""From settings to a ready KlingClient: the real service, the built-in sandbox, or a given transport.

With `--sandbox` (or `MIVID_SANDBOX=1`) every request goes to the emulator in
this process through an httpx transport: no keys, no network, nothing billed.
Its tasks live in a SQLite file in the state folder, so `create` in one run and
`wait` in the next see the same tasks. `build_emulator` is the one place the
client side builds an emulator (for `--sandbox` and for `mivid sandbox serve`).
A transport handed to `mivid.cli.run` (tests) replaces the network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mivid.auth import Credentials, JwtCredentials, Secrets, credentials_from_settings
from mivid.settings import Settings, state_dir

if TYPE_CHECKING:
    import httpx

    from mivid.client import KlingClient, RequestEvent

SANDBOX_BASE_URL = "http://sandbox.mivid.invalid"
#: The static API key `mivid sandbox serve` accepts besides the sandbox's key pair.
SANDBOX_API_KEY = "sandbox-api-key"


def sandbox_db_path() -> Path:
    return state_dir() / "sandbox.sqlite3"


@dataclass(frozen=True)
class EmulatorWorld:
    """How the emulator answers, beyond its timing: `mivid sandbox serve`'s options.

    `answers`: "live" (the default: what the live service really answers) or
    "documented" (the contract's table). `retired_models`: model → the day
    (YYYY-MM-DD) from which a create naming it is refused, added to the
    preset's. `video_head_status`: the video host answers HEAD with it (403, 405).
    """

    answers: str | None = None
    retired_models: Mapping[str, str] = field(default_factory=dict)
    video_head_status: int | None = None

    def options(self) -> dict[str, Any]:
        """The `Emulator` keyword arguments for this world."""
        from mivid.sandbox import DEFAULT_ANSWERS, DOCUMENTED, LIVE

        options: dict[str, Any] = {}
        preset = {"documented": DOCUMENTED, "live": LIVE}[self.answers or DEFAULT_ANSWERS]
        if self.answers is not None:
            options["answers"] = self.answers
        if self.retired_models:
            options["retired_models"] = {**preset.retired_models, **self.retired_models}
        if self.video_head_status is not None:
            options["video_head_status"] = self.video_head_status
        return options


def build_emulator(
    *,
    task_seconds: float,
    db_path: Path | None = None,
    api_keys: bool = False,
    concurrency_limit: int | None = None,
    video_base_url: str | None = None,
    units_left: float | None = None,
    world: EmulatorWorld | None = None,
    clock: Callable[[], float] | None = None,
) -> Any:
    """The emulator with the sandbox's credentials (and its API key with `api_keys`).

    A task is `processing` after a third of `task_seconds` (at most 1 s) and
    ends after `task_seconds`. `units_left`: its one video pack holds only so
    many units (0: used up, creates refused with 1102). `world` says how it
    answers (default: as the live service does). Returns a `mivid.sandbox.Emulator`.
    """
    from mivid.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Emulator

    options: dict[str, Any] = world.options() if world is not None else {}
    if db_path is not None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        options["db_path"] = db_path
    if concurrency_limit is not None:
        options["concurrency_limit"] = concurrency_limit
    if video_base_url is not None:
        options["video_base_url"] = video_base_url
    if units_left is not None:
        options["units_left"] = units_left
    if clock is not None:
        options["clock"] = clock  # Unix seconds (default: the machine's wall clock)
    return Emulator(
        access_keys={SANDBOX_ACCESS_KEY: SANDBOX_SECRET_KEY},
        api_keys={SANDBOX_API_KEY} if api_keys else set(),
        processing_after=min(1.0, task_seconds / 3),
        succeed_after=task_seconds,
        **options,
    )


def sandbox_credentials(secrets: Secrets | None = None) -> Credentials:
    from mivid.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY

    return JwtCredentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, secrets=secrets or Secrets())


def sandbox_transport(
    settings: Settings, wall: Callable[[], float] | None = None
) -> httpx.BaseTransport:
    """The in-process emulator, its tasks kept in the state folder.

    Its time is the run's `wall` clock (Unix seconds; the machine's by default): a
    test's clock that sleeps without taking time ages the sandbox's tasks too.
    """
    from mivid.sandbox import EmulatorTransport

    emulator = build_emulator(
        task_seconds=settings.tuning.sandbox_task_seconds,
        db_path=sandbox_db_path(),
        video_base_url=SANDBOX_BASE_URL,
        clock=wall,
    )
    return EmulatorTransport(emulator)


def service_url(settings: Settings) -> str:
    """The base URL the settings point at: the sandbox's own, or the service's."""
    return SANDBOX_BASE_URL if settings.sandbox else settings.base_url()


def open_client(
    settings: Settings,
    *,
    secrets: Secrets | None = None,
    transport: httpx.BaseTransport | None = None,
    on_event: Callable[[RequestEvent], None] | None = None,
    sleep: Callable[[float], object] | None = None,
    clock: Callable[[], float] | None = None,
    wall: Callable[[], float] | None = None,
) -> KlingClient:
    """A client for the service the settings name (raises CredentialsError without keys).

    `transport` (tests) carries every request instead of the network (not with
    `--sandbox`, whose emulator is its own); `sleep` and `clock` time the retries,
    `wall` the sandbox's tasks.
    Every credential string, and each token the client mints, goes into `secrets`.
    """
    from mivid.client import KlingClient, RetryPolicy

    tuning = settings.tuning
    retry = RetryPolicy().tuned(
        attempts=tuning.retry_attempts,
        total_seconds=tuning.retry_max_seconds,
        base_delay=tuning.retry_base_delay,
    )
    if settings.sandbox:
        # --sandbox means the built-in emulator, whatever transport a test hands in.
        credentials = sandbox_credentials(secrets)
        transport = sandbox_transport(settings, wall)
    else:
        credentials = credentials_from_settings(settings, secrets)
    timing: dict[str, Any] = {}
    if sleep is not None:
        timing["sleep"] = sleep
    if clock is not None:
        timing["clock"] = clock
    return KlingClient(
        service_url(settings),
        credentials,
        transport=transport,
        retry=retry,
        on_event=on_event,
        **timing,
    )
