"""`get` and `list` show what each finished task deducted; `list` on a terminal ends with the total."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import InProcessTerminal, RunMivid, Serve, Sleepless
from imagefactory import make_png
from mivid.render.views import TASK_COLUMNS, fit_columns
from mivid.sandbox import Emulator, EmulatorServer, FakeClock


@pytest.fixture
def priced(serve: Serve, fake_clock: FakeClock) -> EmulatorServer:
    fake_clock.set(time.time())
    emulator = Emulator(access_keys={"ak": "sk"}, clock=fake_clock, units="fractional")
    return serve(emulator, keys=("ak", "sk"))


def made(mivid: RunMivid, image: Path, *extra: str) -> str:
    result = mivid("create", str(image), "--prompt", "a boat on the sea", "-q", *extra)
    assert result.exit_code == 0, result
    return result.stdout.strip()


def test_get_and_list_show_each_deduction_and_a_terminal_the_exact_total(
    mivid: RunMivid, priced: EmulatorServer, sleepless: Sleepless, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "a.png")
    std, pro = made(mivid, image), made(mivid, image, "--mode", "pro", "--duration", "10")
    assert mivid("wait", std, pro, clock=sleepless).exit_code == 0
    running = made(mivid, image)

    shown = mivid("get", pro)  # in a pipe, get's line is list's: the units are its 8th cell
    assert shown.stdout.split("\t")[7] == "4.4"

    piped = mivid("list")
    units = {line.split("\t")[0]: line.split("\t")[7] for line in piped.stdout.splitlines()}
    assert units == {std: "1.1", pro: "4.4", running: ""}

    for columns in (120, 80):
        terminal = InProcessTerminal(["list"], env={"NO_COLOR": "1"}, columns=columns)
        assert terminal.finish() == 0
        lines = terminal.text().splitlines()
        assert "UNITS" in lines[0].split()
        assert all(len(line) <= columns for line in lines), lines
        rows = {line.split()[0]: line for line in lines[1:4]}
        assert " 4.4 " in rows[pro] + " " and " 1.1 " in rows[std] + " "
        assert lines[4] == "total: 5.5 units deducted by the 3 tasks shown (1 still running)"


def test_a_list_with_no_deduction_yet_has_no_units_column(
    mivid: RunMivid, priced: EmulatorServer, tmp_path: Path
) -> None:
    made(mivid, make_png(tmp_path / "a.png"))
    terminal = InProcessTerminal(["list"], env={"NO_COLOR": "1"})
    assert terminal.finish() == 0
    lines = terminal.text().splitlines()
    assert "UNITS" not in lines[0]
    assert lines[-1] == "total: 0 units deducted by the 1 task shown (1 still running)"
    as_json = json.loads(mivid("list", "--json").stdout)
    assert "final_unit_deduction" not in as_json[0]  # the service's object, as it came


widths = st.lists(
    st.integers(min_value=1, max_value=60),
    min_size=len(TASK_COLUMNS),
    max_size=len(TASK_COLUMNS),
)


@given(widths, st.integers(min_value=20, max_value=300))
def test_columns_give_way_in_their_order_dropping_before_cutting(
    natural: list[int], room: int
) -> None:
    """Issue 15.10: the least useful columns go before a useful one is cut."""
    fitted = fit_columns(TASK_COLUMNS, natural, room)
    shown = [i for i, width in enumerate(fitted) if width]
    capped = [min(n, c.most or n) for n, c in zip(natural, TASK_COLUMNS, strict=True)]
    for i, column in enumerate(TASK_COLUMNS):
        if not column.drop:
            assert fitted[i] == natural[i]  # the id and status: never cut, never left out
        if column.least is None and fitted[i]:
            assert fitted[i] == natural[i]  # a column that is not cut is whole
        if 0 < fitted[i] < capped[i]:  # cut: every less useful column that cannot be cut is gone
            assert fitted[i] >= min(capped[i], column.least or 0)
            assert all(
                not fitted[j]
                for j, other in enumerate(TASK_COLUMNS)
                if other.drop and other.drop < column.drop and other.least is None
            )
        if column.drop and not fitted[i]:  # left out: so is every less useful one
            assert all(
                not fitted[j]
                for j, other in enumerate(TASK_COLUMNS)
                if other.drop and other.drop < column.drop and other.least is None
            )
    never = [i for i, column in enumerate(TASK_COLUMNS) if not column.drop]
    if sum(natural[i] for i in never) + 2 * (len(never) - 1) <= room:
        assert sum(fitted[i] for i in shown) + 2 * (len(shown) - 1) <= room


@given(widths, st.integers(min_value=1, max_value=20), st.integers(min_value=20, max_value=300))
def test_a_short_column_is_whole_its_short_form_or_out_never_cut(
    natural: list[int], short: int, room: int
) -> None:
    """Issue 14: ENDPOINT gives way to its short form (`omni`) before the prompt is cut, and
    is never drawn at a width between the two (a cut `omni · kl…`)."""
    at = next(i for i, column in enumerate(TASK_COLUMNS) if column.short)
    columns = list(TASK_COLUMNS)
    columns[at] = replace(columns[at], least=short)
    fitted = fit_columns(columns, natural, room)
    assert fitted[at] in (0, natural[at], min(natural[at], short))
    prompt = next(i for i, column in enumerate(columns) if column.header == "PROMPT")
    if 0 < fitted[prompt] < min(natural[prompt], columns[prompt].most or natural[prompt]):
        assert fitted[at] in (0, min(natural[at], short))  # the prompt is cut only after
