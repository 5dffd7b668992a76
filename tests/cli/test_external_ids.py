"""An external id must be something the task can be looked up by later."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import RunMivid
from imagefactory import make_png
from mivid.sandbox import EmulatorServer


def test_an_external_id_with_a_slash_is_refused_before_sending(
    mivid: RunMivid, kling_env: EmulatorServer, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "a.png", size=(640, 480))
    result = mivid("create", str(image), "--prompt", "waves", "--external-task-id", "shots/01")
    assert result.exit_code == 2
    assert "--external-task-id: must not start with `-`, nor contain `/`" in result.stderr
    assert result.stdout == ""
    assert kling_env.emulator.received == []


@pytest.mark.parametrize("external", ["-v", "--help", "shot\u202e10", "shot\u200b1", "a\x9bb"])
def test_an_external_id_a_suggested_command_could_not_carry_is_refused_before_sending(
    mivid: RunMivid, kling_env: EmulatorServer, tmp_path: Path, external: str
) -> None:
    """The id is a word of the commands mivid suggests (`mivid get ID`): one starting with
    `-` pasted as an option (`mivid get --help`), one with an invisible or bidirectional
    character pasted as another id (it is shown escaped)."""
    image = make_png(tmp_path / "a.png", size=(640, 480))
    result = mivid("create", str(image), "--prompt", "waves", f"--external-task-id={external}")
    assert result.exit_code == 2, result
    assert "--external-task-id: must not start with `-`" in result.stderr
    assert kling_env.emulator.received == []
