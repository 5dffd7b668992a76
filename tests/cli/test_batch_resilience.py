"""`mivid batch` pays once per job and finishes every job it can (issue 13, points 3, 4, 6, 7).

External ids come from what a job asks, not where the file lives; two runs of
one file at once send each job once; a create whose answer already says
`succeed` is downloaded; one job's trouble (a query that keeps failing, a
task not visible yet, a folder that refuses its video) is that job's alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import Serve
from helpers import RunMivid, Sleepless, environment
from imagefactory import make_png
from mivid.batch import canonical_content, derived_external_id
from mivid.journal import Journal
from mivid.sandbox import Emulator, EmulatorServer, FakeClock, Fault
from mivid.sandbox.video import video_bytes

COLLECTION = "/v1/videos/multi-image2video"
IDS = [f"86000000000000000{n}" for n in range(10)]


def emulator(clock: Any, **options: Any) -> Emulator:
    options.setdefault("processing_after", 1)
    options.setdefault("succeed_after", 5)
    return Emulator(access_keys={"test-ak": "test-sk"}, clock=clock, **options)


def jobs_file(folder: Path, count: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    make_png(folder / "a.png")
    path = folder / "jobs.jsonl"
    path.write_text(
        "".join(
            json.dumps({"images": ["a.png"], "prompt": f"job {n}"}) + "\n" for n in range(count)
        )
    )
    return path


def posts(server: EmulatorServer) -> int:
    return sum(1 for r in server.emulator.received if r.method == "POST" and r.path == COLLECTION)


def report(stdout: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(stdout)
    return rows


# -- 13.3: external ids from what the job asks, never from where the file lives ----------------


def test_moving_the_jobs_folder_sends_nothing_again(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, tmp_path: Path, sleepless: Sleepless
) -> None:
    server = serve(emulator(fake_clock))
    jobs = jobs_file(tmp_path / "here")
    assert mivid("batch", str(jobs), clock=sleepless).exit_code == 0
    shutil.move(tmp_path / "here", tmp_path / "there")
    again = mivid("batch", str(tmp_path / "there" / "jobs.jsonl"), "--json", clock=sleepless)
    assert again.exit_code == 0, again
    assert [row["action"] for row in report(again.stdout)] == ["skip", "skip"]
    assert posts(server) == 2 and len(server.emulator.tasks()) == 2


def test_a_job_an_older_mivid_sent_under_its_path_derived_id_is_not_sent_again(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, tmp_path: Path, sleepless: Sleepless
) -> None:
    server = serve(emulator(fake_clock))
    jobs = jobs_file(tmp_path, count=1)
    fields = {"images": ["a.png"], "prompt": "job 0"}
    legacy = derived_external_id(str(jobs.resolve()), canonical_content(fields))
    made = mivid(
        "create",
        str(tmp_path / "a.png"),
        "--prompt",
        "job 0",
        "--external-task-id",
        legacy,
        clock=sleepless,
    )
    assert made.exit_code == 0, made
    again = mivid("batch", str(jobs), "--json", clock=sleepless)
    assert again.exit_code == 0, again
    (row,) = report(again.stdout)
    assert row["external_task_id"] == legacy and row["action"] in ("skip", "resume")
    assert posts(server) == 1


# -- 13.4: two runs of one file at once send each job once -----------------------------------


def test_two_batches_of_one_file_at_once_send_each_job_once(serve: Serve, tmp_path: Path) -> None:
    # No pause for the account's rate limit: both runs ask for it at once.
    server = serve(
        emulator(time.time, processing_after=0, succeed_after=0.2, account_rate_limit=None)
    )
    server.emulator.inject(Fault.delay(0.25, on="create", times=None))  # both runs overlap
    jobs = jobs_file(tmp_path, count=6)
    env = environment({"MIVID_RETRY_BASE_DELAY": "0.05", "KLING_BASE_URL": server.url})
    command = [
        sys.executable,
        "-m",
        "mivid",
        "batch",
        str(jobs),
        "-c",
        "3",
        "--interval",
        "0.1",
        "--json",
    ]
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in runs]
    for process, (out, err) in zip(runs, outputs, strict=True):
        assert process.returncode == 0, err.decode()
        assert {row["status"] for row in report(out.decode())} == {"succeed"}
    assert posts(server) == 6
    assert len(server.emulator.tasks()) == 6


# -- 13.6: a create whose answer already says `succeed` is downloaded ------------------------


def test_a_job_whose_create_answers_succeed_is_downloaded(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, tmp_path: Path, sleepless: Sleepless
) -> None:
    server = serve(emulator(fake_clock, processing_after=0, succeed_after=0))
    jobs = jobs_file(tmp_path)
    result = mivid("batch", str(jobs), "--download", str(tmp_path / "v"), "--json", clock=sleepless)
    assert result.exit_code == 0, result
    for row in report(result.stdout):
        (saved,) = row["files"]
        assert Path(saved).read_bytes() == video_bytes(row["task_id"])
    assert posts(server) == 2


# -- 13.7: one job's trouble is that job's ----------------------------------------------------


def test_a_task_whose_queries_keep_failing_ends_alone_and_every_other_job_is_sent(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    tmp_path: Path,
    sleepless: Sleepless,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MIVID_RETRY_ATTEMPTS", "2")
    server = serve(emulator(fake_clock, task_ids=IDS))
    server.emulator.inject(Fault.html(502, on="get", task=IDS[0], times=None))
    jobs = jobs_file(tmp_path, count=8)
    result = mivid("batch", str(jobs), "-c", "2", "--json", clock=sleepless)
    assert result.exit_code == 5, result
    rows = report(result.stdout)
    assert [row["status"] for row in rows] == ["unknown"] + ["succeed"] * 7
    assert posts(server) == 8
    assert f"{jobs}:1: task {IDS[0]}: task {IDS[0]} could not be checked" in result.stderr
    assert "run the same command again" in result.stderr

    server.emulator.clear_faults()
    again = mivid("batch", str(jobs), "--json", clock=sleepless)
    assert again.exit_code == 0, again
    assert posts(server) == 8


def test_tasks_not_visible_right_after_their_create_are_waited_for(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    tmp_path: Path,
    sleepless: Sleepless,
) -> None:
    server = serve(emulator(fake_clock, invisible_for=2))
    jobs = jobs_file(tmp_path, count=8)
    result = mivid("batch", str(jobs), "-c", "3", "--json", clock=sleepless)
    assert result.exit_code == 0, result
    assert {row["status"] for row in report(result.stdout)} == {"succeed"}
    assert posts(server) == 8
    single = mivid(
        "create", str(tmp_path / "a.png"), "--prompt", "one more", "--wait", "-q", clock=sleepless
    )
    assert single.exit_code == 0, single


def test_a_video_the_folder_refuses_fails_that_job_only(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, tmp_path: Path, sleepless: Sleepless
) -> None:
    serve(emulator(fake_clock, task_ids=IDS))
    out = tmp_path / "v"
    out.mkdir()
    (out / f"{IDS[0]}.mp4").mkdir()  # something in the way of the first job's video
    jobs = jobs_file(tmp_path, count=3)
    result = mivid("batch", str(jobs), "--download", str(out), "--json", clock=sleepless)
    assert result.exit_code == 5, result
    rows = report(result.stdout)
    assert [row["status"] for row in rows] == ["succeed"] * 3
    assert rows[0]["download_error"] and rows[0]["files"] == []
    assert all(len(row["files"]) == 1 for row in rows[1:])
    assert "Traceback" not in result.stderr


def test_a_create_whose_outcome_stays_unknown_ends_that_job_only(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    tmp_path: Path,
    sleepless: Sleepless,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MIVID_RETRY_ATTEMPTS", "2")
    server = serve(emulator(fake_clock, task_ids=IDS))
    # The first job's task is made, its answer lost, and every lookup of it fails.
    server.emulator.inject(Fault.error(5002, on="create", prompt="job 0", after=True))
    server.emulator.inject(Fault.html(502, on="get", task=IDS[0], times=None))
    jobs = jobs_file(tmp_path, count=4)
    result = mivid("batch", str(jobs), "--json", clock=sleepless)
    assert result.exit_code == 5, result
    assert [row["status"] for row in report(result.stdout)] == ["unknown"] + ["succeed"] * 3
    with Journal.open() as journal:
        assert len(journal.entries(unsettled_only=True)) == 1


# -- what a batch says in a pipe: each fact once ---------------------------------------------


def test_a_full_service_is_said_once_however_often_it_answers_1303(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, tmp_path: Path, sleepless: Sleepless
) -> None:
    """QA 15: another task held the service's only slot; the 1303 note came once per retry."""
    server = serve(emulator(fake_clock, concurrency_limit=1, succeed_after=60))
    jobs = jobs_file(tmp_path, count=3)
    other = mivid("create", str(tmp_path / "a.png"), "--prompt", "someone else's", clock=sleepless)
    assert other.exit_code == 0, other
    result = mivid("batch", str(jobs), "-c", "3", clock=sleepless)
    assert result.exit_code == 0, result
    refused = posts(server) - len(server.emulator.tasks())
    assert refused >= 3, "the batch should have met the other task's slot several times"
    assert result.stderr.count("code 1303") == 1, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[2] for row in rows] == ["succeed"] * 3


def test_a_job_kept_back_by_max_units_says_not_sent_once_in_its_pipe_row(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, tmp_path: Path, sleepless: Sleepless
) -> None:
    """QA 15: `3<TAB><TAB>not sent<TAB>not sent: over --max-units …` said it twice."""
    serve(emulator(fake_clock))
    jobs = jobs_file(tmp_path, count=3)
    result = mivid("batch", str(jobs), "--max-units", "0.5", clock=sleepless)
    assert result.exit_code == 4, result
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    kept = [row for row in rows if row[2] == "not sent"]
    assert [row[:3] for row in kept] == [["2", "", "not sent"], ["3", "", "not sent"]], rows
    for row in kept:
        assert row[3].startswith("would pass the budget (1.1 of --max-units 0.5 used"), row
        assert "not sent" not in row[3]
