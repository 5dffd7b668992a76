"""mivid in pipes and scripts: data only on stdout, ids with -q, no colour, quiet end on a closed
pipe (a query), or the work done all the same (a batch).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import InProcessTerminal, RunMivid
from imagefactory import make_png
from mivid.sandbox import EmulatorServer

TEST_API_KEY = "test-api-key"  # tests/conftest.py's emulator accepts it
ESCAPE = "\x1b"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def api_env(server: EmulatorServer) -> dict[str, str]:
    """The emulator with a static API key (no JWT, so the emulator's fake clock does not matter)."""
    return {"KLING_BASE_URL": server.url, "KLING_API_KEY": TEST_API_KEY}


@pytest.fixture
def image(tmp_path: Path) -> str:
    return str(make_png(tmp_path / "cat.png"))


def test_quiet_create_prints_the_task_id_alone(
    mivid: RunMivid, server: EmulatorServer, api_env: dict[str, str], image: str
) -> None:
    result = mivid("create", image, "--prompt", "a cat", "-q", env=api_env)

    assert result.exit_code == 0, result
    (task,) = server.emulator.tasks()
    assert result.stdout == f"{task['task_id']}\n"


def test_quiet_list_prints_ids_only(
    mivid: RunMivid, server: EmulatorServer, api_env: dict[str, str], image: str
) -> None:
    for prompt in ("one", "two"):
        assert mivid("create", image, "--prompt", prompt, "-q", env=api_env).exit_code == 0

    result = mivid("list", "-q", env=api_env)

    assert result.exit_code == 0, result
    ids = {task["task_id"] for task in server.emulator.tasks()}
    assert set(result.stdout.splitlines()) == ids
    assert len(result.stdout.splitlines()) == 2


def test_prompt_from_stdin_and_json_alone_on_stdout(
    mivid: RunMivid, server: EmulatorServer, api_env: dict[str, str], image: str
) -> None:
    result = mivid("create", image, "--prompt", "-", "--json", input="waves at dusk\n", env=api_env)

    assert result.exit_code == 0, result
    task = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert task["task_id"] == server.emulator.tasks()[0]["task_id"]
    (request,) = [r for r in server.emulator.received if r.method == "POST"]
    assert request.json["prompt"] == "waves at dusk"


def closed_pipe_run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run mivid with stdout a pipe whose reader is already gone; exit status and stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mivid", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before mivid has written a byte
    stderr = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    return process.wait(timeout=60), stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("config", "show"),
        # a big document: several writes, the first of which already meets EPIPE
        ("--sandbox", "create", "examples/lighthouse.jpg", "--prompt", "x", "--dry-run", "--json"),
    ],
    ids=["help", "config-show", "dry-run-json"],
)
def test_a_closed_pipe_ends_quietly(args: tuple[str, ...]) -> None:
    status, stderr = closed_pipe_run(*args)

    assert stderr == ""
    assert status == 0


def three_jobs(tmp_path: Path) -> Path:
    image = make_png(tmp_path / "cat.png")
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(
        "".join(
            json.dumps({"images": [str(image)], "prompt": f"job {n}"}) + "\n" for n in (1, 2, 3)
        )
    )
    return jobs


FAST_SANDBOX = {"MIVID_SANDBOX_TASK_SECONDS": "0.05"}


def test_a_batch_whose_reader_goes_away_still_sends_and_saves_every_job(
    mivid: RunMivid, tmp_path: Path
) -> None:
    """`mivid batch jobs.jsonl | head -1`: the jobs were asked for (and some already paid)."""
    jobs, videos = three_jobs(tmp_path), tmp_path / "videos"

    status, stderr = closed_pipe_run(
        "--sandbox", "batch", str(jobs), "-c", "1", "-d", str(videos), env=FAST_SANDBOX
    )

    assert status == 0, stderr
    (warning,) = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert warning.startswith("warning: stdout was closed (its reader went away)")
    assert f"mivid --sandbox batch {jobs} --concurrency 1 --download {videos}" in warning
    assert "3 jobs: 3 succeed (3 sent now" in stderr
    assert len(list(videos.glob("*.mp4"))) == 3
    again = mivid("--sandbox", "batch", str(jobs), "-c", "1", "-d", str(videos))
    assert again.exit_code == 0, again
    assert [line.split("\t")[2] for line in again.stdout.splitlines()] == ["succeed"] * 3
    assert "(0 sent now, 3 finished before)" in again.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_batch_into_a_full_disk_ends_every_job_then_exits_74(
    mivid: RunMivid, tmp_path: Path
) -> None:
    jobs = three_jobs(tmp_path)
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [sys.executable, "-m", "mivid", "--sandbox", "batch", str(jobs), "-c", "1"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **FAST_SANDBOX},
            timeout=60,
            check=False,
        )

    assert completed.returncode == 74, completed.stderr
    assert "warning: stdout (the results): No space left on device: the rest" in (completed.stderr)
    assert "3 jobs: 3 succeed (3 sent now" in completed.stderr
    assert completed.stderr.splitlines()[-2] == (
        "error: stdout (the results): No space left on device"
    )
    local = mivid("--sandbox", "list", "--local")
    assert sorted(line.split("\t")[1] for line in local.stdout.splitlines()) == ["succeed"] * 3


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_help_into_head_in_a_shell_pipeline() -> None:
    completed = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"'{sys.executable}' -m mivid --help | head -1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )

    assert completed.returncode == 0
    assert completed.stdout == "Usage: mivid [OPTIONS] COMMAND [ARGS]...\n"
    assert completed.stderr == ""


def run_in_terminal(*args: str, env: dict[str, str] | None = None) -> str:
    """Run mivid with stdout and stderr on a pseudo-terminal; everything it wrote."""
    terminal = InProcessTerminal(
        list(args), env={"NO_COLOR": None, **(env or {})}, columns=100, stdin=False, cwd=str(ROOT)
    )
    terminal.finish(timeout=60)
    return terminal.raw()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_no_color_flag_and_variable_turn_colour_off_on_a_terminal() -> None:
    coloured = run_in_terminal("config", "get", "colour")
    assert "unknown key `colour`" in coloured
    assert ESCAPE in coloured  # on a terminal, errors are coloured …

    for output in (
        run_in_terminal("--no-color", "config", "get", "colour"),
        run_in_terminal("config", "get", "colour", env={"NO_COLOR": "1"}),
    ):
        assert "unknown key `colour`" in output
        assert ESCAPE not in output  # … unless asked not to be


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_help_on_a_terminal_draws_no_escape_codes_with_no_color() -> None:
    output = run_in_terminal("--help", env={"NO_COLOR": "1"})

    assert "Usage: mivid" in output
    assert ESCAPE not in output


def test_a_wait_whose_reader_goes_away_still_saves_every_video(
    mivid: RunMivid, tmp_path: Path
) -> None:
    """`mivid wait A B -d DIR | head -1`: the videos are what was asked for; the results
    go nowhere, and the same command prints them again without downloading twice."""
    image, videos = make_png(tmp_path / "cat.png"), tmp_path / "videos"
    ids = []
    for prompt in ("one", "two"):
        made = mivid("--sandbox", "create", str(image), "--prompt", prompt, "-q", env=FAST_SANDBOX)
        assert made.exit_code == 0, made
        ids.append(made.stdout.strip())

    status, stderr = closed_pipe_run("--sandbox", "wait", *ids, "-d", str(videos), env=FAST_SANDBOX)

    assert status == 0, stderr
    (warning,) = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert warning.startswith("warning: stdout was closed (its reader went away)")
    assert f"mivid --sandbox wait {ids[0]} {ids[1]} --download {videos}" in warning
    assert sorted(path.name for path in videos.glob("*.mp4")) == sorted(f"{i}.mp4" for i in ids)
    again = mivid("--sandbox", "wait", *ids, "-d", str(videos))
    assert again.exit_code == 0, again
    assert sorted(line.split("\t")[0] for line in again.stdout.splitlines()) == sorted(ids)
