"""`mivid batch` through the real command line, against the emulator on 127.0.0.1.

The emulator here runs on the real clock with short tasks (0.3 s) and a limit
of 3 running tasks, so the scheduler's waiting for slots is the real thing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import RunMivid, Serve
from imagefactory import make_jpeg, make_png
from mivid.sandbox import Emulator, EmulatorServer

TASK_SECONDS = 0.3
FAST = ("--interval", "0.1")


@pytest.fixture
def service(serve: Serve) -> EmulatorServer:
    emulator = Emulator(
        access_keys={"ak": "sk"},
        clock=time.time,
        processing_after=0.1,
        succeed_after=TASK_SECONDS,
        concurrency_limit=3,
    )
    return serve(emulator, keys=("ak", "sk"))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "img").mkdir(parents=True)
    make_png(work / "img" / "front.png")
    make_jpeg(work / "img" / "side.jpg")
    return work


def write_jobs(folder: Path, jobs: list[dict[str, Any]], name: str = "jobs.jsonl") -> Path:
    path = folder / name
    path.write_text("".join(json.dumps(job) + "\n" for job in jobs), encoding="utf-8")
    return path


def eight_jobs() -> list[dict[str, Any]]:
    return [
        {
            "images": ["img/front.png", "img/side.jpg"] if n % 2 else ["img/side.jpg"],
            "prompt": f"shot {n}",
        }
        for n in range(8)
    ]


def posts(emulator: Emulator) -> int:
    return sum(1 for request in emulator.received if request.method == "POST")


def most_running_at_once(emulator: Emulator) -> int:
    """The most tasks whose [created, created + task time) overlap, as the emulator saw them.

    In whole milliseconds: `created_at` is rounded to one, so a task made the
    moment another ended can look 1 ms early; float seconds added a second error.
    """
    window = round(TASK_SECONDS * 1000) - 1
    starts = sorted(task["created_at"] for task in emulator.tasks())
    return max(sum(1 for other in starts if start <= other < start + window) for start in starts)


def test_eight_jobs_under_a_limit_of_three_then_a_rerun_creates_nothing(
    mivid: RunMivid, service: EmulatorServer, folder: Path, tmp_path: Path
) -> None:
    emulator = service.emulator
    jobs = write_jobs(folder, eight_jobs())
    videos = tmp_path / "videos"

    result = mivid("batch", str(jobs), "--concurrency", "4", "--download", str(videos), *FAST)

    assert result.exit_code == 0, result
    tasks = emulator.tasks()
    assert len(tasks) == 8
    assert {task["task_status"] for task in tasks} == {"succeed"}
    assert most_running_at_once(emulator) <= 3
    refused = posts(emulator) - len(tasks)  # every other create was answered 1303
    assert refused >= 1, "the 4th create should have met the service's limit"
    saved = sorted(videos.glob("*.mp4"))
    assert [path.stem for path in saved] == sorted(task["task_id"] for task in tasks)
    assert all(path.stat().st_size > 0 for path in saved)
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert sorted(int(row[0]) for row in rows) == list(range(1, 9))
    assert {row[2] for row in rows} == {"succeed"}
    assert {row[3] for row in rows} == {str(path) for path in saved}
    assert result.stderr.count("1303") == 1, result.stderr  # said once that it waits for slots
    assert "Traceback" not in result.stderr

    before = len(emulator.received)
    again = mivid(
        "batch", str(jobs), "--concurrency", "4", "--download", str(videos), "--json", *FAST
    )

    assert again.exit_code == 0, again
    assert posts(emulator) == 8 + refused  # no POST on the rerun
    assert all(request.method != "POST" for request in emulator.received[before:])
    report = json.loads(again.stdout)
    assert [row["line"] for row in report] == list(range(1, 9))
    assert {row["action"] for row in report} == {"skip"}
    assert {row["status"] for row in report} == {"succeed"}
    assert sorted(row["task_id"] for row in report) == sorted(task["task_id"] for task in tasks)
    assert all(row["external_task_id"].startswith("mivid-b-") for row in report)
    assert sorted(Path(row["files"][0]).name for row in report) == [path.name for path in saved]


def test_a_bad_line_is_named_and_nothing_is_sent(
    mivid: RunMivid, service: EmulatorServer, folder: Path
) -> None:
    jobs = folder / "jobs.jsonl"
    jobs.write_text(
        json.dumps({"images": ["img/front.png"], "prompt": "fine"})
        + "\n# a comment\n"
        + json.dumps({"images": ["img/missing.png"], "prompt": "waves", "speed": 2})
        + "\n{oops\n",
        encoding="utf-8",
    )

    result = mivid("batch", str(jobs))

    assert result.exit_code == 2, result
    assert result.stdout == ""
    assert f"{jobs}:3: img/missing.png: no such file" in result.stderr
    assert f"{jobs}:3: unknown field `speed`" in result.stderr
    assert f"{jobs}:4: not valid JSON" in result.stderr
    assert ":1:" not in result.stderr
    assert service.emulator.received == []


def test_a_failing_job_exits_1_and_the_others_are_still_saved(
    mivid: RunMivid, service: EmulatorServer, folder: Path, tmp_path: Path
) -> None:
    jobs = write_jobs(
        folder,
        [
            {"images": ["img/front.png"], "prompt": "sunrise"},
            {"images": ["img/front.png"], "prompt": "storm [fail]"},
            {"images": ["img/side.jpg"], "prompt": "sunset", "duration": "10"},
        ],
    )
    videos = tmp_path / "videos"

    result = mivid("batch", str(jobs), "--download", str(videos), "--json", *FAST)

    assert result.exit_code == 1, result
    report = json.loads(result.stdout)
    assert [row["status"] for row in report] == ["succeed", "failed", "succeed"]
    assert "[fail]" in report[1]["task_status_msg"]
    assert report[1]["files"] == []
    assert all(Path(row["files"][0]).is_file() for row in (report[0], report[2]))
    assert len(list(videos.glob("*.mp4"))) == 2
    assert f"{jobs}:2: task {report[1]['task_id']} failed" in result.stderr


def test_csv_jobs_with_pipe_separated_images(
    mivid: RunMivid, service: EmulatorServer, folder: Path
) -> None:
    jobs = folder / "jobs.csv"
    jobs.write_text(
        "images,prompt,mode,watermark\n"
        'img/front.png|img/side.jpg,"waves, then calm",pro,true\n'
        "img/side.jpg,a gull,,\n",
        encoding="utf-8",
    )

    result = mivid("batch", str(jobs), *FAST)

    assert result.exit_code == 0, result
    bodies = [request.json for request in service.emulator.received if request.method == "POST"]
    assert [len(body["image_list"]) for body in bodies] == [2, 1]
    assert bodies[0]["mode"] == "pro" and bodies[0]["watermark_info"] == {"enabled": True}
    assert bodies[0]["prompt"] == "waves, then calm"
    assert bodies[1]["mode"] == "std" and "watermark_info" not in bodies[1]
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == ["2", "3"]


def test_dry_run_shows_the_plan_and_sends_nothing(
    mivid: RunMivid, service: EmulatorServer, folder: Path
) -> None:
    jobs = write_jobs(folder, eight_jobs()[:2])
    assert mivid("batch", str(jobs), *FAST).exit_code == 0
    jobs.write_text(
        jobs.read_text() + json.dumps({"images": ["img/front.png"], "prompt": "new"}) + "\n"
    )
    before = len(service.emulator.received)

    result = mivid("batch", str(jobs), "--dry-run", "--json")

    assert result.exit_code == 0, result
    assert [row["action"] for row in json.loads(result.stdout)] == ["skip", "skip", "send"]
    assert len(service.emulator.received) == before
    assert "nothing sent" in result.stderr


def test_ctrl_c_stops_cleanly_and_a_rerun_finishes_without_duplicates(
    mivid: RunMivid, service: EmulatorServer, folder: Path
) -> None:
    jobs = write_jobs(folder, eight_jobs()[:4])
    process = subprocess.Popen(
        [sys.executable, "-m", "mivid", "batch", str(jobs), "--concurrency", "1", *FAST],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # the first job finished
    process.send_signal(signal.SIGINT)
    rest, stderr = process.communicate(timeout=30)

    assert process.returncode == 130, (first, rest, stderr)
    assert first.startswith("1\t")
    assert "Run the same command again to resume" in stderr
    assert "Traceback" not in stderr
    made = len(service.emulator.tasks())
    assert 1 <= made < 4

    again = mivid("batch", str(jobs), "--json", *FAST)

    assert again.exit_code == 0, again
    assert len(service.emulator.tasks()) == 4
    report = json.loads(again.stdout)
    assert {row["status"] for row in report} == {"succeed"}
    assert report[0]["action"] == "skip"


def test_rerunning_a_finished_file_asks_the_service_nothing(
    mivid: RunMivid, service: EmulatorServer, folder: Path, tmp_path: Path
) -> None:
    emulator = service.emulator
    jobs = write_jobs(
        folder,
        [
            {"images": ["img/front.png"], "prompt": "sunrise"},
            {"images": ["img/front.png"], "prompt": "storm [fail]"},
            {"images": ["img/side.jpg", "img/front.png"], "prompt": "sunset"},
        ],
    )
    videos = tmp_path / "videos"
    first = mivid("batch", str(jobs), "--download", str(videos), "--json", *FAST)
    assert first.exit_code == 1, first
    sidecars = {path: path.stat().st_mtime_ns for path in videos.glob("*.json")}
    assert len(sidecars) == 3  # the two videos', and the failed task's (its reason)
    # The images are not read again for jobs whose tasks exist: they may even be gone.
    for image in (folder / "img").iterdir():
        image.unlink()
    before = len(emulator.received)

    again = mivid("batch", str(jobs), "--download", str(videos), "--json", *FAST)

    assert again.exit_code == 1, again  # line 2's task failed, as the journal remembers
    assert emulator.received[before:] == []  # no query, no video request
    report = json.loads(again.stdout)
    assert [(row["action"], row["status"]) for row in report] == [
        ("skip", "succeed"),
        ("skip", "failed"),
        ("skip", "succeed"),
    ]
    assert report[0]["files"] == json.loads(first.stdout)[0]["files"]
    assert "[fail]" in report[1]["task_status_msg"]
    assert f"{jobs}:2: task {report[1]['task_id']} failed" in again.stderr
    assert {path: path.stat().st_mtime_ns for path in sidecars} == sidecars  # not rewritten


def test_a_saved_video_that_differs_from_its_sidecar_is_asked_about_again(
    mivid: RunMivid, service: EmulatorServer, folder: Path, tmp_path: Path
) -> None:
    emulator = service.emulator
    jobs = write_jobs(folder, eight_jobs()[:2])
    videos = tmp_path / "videos"
    assert mivid("batch", str(jobs), "--download", str(videos), *FAST).exit_code == 0
    tampered = sorted(videos.glob("*.mp4"))[0]
    tampered.write_bytes(b"\0" * tampered.stat().st_size)  # same size, other bytes
    untouched = sorted(videos.glob("*.mp4"))[1]
    before = len(emulator.received)

    mivid("batch", str(jobs), "--download", str(videos), *FAST)

    asked = [request.path for request in emulator.received[before:]]
    assert any(tampered.stem in path for path in asked), asked
    assert not any(untouched.stem in path for path in asked), asked


def test_jobs_naming_one_image_file_each_get_its_verdict_in_their_own_words(
    mivid: RunMivid, service: EmulatorServer, folder: Path
) -> None:
    broken = folder / "img" / "broken.png"
    broken.write_bytes((folder / "img" / "front.png").read_bytes()[:200])
    jobs = write_jobs(
        folder,
        [
            {"images": ["img/broken.png"], "prompt": "one"},
            {"images": ["./img/broken.png"], "prompt": "two"},
            {"images": ["img/front.png"], "prompt": "three"},
            {"images": ["./img/front.png"], "prompt": "four"},
        ],
    )

    result = mivid("batch", str(jobs), "--dry-run")

    assert result.exit_code == 2, result
    assert f"{jobs}:1: img/broken.png: cannot be decoded" in result.stderr
    assert f"{jobs}:2: ./img/broken.png: cannot be decoded" in result.stderr
    assert ":3:" not in result.stderr and ":4:" not in result.stderr
    assert service.emulator.received == []

    broken.unlink()
    sent = mivid(
        "batch",
        str(
            write_jobs(
                folder,
                [
                    {"images": ["./img/front.png"], "prompt": "four"},
                    {"images": ["img/front.png"], "prompt": "three"},
                ],
                "two.jsonl",
            )
        ),
        *FAST,
    )
    assert sent.exit_code == 0, sent
    names = [
        request.json["image_list"]
        for request in service.emulator.received
        if request.method == "POST"
    ]
    assert len(names) == 2
    journal = mivid("list", "--local", "--json")
    typed = sorted(entry["local"]["images"][0]["name"] for entry in json.loads(journal.stdout))
    assert typed == ["./img/front.png", "img/front.png"]


def test_a_pipe_s_fourth_field_is_the_file_else_the_url_else_the_reason_as_help_says(
    mivid: RunMivid, service: EmulatorServer, folder: Path, tmp_path: Path
) -> None:
    """QA newcomer 3, finding 8: `batch --help` called it FILE-OR-REASON, but without
    --download it is the video's URL."""
    shown = mivid("batch", "--help", env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown
    said = " ".join(shown.stdout.split())
    assert (
        "in a pipe each finished job prints LINE<TAB>TASK_ID<TAB>STATUS<TAB>RESULT, the result "
        "being the saved file (with --download; several joined by commas), else the video's "
        "URL, or why the job failed."
    ) in said
    jobs = write_jobs(
        folder,
        [
            {"images": ["img/front.png"], "prompt": "sunrise"},
            {"images": ["img/front.png"], "prompt": "storm [fail]"},
        ],
    )
    piped = mivid("batch", str(jobs), *FAST)
    assert piped.exit_code == 1, piped
    rows = [line.split("\t") for line in piped.stdout.splitlines()]
    by_task = {task["task_id"]: task for task in service.emulator.tasks()}
    url = by_task[rows[0][1]]["task_result"]["videos"][0]["url"]
    assert [(row[0], row[2], row[3]) for row in rows] == [
        ("1", "succeed", url),
        ("2", "failed", by_task[rows[1][1]]["task_status_msg"]),
    ]
    videos = tmp_path / "videos"
    saved = mivid("batch", str(jobs), "--download", str(videos), *FAST)
    assert saved.exit_code == 1, saved
    [done] = [
        row for row in (line.split("\t") for line in saved.stdout.splitlines()) if row[0] == "1"
    ]
    assert done[3] == str(videos / f"{done[1]}.mp4")
