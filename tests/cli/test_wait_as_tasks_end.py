"""`wait` and `create --wait` show and save each task as it ends, not when the last one does.

`wait A B --timeout N -d DIR`, B long over and A still running: B is printed (a
table row, a pipe line, a JSON element, an id) and saved at once, A is said to be
still running, exit 6. A task that ended failed is not one to "follow" any more.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import ANSI, InProcessTerminal, RunMivid, Sleepless
from imagefactory import make_png
from mivid.sandbox import EmulatorServer, FakeClock
from mivid.sandbox.video import video_bytes

COLLECTION = "/v1/videos/multi-image2video"


@pytest.fixture
def image(tmp_path: Path) -> str:
    return str(make_png(tmp_path / "front.png"))


@pytest.fixture
def over_and_running(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, image: str
) -> tuple[str, str]:
    """B, made ten minutes ago and over; A, made now and running for ten minutes more."""
    api.emulator.succeed_after = 600
    over = mivid("create", image, "--prompt", "over", "-q").stdout.strip()
    fake_clock.advance(700)
    running = mivid("create", image, "--prompt", "running", "-q").stdout.strip()
    assert over and running
    return running, over


def video_downloads(api: EmulatorServer) -> list[str]:
    return [r.path for r in api.emulator.received if r.path.endswith(".mp4")]


def test_a_pipe_gets_the_ended_tasks_line_and_its_video_before_the_timeout(
    mivid: RunMivid,
    api: EmulatorServer,
    over_and_running: tuple[str, str],
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    running, over = over_and_running
    folder = tmp_path / "to"
    result = mivid("wait", running, over, "--timeout", "60", "-d", str(folder), clock=sleepless)

    assert result.exit_code == 6, result
    saved = folder / f"{over}.mp4"
    url = api.emulator.video_url(over)
    assert result.stdout == f"{over}\tsucceed\t{url}\t{saved}\t\n"  # B's line, A none
    assert saved.read_bytes() == video_bytes(over)
    assert sorted(p.name for p in folder.glob("*.mp4")) == [f"{over}.mp4"]
    assert (
        f"error: gave up waiting after 60 s; 1 of 2 tasks ended, still running: {running} "
        "(processing)" in result.stderr
    )
    assert f"resume with: mivid wait {running} --download {folder}" in result.stderr
    assert "stopped at the deadline" not in result.stderr  # saved long before it

    # Without -d, the line comes all the same (the QA's `wait A B --timeout 1 | cat`).
    plain = mivid("wait", running, over, "--timeout", "1", clock=sleepless)
    assert plain.exit_code == 6, plain
    assert plain.stdout == f"{over}\tsucceed\t{url}\t\t\n"
    # Run again with -d: B's video is there already (not downloaded again), its line is printed.
    downloads = len(video_downloads(api))
    again = mivid("wait", running, over, "--timeout", "1", "-d", str(folder), clock=sleepless)
    assert again.exit_code == 6, again
    assert again.stdout == f"{over}\tsucceed\t{url}\t{saved}\t\n"
    assert len(video_downloads(api)) == downloads


def test_json_is_an_array_of_the_tasks_that_ended_and_ids_their_ids(
    mivid: RunMivid,
    api: EmulatorServer,
    over_and_running: tuple[str, str],
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    running, over = over_and_running
    folder = tmp_path / "to"
    args = ("wait", running, over, "--timeout", "60", "-d", str(folder))
    result = mivid(*args, "--json", clock=sleepless)

    assert result.exit_code == 6, result
    # `wait --json` prints the final task objects: B's, and nothing of A (still running).
    [shown] = json.loads(result.stdout)
    assert shown["task_id"] == over and shown["task_status"] == "succeed"
    assert shown["files"] == [str(folder / f"{over}.mp4")]
    assert shown["local"]["prompt"] == "over"  # as `get --json` shows it
    assert (folder / f"{over}.mp4").read_bytes() == video_bytes(over)
    assert f"still running: {running}" in result.stderr

    quiet = mivid(*args, "-q", clock=sleepless)
    assert quiet.exit_code == 6, quiet
    assert quiet.stdout == f"{over}\n"

    # Nothing ended before the timeout: still one JSON document, an empty array.
    none = mivid("wait", running, "--timeout", "1", "--json", clock=sleepless)
    assert none.exit_code == 6, none
    assert json.loads(none.stdout) == []
    assert f"gave up waiting after 1 s; still running: {running}" in none.stderr


def test_a_task_is_printed_when_it_ends_while_the_others_run_on(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, sleepless: Sleepless, image: str
) -> None:
    """The line of the task that ends first comes first, whatever the order of the ids."""
    api.emulator.succeed_after = 30
    slow = mivid("create", image, "--prompt", "slow", "-q").stdout.strip()
    fake_clock.advance(20)
    quick = mivid("create", image, "--prompt", "quick", "-q").stdout.strip()

    result = mivid("wait", quick, slow, "--json", clock=sleepless)

    assert result.exit_code == 0, result
    assert [task["task_id"] for task in json.loads(result.stdout)] == [slow, quick]


def test_on_a_terminal_the_ended_task_is_shown_and_saved_at_the_timeout(
    mivid: RunMivid, api: EmulatorServer, over_and_running: tuple[str, str], tmp_path: Path
) -> None:
    running, over = over_and_running
    folder = tmp_path / "to"
    terminal = InProcessTerminal(
        ["wait", running, over, "--timeout", "1", "-d", str(folder)], stdin=False
    )
    assert terminal.finish(timeout=30) == 6
    screen = ANSI.sub("", terminal.text())
    saved = folder / f"{over}.mp4"
    assert f"{over}  succeed" in screen
    assert f"  saved: {saved}" in screen
    assert f"still running: {running}" in screen
    assert saved.read_bytes() == video_bytes(over)


# -- create --wait: a task that ended is not one to follow ------------------------------------


@pytest.mark.parametrize("form", [("--json",), ()], ids=["json", "pipe"])
def test_create_wait_on_a_task_that_failed_does_not_say_follow_it(
    mivid: RunMivid,
    api: EmulatorServer,
    sleepless: Sleepless,
    image: str,
    form: tuple[str, ...],
) -> None:
    result = mivid("create", image, "--prompt", "sink2 [fail]", "--wait", *form, clock=sleepless)

    assert result.exit_code == 1, result
    [task] = api.emulator.tasks()
    if form:
        shown = json.loads(result.stdout)
        assert shown["task_id"] == task["task_id"] and shown["task_status"] == "failed"
    else:
        assert result.stdout == f"{task['task_id']}\tfailed\t\t\t{task['task_status_msg']}\n"
    assert f"error: task {task['task_id']} failed: {task['task_status_msg']}" in result.stderr
    assert "follow it" not in result.stderr
    assert "was created" not in result.stderr


def test_create_wait_json_that_times_out_still_names_the_task_to_follow(
    mivid: RunMivid, api: EmulatorServer, image: str
) -> None:
    result = mivid("create", image, "--prompt", "sink2", "--wait", "--json", "--timeout", "0")

    assert result.exit_code == 6, result
    [task] = api.emulator.tasks()
    assert result.stdout == ""  # its one document never came: the task had not ended
    assert (
        f"task {task['task_id']} was created; follow it: mivid wait {task['task_id']}"
        in result.stderr
    )


def test_a_video_cut_at_the_deadline_resumes_with_the_tasks_still_running(
    mivid: RunMivid,
    api: EmulatorServer,
    over_and_running: tuple[str, str],
    sleepless: Sleepless,
    tmp_path: Path,
) -> None:
    from mivid.sandbox import Fault

    running, over = over_and_running
    folder = tmp_path / "to"
    api.emulator.inject(Fault.drip(1.0, on="video"))  # a byte a second: the deadline comes first
    args = ("wait", running, over, "--timeout", "10", "-d", str(folder), "--json")
    result = mivid(*args, clock=sleepless)

    assert result.exit_code == 6, result
    assert json.loads(result.stdout) == []  # B's video was not saved: B is not shown yet
    assert "gave up after 10 s (--timeout) while saving the videos" in result.stderr
    assert f"still running: {running}" in result.stderr
    assert f"resume with: mivid wait {over} {running} --download {folder}" in result.stderr
