"""Units: what a task deducts from the account's resource packs, read and written exactly.

The service writes a task's `final_unit_deduction` as a string, fractional in
practice (`"4.4"`, `"1.235"`), and a pack's quantities as JSON numbers
(`118.0`). Both are read into `Decimal`, never `float` (a float total of
`1.1 + 2.2` is not `3.3`), and written back as the shortest plain text:
`"4.4"`, `"12"`, never `"1.2E+1"` or `"4.40"`.

A value that is not a finite, non-negative number of sensible size (a
gateway's `"NaN"`, `"-1"`, `"1e999999"`) reads as unknown (None): shown as
nothing, summed as nothing, never a traceback.

A task's *kind* is what its price depends on as far as mivid can tell: the
endpoint, the model, the mode and the duration. Estimates are kept per kind.

Imports nothing heavy: `list --json` paths use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

#: Larger than any pack or task can hold: a bound that keeps a hostile value's text short.
MAX_UNITS = Decimal(10) ** 15
#: More decimal places than any price has: beyond this a value is not a price.
MAX_PLACES = 12
ZERO = Decimal(0)


def parse_units(value: object) -> Decimal | None:
    """A number of units from the service (a string or a JSON number), or None when unreadable."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return None
    text = value.strip() if isinstance(value, str) else str(value)
    if not text or len(text) > 64:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or number >= MAX_UNITS:
        return None
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        return None
    return number


def units_text(value: Decimal) -> str:
    """The shortest plain text of a number of units: `4.4`, `12`, `0.005`."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def task_units(task: Mapping[str, Any]) -> Decimal | None:
    """What a task object says it deducted (`final_unit_deduction`), or None when it does not."""
    return parse_units(task.get("final_unit_deduction"))


def total(values: Iterable[Decimal | None]) -> Decimal:
    """The sum of the known values (None left out)."""
    return sum((value for value in values if value is not None), ZERO)


class Kind(NamedTuple):
    """What a task's price depends on, as far as mivid can tell."""

    endpoint: str
    model_name: str
    mode: str
    duration: str

    def describe(self) -> str:
        """`kling-v1-6 std 5 s` (the endpoint named when it is not the model's usual one)."""
        return f"{self.model_name} {self.mode} {self.duration} s"


def kind_of(endpoint: str, request: Mapping[str, Any]) -> Kind:
    """The kind of a create, from its endpoint and its request's fields."""
    return Kind(
        endpoint,
        str(request.get("model_name") or ""),
        str(request.get("mode") or ""),
        str(request.get("duration") or ""),
    )
