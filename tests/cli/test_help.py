"""Help that teaches: every command, present and future, has a summary, described options, an example.

The tests walk the real command tree, so a command added without help fails
here: give it a docstring whose first line is a short summary, a `help=` on
every option and argument, and an `epilog=` with at least one example.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer.main

from helpers import RunMivid
from mivid.cli import load_app, load_command
from mivid.errors import EXIT_CODE_MEANINGS
from mivid.settings import KEYS, OTHER_ENVIRONMENT

ESCAPE = "\x1b"
# `mivid --help` lists commands as "  name  summary" on 80 columns; a longer summary is cut.
# click keeps 6 columns for indents and gaps, and the longest command name's width.
MAX_SUMMARY = 80 - 6 - max(len(name) for name in getattr(load_command(), "commands", {}))


def command_tree() -> list[tuple[tuple[str, ...], Any]]:
    root = typer.main.get_command(load_app())  # type: ignore[arg-type]
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(path: tuple[str, ...], command: Any) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            if not sub.hidden:
                walk((*path, name), sub)

    walk((), root)
    return found


COMMANDS = command_tree()
IDS = [" ".join(path) or "mivid" for path, _ in COMMANDS]


def summary(command: Any) -> str:
    return (command.help or "").strip().split("\n\n")[0]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_has_a_one_line_summary(path: tuple[str, ...], command: Any) -> None:
    first = summary(command)
    assert first, f"`mivid {' '.join(path)}` needs a docstring (its --help summary)"
    assert "\n" not in first, f"`mivid {' '.join(path)}`: the summary must be one line: {first!r}"
    assert not path or len(first) <= MAX_SUMMARY, (
        f"`mivid {' '.join(path)}`: summary longer than {MAX_SUMMARY} characters is cut "
        f"in `mivid --help`; move the detail to a second paragraph: {first!r}"
    )


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_option_and_argument_is_described(path: tuple[str, ...], command: Any) -> None:
    missing = [
        param.opts[0] if param.opts else param.name
        for param in command.params
        if not param.hidden and not (getattr(param, "help", None) or "").strip()
    ]
    assert not missing, f"`mivid {' '.join(path)}`: add help= to {', '.join(missing)}"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_command_shows_an_example(path: tuple[str, ...], command: Any) -> None:
    epilog = command.epilog or ""
    assert re.search(r"\bExamples?\b|Try it", epilog), (
        f"`mivid {' '.join(path)}`: add an epilog with at least one example"
    )
    assert "mivid " in epilog, f"`mivid {' '.join(path)}`: the example should run mivid"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_renders_plainly(mivid: RunMivid, path: tuple[str, ...], command: Any) -> None:
    result = mivid(*path, "--help")

    assert result.exit_code == 0, result
    assert result.stderr == ""
    assert result.stdout.startswith(f"Usage: mivid {' '.join(path)}".rstrip())
    assert summary(command).split("\n")[0] in " ".join(result.stdout.split())
    assert ESCAPE not in result.stdout
    assert not set("╭╰│─") & set(result.stdout), "help draws no boxes"


def test_root_help_lists_exit_codes_and_environment(mivid: RunMivid) -> None:
    text = mivid("--help").stdout
    flat = " ".join(text.split())

    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert re.search(rf"^\s+{int(code)}\s+{re.escape(meaning)}$", text, re.MULTILINE), code
    for name in [key.env for key in KEYS.values()] + list(OTHER_ENVIRONMENT):
        assert name in flat
    assert "man mivid" in flat


def test_root_summaries_are_shown_whole(mivid_process: RunMivid) -> None:
    text = mivid_process("--help", env={"COLUMNS": "80"}).stdout
    commands = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    assert "..." not in commands, commands


def test_no_color_help_as_a_real_process_has_no_escape_codes(mivid_process: RunMivid) -> None:
    result = mivid_process("--help", env={"NO_COLOR": "1", "TERM": "xterm-256color"})

    assert result.exit_code == 0, result
    assert ESCAPE not in result.stdout + result.stderr
    assert "Exit status:" in result.stdout


def test_batch_help_lists_every_job_field(mivid: RunMivid) -> None:
    """QA 13: the Omni fields were missing from a hand-kept list; now each field has a line."""
    from mivid.vocabulary import JOB_FIELDS

    result = mivid("batch", "--help", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result
    listed = result.stdout.split("Job fields", 1)[1].split("Examples:", 1)[0]
    names = [line.split()[0] for line in listed.splitlines() if line.startswith("    ") and
             not line.startswith("     ")]  # fmt: skip
    assert names == list(JOB_FIELDS)
    for name in ("first_frame", "end_frame", "elements", "video", "video_use", "keep_sound"):
        assert f"  {name} " in listed
    assert "--first-frame: the video's first frame" in listed
    assert all(len(line) <= 80 for line in listed.splitlines())
