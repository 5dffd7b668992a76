"""Time, injected: what waits and retries read and how they pause.

`mivid.cli.run` hands one `Clock` to everything that waits (polling, batch
scheduling, `list --watch`, retries), so a test drives a fake one and never
really sleeps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    """Seconds that only go forward (`now`), a pause (`sleep`), and the date (`wall`)."""

    def now(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...

    def wall(self) -> float:
        """Unix seconds: what the sandbox's tasks are timed by (a test's moves as it sleeps)."""
        ...


@dataclass(frozen=True)
class SystemClock:
    """The machine's monotonic clock, a real sleep, and its wall clock."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
