"""On a terminal, an id holding BEL, CR, BS, VT or FF is drawn, as in a pipe, never shortened.

rich deletes those characters from the text it draws, so the panel showed an id
that was not the task's (and a link `…evil\\x07link` read `…evillink`).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import Serve
from helpers import InProcessTerminal, created_on_terminal, kling_variables
from mivid.sandbox import Emulator, FakeClock

BASE = "867283741759111202"


@pytest.mark.parametrize("command", ["get", "wait"])
def test_control_characters_in_an_id_are_drawn_on_a_terminal(
    serve: Serve, fake_clock: FakeClock, tmp_path: Path, command: str
) -> None:
    fake_clock.set(time.time())
    task_id = f"{BASE}\x1b]0;PWNED\x07\x08\x0b\x0c\rx"
    server = serve(
        Emulator(
            access_keys={"test-ak": "test-sk"},
            clock=fake_clock,
            task_ids=[task_id],
            processing_after=0,
            succeed_after=0,
        )
    )
    env = kling_variables(server)
    created_on_terminal(env, tmp_path)
    terminal = InProcessTerminal([command, task_id], env=env, stdin=False)
    assert terminal.finish(timeout=30) == 0, terminal.text()
    drawn = f"{BASE}\\x1b]0;PWNED\\x07\\x08\\x0b\\x0c\\x0dx"
    assert drawn in terminal.text().replace("\n", "")
    raw = terminal.raw()
    assert "\x07" not in raw and "\x1b]0;" not in raw
