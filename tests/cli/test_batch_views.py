"""What `batch` shows (issue 15, point 14): the prompt that tells jobs apart, a dry run as a
table on a terminal, JSON with each video's URL and prompt, and a resume line that keeps
every option given."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from helpers import RunMivid, Sleepless, Terminal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")

PROMPTS = ("a red kite over the dunes", "the tide comes in at night", "snow on the harbour")


def jobs_file(folder: Path, mivid: RunMivid) -> Path:
    assert mivid("sandbox", "examples", str(folder)).exit_code == 0
    jobs = folder / "mine.jsonl"
    jobs.write_text(
        "".join(json.dumps({"images": ["lighthouse.jpg"], "prompt": p}) + "\n" for p in PROMPTS)
    )
    return jobs


def test_the_live_table_shows_each_jobs_prompt_and_ctrl_c_keeps_every_option(
    mivid: RunMivid, tmp_path: Path
) -> None:
    jobs = jobs_file(tmp_path, mivid)
    args = ["--sandbox", "batch", str(jobs), "-c", "1", "--fit", "--interval", "0.5", "-d", "out"]
    terminal = Terminal(
        args, env={"MIVID_SANDBOX_TASK_SECONDS": "600", "NO_COLOR": "1"}, cwd=str(tmp_path)
    )
    try:
        screen = terminal.expect("PROMPT", timeout=30)
        terminal.expect(PROMPTS[0])
    finally:
        os.kill(terminal.process.pid, signal.SIGINT)
    assert terminal.finish(timeout=30) == 130
    screen = terminal.text()
    assert "LINE" in screen and "STATE" in screen
    resume = next(line for line in screen.splitlines() if "to resume:" in line)
    command = resume.split("to resume: ", 1)[1]
    assert command == (
        f"mivid --sandbox batch {jobs} --concurrency 1 --fit-mode pad --interval 0.5 --download out"
    ), command


def test_a_dry_run_is_a_table_on_a_terminal_and_lines_in_a_pipe(
    mivid: RunMivid, tmp_path: Path
) -> None:
    jobs = jobs_file(tmp_path, mivid)

    terminal = Terminal(
        ["--sandbox", "batch", str(jobs), "--dry-run"], columns=120, stdin=False,
        env={"NO_COLOR": "1"},
    )  # fmt: skip
    assert terminal.finish() == 0
    lines = terminal.text().splitlines()
    header = next(line for line in lines if line.startswith("LINE"))
    assert header.split()[:2] == ["LINE", "ACTION"] and "PROMPT" in header
    assert any("send" in line and PROMPTS[1] in line for line in lines), lines
    assert "\t" not in terminal.text()

    piped = mivid("--sandbox", "batch", str(jobs), "--dry-run")
    assert [line.split("\t")[2] for line in piped.stdout.splitlines()] == ["send"] * 3


def test_json_has_each_jobs_prompt_and_video_url(mivid: RunMivid, tmp_path: Path) -> None:
    jobs = jobs_file(tmp_path, mivid)

    result = mivid(
        "--sandbox", "batch", str(jobs), "--json", "--interval", "0.1",
        env={"MIVID_SANDBOX_TASK_SECONDS": "0.05"},
    )  # fmt: skip

    assert result.exit_code == 0, result
    report = json.loads(result.stdout)
    assert [job["prompt"] for job in report] == list(PROMPTS)
    for job in report:
        assert job["videos"] == [
            f"http://sandbox.mivid.invalid/sandbox/videos/{job['task_id']}.mp4"
        ]
    assert "1 jobs" not in result.stderr and "3 jobs" in result.stderr


def test_the_live_table_uses_the_terminals_height(mivid: RunMivid, tmp_path: Path) -> None:
    """QA 9: at 120x40 twelve jobs were five rows, "(6 more not shown)" and thirty empty lines."""
    assert mivid("sandbox", "examples", str(tmp_path)).exit_code == 0
    jobs = tmp_path / "twelve.jsonl"
    prompts = [f"shot number {n} of twelve" for n in range(1, 13)]
    jobs.write_text(
        "".join(json.dumps({"images": ["lighthouse.jpg"], "prompt": p}) + "\n" for p in prompts)
    )
    args = ["--sandbox", "batch", str(jobs), "-c", "2", "--fit", "--interval", "5"]
    env = {"MIVID_SANDBOX_TASK_SECONDS": "600", "NO_COLOR": "1"}
    tall = Terminal(args, env={**env, "LINES": "40"}, cwd=str(tmp_path))
    short = Terminal(args, env={**env, "LINES": "12"}, cwd=str(tmp_path))
    try:
        tall.expect("12 jobs: ", timeout=30)
        short.expect("more not shown", timeout=30)
    finally:
        for terminal in (tall, short):
            os.kill(terminal.process.pid, signal.SIGINT)
    for terminal in (tall, short):
        assert terminal.finish(timeout=30) == 130
    # Every job has its row on a 40-line screen, and nothing says some are missing.
    seen = tall.text()
    assert all(prompt in seen for prompt in prompts), seen
    assert "not shown" not in seen
    # On 12 lines: the header, eight jobs (the two sent, then the next six), the totals.
    frame = short.text().rsplit("LINE", 1)[1]
    rows = [line for line in frame.splitlines() if "shot number" in line]
    assert [int(row.split()[0]) for row in rows] == list(range(1, 9)), frame
    assert "(4 more not shown)" in frame


def test_one_video_kept_from_an_earlier_run_is_said_in_the_singular(
    mivid: RunMivid, tmp_path: Path, sleepless: Sleepless
) -> None:
    assert mivid("sandbox", "examples", str(tmp_path)).exit_code == 0
    jobs = tmp_path / "one.jsonl"
    jobs.write_text(json.dumps({"images": ["lighthouse.jpg"], "prompt": PROMPTS[0]}) + "\n")
    args = ["--sandbox", "batch", str(jobs), "--fit", "--download", str(tmp_path / "videos")]
    assert mivid(*args, clock=sleepless).exit_code == 0
    again = mivid(*args, clock=sleepless)
    assert again.exit_code == 0, again
    assert "1 video saved by an earlier run is already there, not downloaded again" in (
        again.stderr
    ), again.stderr


def test_a_rerun_into_the_same_folder_reports_each_skipped_jobs_videos_and_files(
    mivid: RunMivid, tmp_path: Path, sleepless: Sleepless
) -> None:
    """QA 14: a finished job skipped by a rerun with --download gave `"videos": []`."""
    jobs = jobs_file(tmp_path, mivid)
    out = tmp_path / "videos"
    args = ["--sandbox", "batch", str(jobs), "--json", "--fit", "--download", str(out)]
    first = mivid(*args, clock=sleepless)
    assert first.exit_code == 0, first
    again = mivid(*args, clock=sleepless)
    assert again.exit_code == 0, again
    assert "3 videos saved by an earlier run are already there" in again.stderr
    before, after = json.loads(first.stdout), json.loads(again.stdout)
    assert [job["action"] for job in after] == ["skip"] * 3
    for sent, skipped in zip(before, after, strict=True):
        assert (
            skipped["videos"]
            == sent["videos"]
            == [f"http://sandbox.mivid.invalid/sandbox/videos/{sent['task_id']}.mp4"]
        )
        assert skipped["files"] == sent["files"] == [str(out / f"{sent['task_id']}.mp4")]
