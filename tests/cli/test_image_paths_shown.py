"""`get` names a task's images by a path that is right from wherever it runs (QA newcomer 2,
item 14): relative to the current folder when the file is under it, else absolute — never
the path as typed at create time (`start.png`), which means nothing from another folder."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import InProcessTerminal, RunMivid
from imagefactory import make_jpeg, make_png
from mivid.plaintext import path_from_here
from mivid.sandbox import EmulatorServer


def image_rows(task_id: str, folder: Path) -> list[str]:
    """The panel's image rows as a person sees them, `get` run from `folder`."""
    terminal = InProcessTerminal(
        ["get", task_id], columns=250, stdin=False, env={"NO_COLOR": "1"}, cwd=str(folder)
    )
    assert terminal.finish() == 0, terminal.text()
    rows = [" ".join(line.strip("│ ").split()) for line in terminal.text().splitlines()]
    return [row for row in rows if row.startswith("image ")]


def named(rows: list[str]) -> list[str]:
    """Each image row's path: what comes between the label and ` (WIDTH×HEIGHT`."""
    return [re.sub(r"^image \d+ \(\w+\) (.*) \(\d+×\d+, sha256 .*$", r"\1", row) for row in rows]


def test_get_names_each_image_from_the_folder_it_runs_in(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    (project / "shots").mkdir(parents=True)
    elsewhere.mkdir()
    start = make_png(project / "shots" / "start.png")
    other = make_jpeg(elsewhere / "other.jpg", (500, 400))
    monkeypatch.chdir(project)
    # Typed relative, the second one climbing out of the folder.
    made = mivid("create", "shots/start.png", "../elsewhere/other.jpg", "--prompt", "a", "-q")
    assert made.exit_code == 0, made
    task_id = made.stdout.strip()

    assert named(image_rows(task_id, project)) == ["shots/start.png", str(other)]
    assert named(image_rows(task_id, project / "shots")) == ["start.png", str(other)]
    assert named(image_rows(task_id, elsewhere)) == [str(start), "other.jpg"]
    # Above both: each relative to it (no `..` left from how it was typed).
    assert named(image_rows(task_id, tmp_path)) == [
        "project/shots/start.png",
        "elsewhere/other.jpg",
    ]
    # From the home folder (not above them): absolute, as written nowhere else but here.
    assert named(image_rows(task_id, Path(os.environ["HOME"]))) == [str(start), str(other)]


def test_an_image_path_is_drawn_not_acted_on(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    odd = make_png(tmp_path / "odd\x1b[2Jname\n.png")
    monkeypatch.chdir(tmp_path)
    made = mivid("create", odd.name, "--prompt", "a", "-q")
    assert made.exit_code == 0, made
    task_id = made.stdout.strip()

    terminal = InProcessTerminal(
        ["get", task_id], columns=250, stdin=False, env={"NO_COLOR": "1"}, cwd=str(tmp_path)
    )
    assert terminal.finish() == 0, terminal.text()
    assert "\x1b[2J" not in terminal.raw()
    assert named(image_rows(task_id, tmp_path)) == ["odd\\x1b[2Jname\\x0a.png"]


@given(
    here=st.lists(st.sampled_from(["a", "b", "c d", ".."]), max_size=4),
    there=st.lists(st.sampled_from(["a", "b", "c d", "..", ".", "x.png"]), max_size=5),
)
def test_the_path_shown_leads_to_the_file_from_the_folder(
    here: list[str], there: list[str]
) -> None:
    folder = os.path.normpath(PurePosixPath("/", *here))
    recorded = str(PurePosixPath("/", *there))
    shown = path_from_here(recorded, here=folder)
    # Followed from the folder, it is the recorded file; relative only when under the folder.
    target = os.path.normpath(recorded)
    assert os.path.normpath(PurePosixPath(folder) / shown) == target
    assert not shown.startswith("..")
    assert PurePosixPath(shown).is_absolute() != PurePosixPath(target).is_relative_to(folder)


def test_a_path_recorded_relative_is_shown_as_it_was() -> None:
    assert path_from_here("start.png", here="/anywhere") == "start.png"
