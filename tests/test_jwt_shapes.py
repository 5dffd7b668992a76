"""Anything shaped like a JWT is cut out of a text in linear time, exactly where the shape's
regex (`eyJ…{8,}.eyJ…{8,}.…{16,}`, the old way of finding it) would cut it."""

from __future__ import annotations

import re
import time

from hypothesis import example, given
from hypothesis import strategies as st

from mivid.auth import Secrets, redact

#: The oracle: the regex `Secrets.scrub` used, which took quadratic time on `eyJ` repeated.
_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")


def by_regex(text: str) -> str:
    return _SHAPE.sub(lambda match: f"[{redact(match.group())}]", text)


#: Pieces that make the shape's edges likely: `eyJ`, dots, parts just long enough or one short.
_PIECES = ["eyJ", ".", "-", "_", "a", "A", "0", " ", "x", "é", "/"]
_PARTS = ["eyJ" + "a" * 7, "eyJ" + "b" * 8, "c" * 15, "d" * 16, "eyJhbGciOiJIUzI1NiJ9"]
texts = st.text(alphabet="eyJ.-_aA0 x", max_size=120) | st.lists(
    st.sampled_from(_PIECES + _PARTS), max_size=40
).map("".join)


@given(texts)
@example("eyJaaaaaaaa.eyJbbbbbbbb.cccccccccccccccc")  # the shortest shape
@example("eyJaaaaaaa.eyJbbbbbbbb.cccccccccccccccc")  # a header one short
@example("xeyJeyJaaaaaaaa.eyJbbbbbbbb.cccccccccccccccc.eyJaaaaaaaa.eyJbbbbbbbb.dddddddddddddddd")
@example("eyJaaaaaaaa.eyJbbbbbbbb.eyJaaaaaaaa.eyJbbbbbbbb.cccccccccccccccc")
@example(".eyJaaaaaaaa.eyJbbbbbbbb.cccccccccccccccc..eyJ")
def test_cut_exactly_where_the_regex_cuts(text: str) -> None:
    assert Secrets().scrub(text) == by_regex(text)


@given(st.lists(st.sampled_from(_PIECES + _PARTS), max_size=40).map("".join))
def test_and_beside_a_known_secret_too(text: str) -> None:
    secrets = Secrets()
    secrets.add("Sec2ret4Key8Of32Characters0x9Q7w")
    echoed = f"{text} Sec2ret4Key8Of32Characters0x9Q7w {text}"
    assert secrets.scrub(echoed) == by_regex(
        echoed.replace("Sec2ret4Key8Of32Characters0x9Q7w", "[Sec2…7w]")
    )


def test_a_hostile_text_of_eyj_repeated_is_scrubbed_at_once() -> None:
    """510 KB of `eyJ` took the regex five minutes; with dots, and a JWT at the end, too."""
    jwt = "eyJaaaaaaaa.eyJbbbbbbbb.cccccccccccccccc"
    secrets = Secrets()
    for text, expected in (
        ("eyJ" * 170_000, "eyJ" * 170_000),
        ("eyJ" * 85_000 + "." + "eyJ" * 85_000 + ".", "eyJ" * 85_000 + "." + "eyJ" * 85_000 + "."),
        (("eyJ" * 100 + ".") * 1_700, by_regex(("eyJ" * 100 + ".") * 1_700)),  # many
        ("eyJ" * 170_000 + "." + jwt, "eyJ" * 170_000 + ".[eyJa…cc]"),
        ("eyJ" * 170_000 + jwt, "[eyJe…cc]"),
    ):
        started = time.perf_counter()
        scrubbed = secrets.scrub(text)
        assert time.perf_counter() - started < 1.0  # a bound, not a benchmark
        assert scrubbed == expected


def test_a_minted_token_cut_short_shows_none_of_its_signature() -> None:
    """A gateway's log may cut the header it copies: the token one character short is no known
    form, and it is cut out by its shape before its header and claims are (as forms), which
    would have left its signature bare."""
    from mivid.auth import JwtCredentials

    credentials = JwtCredentials("test-access-key", "test-secret-key-of-32-characters")
    token = credentials.authorization().removeprefix("Bearer ")
    signature = token.split(".")[2]
    for cut in (token[:-1], token[:-5], f"Authorization: Bearer {token[:-1]}"):
        shown = credentials.secrets.scrub(cut)
        assert signature[:12] not in shown and signature[-13:-1] not in shown, shown
