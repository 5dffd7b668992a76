"""`mivid get` and `mivid list` through the real command line, against the emulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import ANSI, InProcessTerminal, RunMivid
from imagefactory import make_png
from mivid.sandbox import EmulatorServer, FakeClock

COLLECTION = "/v1/videos/multi-image2video"


def create(mivid: RunMivid, tmp_path: Path, *extra: str, prompt: str = "a cat") -> dict[str, Any]:
    image = make_png(tmp_path / "front.png")
    result = mivid("create", str(image), "--prompt", prompt, "--json", *extra)
    assert result.exit_code == 0, result
    task: dict[str, Any] = json.loads(result.stdout)
    return task


def for_a_person(*args: str) -> str:
    """What a person sees of `mivid ARGS` on a 160-column terminal (the panels, tables)."""
    terminal = InProcessTerminal(list(args), columns=160, stdin=False, env={"NO_COLOR": "1"})
    assert terminal.finish() == 0, terminal.text()
    return terminal.text()


def list_queries(server: EmulatorServer) -> list[dict[str, str]]:
    return [
        r.query
        for r in server.emulator.received
        if r.method == "GET" and r.path == COLLECTION and "external_task_id" not in r.query
    ]


def test_get_by_task_id_and_by_external_id(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    created = create(mivid, tmp_path, "--external-task-id", "my-cat-1")
    task_id = created["task_id"]

    result = mivid("get", task_id)
    assert result.exit_code == 0, result
    cells = result.stdout.rstrip("\n").split("\t")  # in a pipe: the line `list` writes
    assert cells[:2] == [task_id, "submitted"] and cells[4] == "my-cat-1" and len(cells) == 11
    panel = for_a_person("get", task_id)
    assert re.search(rf"task id\s+{task_id}", panel) and re.search(r"status\s+submitted", panel)
    assert re.search(r"external id\s+my-cat-1", panel)
    assert re.search(r"created\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:?\d\d \(just now\)", panel)

    fake_clock.advance(10)
    by_external = mivid("get", "my-cat-1", "--json")
    assert by_external.exit_code == 0, by_external
    task = json.loads(by_external.stdout)
    # The service's object as it came, plus what `list --json` adds (see the test below).
    assert {k: v for k, v in task.items() if k not in ("endpoint", "local")} == (
        api.emulator.tasks()[0]
    )
    assert task["task_status"] == "succeed"

    shown = for_a_person("get", "my-cat-1")
    video = task["task_result"]["videos"][0]
    assert f"video: {video['url']}\n" in shown  # under the panel, whole (15.10)
    assert re.search(r"length\s+5\.1 s", shown)  # in the panel: beside the URL it wrapped alone
    assert re.search(r"units\s+1\b", shown)
    assert not ANSI.search(mivid("get", "my-cat-1").stdout)


def test_get_json_carries_endpoint_and_local_as_list_json_does(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    first = create(mivid, tmp_path, prompt="a cat on a wall")["task_id"]
    again = mivid("create", "--from", first, "--prompt", "a cat on a roof", "--json")
    assert again.exit_code == 0, again
    second = json.loads(again.stdout)["task_id"]
    fake_clock.advance(10)

    listed = mivid("list", "--json")
    got = mivid("get", first, second, "--json")
    one = mivid("get", second, "--json")

    assert listed.exit_code == got.exit_code == one.exit_code == 0, (listed, got, one)
    by_id = {task["task_id"]: task for task in json.loads(listed.stdout)}
    tasks = json.loads(got.stdout)
    assert [task["task_id"] for task in tasks] == [first, second]
    for task in tasks:
        assert task["endpoint"] == by_id[task["task_id"]]["endpoint"] == "multi-image"
        assert task["local"] == by_id[task["task_id"]]["local"]
    assert tasks[0]["local"]["prompt"] == "a cat on a wall"
    assert tasks[0]["local"]["made_from"] is None
    assert tasks[1]["local"]["made_from"] == first
    assert json.loads(one.stdout) == tasks[1]
    # A task the journal does not know gets "endpoint" and no "local", as in `list --json`.
    unknown = create(mivid, tmp_path, "--no-journal")["task_id"]
    theirs = mivid("get", unknown, "--json")
    assert theirs.exit_code == 0, theirs
    assert json.loads(theirs.stdout)["endpoint"] == "multi-image"
    assert "local" not in json.loads(theirs.stdout)
    # The pipe line, as before: `list`'s line, with the endpoint in its 9th cell.
    line = mivid("get", second).stdout.rstrip("\n").split("\t")
    assert line[0] == second and line[8] == "multi-image"


def test_get_shows_the_reason_a_task_failed(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    task_id = create(mivid, tmp_path, prompt="a cat [fail]")["task_id"]
    fake_clock.advance(10)
    result = mivid("get", task_id)
    assert result.exit_code == 0
    cells = result.stdout.rstrip("\n").split("\t")
    assert cells[1] == "failed" and cells[10].startswith("content-safety policy triggered")
    shown = for_a_person("get", task_id)
    assert re.search(r"status\s+failed", shown)
    assert re.search(r"reason\s+content-safety policy triggered", shown)


def test_an_unknown_id_exits_4_with_one_clear_line(mivid: RunMivid, api: EmulatorServer) -> None:
    result = mivid("get", "no-such-task")
    assert result.exit_code == 4
    assert result.stdout == ""
    assert "error: no task `no-such-task`" in result.stderr
    assert "Traceback" not in result.stderr


def test_get_reads_ids_from_stdin_and_prints_an_array(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path
) -> None:
    ids = [create(mivid, tmp_path)["task_id"] for _ in range(2)]
    result = mivid("get", "-", "--json", input="\n".join(ids) + "\n\n")
    assert result.exit_code == 0, result
    assert [task["task_id"] for task in json.loads(result.stdout)] == ids


def test_list_in_a_pipe_is_tab_separated_with_iso_times(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    first = create(mivid, tmp_path, "--external-task-id", "ext-a")["task_id"]
    second = create(mivid, tmp_path)["task_id"]
    fake_clock.advance(10)
    result = mivid("list")
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == [second, first]  # newest first
    cells = lines[1].split("\t")
    assert cells[1] == "succeed"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", cells[2])
    assert cells[3:5] == ["5.1", "ext-a"]
    assert cells[5].endswith(f"/sandbox/videos/{first}.mp4")
    assert not ANSI.search(result.stdout)
    assert list_queries(api)[-1] == {"pageNum": "1", "pageSize": "30"}


def test_list_json_quiet_status_and_paging(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    ids = [create(mivid, tmp_path)["task_id"] for _ in range(3)]
    fake_clock.advance(10)
    failing = create(mivid, tmp_path, prompt="[fail] a cat")["task_id"]

    as_json = mivid("list", "--json", "--page", "2", "--page-size", "3")
    assert as_json.exit_code == 0, as_json
    assert [task["task_id"] for task in json.loads(as_json.stdout)] == [ids[0]]
    # Page 2 of the endpoints' lists merged: the first 6 of each, read at once.
    assert list_queries(api)[-1] == {"pageNum": "1", "pageSize": "6"}
    alone = mivid("list", "-q", "--page", "2", "--page-size", "3", "--endpoint", "multi-image")
    assert alone.stdout.split() == [ids[0]]
    assert list_queries(api)[-1] == {"pageNum": "2", "pageSize": "3"}  # the service's page 2

    every = mivid("list", "--all", "--page-size", "2", "-q")
    assert every.stdout.split() == [failing, *reversed(ids)]
    assert list_queries(api)[-3:] == [
        {"pageNum": "1", "pageSize": "2"},
        {"pageNum": "2", "pageSize": "2"},
        {"pageNum": "3", "pageSize": "2"},
    ]

    running = mivid("list", "--status", "submitted", "-q")
    assert running.stdout.split() == [failing]


def test_status_unfinished_is_every_task_not_ended_ready_for_wait(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path, sleepless: Any
) -> None:
    """The README's pipeline: `list --status unfinished --json | jq … | wait -` waits for the
    tasks still `submitted` too, not only those `processing`."""
    ended = create(mivid, tmp_path)["task_id"]
    failed = create(mivid, tmp_path, prompt="[fail] a cat")["task_id"]
    fake_clock.advance(10)
    processing = create(mivid, tmp_path)["task_id"]
    fake_clock.advance(2)
    submitted = create(mivid, tmp_path)["task_id"]

    listed = mivid("list", "--status", "unfinished", "--json")
    assert listed.exit_code == 0, listed
    tasks = json.loads(listed.stdout)
    assert [(t["task_id"], t["task_status"]) for t in tasks] == [
        (submitted, "submitted"),
        (processing, "processing"),
    ]
    assert mivid("list", "--status", "processing", "-q").stdout.split() == [processing]
    assert mivid("list", "--status", "failed", "-q").stdout.split() == [failed]
    assert ended in mivid("list", "-q").stdout  # the journal learns how each one stands
    local = mivid("list", "--local", "--status", "unfinished", "-q")
    assert local.stdout.split() == [submitted, processing], local

    ids = "".join(task["task_id"] + "\n" for task in tasks)
    waited = mivid("wait", "-", "-q", input=ids, clock=sleepless)
    assert waited.exit_code == 0, waited
    assert sorted(waited.stdout.split()) == sorted([submitted, processing])
    assert ended not in waited.stdout
    assert mivid("list", "--status", "unfinished", "-q").stdout == ""
    for shell in ("bash", "zsh", "fish"):  # offered where --status is completed
        assert "unfinished" in mivid("completion", shell).stdout
    assert "unfinished (not ended yet" in " ".join(mivid("list", "--help").stdout.split())


def test_list_refuses_bad_options_all_at_once_and_sends_nothing(
    mivid: RunMivid, api: EmulatorServer
) -> None:
    result = mivid("list", "--page", "0", "--page-size", "501", "--status", "done")
    assert result.exit_code == 2
    assert "--page: 0" in result.stderr
    assert "--page-size: 501" in result.stderr
    assert "--status: `done`" in result.stderr
    assert api.emulator.received == []


def run_on_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run mivid with stdout on a pseudo-terminal, as a person sees it."""
    terminal = InProcessTerminal(
        args, env=env, columns=int(env.get("COLUMNS", "120")), stdin=False, stderr=False
    )
    assert terminal.finish(timeout=30) == 0, terminal.raw()
    return terminal.raw()


def test_list_on_a_terminal_is_a_coloured_table_that_fits_the_width(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    task_id = create(mivid, tmp_path, "--external-task-id", "x" * 60)["task_id"]
    fake_clock.advance(10)
    env = {**os.environ, "COLUMNS": "80", "TERM": "xterm-256color"}
    shown = run_on_terminal(["list"], env)
    assert "\x1b[32m" in shown  # succeed in green
    plain = ANSI.sub("", shown).replace("\r", "")
    lines = [line for line in plain.splitlines() if line.strip()]
    assert lines[0].split()[:2] == ["TASK", "ID"]
    assert task_id in lines[1]
    assert "succeed" in lines[1]
    assert "x" * 20 not in lines[1] and "http" not in lines[1]  # the external id left, no URL
    assert all(len(line) <= 80 for line in lines)

    no_color = run_on_terminal(["list"], {**env, "NO_COLOR": "1"})
    assert "\x1b[32m" not in no_color


def test_json_queries_import_neither_pydantic_nor_rich(api: EmulatorServer) -> None:
    probe = (
        "import sys; from mivid.cli import run; "
        "codes = [run(['list', '--json']), run(['get', 'nope', '--json'])]; "
        "print(codes, 'pydantic' in sys.modules, 'rich' in sys.modules, file=sys.stderr)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=30
    )
    assert completed.stderr.strip().splitlines()[-1] == "[0, 4] False False", completed.stderr


def test_an_image_given_as_a_url_is_drawn_in_the_panel_in_its_place(
    mivid: RunMivid, api: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    """QA newcomer 3, finding 6: the URL image was drawn under the panel, which began at
    "image 2". What the create was made of stays inside, in order; only the task's own video
    URL goes under the panel, whole."""
    image = make_png(tmp_path / "front.png")
    made = mivid("create", "https://example.com/cat.jpg", str(image), "-p", "a cat", "-q")
    assert made.exit_code == 0, made
    fake_clock.advance(60)
    for columns in (80, 140):
        terminal = InProcessTerminal(
            ["get", made.stdout.strip()], columns=columns, stdin=False, env={"NO_COLOR": "1"}
        )
        assert terminal.finish() == 0, terminal.text()
        lines = terminal.text().splitlines()
        bottom = next(n for n, line in enumerate(lines) if line.startswith("╰"))
        inside = [" ".join(line.strip("│ ").split()) for line in lines[:bottom]]
        first = next(n for n, line in enumerate(inside) if line.startswith("image 1"))
        assert inside[first] == "image 1 (reference) https://example.com/cat.jpg", inside
        assert inside[first + 1].startswith("image 2 (reference) /"), inside  # the file
        after = lines[bottom + 1 :]
        assert [line.split(":", 1)[0] for line in after if line.strip()] == ["video"], after
