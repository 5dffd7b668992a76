"""One name per meaning across commands (issue 15, points 9 and 22's `-q --json`).

The videos' folder is `-d/--download` wherever a command has one (`download -o`
and `open --dir` still work, unlisted); `--interval` is the pause between
queries with one range everywhere; `-q` prints ids alone in every command that
prints tasks, and refuses to be paired with `--json`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import InProcessTerminal, RunMivid, Sleepless
from mivid.cli import load_command

FAST = {"MIVID_SANDBOX_TASK_SECONDS": "0.05"}


def options_of(*path: str) -> list[Any]:
    command = load_command()
    for name in path:
        command = command.commands[name]
    return [param for param in command.params if param.param_type_name == "option"]


def every_command() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []

    def walk(path: tuple[str, ...], command: Any) -> None:
        if not getattr(command, "commands", None):
            found.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk((*path, name), sub)

    walk((), load_command())
    return found


def make_task(mivid: RunMivid, *more: str, clock: Sleepless | None = None) -> str:
    created = mivid(
        "--sandbox", "create", "https://example.com/a.png", "-p", "x", "-q", *more,
        env=FAST, clock=clock,
    )  # fmt: skip
    assert created.exit_code == 0, created
    return created.stdout.strip().splitlines()[0]


@pytest.mark.parametrize("path", every_command(), ids=" ".join)
def test_a_folder_option_is_download_everywhere(path: tuple[str, ...]) -> None:
    for option in options_of(*path):
        if option.hidden or option.metavar != "DIR":
            continue
        assert sorted(option.opts) == ["--download", "-d"], (path, option.opts)


@pytest.mark.parametrize("path", every_command(), ids=" ".join)
def test_quiet_is_q_and_interval_means_one_thing(path: tuple[str, ...]) -> None:
    for option in options_of(*path):
        if "--quiet" in option.opts:
            assert option.opts == ["--quiet", "-q"], path
        if "--interval" in option.opts:
            assert option.opts == ["--interval"] and option.metavar == "SECONDS", path
            assert "between" in (option.help or ""), path


def test_the_old_spellings_still_work_unlisted(
    mivid: RunMivid, tmp_path: Path, sleepless: Sleepless
) -> None:
    task_id = make_task(mivid, "--wait", clock=sleepless)

    saved = mivid("--sandbox", "download", task_id, "-o", str(tmp_path / "old"), clock=sleepless)
    again = mivid("--sandbox", "download", task_id, "-d", str(tmp_path / "new"), clock=sleepless)
    opened = mivid("--sandbox", "open", task_id, "--print", "--dir", str(tmp_path / "old"))

    assert saved.exit_code == 0 and again.exit_code == 0, (saved, again)
    assert (tmp_path / "old" / f"{task_id}.mp4").is_file()
    assert (tmp_path / "new" / f"{task_id}.mp4").is_file()
    assert opened.stdout == f"{tmp_path / 'old' / task_id}.mp4\n"
    assert "--output" not in mivid("download", "--help").stdout
    assert "--dir" not in mivid("open", "--help").stdout


def test_the_old_and_new_name_disagreeing_is_a_usage_error(mivid: RunMivid, tmp_path: Path) -> None:
    result = mivid("--sandbox", "download", "1", "-d", str(tmp_path / "a"), "-o", str(tmp_path))

    assert result.exit_code == 2, result
    assert "--output: the old name of --download; give one of them" in result.stderr


@pytest.mark.parametrize(
    "args",
    [["wait", "1"], ["batch", "jobs.jsonl"], ["--sandbox", "list", "--watch"]],
    ids=["wait", "batch", "list --watch"],
)
def test_interval_has_one_range(mivid: RunMivid, args: list[str]) -> None:
    result = mivid(*args, "--interval", "0.05")

    assert result.exit_code == 2, result
    assert "--interval: 0.05 — must be from 0.1 to 600 seconds" in result.stderr


def test_quiet_prints_ids_in_get_wait_and_download(
    mivid: RunMivid, tmp_path: Path, sleepless: Sleepless
) -> None:
    task_id = make_task(mivid, "--external-task-id", "my-cat")

    got = mivid("--sandbox", "get", "my-cat", "-q", env=FAST)
    waited = mivid("--sandbox", "wait", "my-cat", "-q", env=FAST, clock=sleepless)
    saved = mivid("--sandbox", "download", task_id, "-q", "-d", str(tmp_path), clock=sleepless)

    assert (got.stdout, waited.stdout, saved.stdout) == (f"{task_id}\n",) * 3, (got, waited, saved)
    assert (tmp_path / f"{task_id}.mp4").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ["create", "https://example.com/a.png", "-p", "x"],
        ["list"],
        ["get", "1"],
        ["wait", "1"],
        ["download", "1"],
    ],
    ids=lambda args: args[0],
)
def test_quiet_and_json_together_are_refused(mivid: RunMivid, args: list[str]) -> None:
    result = mivid("--sandbox", *args, "-q", "--json")

    assert result.exit_code == 2, result
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == (
        "error: --quiet: not with --json (ids alone, or JSON: pick one)"
    )
    assert mivid("--sandbox", "list", "--json").stdout == "[]\n"  # nothing was created


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_quiet_silences_the_sandbox_banner_on_a_terminal(tmp_path: Path) -> None:
    loud = InProcessTerminal(["--sandbox", "list"], env={"NO_COLOR": "1"})
    loud.finish()
    quiet = InProcessTerminal(["--sandbox", "list", "-q"], env={"NO_COLOR": "1"})
    quiet.finish()

    assert "sandbox: offline emulator" in loud.text()
    assert "sandbox" not in quiet.text()
