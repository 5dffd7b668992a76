"""Characters that show as nothing (zero-width space, BOM, word joiner, tag characters) are drawn.

Two task ids differing only by one of them would look the same on a screen and
in a pipe; drawn as `\\u200b`, they can be told apart. JSON keeps the data as
it is (escaped, so a terminal shows the escape, but parsed back the same).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import Serve
from helpers import RunMivid
from imagefactory import make_png
from mivid.plaintext import json_text, visible
from mivid.sandbox import Emulator, FakeClock

INVISIBLE = ["\u200b", "\u2060", "\ufeff", "\u00ad", "\U000e0041"]


@pytest.mark.parametrize("char", INVISIBLE)
def test_an_id_with_an_invisible_character_is_drawn_and_kept(
    mivid: RunMivid, serve: Serve, fake_clock: FakeClock, tmp_path: Path, char: str
) -> None:
    task_id = f"867283741759111202{char}"
    serve(Emulator(access_keys={"test-ak": "test-sk"}, clock=fake_clock, task_ids=[task_id]))
    image = make_png(tmp_path / "front.png")
    made = mivid("create", str(image), "--prompt", "hi", "-q")
    assert made.exit_code == 0, made
    drawn = visible(char)
    assert drawn.startswith(("\\u", "\\U", "\\x")) and char not in drawn
    assert made.stdout == f"867283741759111202{drawn}\n"
    for args in (("list",), ("get", task_id)):
        result = mivid(*args)
        assert result.exit_code == 0, result
        assert char not in result.stdout
        assert f"867283741759111202{drawn}\t" in result.stdout
    as_json = mivid("get", task_id, "--json")
    assert char not in as_json.stdout
    assert json.loads(as_json.stdout)["task_id"] == task_id


@given(st.text(alphabet=st.sampled_from(["a", "1", *INVISIBLE, "\u200d", "é"]), max_size=12))
def test_json_text_round_trips_and_shows_nothing_invisible(text: str) -> None:
    shown = json_text({"v": text}, indent=None)
    assert json.loads(shown) == {"v": text}
    assert not any(char in shown for char in INVISIBLE)
    assert not any(char in visible(text) for char in INVISIBLE)
