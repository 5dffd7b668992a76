"""Secrets are cut out by searching only around where a piece of one occurs, and that finds
exactly what a search of the whole text finds: every form of every secret, in any case,
however the pieces of it are scattered through a long text."""

from __future__ import annotations

import base64
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from mivid import auth
from mivid.auth import Secrets

_KEY_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789-_ABC"
_ASCII = st.characters(max_codepoint=127)
#: Short ones, and ones long enough that any 12 characters of them are cut out too.
secrets_ = st.text(alphabet=_KEY_CHARACTERS, min_size=6, max_size=16) | st.text(
    alphabet=_KEY_CHARACTERS, min_size=24, max_size=40
)


@st.composite
def texts_around(draw: st.DrawFn, *, ascii_only: bool = False) -> tuple[list[str], str]:
    """Some secrets, and a text made of their pieces, forms and other characters (only
    ASCII ones: what the service's answers are, searched without the pattern)."""
    values = draw(st.lists(secrets_, min_size=1, max_size=3))
    pieces = []
    for _ in range(draw(st.integers(0, 12))):
        value = draw(st.sampled_from(values))
        start = draw(st.integers(0, len(value)))
        end = draw(st.integers(start, len(value)))
        piece = draw(
            st.sampled_from(
                [
                    value,
                    value.upper(),
                    value[start:end],
                    value[start:end].upper(),
                    f"{value[start:end]} {value[end:]}",  # a copy split by a space
                    quote(value, safe=""),
                    base64.b64encode(value.encode()).decode(),
                    base64.b64encode(f"Bearer {value}".encode()).decode(),
                    draw(
                        st.text(alphabet=_ASCII, max_size=30)
                        if ascii_only
                        else st.text(max_size=30)
                    ),
                    '"sandbox": false, ',
                    "İ" if not ascii_only else "I",  # lower-cases to two characters
                    # Letters the pattern takes for i, s and k in any case:
                    value.replace("i", "İ").replace("s", "ſ").replace("k", "\u212a"),
                    value.upper().replace("I", "ı"),
                ]
            )
        )
        pieces.append(piece)
    return values, "".join(pieces)


@given(texts_around() | texts_around(ascii_only=True), st.booleans())
def test_searching_near_the_pieces_finds_what_searching_everywhere_finds(
    case: tuple[list[str], str], as_token: bool
) -> None:
    values, text = case
    secrets = Secrets()
    for value in values:
        if as_token:
            secrets.add_token(value)
        else:
            secrets.add(value)
    assert secrets._pattern is not None
    everywhere = auth._cut(text, secrets._pattern, [(0, len(text))], secrets._search.whole)
    lowered = text.lower()
    if any(form in lowered for form in secrets._search.needles):
        assert secrets.scrub(text) == everywhere
    for value in values:
        if len(value) >= 12:
            assert value not in secrets.scrub(text)


def test_a_text_dense_with_hits_is_left_to_the_pattern_and_cut_the_same() -> None:
    """A key of one letter repeated makes every position of a text of that letter a hit of
    every form: past a budget of comparisons the pattern searches instead, and cuts the same."""
    secrets = Secrets()
    secrets.add("a" * 32)
    text = "x" + "a" * 5000 + "y"
    lowered = text.lower()
    assert auth._anchored(secrets._search.anchors, lowered, budget=100) is None
    found = auth._anchored(secrets._search.anchors, lowered, budget=10**9)
    assert found is not None
    assert secrets._pattern is not None
    everywhere = auth._cut(text, secrets._pattern, [(0, len(text))], secrets._search.whole)
    assert (
        auth._redacted(text, auth._merged(sorted(found)), secrets._search.whole)
        == everywhere
        == secrets.scrub(text)
    )
    assert "aaaaaaaaaaaa" not in secrets.scrub(text)


@given(
    st.lists(texts_around(), min_size=1, max_size=3),
    st.sampled_from(["", '"', "\\", "\n"]),
)
def test_parsed_answers_are_scrubbed_string_by_string(
    cases: list[tuple[list[str], str]], odd: str
) -> None:
    """`scrub_data` keeps an answer whose JSON text shows no secret, and otherwise scrubs each
    string; either way what it gives equals scrubbing every string (keys too) on its own,
    also for a secret holding a character that JSON text escapes."""
    secrets = Secrets()
    for values, _ in cases:
        for value in values:
            secrets.add(value + odd)
    texts = [text for _, text in cases]
    data = {"code": 0, "data": [{"msg": text, text[:5]: [text, 1]} for text in texts]}
    assert secrets.scrub_data(data) == auth._scrubbed_strings(data, secrets.scrub)


def test_pieces_of_a_key_echoed_in_overlapping_runs_do_not_spell_it() -> None:
    """Each run of 12 is cut out; labelled with its first four and last two characters, the
    runs starting every two characters would give the whole key away, so only the key itself
    is labelled so (to tell keys apart) and a piece is shown as `[…]`."""
    key = "Kx7pQ2mZ9vR4tY8wL3nB6cF1hJ5dG0sA"
    secrets = Secrets()
    secrets.add(key)
    echoed = " | ".join(key[start : start + 12] for start in range(0, len(key) - 11, 2))
    shown = secrets.scrub(f"{echoed} and {key} and {key.lower()}")
    assert shown.count("[…]") == len(range(0, len(key) - 11, 2))
    assert shown.count("[Kx7p…sA]") == 1 and shown.count("[kx7p…sa]") == 1
    for start in range(len(key) - 3):
        assert key[start : start + 4] not in shown.replace("[Kx7p…sA]", "")
