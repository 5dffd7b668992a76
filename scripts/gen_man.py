#!/usr/bin/env python3
"""Generate the man page man/mivid.1 (roff) from mivid's command tree.

    python scripts/gen_man.py                # writes man/mivid.1
    python scripts/gen_man.py --output-dir D # writes D/mivid.1 (the staleness test)
    man -l man/mivid.1                       # read it

Deterministic: no date and no path of this machine, so regenerating an
unchanged tree changes nothing. Commands, options and help come from the same
tree as the completions (`gen_completions.command_tree()`); the environment
from `settings.KEYS` and `settings.OTHER_ENVIRONMENT`; exit statuses from
`errors.EXIT_CODE_MEANINGS`.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_completions import ROOT, Argument, Command, Option, command_tree

from mivid import __version__
from mivid.app import TRY_IT
from mivid.errors import EXIT_CODE_MEANINGS
from mivid.settings import KEYS, OTHER_ENVIRONMENT

DESCRIPTION = """\
mivid sends reference images (JPEG or PNG files, or http(s) URLs) and a text prompt to
Kling AI's video API, waits for the task, and downloads the video: Multi-Image to Video
(kling-v1-6, one to four images) or Omni-Video (Kling's newer models: up to seven images,
first and end frames, elements, a reference video). The model picks the endpoint. It is made for terminals, scripts and CI: results go to standard output
(tables on a terminal, tab-separated lines in a pipe, JSON with --json), progress,
warnings and errors to standard error, and the exit status says what happened.

Global options go before the command (mivid --sandbox create ...) or after it
(mivid create ... --sandbox); a command's own options after it. Every command has --help with examples.

Credentials are an access key and a secret key (a JWT is signed for each request) or
an API key. They, the region and the defaults for create come from flags, then the
environment, then the profile in the config file, then built-in defaults; mivid config
show says which one each value comes from. Nothing prints a secret key, an API key or a
whole token.

--sandbox runs everything against a built-in emulator of the API: no keys, no
network, nothing billed."""

EXAMPLES = [
    (
        "Try it offline, with no keys (the first command writes two example images into "
        "mivid-examples/):",
        "\n".join(TRY_IT),
    ),
    (
        "Store credentials once, each read without echo (or from standard input):",
        "mivid config set access-key -\nmivid config set secret-key -\nmivid config check",
    ),
    (
        "Create a task from two images and a prompt kept in a file:",
        "mivid create front.jpg side.png --prompt - --mode pro < prompt.txt",
    ),
    (
        "Wait for every running task and download the results:",
        "mivid list --status processing --json | jq -r '.[].task_id' |\n"
        "    mivid wait - --download out/",
    ),
    (
        "Keep two accounts apart with profiles:",
        "mivid --profile china config set region china\nmivid --profile china list",
    ),
]

FILES = [
    (
        "~/.config/mivid/config.toml",
        "The config file (on macOS ~/Library/Application Support/mivid/config.toml; "
        "MIVID_CONFIG_FILE names another). TOML, one table per profile, mode 0600. "
        "Written by mivid config set; mivid config path prints where it is.",
    ),
    (
        "~/.local/state/mivid/journal.sqlite3",
        "The journal: every create is recorded before it is sent, so mivid recover can "
        "settle creates whose answer was lost. (The user state folder: $XDG_STATE_HOME/mivid "
        "when set; on macOS ~/Library/Application Support/mivid.)",
    ),
    (
        "~/.local/state/mivid/sandbox.sqlite3",
        "The tasks of the offline emulator used by --sandbox.",
    ),
]


def escape(text: str) -> str:
    """Text as roff: backslashes, hyphens that must stay ASCII, non-ASCII as \\[uXXXX]."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)


def line(text: str) -> str:
    """One input line; a leading dot or quote would be read as a request."""
    escaped = escape(text)
    return "\\&" + escaped if escaped.startswith((".", "'")) else escaped


def paragraphs(text: str) -> list[str]:
    """Help text as roff paragraphs; click's \\b blocks stay as they are (no fill)."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        if block.startswith("\b"):
            out += [".PP", ".nf", ".RS 4"]
            # Relative indents kept: a continued command's next line, a key's second line.
            rows = textwrap.dedent(block[1:].strip("\n")).splitlines()
            out += [line(row.rstrip()) for row in rows]
            out += [".RE", ".fi"]
        elif _is_example_block(block):
            out += [".PP", ".nf", ".RS 4"]
            out += [line(row.rstrip()) for row in textwrap.dedent(block.strip("\n")).splitlines()]
            out += [".RE", ".fi"]
        else:
            out += [".PP", line(" ".join(block.split()))]
    return out


def _is_example_block(block: str) -> bool:
    stripped = block.strip()
    return stripped.startswith(("mivid ", "KLING_", "MIVID_", "echo ", '"$EDITOR"')) or (
        "| mivid" in stripped
    )


def synopsis_of(command: Command) -> str:
    parts = ["mivid", "[GLOBAL OPTIONS]", *command.path]
    if command.subcommands:
        parts.append("COMMAND")
    elif command.options:
        parts.append("[OPTIONS]")
    for argument in command.arguments:
        name = argument.metavar + ("..." if argument.many else "")
        parts.append(name if argument.required else f"[{name}]")
    return " ".join(parts)


def option_lines(option: Option) -> list[str]:
    names = ", ".join(f"\\fB{escape(name)}\\fR" for name in option.names)
    if option.takes_value:
        names += f" \\fI{escape(option.metavar)}\\fR"
    help_text = option.help
    if option.values and not all(value in help_text for value in option.values):
        help_text += f" One of: {', '.join(option.values)}."
    return [".TP", names, line(" ".join(help_text.split()))]


def argument_lines(argument: Argument) -> list[str]:
    name = f"\\fI{escape(argument.metavar)}\\fR" + ("..." if argument.many else "")
    return [".TP", name, line(" ".join(argument.help.split()))]


def command_section(command: Command) -> list[str]:
    out = [".SS " + escape(" ".join(command.path)), f".B {escape(synopsis_of(command))}"]
    out += paragraphs(command.help)
    if command.arguments or command.options:
        out += [".PP", "Arguments and options:" if command.arguments else "Options:"]
        out += [".RS 4"]
        for argument in command.arguments:
            out += argument_lines(argument)
        for option in command.options:
            out += option_lines(option)
        out += [".RE"]
    if command.epilog:
        out += paragraphs(command.epilog)
    return out


def man_page(tree: Command) -> str:
    out = [
        ".\\\" Generated by scripts/gen_man.py from mivid's commands; do not edit.",
        '.\\" Regenerate: python scripts/gen_completions.py && python scripts/gen_man.py',
        f'.TH MIVID 1 "" "mivid {escape(__version__)}" "User Commands"',
        ".SH NAME",
        # The first clause: a NAME line is one short line (`man -k` lists it).
        "mivid \\- " + escape(tree.summary.split(":")[0].rstrip(".").replace("Turn", "turn", 1)),
        ".SH SYNOPSIS",
        ".B mivid",
        "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]",
        ".SH DESCRIPTION",
    ]
    for block in DESCRIPTION.split("\n\n"):
        out += [".PP", line(" ".join(block.split()))]
    out += [".SH COMMANDS"]
    for command in tree.walk():
        if command.path:
            out += command_section(command)
    out += [".SH GLOBAL OPTIONS", "These go before the command."]
    for option in tree.options:
        out += option_lines(option)
    out += [".TP", "\\fB\\-h\\fR, \\fB\\-\\-help\\fR", "Show the help (of mivid or a command)."]
    out += [".SH ENVIRONMENT"]
    for key in KEYS.values():
        description = f"Setting {key.name}: {key.help}"
        if key.choices:
            description += f" ({', '.join(key.choices)})"
        if key.default:
            description += f"; default {key.default}"
        out += [".TP", f"\\fB{escape(key.env)}\\fR", line(description + ".")]
    for name, description in OTHER_ENVIRONMENT.items():
        text = description[0].upper() + description[1:]
        out += [".TP", f"\\fB{escape(name)}\\fR", line(text.rstrip(".") + ".")]
    out += [".SH FILES"]
    for path, description in FILES:
        out += [".TP", f"\\fI{escape(path)}\\fR", line(description)]
    out += [".SH EXIT STATUS"]
    for code, meaning in EXIT_CODE_MEANINGS.items():
        out += [".TP", f"\\fB{int(code)}\\fR", line(meaning[0].upper() + meaning[1:] + ".")]
    out += [".SH EXAMPLES"]
    for caption, example in EXAMPLES:
        out += [".PP", line(caption), ".PP", ".nf", ".RS 4"]
        out += [line(row) for row in example.splitlines()]
        out += [".RE", ".fi"]
    out += [
        ".SH SEE ALSO",
        "The README of mivid, and Kling AI's API documentation.",
    ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", type=Path, default=ROOT / "man")
    options = parser.parse_args(argv)
    options.output_dir.mkdir(parents=True, exist_ok=True)
    (options.output_dir / "mivid.1").write_text(man_page(command_tree()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
