"""The account's units through the real CLI: `mivid account`, `config check`'s line, 1102's summary.

The emulator serves `/account/costs` from the packs it is given, takes what
its tasks deduct from them, refuses a create none can pay with 1102, and
answers 1302 to account calls less than a second apart (by its clock).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import InProcessTerminal, RunMivid, Serve, served_sandbox
from imagefactory import make_png
from mivid.client import RateGate
from mivid.sandbox import Emulator, FakeClock, Fault, ResourcePack

DAY = 86_400.0
COSTS = "/account/costs"


def account_calls(emulator: Emulator) -> list[Any]:
    return [request for request in emulator.received if request.path == COSTS]


@pytest.fixture
def now(fake_clock: FakeClock) -> float:
    fake_clock.set(time.time())  # mivid signs its JWTs and asks for its window with real time
    return fake_clock()


def four_packs(now: float) -> list[ResourcePack]:
    return [
        ResourcePack(name="Old pack", total=50, effective_at=now - 60 * DAY, invalid_at=now - DAY),
        ResourcePack(name="Spent pack", total=20, remaining=0),
        ResourcePack(name="Next pack", total=300, effective_at=now + 5 * DAY),
        ResourcePack(name="Main pack", total=200, remaining=118.5, invalid_at=now + 30 * DAY),
    ]


def test_account_lists_packs_in_force_first_and_json_is_the_services_list(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, now: float
) -> None:
    emulator = Emulator(access_keys={"ak": "sk"}, clock=fake_clock, packs=four_packs(now))
    serve(emulator, keys=("ak", "sk"))

    piped = mivid("account")

    assert piped.exit_code == 0, piped
    rows = [line.split("\t") for line in piped.stdout.splitlines()]
    assert [row[:5] for row in rows] == [
        ["Main pack", "decreasing_total", "online", "118.5", "200"],
        ["Next pack", "decreasing_total", "toBeOnline", "300", "300"],
        ["Spent pack", "decreasing_total", "runOut", "0", "20"],
        ["Old pack", "decreasing_total", "expired", "50", "50"],
    ]
    assert rows[0][5].endswith("Z") and len(rows[0][6]) == 16  # valid until (UTC), pack id
    (call,) = account_calls(emulator)
    start, end = int(call.query["start_time"]), int(call.query["end_time"])
    assert start < now * 1000 < end  # milliseconds, around now

    fake_clock.advance(1)
    as_json = mivid("account", "--json")
    assert as_json.exit_code == 0, as_json
    listed = json.loads(as_json.stdout)
    assert [pack["resource_pack_name"] for pack in listed] == [
        "Old pack",
        "Spent pack",
        "Next pack",
        "Main pack",
    ]  # the service's order, as it came
    assert listed[3]["remaining_quantity"] == 118.5 and listed[3]["status"] == "online"


def test_account_on_a_terminal_shows_a_table_and_the_units_left(
    serve: Serve, fake_clock: FakeClock, now: float
) -> None:
    emulator = Emulator(access_keys={"ak": "sk"}, clock=time.time, packs=four_packs(now))
    serve(emulator, keys=("ak", "sk"))
    terminal = InProcessTerminal(["account"], env={"NO_COLOR": "1"}, columns=80)
    assert terminal.finish() == 0
    lines = terminal.text().splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "STATUS", "LEFT", "/", "TOTAL", "VALID", "UNTIL"]
    assert lines[1].split()[:6] == ["Main", "pack", "decreasing_total", "in", "force", "118.5"]
    assert [line.split()[0] for line in lines[2:5]] == ["Next", "Spent", "Old"]
    assert "used up" in lines[3] and "expired" in lines[4] and "not yet" in lines[2]
    assert lines[5] == "units left: 118.5 (1 pack in force)"
    assert all(len(line) <= 80 for line in lines)


def test_a_rate_gate_spaces_calls_on_the_clock_it_is_given() -> None:
    clock = FakeClock(start=100.0)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    gate = RateGate(1.0, clock, sleep)
    gate.wait_turn()
    clock.advance(0.25)
    gate.wait_turn()
    clock.advance(3)
    gate.wait_turn()
    assert slept == [0.75]


def test_config_check_says_the_units_left_or_that_the_packs_are_used_up(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, now: float
) -> None:
    serve(
        Emulator(access_keys={"ak": "sk"}, clock=fake_clock, packs=four_packs(now)),
        keys=("ak", "sk"),
    )
    checked = mivid("config", "check")
    assert checked.exit_code == 0, checked
    # In a pipe one line; the account's units are its last cell (15.11).
    assert checked.stdout.rstrip("\n").split("\t")[4] == "units left: 118.5 (1 pack in force)"

    serve(Emulator(access_keys={"ak": "sk"}, clock=fake_clock, units_left=0), keys=("ak", "sk"))
    used_up = mivid("config", "check", "--json")
    assert used_up.exit_code == 0, used_up
    verdict = json.loads(used_up.stdout)
    assert verdict["account"] == {"units_left": "0", "packs_in_force": 0, "packs": {"used up": 1}}
    fake_clock.advance(1)
    line = mivid("config", "check").stdout.rstrip("\n").split("\t")[4]
    assert line == "units left: none — no resource pack is in force (1 used up)"


def test_config_check_still_passes_when_the_account_endpoint_does_not_answer(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, now: float
) -> None:
    emulator = Emulator(access_keys={"ak": "sk"}, clock=fake_clock)
    serve(emulator, keys=("ak", "sk"))
    emulator.inject(
        Fault.raw(404, {"Content-Type": "text/html"}, b"<h1>Not Found</h1>", on="account")
    )
    checked = mivid("config", "check")
    assert checked.exit_code == 0, checked
    account = checked.stdout.rstrip("\n").split("\t")[4]
    assert account.startswith("units left: unknown (unreadable answer")


def test_a_1102_refusal_ends_with_what_the_packs_hold(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, now: float, tmp_path: Path
) -> None:
    emulator = Emulator(
        access_keys={"ak": "sk"}, clock=fake_clock, units="fractional", units_left=0.5
    )
    serve(emulator, keys=("ak", "sk"))
    image = make_png(tmp_path / "a.png")

    result = mivid("create", str(image), "--prompt", "waves")  # costs 1.1

    assert result.exit_code == 3, result
    last = result.stderr.splitlines()[-1]
    assert last == (
        "hint: buy or renew a resource pack in the Kling console — "
        "units left: 0.5 (1 pack in force)"
    )
    assert "code 1102" in result.stderr
    assert emulator.tasks() == []


def test_sandbox_serve_with_no_units_refuses_creates_with_the_summary(
    mivid_process: RunMivid, tmp_path: Path
) -> None:
    with served_sandbox("--units", "0") as sandbox:
        env = {"KLING_BASE_URL": sandbox.url, "KLING_API_KEY": "sandbox-api-key"}
        image = make_png(tmp_path / "a.png")
        refused = mivid_process("create", str(image), "--prompt", "waves", env=env)
        assert refused.exit_code == 3, refused
        assert refused.stderr.splitlines()[-1].endswith(
            "units left: none — no resource pack is in force (1 used up)"
        )
    assert sandbox.process.returncode == 0


def test_sandbox_serve_refuses_negative_units(mivid: RunMivid) -> None:
    bad = mivid("sandbox", "serve", "--units", "-1")
    assert bad.exit_code == 2
    assert "--units: -1 — must be" in bad.stderr


@pytest.mark.parametrize(
    ("columns", "type_shown"), [(120, "decreasing_total"), (90, "total"), (80, None), (60, None)]
)
def test_a_narrow_terminal_shortens_then_drops_the_type_before_cutting_the_name(
    serve: Serve, fake_clock: FakeClock, now: float, columns: int, type_shown: str | None
) -> None:
    """QA finding 19: at 80 columns `Sandbox vid…` was cut while `decreasing_total` stayed."""
    name = "Sandbox video units, yearly"
    packs = [ResourcePack(name=name, total=1_000_000, remaining=999_998.9, invalid_at=now + DAY)]
    serve(Emulator(access_keys={"ak": "sk"}, clock=time.time, packs=packs), keys=("ak", "sk"))
    terminal = InProcessTerminal(["account"], env={"NO_COLOR": "1"}, columns=columns)
    assert terminal.finish() == 0
    header, row = terminal.text().splitlines()[:2]
    assert all(len(line) <= columns for line in terminal.text().splitlines())
    if columns >= 80:
        assert row.startswith(name + " "), row  # whole
    else:
        assert row.startswith("Sandbox vid… "), row  # cut only once the type is gone
    if type_shown is None:
        assert "TYPE" not in header and "total" not in row.split("999998.9")[0]
    else:
        assert "TYPE" in header and f" {type_shown} " in row
    assert "999998.9 / 1000000" in row


def test_sandbox_units_make_a_pack_of_just_those_units(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, now: float
) -> None:
    """QA finding 18: `sandbox serve --units 3` showed `3 / 1000000` (as if 999997 were used)."""
    serve(Emulator(access_keys={"ak": "sk"}, clock=fake_clock, units_left=3), keys=("ak", "sk"))
    result = mivid("account")
    assert result.exit_code == 0, result
    (row,) = [line.split("\t") for line in result.stdout.splitlines()]
    assert row[2:5] == ["online", "3", "3"]
