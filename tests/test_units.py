"""Units are read exactly (Decimal, never float), written shortest, and hostile values read as unknown."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mivid.spending import MAX_DAYS, parse_since
from mivid.units import parse_units, total, units_text

prices = st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False)


@given(prices)
@example(Decimal("4.40"))
@example(Decimal("1E+1"))
@example(Decimal("0.000"))
def test_units_read_back_as_the_same_number_in_the_shortest_text(value: Decimal) -> None:
    shown = units_text(value)
    assert parse_units(shown) == value
    assert "E" not in shown and "e" not in shown
    assert shown == "0" or not (("." in shown and shown.endswith("0")) or shown.endswith("."))


@given(st.lists(st.sampled_from(["1.1", "2.2", "4.4", "1.235", "0.247"]), max_size=50))
def test_a_total_is_exact_where_floats_are_not(values: list[str]) -> None:
    exact = total(parse_units(value) for value in values)
    assert exact == sum((Decimal(value) for value in values), Decimal(0))
    assert units_text(total([parse_units("1.1"), parse_units("2.2")])) == "3.3"


@pytest.mark.parametrize(
    "value",
    ["NaN", "Infinity", "-1", "-0.5", "1e999999", "1E+15", "", " ", "one", "0x10", "1.0000000000001",
     None, True, [], {}, "1" * 80],
)  # fmt: skip
def test_what_is_not_a_sensible_number_of_units_is_unknown(value: object) -> None:
    assert parse_units(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("4.4", "4.4"), (" 1.235 ", "1.235"), (118.0, "118"), (200, "200"), ("1E+2", "100"),
     ("0", "0"), ("0.0", "0")],
)  # fmt: skip
def test_service_forms_read_as_numbers(value: object, expected: str) -> None:
    parsed = parse_units(value)
    assert parsed is not None and units_text(parsed) == expected


@given(st.integers(min_value=1, max_value=MAX_DAYS))
def test_n_days_means_today_and_the_days_before(days: int) -> None:
    today = date(2026, 11, 4)
    first, problems = parse_since(f"{days}d", today=today)
    assert not problems
    assert first == today - timedelta(days=days - 1)


@given(st.text(max_size=20))
@example("7 d")
@example("-7d")
@example("99999999999d")
def test_since_is_a_day_count_or_a_date_else_one_problem_naming_it(value: str) -> None:
    first, problems = parse_since(value, today=date(2026, 11, 4))
    assert (first is None) == bool(problems)
    if problems:
        assert len(problems) == 1 and problems[0].subject == "--since"
