"""An external id must be something the task can be looked up by later."""

from __future__ import annotations

from pathlib import Path

from helpers import RunMivid
from imagefactory import make_png
from mivid.sandbox import EmulatorServer


def test_an_external_id_with_a_slash_is_refused_before_sending(
    mivid: RunMivid, kling_env: EmulatorServer, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "a.png", size=(640, 480))
    result = mivid("create", str(image), "--prompt", "waves", "--external-task-id", "shots/01")
    assert result.exit_code == 2
    assert "--external-task-id: must not contain `/`" in result.stderr
    assert result.stdout == ""
    assert kling_env.emulator.received == []
