"""From settings to a ready KlingClient: the real service, or the built-in sandbox.

With `--sandbox` (or `MIVID_SANDBOX=1`) every request goes to the emulator in
this process through an httpx transport: no keys, no network, nothing billed.
Its tasks live in a SQLite file in the state folder, so `create` in one run and
`wait` in the next see the same tasks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from mivid.auth import Credentials, JwtCredentials, credentials_from_settings
from mivid.errors import InputError
from mivid.settings import Settings, state_dir

if TYPE_CHECKING:
    import httpx

    from mivid.client import KlingClient, RequestEvent

SANDBOX_BASE_URL = "http://sandbox.mivid.invalid"
SANDBOX_DEFAULT_TASK_SECONDS = 6.0


def sandbox_db_path() -> str:
    return str(state_dir() / "sandbox.sqlite3")


def sandbox_task_seconds() -> float:
    raw = os.environ.get("MIVID_SANDBOX_TASK_SECONDS")
    if not raw:
        return SANDBOX_DEFAULT_TASK_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise InputError(f"$MIVID_SANDBOX_TASK_SECONDS: `{raw}` must be a number from 0 to 3600")
    return seconds


def sandbox_transport() -> tuple[httpx.BaseTransport, Credentials]:
    """The in-process emulator and the credentials it accepts."""
    from pathlib import Path

    from mivid.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, Emulator, EmulatorTransport

    seconds = sandbox_task_seconds()
    path = Path(sandbox_db_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    emulator = Emulator(
        access_keys={SANDBOX_ACCESS_KEY: SANDBOX_SECRET_KEY},
        db_path=path,
        processing_after=min(1.0, seconds / 3),
        succeed_after=seconds,
        video_base_url=SANDBOX_BASE_URL,
    )
    return EmulatorTransport(emulator), JwtCredentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY)


def service_url(settings: Settings) -> str:
    """The base URL the settings point at: the sandbox's own, or the service's."""
    return SANDBOX_BASE_URL if settings.sandbox else settings.base_url()


def open_client(
    settings: Settings,
    *,
    on_event: Callable[[RequestEvent], None] | None = None,
) -> KlingClient:
    """A client for the service the settings name (raises CredentialsError without keys)."""
    from mivid.client import KlingClient

    if settings.sandbox:
        transport, credentials = sandbox_transport()
        return KlingClient(
            service_url(settings), credentials, transport=transport, on_event=on_event
        )
    credentials = credentials_from_settings(settings)
    return KlingClient(service_url(settings), credentials, on_event=on_event)
