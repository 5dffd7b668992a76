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
    """Seconds that only go forward (`now`), and a pause (`sleep`)."""

    def now(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


@dataclass(frozen=True)
class SystemClock:
    """The machine's monotonic clock and a real sleep."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
