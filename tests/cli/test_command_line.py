"""The command line a newcomer types: groups alone, global options anywhere, usage errors, help.

Issue 15's points 4 (a group alone prints its help), 8 (global options after
the command), 19 (no Python type names in help; examples never wrapped), 23
(bad numbers in one style) and 17's "every help example works from any folder".
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import RunMivid, Sleepless, Terminal
from mivid.cli import load_command


def command_tree() -> list[tuple[tuple[str, ...], Any]]:
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(path: tuple[str, ...], command: Any) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            if not sub.hidden:
                walk((*path, name), sub)

    walk((), load_command())
    return found


COMMANDS = command_tree()
IDS = [" ".join(path) or "mivid" for path, _ in COMMANDS]


# -- 4: a group alone ---------------------------------------------------------------------------


@pytest.mark.parametrize("group", [[], ["config"], ["sandbox"]], ids=["mivid", "config", "sandbox"])
def test_a_group_alone_prints_its_help_and_nothing_else(mivid: RunMivid, group: list[str]) -> None:
    result = mivid(*group)

    assert result.exit_code == 0, result
    assert result.stderr == ""
    assert result.stdout == mivid(*group, "--help").stdout
    assert not result.stdout.startswith("Usage: mivid [OPTIONS] COMMAND [ARGS]...\nerror")


# -- 8: global options after the command --------------------------------------------------------


def test_global_options_after_the_command_work_as_before_it(mivid: RunMivid) -> None:
    mivid("--sandbox", "create", "--prompt", "x", "https://example.com/a.png")

    after = mivid("list", "--sandbox", "-v", "--no-color", "--page-size", "2")
    before = mivid("--sandbox", "-v", "--no-color", "list", "--page-size", "2")

    assert after.exit_code == 0, after
    assert after.stdout == before.stdout and after.stdout.count("\t") >= 5
    assert "http: GET http://sandbox.mivid.invalid/" in after.stderr  # -v was taken


def test_a_global_option_with_a_value_after_a_group_command(
    mivid: RunMivid, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    env = {"MIVID_CONFIG_FILE": str(config)}
    assert mivid("config", "set", "region", "china", "--profile", "work", env=env).exit_code == 0
    assert mivid("config", "get", "region", "--profile=work", env=env).stdout == "china\n"
    assert "[work]" in config.read_text()


def test_a_commands_own_values_and_what_follows_double_dash_stay(mivid: RunMivid) -> None:
    """`--prompt --sandbox` is a prompt; after `--` nothing is an option."""
    result = mivid("--sandbox", "create", "--prompt", "--sandbox", "--dry-run", "--", "-a.png")

    assert result.exit_code == 2, result
    assert "-a.png" in result.stderr  # the image named after --, not an option
    refused = mivid("create", "--prompt", "--sandbox", "https://example.com/a.png", "--dry-run")
    assert refused.exit_code == 0, refused
    assert '"prompt": "--sandbox"' in refused.stdout


# -- 23: usage errors in mivid's own words ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["list", "--page", "x"], "--page: x — must be a whole number"),
        (["wait", "1", "--timeout", "abc"], "--timeout: abc — must be a number"),
        (["wait", "1", "--interval", "nan"], "--interval: nan — must be a number"),
        (["--sandbox", "list", "--interval"], "--interval: needs a value"),
        (["batch"], "JOBS: required"),
        (["list", "--pag", "2"], "--pag: no such option of `mivid list` (did you mean --page?)"),
        (["lst"], "`lst`: no such command of `mivid` (did you mean `list`?)"),
    ],
)
def test_usage_errors_read_like_every_other_problem(
    mivid: RunMivid, args: list[str], line: str
) -> None:
    result = mivid(*args)

    assert result.exit_code == 2, result
    assert result.stdout == ""
    command = "mivid" if args[0] in ("lst", "--sandbox") and len(args) < 3 else None
    assert result.stderr.splitlines()[0] == f"error: {line}"
    assert result.stderr.splitlines()[1].startswith("hint: see 'mivid")
    assert len(result.stderr.splitlines()) == 2, result.stderr
    assert "Usage:" not in result.stderr and "Invalid value" not in result.stderr
    assert command is None or command in result.stderr


def test_a_bad_number_and_a_bad_range_say_it_the_same_way(mivid: RunMivid) -> None:
    word = mivid("wait", "1", "--timeout", "soon")
    number = mivid("wait", "1", "--timeout", "-5")

    assert word.stderr.startswith("error: --timeout: soon — must be")
    assert number.stderr.startswith("error: --timeout: -5 — must")


# -- 19: help for people -------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_names_no_python_types(mivid: RunMivid, path: tuple[str, ...], command: Any) -> None:
    text = mivid(*path, "--help").stdout

    assert not re.search(r"<(list|str|int|float|path|bool)\b", text), text
    usage = text.splitlines()[0]
    assert "{" not in usage, usage


def example_lines(command: Any) -> list[str]:
    """The lines of a command's epilog that are commands to copy; a command continued on
    the next lines (` \\` at the end, to fit 80 columns) is joined back, as a shell does."""
    found: list[str] = []
    going_on = False
    for line in (command.epilog or "").splitlines():
        if going_on:
            found[-1] = found[-1].removesuffix("\\").rstrip() + " " + line.strip()
        elif re.match(r"\s+(mivid |pass |KLING_|\"\$EDITOR)", line):
            found.append(line.strip())
        else:
            continue
        going_on = line.endswith("\\")
    return found


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_examples_are_never_broken_across_lines(
    mivid: RunMivid, path: tuple[str, ...], command: Any
) -> None:
    lines = example_lines(command)
    assert lines, f"`mivid {' '.join(path)}` shows no example"

    text = mivid(*path, "--help", env={"COLUMNS": "60"}).stdout

    shown: list[str] = []
    going_on = False
    for line in text.splitlines():
        if going_on:
            shown[-1] = shown[-1].removesuffix("\\").rstrip() + " " + line.strip()
        else:
            shown.append(line.strip())
        going_on = line.endswith("\\")
    for example in lines:
        assert example in shown, f"wrapped at 60 columns: {example}\n{text}"


def sandbox_examples() -> list[str]:
    """Every help example that runs against the sandbox, each once."""
    found = [line for _path, command in COMMANDS for line in example_lines(command)]
    runnable = [line.split("  #")[0].strip() for line in found if "--sandbox " in line]
    return list(dict.fromkeys(runnable))


def test_every_sandbox_example_in_the_help_works_from_an_empty_folder(
    mivid: RunMivid, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sleepless: Sleepless
) -> None:
    """`mivid sandbox examples` first, as the help says; then each example as written."""
    folder = tmp_path / "anywhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    env = {"MIVID_SANDBOX_TASK_SECONDS": "0.05"}
    examples = sandbox_examples()
    assert len(examples) >= 3, examples

    first = mivid("sandbox", "examples", env=env)
    assert first.exit_code == 0, first
    assert first.stdout.split() == [
        "mivid-examples/lighthouse.jpg",
        "mivid-examples/sailboat.png",
        "mivid-examples/jobs.jsonl",
    ]
    for example in examples:
        words = shlex.split(example)
        assert words[0] == "mivid" and "|" not in words and ">" not in words, example
        result = mivid(*words[1:], env=env, clock=sleepless)  # waits take no real time
        assert result.exit_code == 0, (example, result)


def test_sandbox_examples_never_replace_a_file_of_yours(mivid: RunMivid, tmp_path: Path) -> None:
    mine = tmp_path / "lighthouse.jpg"
    mine.write_bytes(b"my own picture")

    result = mivid("sandbox", "examples", str(tmp_path))

    assert result.exit_code == 2, result
    assert "lighthouse.jpg exists with other content; not replaced" in result.stderr
    assert mine.read_bytes() == b"my own picture"
    assert not (tmp_path / "sailboat.png").exists()
    again = mivid("sandbox", "examples", str(tmp_path / "fresh"))
    assert mivid("sandbox", "examples", str(tmp_path / "fresh")).exit_code == 0  # same bytes: fine
    assert again.exit_code == 0


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_sandbox_serves_export_line_is_one_line_at_80_columns() -> None:
    terminal = Terminal(["sandbox", "serve", "--port", "0"], columns=80, env={"NO_COLOR": None})
    try:
        terminal.expect("# or KLING_API_KEY=")
        lines = terminal.text().splitlines()
        export = next(line for line in lines if "export KLING_BASE_URL=" in line)
        assert "KLING_SECRET_KEY=" in export and "# or KLING_API_KEY=" in export, lines
    finally:
        terminal.process.terminate()
        terminal.finish()
