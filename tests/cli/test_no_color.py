"""NO_COLOR and --no-color mean one thing: no colour; bold and borders may stay (issue 15.6)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from helpers import InProcessTerminal, RunMivid, Sleepless

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")

#: An SGR sequence that sets a colour: 30-37, 39, 40-47, 49, 90-97, 100-107, 38;… and 48;…
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def screen(args: list[str], how: str, cwd: Path) -> str:
    env: dict[str, str | None] = {"MIVID_SANDBOX_TASK_SECONDS": "0", "NO_COLOR": None}
    if how == "variable":
        env["NO_COLOR"] = "1"
    elif how == "empty variable":
        env["NO_COLOR"] = ""
    elif how == "flag":
        args = ["--no-color", *args]
    terminal = InProcessTerminal(
        ["--sandbox", *args], env=env, columns=120, stdin=False, cwd=str(cwd)
    )
    terminal.finish(timeout=60)
    # The same task for each run; only the clock moves between them.
    return re.sub(r"\d\d:\d\d:\d\d|\d+s\b", "T", terminal.raw())


def test_the_variable_and_the_flag_draw_the_same_screen_without_colour(
    mivid: RunMivid, tmp_path: Path, sleepless: Sleepless
) -> None:
    made = mivid(
        "--sandbox", "create", "https://example.com/a.png", "-p", "a [fail]", "--wait", "-q",
        env={"MIVID_SANDBOX_TASK_SECONDS": "0"}, clock=sleepless,
    )  # fmt: skip
    task_id = made.stdout.strip()
    for args in (["get", task_id], ["list"], ["wait", task_id], ["config", "show"]):
        by_variable = screen(args, "variable", tmp_path)
        by_flag = screen(args, "flag", tmp_path)
        assert by_variable == by_flag, args
        assert not COLOUR.search(by_variable), (args, by_variable)
        assert "\x1b[1m" in by_variable or args[0] == "wait"  # bold may stay
    coloured = screen(["list"], "colour", tmp_path)
    assert COLOUR.search(coloured)  # without either, a terminal gets colour
    assert COLOUR.search(screen(["list"], "empty variable", tmp_path))  # NO_COLOR="" is unset
    assert "╭" in screen(["get", task_id], "variable", tmp_path)  # the panel's border stays
