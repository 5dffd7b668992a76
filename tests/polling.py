"""Wait for a condition, not for a length of time.

A fixed `time.sleep` before looking is a guess at how fast the machine is, and a
loaded CI machine guesses wrong. `wait_until` looks again and again and returns
as soon as the condition holds, so it costs nothing when the machine is quick;
its deadline is generous and only reached when the condition never comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Seconds before giving up: far beyond any healthy run, even on a busy machine.
PATIENCE = 30.0


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float = PATIENCE,
    interval: float = 0.02,
    what: str | Callable[[], str] = "the condition",
) -> T:
    """Call `condition` until it returns something truthy, and return that.

    Fails the test (AssertionError naming `what`) after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            shown = what() if callable(what) else what
            raise AssertionError(f"gave up after {timeout:g} s waiting for {shown}")
        time.sleep(interval)
