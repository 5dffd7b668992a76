"""Ctrl-C while a create is on its way: say it may have been made, and never pay twice after.

The service may have made (and billed) the task before the interrupt: the
journal keeps it `unknown`, stderr says how to see or settle it, and running
the very same create again looks that external id up first instead of sending
a fresh one.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from helpers import RunMivid, environment, kling_variables, mivid_popen
from imagefactory import make_png
from mivid.journal import UNKNOWN, Journal
from mivid.sandbox import EmulatorServer, FakeClock, Fault
from polling import wait_until

COLLECTION = "/v1/videos/multi-image2video"


def posts(server: EmulatorServer) -> int:
    return sum(1 for r in server.emulator.received if r.method == "POST" and r.path == COLLECTION)


def test_ctrl_c_during_the_create_says_it_may_exist_and_a_rerun_finds_it(
    mivid: RunMivid, kling_env: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    kling_env.emulator.inject(Fault.delay(5, on="create"))  # made at once, answered late
    image = make_png(tmp_path / "front.png")
    args = ["create", str(image), "--prompt", "hi"]
    env = environment(kling_variables(kling_env))
    with mivid_popen(*args, env=env) as process:
        try:
            wait_until(lambda: posts(kling_env) == 1, timeout=60)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 130, err
    assert out == ""
    with Journal.open() as journal:
        (entry,) = journal.entries()
    assert entry.status == UNKNOWN and entry.task_id is None
    external = entry.external_task_id
    assert f"the create may have been made (external id `{external}`)" in err
    assert f"mivid get {external}" in err and "mivid recover" in err
    assert err.rstrip().endswith("interrupted")
    assert "Traceback" not in err

    again = mivid(*args, "--json")
    assert again.exit_code == 0, again
    (task,) = kling_env.emulator.tasks()
    assert json.loads(again.stdout)["task_id"] == task["task_id"]
    assert "nothing sent" in again.stderr
    assert posts(kling_env) == 1  # looked up, not sent again: one task, billed once
