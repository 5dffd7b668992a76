"""On a terminal, tables and panels are measured as the terminal draws them, whatever the
service sends (attacker finding A9).

Text from the service is escaped before anything measures it (`mivid.plaintext.cell_text`):
escaped after, `\\x1b` is four cells where rich had measured none, and rows ran past the
panel's border. An id's cell is the id, escaped (never whitespace-collapsed to a blank). The
joiners of emoji sequences, whose width terminals disagree on, are drawn as escapes, so every
column starts where its header does. An id wider than the terminal is drawn whole.

Every screen here is read from a real pseudo-terminal of a fixed width, its width measured
by the Unicode tables alone (not by rich, which mivid itself uses).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import Serve
from helpers import InProcessTerminal, RunMivid, kling_variables
from imagefactory import make_png
from mivid.plaintext import cell_text, one_line, visible
from mivid.sandbox import Emulator, FakeClock, Fault

#: BEL, BS, VT, FF, CR: rich deleted the first two and split on the others.
HOSTILE_ID = "8672837417\x07\x08\x0b\x0c\rA"
#: Nothing but whitespace controls inside: `one_line` made it `x y`.
BLANK_ID = "x\x0b\x0c\ry"
LONG_ID = "8" * 53
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦
#: C0, a clear-screen, a C1 CSI, the family, a heart with VS16, a thumb with a skin tone,
#: a second line.
REASON = f"C0:\x01\x1b[2J\x9b family {FAMILY} \u2764\ufe0f \U0001f44d\U0001f3fd end\nmore"
#: rich measures a tab as nothing (the panel's line broke at each tab).
PROMPT = f"a {FAMILY} family \u2764\ufe0f\ton the 海滩 at dusk, waves rolling in slowly"
EXTERNAL_ID = f"ext-{FAMILY}-\x1b[31mred"

#: mivid's own colours and styles: the only escape sequences it may write to a terminal.
SGR = re.compile(r"\x1b\[[0-9;]*m")
#: What must never reach the terminal raw: C0 but the newline, DEL, C1, and the joiners
#: whose width terminals disagree on.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200d\ufe0f\U0001f3fb-\U0001f3ff]")


def width(text: str) -> int:
    """Cells on a terminal, from the Unicode tables: wide and full-width characters are two,
    combining marks none. (Only characters every terminal agrees on are left to measure.)"""
    total = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        total += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return total


def cells_from(text: str, start: int) -> str:
    """`text` from display cell `start` on."""
    at = 0
    for index, char in enumerate(text):
        if at >= start:
            return text[index:]
        at += width(char)
    return ""


def screen(args: list[str], env: dict[str, str], columns: int) -> list[str]:
    """The lines the run draws on a `columns`-wide terminal, in colour, after checking that
    nothing but mivid's own styles reached it."""
    terminal = InProcessTerminal(args, env=env, columns=columns, stdin=False)
    assert terminal.finish(timeout=30) == 0, terminal.text()
    drawn = SGR.sub("", terminal.raw()).replace("\r\n", "\n")
    assert not UNSAFE.search(drawn), repr(drawn)
    return drawn.splitlines()


@pytest.fixture
def hostile(serve: Serve, fake_clock: FakeClock, mivid: RunMivid, tmp_path: Path) -> dict[str, str]:
    """Two failed tasks with hostile ids, reasons and external ids, made with a prompt of
    emoji sequences: the environment that reaches the emulator."""
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    return tasks_made(serve, fake_clock, mivid, tmp_path, [HOSTILE_ID, BLANK_ID])


def tasks_made(
    serve: Serve, fake_clock: FakeClock, mivid: RunMivid, folder: Path, ids: Sequence[str]
) -> dict[str, str]:
    emulator = Emulator(
        access_keys={"test-ak": "test-sk"},
        clock=fake_clock,
        task_ids=ids,
        processing_after=0,
        succeed_after=0,
    )
    server = serve(emulator)
    image = make_png(folder / "front.png")
    for _ in ids:
        emulator.script_failure(REASON)
        made = mivid("create", str(image), "--prompt", PROMPT, "-q")
        assert made.exit_code == 0, made
    emulator.inject(Fault.patch({"task_info.external_task_id": EXTERNAL_ID}, on="any", times=None))
    return kling_variables(server)


def columns_of(header: str) -> list[tuple[int, str]]:
    """(first cell, heading) of each column of a table's header (headings are ASCII, two
    spaces or more apart)."""
    return [(found.start(), found.group()) for found in re.finditer(r"\S+(?: \S+)*", header)]


# -- get -----------------------------------------------------------------------------------------


def rows_of(panel: list[str]) -> dict[str, str]:
    """A panel's rows: name → value, a folded value's lines joined (without the spaces)."""
    rows: dict[str, str] = {}
    name = ""
    for line in panel[1:-1]:
        inner = line[1:-1]
        label, value = inner[:21].strip(), inner[21:].strip()
        name = label or name
        rows[name] = rows.get(name, "") + value.replace(" ", "")
    return rows


@pytest.mark.parametrize("columns", [45, 80, 120])
def test_the_get_panel_keeps_its_border_and_shows_the_id_as_it_is(
    hostile: dict[str, str], columns: int
) -> None:
    lines = screen(["get", HOSTILE_ID], hostile, columns)

    top = next(n for n, line in enumerate(lines) if line.startswith("╭"))
    bottom = next(n for n, line in enumerate(lines) if line.startswith("╰"))
    panel = lines[top : bottom + 1]
    edge = width(panel[0])
    assert edge <= columns
    for line in panel[1:-1]:
        assert line[0] == "│" and line[-1] == "│" and width(line) == edge, panel
    rows = rows_of(panel)
    assert rows["task id"] == "8672837417\\x07\\x08\\x0b\\x0c\\x0dA"
    assert visible(HOSTILE_ID) in panel[0]  # the title says the same id
    # Prose keeps its lines (and a tab's spaces); a value (an id) is drawn on one line.
    assert rows["reason"] == cell_text(REASON).replace(" ", "").replace("\\x0a", "")
    assert rows["external id"] == cell_text(EXTERNAL_ID)
    assert rows["prompt"] == cell_text(PROMPT).replace(" ", "").replace("\\x09", "")
    if columns >= 120:  # room for the whole prompt: the tab is spaces, not a line break
        assert any(re.search(r"❤\\ufe0f +on the 海滩", line) for line in panel), panel


# -- list ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [45, 80, 120])
@pytest.mark.parametrize("local", [False, True], ids=["service", "journal"])
def test_list_columns_start_where_their_headings_do(
    hostile: dict[str, str], columns: int, local: bool
) -> None:
    lines = screen(["list", *(["--local"] if local else [])], hostile, columns)

    header = lines[0]
    headings = columns_of(header)
    assert [name for _, name in headings[:2]] == ["TASK ID", "LAST SEEN" if local else "STATUS"]
    ids = {visible(task_id): task_id for task_id in (HOSTILE_ID, BLANK_ID)}
    rows = [line for line in lines[1:] if line.split(" ")[0] in ids]
    assert len(rows) == 2, lines
    for line in [header, *rows]:
        assert width(line) <= columns, (line, width(line))
    for row in rows:
        for (start, name), (end, _) in pairwise(headings):
            cell = cells_from(row, start)
            cell = cell[: len(cell) - len(cells_from(row, end))]
            # Each cell ends in the two spaces between columns: a cell measured narrower
            # than it is drawn pushes the next column right, wider pulls it left.
            assert cell.endswith("  ") and not cell.startswith(" "), (name, cell, row)
            if name == "TASK ID":
                assert cell.rstrip() in ids  # the id, escaped, never a blank
            if name == "STATUS":
                assert cell.rstrip() == "failed"
            if name in ("PROMPT", "REASON"):
                shown = cell.rstrip().removesuffix("…")
                whole = one_line(PROMPT if name == "PROMPT" else REASON)
                assert whole.startswith(shown), (shown, whole)
        assert "\\x0b\\x0c\\x0d" in row  # VT, FF and CR drawn, in both ids


def test_an_id_wider_than_the_terminal_is_kept_whole(
    serve: Serve, fake_clock: FakeClock, mivid: RunMivid, tmp_path: Path
) -> None:
    """The decision: an id is copied, so it never gives way (a cut or folded id is useless).
    The table is then wider than the terminal, which folds its lines itself: what is copied
    from a folded line has no newline in it. Nothing else is added to those lines."""
    fake_clock.set(time.time())
    env = tasks_made(serve, fake_clock, mivid, tmp_path, [LONG_ID, "867283741759111202"])

    lines = screen(["list"], env, 45)

    table = lines[:3]
    assert table[0].split() == ["TASK", "ID", "STATUS"]  # everything else gave way
    assert any(line.startswith(LONG_ID + "  failed") for line in table), lines
    assert all(width(line) == len(LONG_ID) + 2 + len("STATUS") for line in table), table
    assert all(width(line) <= 45 for line in lines[3:]), lines


# -- the one function that escapes cells --------------------------------------------------------


@given(st.text())
def test_a_cell_holds_nothing_a_terminal_acts_on_or_draws_at_its_own_width(text: str) -> None:
    shown = cell_text(text)
    assert not UNSAFE.search(shown.replace("\n", "\\n"))
    assert cell_text(shown) == shown  # escaped once: measuring again changes nothing
    if text.isascii() and text.isprintable():
        assert shown == text
