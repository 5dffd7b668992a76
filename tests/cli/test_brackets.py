"""Square brackets from a user or the service are text, never rich markup (issue 15, point 3).

`batch mk.jsonl -d "b[/x]"` ran every job, saved the videos, then crashed with
MarkupError (exit 70); `(the prompt contains [fail])` showed as `(the prompt
contains )`. Paths, prompts, reasons, ids and URLs with brackets, on a terminal,
in every view that draws them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from helpers import InProcessTerminal, RunMivid, Sleepless
from imagefactory import make_png

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")

FAST = {"MIVID_SANDBOX_TASK_SECONDS": "0", "NO_COLOR": None}


def on_a_terminal(args: list[str], cwd: Path, columns: int = 200) -> tuple[int, str]:
    terminal = InProcessTerminal(["--sandbox", *args], columns=columns, env=FAST, cwd=str(cwd))
    status = terminal.finish(timeout=60)
    return status, terminal.text()


def test_a_batch_into_a_bracketed_folder_with_bracketed_prompts(tmp_path: Path) -> None:
    make_png(tmp_path / "a[1].png")
    jobs = tmp_path / "mk.jsonl"
    jobs.write_text(
        json.dumps({"images": ["a[1].png"], "prompt": "a [bold]cat[/bold]"})
        + "\n"
        + json.dumps({"images": ["a[1].png"], "prompt": "no [fail]"})
        + "\n"
    )

    status, screen = on_a_terminal(
        ["batch", "mk.jsonl", "-d", "b[/x]", "--interval", "0.1"], tmp_path
    )

    assert status == 1, screen  # one job failed; nothing crashed
    assert "MarkupError" not in screen and "bug in mivid" not in screen
    assert "(the prompt contains [fail])" in screen
    assert "b[/x]/" in screen  # the saved file's path, brackets and all
    assert len(list((tmp_path / "b[/x]").glob("*.mp4"))) == 1


def test_panels_and_tables_show_brackets_as_typed(
    mivid: RunMivid, tmp_path: Path, sleepless: Sleepless
) -> None:
    image = make_png(tmp_path / "i[red].png")
    env = {"MIVID_SANDBOX_TASK_SECONDS": "0"}
    made = mivid(
        "--sandbox", "create", str(image), "-p", "[link=x]see[/link] [fail]",
        "--external-task-id", "[b]mine[b]", "--wait", "-q", env=env, clock=sleepless,
    )  # fmt: skip
    assert made.exit_code == 1, made
    task_id = made.stdout.strip()

    screens: dict[str, str] = {}
    for args in (["get", task_id], ["list"], ["list", "--local"], ["wait", task_id]):
        status, screen = on_a_terminal(args, tmp_path)
        assert status in (0, 1), (args, screen)
        assert "[b]mine[b]" in screen or args[0] == "wait", (args, screen)
        assert "Traceback" not in screen and "bug in mivid" not in screen
        screens[args[0]] = screens.get(args[0]) or screen
    panel = screens["get"]
    assert "[link=x]see[/link] [fail]" in panel
    assert "(the prompt contains [fail])" in panel
    assert f"{image.name} (" in panel  # from the folder it is in (`get` runs there)


def test_an_error_naming_a_bracketed_file_shows_it(tmp_path: Path) -> None:
    status, screen = on_a_terminal(["create", "[bold]gone[/bold].png", "-p", "x"], tmp_path)

    assert status == 2, screen
    assert "[bold]gone[/bold].png" in screen
