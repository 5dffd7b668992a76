"""Clocks: the emulator reads time only through a callable, so tests drive it."""

from __future__ import annotations

import threading
from collections.abc import Callable

Clock = Callable[[], float]

# 2026-03-29, close to the contract's example timestamps; any fixed value would do.
FAKE_CLOCK_START = 1_774_805_076.0


class FakeClock:
    """A clock that moves only when told to: `clock()` reads it, `advance()` moves it."""

    def __init__(self, start: float = FAKE_CLOCK_START) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds` and return the new time."""
        if seconds < 0:
            raise ValueError("a FakeClock only moves forward")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, now: float) -> None:
        """Jump to `now` (either direction: handy for clock-skew tests)."""
        with self._lock:
            self._now = float(now)

    def __repr__(self) -> str:
        return f"FakeClock({self._now!r})"
