"""What a batch will cost, and `--max-units`, through the real CLI against the emulator.

The emulator deducts fractional units (kling-v1-6: 1.1 for std 5 s, 2.2 for
pro 5 s) and runs on a fake clock that mivid's own waits move on (`sleepless`),
so tasks end without real time passing and the order of creates is exact.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import RunMivid, Serve, Sleepless
from imagefactory import make_png
from mivid.budget import Budget, Decision
from mivid.sandbox import Emulator, EmulatorServer, FakeClock
from mivid.units import Kind

CREATE = "/v1/videos/multi-image2video"


@pytest.fixture
def priced(serve: Serve, fake_clock: FakeClock) -> EmulatorServer:
    fake_clock.set(time.time())  # mivid signs its JWTs with this machine's clock
    emulator = Emulator(
        access_keys={"ak": "sk"},
        clock=fake_clock,
        units="fractional",
        concurrency_limit=10,
        processing_after=1,
        succeed_after=10,
    )
    return serve(emulator, keys=("ak", "sk"))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    make_png(work / "a.png")
    return work


def write_jobs(folder: Path, modes: list[str], name: str = "jobs.jsonl") -> Path:
    path = folder / name
    lines = [
        json.dumps({"images": ["a.png"], "prompt": f"shot {n}", "mode": mode})
        for n, mode in enumerate(modes)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def posts(emulator: Emulator) -> int:
    return sum(1 for r in emulator.received if r.method == "POST" and r.path == CREATE)


def one_known_std_task(mivid: RunMivid, folder: Path, sleepless: Sleepless) -> None:
    """One std 5 s task seen to the end: the journal then knows it costs 1.1."""
    made = mivid("create", str(folder / "a.png"), "--prompt", "first", "--wait", clock=sleepless)
    assert made.exit_code == 0, made


def test_batch_says_how_many_tasks_the_units_left_and_the_estimate_before_sending(
    mivid: RunMivid, priced: EmulatorServer, folder: Path, sleepless: Sleepless
) -> None:
    jobs = write_jobs(folder, ["std", "std", "pro"])
    first = mivid("batch", str(jobs), "--dry-run")
    assert "batch: 3 tasks to create\n" in first.stderr
    assert (
        "estimate: unknown: 3 tasks of a kind not seen yet "
        "(kling-v1-6 std 5 s, kling-v1-6 pro 5 s)" in first.stderr
    )

    one_known_std_task(mivid, folder, sleepless)
    result = mivid("batch", str(jobs), clock=sleepless)

    assert result.exit_code == 0, result
    said = result.stderr.splitlines()
    assert said[0] == "batch: 3 tasks to create; units left: 999998.9 (1 pack in force)"
    assert said[1] == (
        "estimate: about 2.2 units (2 × 1.1 for kling-v1-6 std 5 s), "
        "plus 1 task of a kind not seen yet (kling-v1-6 pro 5 s)"
    )
    again = mivid("batch", str(jobs), clock=sleepless)
    assert again.stderr.splitlines()[0] == "batch: 0 tasks to create (3 ended before)"


def test_max_units_sends_what_fits_then_a_rerun_with_a_larger_budget_sends_only_the_rest(
    mivid: RunMivid,
    priced: EmulatorServer,
    folder: Path,
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    emulator = priced.emulator
    one_known_std_task(mivid, folder, sleepless)
    jobs = write_jobs(folder, ["std"] * 6)
    videos = tmp_path / "videos"
    options = ["--concurrency", "2", "--download", str(videos), "--interval", "0.5"]

    result = mivid("batch", str(jobs), *options, "--max-units", "3.5", clock=sleepless)

    assert result.exit_code == 4, result
    assert posts(emulator) == 1 + 3  # 3 × 1.1 = 3.3 fits in 3.5; a fourth would make 4.4
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[2] for row in rows] == ["succeed"] * 3 + ["not sent"] * 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: {jobs}: 3 jobs not sent: the budget would have been passed "
        "(3.3 of --max-units 3.5 used); lines 4, 5, 6"
    ]
    # QA finding 7: the budget is per run; the hint suggests one the 3 left fit in (3 × 1.1),
    # not the same 3.5 again.
    resume = (
        f"mivid batch {jobs} --concurrency 2 --interval 0.5 --max-units 3.3 --download {videos}"
    )
    assert result.stderr.splitlines()[-1] == (
        "hint: --max-units is a budget for one run (a rerun may spend as much again); "
        f"the 3 jobs left should cost about 3.3 units: {resume}"
    )

    rerun = mivid("batch", str(jobs), *options, "--max-units", "3.3", "--json", clock=sleepless)

    assert rerun.exit_code == 0, rerun
    assert posts(emulator) == 1 + 6  # only the three not sent before
    report = json.loads(rerun.stdout)
    assert [row["action"] for row in report] == ["skip"] * 3 + ["send"] * 3
    assert {row["status"] for row in report} == {"succeed"}
    assert len(list(videos.glob("*.mp4"))) == 6


def test_a_task_of_a_kind_never_seen_is_sent_alone_first(
    mivid: RunMivid, priced: EmulatorServer, folder: Path, sleepless: Sleepless
) -> None:
    emulator = priced.emulator
    jobs = write_jobs(folder, ["pro"] * 4)  # 2.2 each, never seen before

    result = mivid("batch", str(jobs), "--concurrency", "4", "--max-units", "5", clock=sleepless)

    assert result.exit_code == 4, result
    tasks = emulator.tasks()
    assert len(tasks) == 2  # 2.2 + 2.2 = 4.4 fits in 5; a third would make 6.6
    first, second = sorted(tasks, key=lambda task: task["created_at"])
    # The second was sent only when the first had ended and shown what a pro task costs.
    assert second["created_at"] >= first["updated_at"]
    assert "2 jobs not sent" in result.stderr


def test_kinds_never_seen_can_pass_the_budget_once_then_nothing_more_goes(
    mivid: RunMivid, priced: EmulatorServer, folder: Path, sleepless: Sleepless
) -> None:
    one_known_std_task(mivid, folder, sleepless)  # std 5 s: 1.1
    jobs = folder / "kinds.jsonl"
    lines = [
        {"images": ["a.png"], "prompt": "known", "mode": "std"},
        {"images": ["a.png"], "prompt": "longer", "mode": "std", "duration": "10"},  # 2.2
        {"images": ["a.png"], "prompt": "finer", "mode": "pro"},  # 2.2
    ]
    jobs.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    result = mivid("batch", str(jobs), "--concurrency", "3", "--max-units", "2", clock=sleepless)

    assert result.exit_code == 4, result
    assert posts(priced.emulator) == 1 + 2  # the known one, then one probe alone
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[2] for row in rows] == ["succeed", "succeed", "not sent"]
    assert (
        f"error: {jobs}: 1 job not sent: the budget would have been passed (3.3 of --max-units 2 "
        "used: a task of a kind not seen before cost more than was left); line 3" in result.stderr
    )
    # Its cost is not known: the hint does not make one up, nor repeat `--max-units 2`.
    assert result.stderr.splitlines()[-1] == (
        "hint: --max-units is a budget for one run (a rerun may spend as much again); what "
        "the job left costs is not known yet (a kind not seen yet); send it with the budget "
        f"you choose (N): mivid batch {jobs} --max-units N"
    )


def test_a_kind_that_costs_more_than_the_budget_is_never_sent(
    mivid: RunMivid, priced: EmulatorServer, folder: Path, sleepless: Sleepless
) -> None:
    one_known_std_task(mivid, folder, sleepless)
    jobs = write_jobs(folder, ["std", "std"])
    result = mivid("batch", str(jobs), "--max-units", "1", clock=sleepless)
    assert result.exit_code == 4, result
    assert posts(priced.emulator) == 1
    assert "2 jobs not sent" in result.stderr


def test_create_max_units_refuses_a_kind_known_to_cost_more_before_sending(
    mivid: RunMivid, priced: EmulatorServer, folder: Path, sleepless: Sleepless
) -> None:
    one_known_std_task(mivid, folder, sleepless)
    image = str(folder / "a.png")

    refused = mivid("create", image, "--prompt", "again", "--max-units", "1")

    assert refused.exit_code == 4, refused
    assert posts(priced.emulator) == 1
    assert refused.stdout == ""
    assert (
        "error: --max-units 1: a kling-v1-6 std 5 s task cost 1.1 units the last time; "
        "nothing was sent" in refused.stderr
    )

    # QA finding 10: the same exit 4 (README's table) whatever the output form.
    for form in (["--json"], ["--wait"], ["-q"], ["--download", str(folder / "out")]):
        again = mivid("create", image, "--prompt", "again", "--max-units", "1", *form)
        assert again.exit_code == 4, (form, again)
        assert again.stdout == ""
    assert posts(priced.emulator) == 1

    fits = mivid("create", image, "--prompt", "again", "--max-units", "1.1", "-q")
    assert fits.exit_code == 0, fits
    unknown = mivid("create", image, "--prompt", "pro", "--mode", "pro", "--max-units", "1", "-q")
    assert unknown.exit_code == 0, unknown  # never seen: sent, and said so
    assert "what a kling-v1-6 pro 5 s task costs is not known yet" in unknown.stderr
    assert posts(priced.emulator) == 3


@pytest.mark.parametrize("value", ["0", "-1", "many", "NaN", "1e999"])
def test_a_bad_max_units_is_exit_2_before_anything(
    mivid: RunMivid, priced: EmulatorServer, folder: Path, value: str
) -> None:
    jobs = write_jobs(folder, ["std"])
    for args in (["batch", str(jobs)], ["create", str(folder / "a.png"), "--prompt", "x"]):
        result = mivid(*args, "--max-units", value)
        assert result.exit_code == 2, result
        assert f"--max-units: `{value}` — must be a number of units above 0" in result.stderr
    assert priced.emulator.received == []


def test_account_calls_are_a_second_apart_within_a_run(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, sleepless: Sleepless, folder: Path
) -> None:
    """`batch` asks before sending and again after a 1102: never within a second."""
    fake_clock.set(time.time())
    emulator = Emulator(access_keys={"ak": "sk"}, clock=fake_clock, units_left=0)
    serve(emulator, keys=("ak", "sk"))
    jobs = write_jobs(folder, ["std"])

    result = mivid("batch", str(jobs), clock=sleepless)

    assert result.exit_code == 3, result  # 1102
    calls = [r for r in emulator.received if r.path == "/account/costs"]
    assert len(calls) == 2
    assert "1302" not in result.stderr  # the emulator never had to say "too fast"
    assert any(0.99 <= pause <= 1.0 for pause in sleepless.slept), sleepless.slept
    assert result.stderr.splitlines()[-1].endswith(
        "units left: none — no resource pack is in force (1 used up)"
    )


# -- the budget's rule, over many runs ------------------------------------------------------

KINDS = [Kind("multi-image", "kling-v1-6", mode, "5") for mode in ("std", "pro")]
PRICES = {KINDS[0]: Decimal("1.1"), KINDS[1]: Decimal("2.2")}


@given(
    jobs=st.lists(st.sampled_from(KINDS), max_size=30),
    limit=st.decimals(min_value="0.5", max_value="20", places=1),
    known=st.sets(st.sampled_from(KINDS)),
    order=st.randoms(use_true_random=False),
)
def test_only_one_probe_can_pass_the_budget_and_then_nothing_more_is_sent(
    jobs: list[Kind], limit: Decimal, known: set[Kind], order: Any
) -> None:
    """A task of a kind whose cost is unknown goes alone; after one passes N, nothing is sent."""
    budget = Budget(limit, {kind: PRICES[kind] for kind in known})
    queue = list(enumerate(jobs))
    flying: list[int] = []
    passed_at: int | None = None  # how many tasks had been sent when the budget was passed
    sent = 0
    while queue or flying:
        decision = budget.decide(queue[0][1]) if queue else Decision.WAIT
        if decision is Decision.SEND:
            key, kind = queue.pop(0)
            if kind not in budget.costs:
                assert not flying  # a probe is sent alone …
            assert not budget.probing  # … and nothing goes while one is in flight
            budget.sent(key, kind)
            flying.append(key)
            sent += 1
            continue
        if decision is Decision.STOP:
            assert not flying
            break
        assert flying  # waiting only ever waits for a task in flight
        key = flying.pop(order.randrange(len(flying)))
        probe = jobs[key] not in budget.costs
        before = budget.deducted
        budget.ended(key, PRICES[jobs[key]])
        if budget.deducted > limit and passed_at is None:
            assert probe and before < limit  # only a probe, sent with budget left, passes it
            passed_at = sent
    if passed_at is not None:
        assert sent == passed_at  # and once passed, nothing more was sent
        assert budget.deducted < limit + max(PRICES.values())
    else:
        assert budget.deducted <= limit


@given(
    jobs=st.lists(st.sampled_from(KINDS), max_size=30),
    limit=st.decimals(min_value="0.5", max_value="20", places=1),
    known=st.sets(st.sampled_from(KINDS)),
)
def test_the_plan_foresees_what_a_run_decides(
    jobs: list[Kind], limit: Decimal, known: set[Kind]
) -> None:
    """Each task costing what its kind cost before: the plan says what the run decides, up
    to the first task of a kind never seen; after it, the plan says it waits on that cost."""
    costs = {kind: PRICES[kind] for kind in known}
    foreseen = Budget(limit, dict(costs)).foresee(jobs)
    budget = Budget(limit, dict(costs))
    for key, kind in enumerate(jobs):
        if any(jobs[k] not in costs for k in range(key)) and foreseen[key - 1] is not Decision.STOP:
            assert foreseen[key] is Decision.WAIT  # after a probe: its cost decides
            continue
        decision = budget.decide(kind)
        assert foreseen[key] is decision
        if decision is Decision.STOP:
            assert set(foreseen[key:]) == {Decision.STOP}  # nothing after is sent either
            break
        budget.sent(key, kind)
        budget.ended(key, PRICES[kind])


def test_dry_run_applies_max_units_to_the_plan_as_the_run_then_does(
    mivid: RunMivid, priced: EmulatorServer, folder: Path, sleepless: Sleepless
) -> None:
    emulator = priced.emulator
    one_known_std_task(mivid, folder, sleepless)
    jobs = write_jobs(folder, ["std"] * 6)
    before = posts(emulator)

    plan = mivid("batch", str(jobs), "--dry-run", "--max-units", "3.5", "--json")

    assert plan.exit_code == 0, plan
    assert posts(emulator) == before  # a plan sends nothing
    actions = [row["action"] for row in json.loads(plan.stdout)]
    assert actions == ["send"] * 3 + ["not sent"] * 3
    assert (
        "--max-units 3.5: lines 4, 5, 6 would not be sent; 3 of 6 fit (about 3.3 units)"
        in plan.stderr
    )
    assert "dry run: 6 jobs checked (3 to send, 3 over --max-units); nothing sent" in plan.stderr
    lines = mivid("batch", str(jobs), "--dry-run", "--max-units", "3.5").stdout.splitlines()
    assert [line.split("\t")[2] for line in lines] == actions

    run = mivid("batch", str(jobs), "--max-units", "3.5", "--json", clock=sleepless)
    assert run.exit_code == 4, run  # the run keeps back what the plan said it would
    assert [row["status"] for row in json.loads(run.stdout)] == ["succeed"] * 3 + ["not sent"] * 3

    roomy = mivid("batch", str(jobs), "--dry-run", "--max-units", "10", "--json")
    assert [row["action"] for row in json.loads(roomy.stdout)] == ["skip"] * 3 + ["send"] * 3
    assert "--max-units 10: every job to send fits" in roomy.stderr


def test_dry_run_says_which_jobs_wait_on_a_kind_never_seen(
    mivid: RunMivid, priced: EmulatorServer, folder: Path
) -> None:
    jobs = write_jobs(folder, ["pro", "pro", "std"])  # no cost known yet

    plan = mivid("batch", str(jobs), "--dry-run", "--max-units", "5", "--json")

    assert plan.exit_code == 0, plan
    actions = [row["action"] for row in json.loads(plan.stdout)]
    assert actions == ["send", "send if room", "send if room"]
    assert (
        "--max-units 5: lines 2, 3 would be sent only if line 1 (kling-v1-6 pro 5 s, a kind "
        "not seen yet: sent first, alone, to learn its cost) leaves room" in plan.stderr
    )
    assert posts(priced.emulator) == 0
