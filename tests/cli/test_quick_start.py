"""The README's quick start, run as written in a fresh clone, leaves the clone clean (QA 20).

Its videos and their `.json` sidecars go into a folder the clone's `.gitignore`
covers (with `--download .` the sidecars were left untracked in the clone).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import RunMivid, Sleepless
from htmltree import parse

ROOT = Path(__file__).resolve().parent.parent.parent


def quick_start_commands() -> list[list[str]]:
    """Each `mivid --sandbox create examples/…` command of the README, as its words."""
    commands = []
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if "mivid --sandbox create examples/" in line:
            words = shlex.split(line[line.index("mivid --sandbox create") :])
            commands.append(words[1:])  # the program's name apart
    return commands


def untracked(clone: Path) -> list[str]:
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=clone, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return status.stdout.splitlines()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_readmes_quick_start_leaves_a_clone_clean(
    mivid: RunMivid, tmp_path: Path, sleepless: Sleepless, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The Multi-Image start and the Omni-Video one, at the top of the README.
    commands = quick_start_commands()[:2]
    assert [words[-2] for words in commands] == ["--download"] * 2, commands
    clone = tmp_path / "mivid"
    shutil.copytree(ROOT / "examples", clone / "examples")
    shutil.copy(ROOT / ".gitignore", clone / ".gitignore")
    subprocess.run(["git", "init", "-q"], cwd=clone, check=True, timeout=30)
    before = untracked(clone)
    monkeypatch.chdir(clone)
    for words in commands:
        result = mivid(*words, clock=sleepless)
        assert result.exit_code == 0, result
        (saved,) = (line.split("\t")[3] for line in result.stdout.splitlines())
        video = clone / saved
        assert video.parent.name == "videos" and video.stat().st_size > 0
        assert video.with_suffix(".json").is_file()
    assert untracked(clone) == before  # the videos and sidecars are ignored, nothing else new
    # The gallery numbers each image as the prompt names it (`<<<image_2>>>` is the sailboat).
    assert mivid("gallery", "videos").exit_code == 0
    page = parse((clone / "videos" / "index.html").read_text(encoding="utf-8"))
    omni = next(
        card for card in page.find_all("article", cls="card") if "<<<image_2>>>" in card.text()
    )
    captions = [caption.text() for caption in omni.find_all("figcaption")]
    assert captions == ["image 1 (reference) lighthouse.jpg", "image 2 (reference) sailboat.png"]
