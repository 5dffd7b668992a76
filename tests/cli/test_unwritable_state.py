"""A state folder that cannot be made or written: the hint is about the folder, not a journal.

There is no journal to move aside; the user is told the folder, XDG_STATE_HOME
and --no-journal. Nothing is sent (exit 2).
"""

from __future__ import annotations

from pathlib import Path

from helpers import RunMivid
from imagefactory import make_png
from mivid.sandbox import EmulatorServer


def test_a_state_folder_that_cannot_be_made_says_so(
    mivid: RunMivid, kling_env: EmulatorServer, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    image = make_png(tmp_path / "front.png")
    state = blocker / "state"
    result = mivid("create", str(image), "--prompt", "hi", env={"XDG_STATE_HOME": str(state)})
    assert result.exit_code == 2, result
    journal = state / "mivid" / "journal.sqlite3"
    assert f"error: the journal of creates {journal} cannot be made:" in result.stderr
    assert f"hint: make {journal.parent} writable, or set XDG_STATE_HOME" in result.stderr
    assert "--no-journal" in result.stderr
    assert "move it aside" not in result.stderr and ".broken" not in result.stderr
    assert kling_env.emulator.received == []
    sent = mivid(
        "create",
        str(image),
        "--prompt",
        "hi",
        "--no-journal",
        "-q",
        env={"XDG_STATE_HOME": str(state)},
    )
    assert sent.exit_code == 0, sent
