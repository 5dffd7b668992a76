"""How long a task has run, in the live views: minutes for minutes, days for days.

A task made 246 days ago read `354644m25s` on `wait`'s live line.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from helpers import InProcessTerminal, created_on_terminal, kling_variables
from mivid.plaintext import elapsed_time
from mivid.sandbox import EmulatorServer, FakeClock, Fault

DAY = 86_400


def test_wait_on_an_old_task_says_days(
    server: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    fake_clock.set(time.time())
    env = kling_variables(server)
    task_id = created_on_terminal(env, tmp_path)
    old = int((time.time() - 246 * DAY - 5 * 3600) * 1000)
    server.emulator.inject(Fault.patch({"created_at": old}, on="get", times=None))
    terminal = InProcessTerminal(["wait", task_id, "--timeout", "0"], env=env, stdin=False)
    terminal.expect("246d05h", timeout=30)
    assert terminal.finish(timeout=30) == 6, terminal.text()
    assert not re.search(r"\d{4,}m\d\ds", terminal.text())  # no count of minutes


@given(st.integers(min_value=0, max_value=400 * DAY))
def test_each_unit_is_the_largest_that_fits(seconds: int) -> None:
    shown = elapsed_time(seconds)
    assert len(shown) <= 7
    if seconds >= DAY:
        assert shown == f"{seconds // DAY}d{seconds % DAY // 3600:02d}h"
    elif seconds >= 3600:
        assert shown == f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    elif seconds >= 60:
        assert shown == f"{seconds // 60}m{seconds % 60:02d}s"
    else:
        assert shown == f"{seconds}s"
