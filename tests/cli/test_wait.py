"""`mivid wait` through the real command line: exit statuses, downloads, resume hints."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

from helpers import RunMivid, Serve, Sleepless, mivid_popen
from mivid.sandbox import Emulator, EmulatorServer, FakeClock, Fault
from mivid.sandbox.video import video_bytes

COLLECTION = "/v1/videos/multi-image2video"


def new_task(server: EmulatorServer, prompt: str = "a cat") -> str:
    """A task made straight at the emulator (the create command has its own tests)."""
    import httpx
    import jwt

    now = int(server.emulator.clock())
    token = jwt.encode({"iss": "test-ak", "exp": now + 1800, "nbf": now - 5}, "test-sk")
    body = {"image_list": [{"image": "https://example.com/a.png"}], "prompt": prompt}
    answer = httpx.post(
        server.url + COLLECTION, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["task_id"])


def gets(server: EmulatorServer) -> int:
    return sum(1 for r in server.emulator.received if r.path.startswith(COLLECTION + "/"))


def test_wait_prints_each_task_and_exits_0(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock
) -> None:
    task_id = new_task(api)
    fake_clock.advance(10)
    result = mivid("wait", task_id)
    assert result.exit_code == 0, result
    # In a pipe, one line: task id, status, video URL, saved file(s), reason.
    assert result.stdout == f"{task_id}\tsucceed\t{api.url}/sandbox/videos/{task_id}.mp4\t\t\n"
    assert result.stderr == ""  # a pipe: no live lines


def test_wait_json_prints_the_final_task_objects(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock
) -> None:
    ids = [new_task(api), new_task(api)]
    fake_clock.advance(10)
    result = mivid("wait", *ids, "--json")
    assert result.exit_code == 0, result
    shown = json.loads(result.stdout)
    # The service's objects, each with the endpoint it was found on (as `get --json` adds it;
    # made without mivid, the journal knows neither: no "local").
    assert [task.pop("endpoint") for task in shown] == ["multi-image"] * 2
    assert shown == api.emulator.tasks()
    assert result.stderr == ""


def test_wait_download_saves_the_served_bytes(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    task_id = new_task(api)
    fake_clock.advance(10)
    result = mivid("wait", task_id, "--download", str(tmp_path / "out"))
    assert result.exit_code == 0, result
    saved = tmp_path / "out" / f"{task_id}.mp4"
    assert saved.read_bytes() == video_bytes(task_id)
    assert result.stdout.rstrip("\n").split("\t")[3] == str(saved)
    assert "30 days" in result.stderr


def test_a_failed_task_exits_1_with_its_reason(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    good, bad = new_task(api), new_task(api, prompt="a cat [fail]")
    fake_clock.advance(10)
    result = mivid("wait", good, bad, "--download", str(tmp_path))
    assert result.exit_code == 1, result
    reason = api.emulator.tasks()[1]["task_status_msg"]
    assert f"error: task {bad} failed: {reason}" in result.stderr
    assert f"{bad}\tfailed\t\t\t{reason}\n" in result.stdout
    assert (tmp_path / f"{good}.mp4").exists()  # the good one is still saved
    assert not (tmp_path / f"{bad}.mp4").exists()


def test_timeout_on_a_running_task_exits_6_with_the_resume_command(
    mivid: RunMivid, api: EmulatorServer
) -> None:
    task_id = new_task(api)
    result = mivid("wait", task_id, "--timeout", "0", "--download", "out dir")
    assert result.exit_code == 6, result
    assert f"still running: {task_id} (submitted)" in result.stderr
    assert f"resume with: mivid wait {task_id} --download 'out dir'" in result.stderr


def test_an_unknown_id_exits_4(mivid: RunMivid, api: EmulatorServer) -> None:
    result = mivid("wait", "123456789012345678")
    assert result.exit_code == 4
    assert "no task `123456789012345678`" in result.stderr


def test_several_tasks_are_polled_side_by_side(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock
) -> None:
    ids = [new_task(api) for _ in range(5)]
    fake_clock.advance(10)
    # One after the other, five 1 s answers take 5 s; after the first slow one the
    # other four go side by side: about 2 s. The bound leaves a busy machine 1.5 s.
    api.emulator.inject(Fault.delay(1.0, on="get", times=5))
    started = time.monotonic()
    result = mivid("wait", *ids, "--json")
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result
    assert gets(api) == 5
    assert 2.0 <= elapsed < 3.5, f"five 1 s queries took {elapsed:.2f} s: not side by side"


def test_ids_come_from_stdin(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    ids = [new_task(api), new_task(api)]
    fake_clock.advance(10)
    listed = mivid("list", "--json")
    piped = "\n".join(task["task_id"] for task in json.loads(listed.stdout)) + "\n"
    result = mivid("wait", "-", "--download", str(tmp_path), input=piped)
    assert result.exit_code == 0, result
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == sorted(f"{i}.mp4" for i in ids)


def test_bad_options_exit_2_before_any_query(mivid: RunMivid, api: EmulatorServer) -> None:
    result = mivid("wait", "1", "--interval", "0", "--timeout", "-1")
    assert result.exit_code == 2
    assert "--interval: 0" in result.stderr
    assert "--timeout: -1" in result.stderr
    assert api.emulator.received == []


def test_the_sandbox_waits_and_times_out_too(
    mivid: RunMivid, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MIVID_SANDBOX_TASK_SECONDS", "60")
    from imagefactory import make_png

    image = str(make_png(tmp_path / "a.png"))
    created = mivid("--sandbox", "create", image, "--prompt", "waves", "-q")
    task_id = created.stdout.strip()
    result = mivid("--sandbox", "wait", task_id, "--timeout", "0")
    assert result.exit_code == 6, result
    assert f"resume with: mivid --sandbox wait {task_id}" in result.stderr


def test_ctrl_c_exits_130_at_once_with_the_resume_hint(tmp_path: Path) -> None:
    import os
    import threading

    from imagefactory import make_png

    env = {**os.environ, "MIVID_SANDBOX_TASK_SECONDS": "60"}
    image = str(make_png(tmp_path / "a.png"))
    created = subprocess.run(
        [sys.executable, "-m", "mivid", "--sandbox", "create", image, "--prompt", "x", "-q"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    task_id = created.stdout.strip()
    # --verbose logs each query on stderr: Ctrl-C comes once the wait is polling,
    # however long a loaded machine takes to start Python. --interval 12 makes the
    # next poll 12 s away, so a quick exit means the pause was cut short.
    args = ["--sandbox", "--verbose", "wait", task_id, "-d", "out", "--interval", "12"]
    with mivid_popen(*args, env=env) as process:
        assert process.stderr is not None and process.stdout is not None
        lines: list[str] = []
        polled = threading.Event()

        def read_stderr(stream: IO[str]) -> None:
            for line in stream:
                lines.append(line)
                if line.startswith("http: GET"):
                    polled.set()

        reader = threading.Thread(target=read_stderr, args=(process.stderr,), daemon=True)
        reader.start()
        try:
            assert polled.wait(timeout=60), "".join(lines)
            process.send_signal(signal.SIGINT)
            stopped = time.monotonic()
            assert process.wait(timeout=30) == 130, "".join(lines)
            assert time.monotonic() - stopped < 8  # not after the 12 s pause
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            reader.join(timeout=30)
        out = process.stdout.read()
    err = "".join(lines)
    assert f"Resume with: mivid --sandbox wait {task_id} --download out" in err
    assert err.rstrip().endswith("interrupted")
    assert "Traceback" not in err
    assert out == ""


def test_a_wait_of_minutes_runs_in_no_time_on_the_fake_clock(
    mivid: RunMivid,
    kling_env: EmulatorServer,
    sleepless: Sleepless,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The clock handed to `mivid.cli.run` times every pause: a 5-minute task, no real waiting."""
    kling_env.emulator.succeed_after = 300
    task_id = new_task(kling_env)
    started = time.monotonic()
    result = mivid("wait", task_id, clock=sleepless)
    assert result.exit_code == 0, result
    assert result.stdout.startswith(f"{task_id}\tsucceed\t")
    assert time.monotonic() - started < 10  # not five minutes
    assert 290 <= sum(sleepless.slept) <= 315  # the pauses the schedule asked for
    assert 30 <= gets(kling_env) <= 45  # 1 s growing to 12 s: dozens of queries, not hundreds


def test_a_timeout_on_the_fake_clock_gives_the_resume_hint_at_once(
    mivid: RunMivid,
    kling_env: EmulatorServer,
    sleepless: Sleepless,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kling_env.emulator.succeed_after = 600
    task_id = new_task(kling_env)
    result = mivid("wait", task_id, "--timeout", "60", clock=sleepless)
    assert result.exit_code == 6, result
    assert f"resume with: mivid wait {task_id}" in result.stderr
    assert 59 <= sum(sleepless.slept) <= 61


# -- many tasks: the list first ---------------------------------------------------------


@pytest.fixture
def roomy(serve: Serve, fake_clock: FakeClock) -> EmulatorServer:
    """An emulator that lets many tasks run at once (on the fake clock, at the real time)."""
    fake_clock.set(time.time())
    emulator = Emulator(access_keys={"test-ak": "test-sk"}, clock=fake_clock, concurrency_limit=100)
    return serve(emulator)


def list_requests(server: EmulatorServer) -> list[dict[str, str]]:
    return [
        dict(r.query)
        for r in server.emulator.received
        if r.method == "GET" and r.path == COLLECTION
    ]


def test_waiting_on_many_tasks_asks_their_list_each_round_not_each_task(
    mivid: RunMivid, roomy: EmulatorServer, sleepless: Sleepless
) -> None:
    ids = [new_task(roomy, f"shot {n}") for n in range(12)]
    received = len(roomy.emulator.received)

    result = mivid("wait", *ids, clock=sleepless)

    assert result.exit_code == 0, result
    ended = [line.split("\t")[:2] for line in result.stdout.splitlines()]
    assert ended == [[task_id, "succeed"] for task_id in ids]
    asked = roomy.emulator.received[received:]
    assert not [r for r in asked if r.path.startswith(COLLECTION + "/")]  # no single query
    pages = list_requests(roomy)
    assert len(pages) >= 2  # one a round, until they ended
    assert all(page == {"pageNum": "1", "pageSize": "500"} for page in pages)


def test_many_tasks_named_by_external_id_are_found_in_the_list_too(
    mivid: RunMivid, roomy: EmulatorServer, sleepless: Sleepless
) -> None:
    for n in range(8):
        mivid(
            "create",
            "https://example.com/a.png",
            "--prompt",
            f"take {n}",
            "--external-task-id",
            f"take-{n}",
        )
    received = len(roomy.emulator.received)

    result = mivid("wait", *[f"take-{n}" for n in range(8)], "--json", clock=sleepless)

    assert result.exit_code == 0, result
    ended = json.loads(result.stdout)
    assert [task["task_info"]["external_task_id"] for task in ended] == [
        f"take-{n}" for n in range(8)
    ]
    assert not [
        r for r in roomy.emulator.received[received:] if r.path.startswith(COLLECTION + "/")
    ]


def test_tasks_the_list_does_not_show_are_asked_about_one_by_one(
    mivid: RunMivid, roomy: EmulatorServer, sleepless: Sleepless
) -> None:
    ids = [new_task(roomy, f"shot {n}") for n in range(9)]
    roomy.emulator.inject(Fault.error(1201, on="list", times=None))  # a gateway refuses the list

    result = mivid("wait", *ids, clock=sleepless)

    assert result.exit_code == 0, result
    assert result.stdout.count("\tsucceed") == 9
    assert len(list_requests(roomy)) == 1  # refused once, never asked again
    assert gets(roomy) >= 9

    missing = "867283741759111299"
    again = mivid("wait", *ids, missing, clock=sleepless)
    assert again.exit_code == 4, again  # the one the list does not show: asked, not found
    assert missing in again.stderr
