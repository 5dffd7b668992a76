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
        # A row may go on, indented, on the next lines (80 columns): its words in order.
        words = r"\s+".join(map(re.escape, meaning.split()))
        assert re.search(rf"^\s+{int(code)}\s+{words}$", text, re.MULTILINE), code
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


def _words_whole(lines: list[str]) -> None:
    """No line passes 80 columns (so the terminal never breaks one inside a word)."""
    long = [line for line in lines if len(line) > 80]
    assert not long, long


def test_root_help_on_a_real_80_column_terminal_wraps_between_words() -> None:
    """QA findings 11 and 12: the exit-status rows (84-115 characters) were cut mid-word by
    the terminal; the summary spoke of one to four images and Multi-Image to Video only."""
    from helpers import InProcessTerminal

    terminal = InProcessTerminal(["--help"], columns=80, stdin=False, env={"NO_COLOR": "1"})
    assert terminal.finish() == 0
    lines = terminal.text().splitlines()
    _words_whole(lines)
    flat = " ".join(terminal.text().split())
    assert "Omni-Video (up to seven images" in flat
    assert "one to four reference images" not in flat
    rows = lines[lines.index("  Exit status:") + 2 :]
    assert rows[:6] == [
        "      0  success",
        "      1  a task ended `failed`",
        "      2  bad usage or bad input; nothing was sent",
        "      3  credentials or account problem (missing keys, API codes 1000-1103)",
        "      4  the API refused the request (codes 1200-1304), the task does not exist,",
        "         or --max-units stopped the creates",
    ]
    # The long first step is a command a shell reads back whole: ` \\` ends each part.
    start = next(n for n, line in enumerate(lines) if "mivid --sandbox create" in line)
    command = ""
    for line in lines[start:]:
        command += line.strip().removesuffix("\\")
        if not line.endswith("\\"):
            break
    assert " ".join(command.split()) == (
        "mivid --sandbox create mivid-examples/lighthouse.jpg mivid-examples/sailboat.png "
        "--prompt 'the boat sails past the lighthouse' --wait --download videos/"
    )


def test_config_set_help_key_table_fits_80_columns(mivid_process: RunMivid) -> None:
    result = mivid_process("config", "set", "--help", env={"COLUMNS": "80"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    _words_whole(lines)
    keys = lines[lines.index("  Keys:") + 2 :]
    assert keys[:2] == [
        "    access-key    access key (with the secret key, signs a JWT) [env:",
        "                  KLING_ACCESS_KEY]",
    ]
    assert "    duration      default duration in seconds (3, 4, 5, 6, 7, 8, 9, 10) [env:" in keys


@pytest.mark.parametrize("path", [path for path, _ in command_tree()], ids=" ".join)
def test_every_help_fits_80_columns(
    mivid: RunMivid, path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = mivid(*path, "--help")
    assert result.exit_code == 0
    _words_whole(result.stdout.splitlines())
