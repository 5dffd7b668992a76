"""What the journal says was spent: tasks and units per day and per model (`mivid spent`).

Offline: only the journal's entries are read (`mivid.journal`), never the
service. A task counts on the local day its create was sent. Of the entries
in the period:

- a task that ended counts, with the units it deducted when a sighting said
  (a failed task that says nothing deducted nothing); one that succeeded but
  whose deduction mivid has not seen yet counts too, and is told apart as
  `without_deduction` (`mivid get ID` or `mivid list` learns it);
- a task still running (or being sent) is counted apart (`running`): it has
  not deducted anything yet;
- a create whose outcome is unknown is counted apart too (`unsettled`:
  `mivid recover` settles it); one the service refused made nothing and is left out.

`--since` is `7d` (today and the 6 days before) or a date (`2026-11-01`, from
its first second), in local time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mivid import problems as rules
from mivid.problems import Problem
from mivid.units import ZERO, units_text
from mivid.vocabulary import FAILED, SUCCEED, normal_status

if TYPE_CHECKING:
    from mivid.journal import JournalEntry

DEFAULT_DAYS = 30
#: More days than anyone asks about: keeps `--since 99999999d` from overflowing a date.
MAX_DAYS = 36_500


@dataclass
class Tally:
    """Tasks and the units they deducted, for one day or one model."""

    tasks: int = 0
    units: Decimal = ZERO

    def add(self, units: Decimal | None) -> None:
        self.tasks += 1
        if units is not None:
            self.units += units


@dataclass
class Spending:
    """The journal's record of a period: totals, per day, per model and endpoint, and what is apart."""

    since: date
    until: date
    total: Tally = field(default_factory=Tally)
    days: dict[date, Tally] = field(default_factory=dict)
    models: dict[tuple[str, str], Tally] = field(default_factory=dict)  # (model, endpoint)
    running: int = 0
    unsettled: int = 0
    without_deduction: int = 0

    @property
    def period_days(self) -> int:
        return (self.until - self.since).days + 1

    def by_day(self) -> list[tuple[date, Tally]]:
        """The days that had tasks, newest first."""
        return sorted(self.days.items(), reverse=True)

    def by_model(self) -> list[tuple[tuple[str, str], Tally]]:
        """Model and endpoint, most units first."""
        return sorted(self.models.items(), key=lambda item: (-item[1].units, item[0]))

    def as_json(self) -> dict[str, Any]:
        """`mivid spent --json`: units as exact decimal strings."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "tasks": self.total.tasks,
            "units": units_text(self.total.units),
            "without_deduction": self.without_deduction,
            "running": self.running,
            "unsettled": self.unsettled,
            "days": [
                {"day": day.isoformat(), "tasks": tally.tasks, "units": units_text(tally.units)}
                for day, tally in self.by_day()
            ],
            "models": [
                {
                    "model_name": model,
                    "endpoint": endpoint,
                    "tasks": tally.tasks,
                    "units": units_text(tally.units),
                }
                for (model, endpoint), tally in self.by_model()
            ],
        }


def summarise(entries: Iterable[JournalEntry], *, since: date, until: date) -> Spending:
    """Add up the entries made from local day `since` to `until` (both included)."""
    from mivid.journal import NOT_CREATED, SENDING, UNKNOWN

    spending = Spending(since, until)
    for entry in entries:
        day = datetime.fromtimestamp(entry.created).date()
        if not since <= day <= until or entry.status == NOT_CREATED:
            continue
        status = normal_status(entry.status)
        if status == UNKNOWN or (entry.task_id is None and status != SENDING):
            spending.unsettled += 1
            continue
        if status not in (SUCCEED, FAILED):
            spending.running += 1
            continue
        units = entry.deducted
        if units is None and status == SUCCEED:
            spending.without_deduction += 1
        spending.total.add(units)
        spending.days.setdefault(day, Tally()).add(units)
        model = str(entry.request.get("model_name") or "")
        spending.models.setdefault((model, entry.endpoint), Tally()).add(units)
    return spending


_DAYS = re.compile(r"([0-9]{1,9})d")


def parse_since(value: str | None, *, today: date) -> tuple[date | None, list[Problem]]:
    """The first day of the period: `7d` (today and the 6 days before), or a date `2026-11-01`."""
    if value is None:
        return today - timedelta(days=DEFAULT_DAYS - 1), []
    text = value.strip()
    matched = _DAYS.fullmatch(text)
    if matched is not None:
        days = int(matched.group(1))
        if 1 <= days <= MAX_DAYS:
            return today - timedelta(days=days - 1), []
        return None, [Problem("--since", rules.OUT_OF_RANGE, f"`{text}` — from 1d to {MAX_DAYS}d")]
    try:
        first = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        if first > today:  # a period that ends before it starts counts nothing, silently
            return None, [
                Problem(
                    "--since",
                    rules.OUT_OF_RANGE,
                    f"`{text}` is after today ({today.isoformat()}) — a day up to today",
                )
            ]
        return first, []
    return None, [
        Problem(
            "--since",
            rules.NOT_A_DATE,
            f"`{value}` is neither a number of days (7d) nor a date (2026-11-01)",
        )
    ]
