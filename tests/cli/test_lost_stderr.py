"""A stderr that cannot be written (closed, /dev/full) costs its messages, nothing else.

The results still reach stdout, `--wait --download` still saves the video, and
the exit status is the command's own (never 1, "a task ended failed").
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Serve
from helpers import environment
from imagefactory import make_png
from mivid.sandbox import Emulator, EmulatorServer

COLLECTION = "/v1/videos/multi-image2video"


@pytest.fixture
def quick(serve: Serve) -> EmulatorServer:
    """An emulator on the real clock whose tasks end a moment after they are made."""
    return serve(
        Emulator(access_keys={"test-ak": "test-sk"}, processing_after=0.1, succeed_after=0.3)
    )


def env(server: EmulatorServer) -> dict[str, str]:
    return environment(
        {
            "KLING_BASE_URL": server.url,
            "KLING_ACCESS_KEY": "test-ak",
            "KLING_SECRET_KEY": "test-sk",
        }
    )


def close_stderr() -> None:
    os.close(2)


@pytest.fixture(params=["/dev/full", "closed"])
def broken_stderr(request: pytest.FixtureRequest) -> Iterator[dict[str, object]]:
    if request.param == "closed":
        yield {"stderr": None, "preexec_fn": close_stderr}
        return
    with open("/dev/full", "w") as full:
        yield {"stderr": full}


def run(
    args: list[str], server: EmulatorServer, how: dict[str, object], cwd: Path
) -> tuple[int, str]:
    completed = subprocess.run(
        [sys.executable, "-m", "mivid", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=env(server),
        cwd=cwd,
        timeout=60,
        check=False,
        **how,  # type: ignore[call-overload]
    )
    return completed.returncode, completed.stdout.decode()


def test_create_wait_download_goes_on_without_stderr(
    quick: EmulatorServer, tmp_path: Path, broken_stderr: dict[str, object]
) -> None:
    image = make_png(tmp_path / "front.png")
    out = tmp_path / "out"
    args = ["create", str(image), "--prompt", "hi", "--wait", "-d", str(out)]
    status, stdout = run(args, quick, broken_stderr, tmp_path)
    assert status == 0, stdout
    (task,) = quick.emulator.tasks()
    assert task["task_id"] in stdout
    assert (out / f"{task['task_id']}.mp4").stat().st_size > 0
    assert sum(1 for r in quick.emulator.received if r.method == "POST") == 1


def test_a_plain_create_keeps_status_0_and_its_result(
    quick: EmulatorServer, tmp_path: Path, broken_stderr: dict[str, object]
) -> None:
    image = make_png(tmp_path / "front.png")
    status, stdout = run(["create", str(image), "--prompt", "hi"], quick, broken_stderr, tmp_path)
    assert status == 0  # its "follow it: mivid wait …" note went nowhere
    (task,) = quick.emulator.tasks()
    assert stdout.startswith(f"{task['task_id']}\t")


def test_an_error_keeps_its_own_status(
    quick: EmulatorServer, tmp_path: Path, broken_stderr: dict[str, object]
) -> None:
    status, stdout = run(["wait", "123", "--timeout", "nan"], quick, broken_stderr, tmp_path)
    assert status == 2
    assert stdout == ""
    assert quick.emulator.received == []
