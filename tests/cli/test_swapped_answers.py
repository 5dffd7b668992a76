"""A query for a task answered with ANOTHER task is a broken answer, never adopted.

Taking it would file the other task's videos under the paid task (or lose the
paid task's record and its prompt). Asked by task id (the create just made, or
the journal knows), the answer must be that task: else exit 5, both ids named,
nothing saved. A query by external id still takes the task it names.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers import RunMivid, Sleepless
from imagefactory import make_png
from mivid.journal import Journal
from mivid.sandbox import EmulatorServer, Fault

OTHER = "../../OTHER"


def test_create_wait_refuses_an_answer_about_another_task(
    mivid: RunMivid, kling_env: EmulatorServer, sleepless: Sleepless, tmp_path: Path
) -> None:
    kling_env.emulator.inject(Fault.patch({"task_id": OTHER}, on="get", times=None))
    image = make_png(tmp_path / "front.png")
    out = tmp_path / "out"
    result = mivid(
        "create", str(image), "--prompt", "hi", "--wait", "-d", str(out), clock=sleepless
    )
    assert result.exit_code == 5, result
    (task,) = kling_env.emulator.tasks()
    mine = task["task_id"]
    assert f"answered the query for task {mine} with another task, {OTHER}" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []
    with Journal.open() as journal:
        (entry,) = journal.entries()
    assert entry.task_id == mine and entry.request["prompt"] == "hi"

    # A later run: the journal knows the id as a task id.
    later = mivid("get", mine, clock=sleepless)
    assert later.exit_code == 5, later
    assert f"with another task, {OTHER}" in later.stderr
    assert later.stdout == ""


def test_a_query_by_external_id_takes_the_task_it_names(
    mivid: RunMivid, kling_env: EmulatorServer, sleepless: Sleepless, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "front.png")
    made = mivid(
        "create",
        str(image),
        "--prompt",
        "hi",
        "--external-task-id",
        "shot-9",
        "--json",
        clock=sleepless,
    )
    assert made.exit_code == 0, made
    task_id = json.loads(made.stdout)["task_id"]
    got = mivid("get", "shot-9", "--json", clock=sleepless)
    assert got.exit_code == 0, got
    assert json.loads(got.stdout)["task_id"] == task_id
