"""The committed completions and man page match the commands, and each shell and man reads them.

When a command, option or help text changes, these fail until the generated
files are regenerated with one command:

    python scripts/gen_completions.py && python scripts/gen_man.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import RunMivid

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = (
    "run python scripts/gen_completions.py && python scripts/gen_man.py"
    " && python scripts/gen_readme.py"
)
GENERATED = {
    "gen_completions.py": ("completions", ["mivid.bash", "_mivid", "mivid.fish"]),
    "gen_man.py": ("man", ["mivid.1"]),
    "gen_readme.py": (".", ["README.md"]),
}


@pytest.mark.parametrize("script", sorted(GENERATED))
def test_committed_files_are_up_to_date(script: str, tmp_path: Path) -> None:
    folder, names = GENERATED[script]
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), "--output-dir", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    for name in names:
        committed = ROOT / folder / name
        assert committed.exists(), f"{folder}/{name} is missing: {REGENERATE}"
        fresh = (tmp_path / name).read_text(encoding="utf-8")
        assert committed.read_text(encoding="utf-8") == fresh, (
            f"{folder}/{name} is stale (the commands changed): {REGENERATE}"
        )
        assert str(ROOT) not in fresh, "generated files must not name this machine's paths"
        assert str(Path.home()) not in fresh


def run_bash(script: str) -> str:
    completed = subprocess.run(
        ["bash", "-c", f"source {ROOT / 'completions' / 'mivid.bash'}; {script}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=30,
    )
    assert completed.stderr == ""
    return completed.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_commands_from_comp_words() -> None:
    output = run_bash('COMP_WORDS=(mivid cr); COMP_CWORD=1; _mivid; echo "${COMPREPLY[@]}"')
    assert output == "create\n"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("mivid --profile work con", ["config"]),
        ("mivid config ", ["set", "get", "unset", "show", "path", "check"]),
        ("mivid create --mode ", ["std", "pro"]),
        ("mivid create --mode=p", ["pro"]),
        ("mivid create --duration ", [str(n) for n in range(3, 11)]),
        ("mivid create --endpoint ", ["multi-image", "omni"]),
        ("mivid create --video-use b", ["base"]),
        ("mivid create --aspect-ratio 16:", ["9"]),  # bash replaces only the part after ':'
        ("mivid list --status s", ["submitted", "succeed"]),
        ("mivid --region ", ["global", "china"]),
        ("mivid config set region ", ["global", "china"]),
        ("mivid config get aspect", ["aspect-ratio"]),
        ("mivid create --prompt x examples/l", ["examples/lighthouse.jpg"]),
        ("mivid sandbox ", ["examples", "serve"]),
        # Issue 15.15: the jobs file for batch, folders for --download and DIR arguments.
        ("mivid batch examples/", ["examples/jobs.jsonl"]),
        ("mivid --sandbox batch -c 2 examples/j", ["examples/jobs.jsonl"]),
        ("mivid open 8672 --download exa", ["examples"]),
        ("mivid open 8672 -d exa", ["examples"]),
        ("mivid gallery exa", ["examples"]),
        ("mivid completion ", ["bash", "zsh", "fish"]),
    ],
)
def test_bash_completes_values(line: str, expected: list[str]) -> None:
    output = run_bash(
        f"COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; _mivid; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    )
    assert output.split() == expected


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_loads_the_completion_file(tmp_path: Path) -> None:
    script = (
        f"autoload -Uz compinit && compinit -u -d {tmp_path}/zcompdump && "
        f"source {ROOT / 'completions' / '_mivid'} && whence -w _mivid _mivid_create"
    )
    completed = subprocess.run(
        ["zsh", "-f", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert completed.returncode == 0, completed
    assert completed.stderr == ""
    assert "_mivid: function" in completed.stdout


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_loads_and_completes(tmp_path: Path) -> None:
    script = (
        f"source {ROOT / 'completions' / 'mivid.fish'}; "
        "complete -C 'mivid cr'; complete -C 'mivid create --mode '; "
        "complete -C 'mivid --profile w config set region '"
    )
    completed = subprocess.run(
        ["fish", "--no-config", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert completed.returncode == 0, completed
    assert completed.stderr == ""
    words = [row.split("\t")[0] for row in completed.stdout.splitlines()]
    assert words == ["create", "pro", "std", "china", "global"]


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_man_page_renders_without_warnings() -> None:
    completed = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-z", str(ROOT / "man" / "mivid.1")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert completed.returncode == 0
    assert completed.stderr == ""


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_man_shows_every_command_environment_and_exit_status(tmp_path: Path) -> None:
    from mivid.errors import EXIT_CODE_MEANINGS
    from mivid.settings import KEYS, OTHER_ENVIRONMENT

    completed = subprocess.run(
        ["man", "-l", str(ROOT / "man" / "mivid.1")],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "MANWIDTH": "80", "MANPAGER": "cat", "PAGER": "cat"},
    )
    assert completed.returncode == 0
    assert completed.stderr == ""
    text = completed.stdout
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "GLOBAL OPTIONS"):
        assert f"\n{section}\n" in text
    for section in ("ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES"):
        assert f"\n{section}\n" in text
    for name in ("create", "get", "list", "wait", "download", "config set", "config check"):
        assert f"\n   {name}\n" in text
    for name in [key.env for key in KEYS.values()] + list(OTHER_ENVIRONMENT):
        assert f"\n       {name}\n" in text
    for code in EXIT_CODE_MEANINGS:
        assert f"\n       {int(code)} " in text
    for path in ("config.toml", "journal.sqlite3", "sandbox.sqlite3"):
        assert path in text


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_mivid_completion_prints_the_committed_script(mivid: RunMivid, shell: str) -> None:
    name = {"bash": "mivid.bash", "zsh": "_mivid", "fish": "mivid.fish"}[shell]
    printed = mivid("completion", shell)
    assert printed.exit_code == 0, printed
    assert printed.stdout == (ROOT / "completions" / name).read_text(encoding="utf-8")


def test_mivid_completion_of_another_shell_is_a_usage_error(mivid: RunMivid) -> None:
    refused = mivid("completion", "tcsh")
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: SHELL `tcsh`: not one of bash, zsh, fish")


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_the_jobs_file_and_folders(tmp_path: Path) -> None:
    script = (
        f"source {ROOT / 'completions' / 'mivid.fish'}; "
        "complete -C 'mivid batch examples/'; complete -C 'mivid open 1 --download exa'"
    )
    completed = subprocess.run(
        ["fish", "--no-config", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert completed.returncode == 0, completed
    words = [row.split("\t")[0] for row in completed.stdout.splitlines()]
    assert words == ["examples/jobs.jsonl", "examples/"], words


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_knows_the_jobs_file_and_folder_arguments() -> None:
    text = (ROOT / "completions" / "_mivid").read_text(encoding="utf-8")
    batch = text.split("_mivid_batch() {", 1)[1].split("\n}", 1)[0]
    assert "*.(jsonl|csv|JSONL|CSV)" in batch
    gallery = text.split("_mivid_gallery() {", 1)[1].split("\n}", 1)[0]
    assert "_files -/" in gallery
