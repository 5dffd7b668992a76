"""The quick paths that keep `list --all` near a minimal script's speed write what the slow ones did.

`json_text` indents parsed JSON itself (the standard library's indenting encoder
is pure Python), and skips the escaping search on ASCII text; `visible` searches
ASCII text with a class of C0 and DEL alone; a list line is joined before its
cells are checked for tabs. Each must give the very text the general path gives,
for any value, and a task whose cells hold tabs and newlines is still one line.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from helpers import RunMivid
from imagefactory import make_png
from mivid.plaintext import iso_millis, json_text, visible
from mivid.sandbox import EmulatorServer, FakeClock, Fault

#: Characters of every kind a service could send: controls, C1, bidi overrides, invisible
#: format characters, a lone surrogate, astral characters, quotes and backslashes.
ODD = "\x00\x07\t\n\r\x1b\x7f\x80\x9b\u061c\u200b\u202e\u2028\ud800\udc80\ufeff\U0001f600\U000e0041"
texts = st.text(alphabet=st.characters(codec=None) | st.sampled_from(list(ODD + '"\\/é')))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=20,
)


def unsafe(char: str) -> bool:
    """Would a terminal act on it (as `visible` decides, one character at a time)?"""
    return visible(char) != char


def expected(value: Any) -> Any:
    """What a JSON parser reads back: non-finite floats as null, lone surrogates as U+FFFD."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return "".join("\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char for char in value)
    if isinstance(value, list):
        return [expected(item) for item in value]
    if isinstance(value, dict):
        return {expected(key): expected(item) for key, item in value.items()}
    return value


@given(json_values)
def test_json_text_is_strict_json_that_reads_back_and_holds_nothing_unsafe(value: Any) -> None:
    text = json_text(value)
    assert json.loads(text) == expected(value)
    assert not any(unsafe(char) for char in text if char != "\n")
    # An element of a streamed array: the same text, each line after the first indented.
    assert json_text(value, margin="  ") == text.replace("\n", "\n  ")


@given(json_values)
def test_json_text_lays_out_as_json_dumps_does(value: Any) -> None:
    """Where nothing needs escaping, byte for byte what `json.dumps(indent=2)` writes."""
    dumped = json.dumps(expected(value), ensure_ascii=False, indent=2)
    # A lone surrogate is written as the escape `\ufffd`, not as U+FFFD itself.
    as_sent = json.dumps(value, ensure_ascii=False, indent=2, allow_nan=True)
    if not any(unsafe(char) for char in as_sent if char != "\n"):
        assert json_text(value) == dumped


def test_json_text_takes_what_only_json_dumps_knows() -> None:
    """Tuples, integer keys and deep nesting leave the quick path for the general one."""
    assert json_text({1: ("a", 2.5)}) == json.dumps({"1": ["a", 2.5]}, indent=2)
    deep: Any = "x"
    for _ in range(400):
        deep = [deep]
    assert json.loads(json_text(deep)) == deep


@given(texts, st.sampled_from(["", "\t", "\n", "\t\n"]))
def test_visible_draws_a_text_as_it_draws_each_character(text: str, keep: str) -> None:
    """ASCII text takes the quick search; text with any other character the whole class.
    Both draw every character the same way."""
    drawn = visible(text, keep=keep)
    assert drawn == "".join(visible(char, keep=keep) for char in text)
    assert not any(unsafe(char) for char in drawn if char not in keep)


@given(st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), st.text(max_size=3)))
def test_iso_millis_reads_milliseconds_as_the_datetime_path_does(value: Any) -> None:
    from datetime import datetime, timezone

    try:
        usable = not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0
        moment = datetime.fromtimestamp(value / 1000, tz=timezone.utc) if usable else None
    except (OverflowError, OSError, ValueError):
        moment = None
    want = moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None
    assert iso_millis(value) == want


def test_a_listed_task_with_tabs_and_newlines_in_its_cells_is_one_line(
    mivid: RunMivid, kling_env: EmulatorServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    image = make_png(tmp_path / "front.png")
    made = [mivid("create", str(image), "--prompt", f"shot {n}", "-q") for n in range(3)]
    assert all(result.exit_code == 0 for result in made), made
    fake_clock.advance(10)
    kling_env.emulator.inject(Fault.control_chars("a\tb\nc", on="any", times=None))

    listed = mivid("list", "--all")

    assert listed.exit_code == 0, listed
    lines = listed.stdout.splitlines()
    assert len(lines) == 3
    for line in lines:
        cells = line.split("\t")
        assert len(cells) == 11, cells
        assert cells[1] == "a b csucceed"  # the status, its tab and newline made spaces
        assert cells[4].startswith("a b c")  # the external id
