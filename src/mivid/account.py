"""The account's resource packs (`GET /account/costs`): what they hold, and one line about them.

The service lists each pack it sold the account (`resource_pack_subscribe_infos`):
name, id, type (`decreasing_total`, `constant_period`), total and remaining
quantity (JSON numbers, read as `Decimal`), purchase, effective and invalid
times (Unix milliseconds) and a status: `online` (in force), `toBeOnline`
(starts later), `runOut` (used up) or `expired`. Any field may be missing or
odd: a pack is still listed, with what could be read.

The answer does not say which product a pack pays for (video, image …): the
units left are those of every pack in force. A 1102 refusal means the video
packs are used up or expired.

`AccountSummary.line()` is the one sentence `config check`, a 1102 refusal
and `batch` print about the packs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from mivid.plaintext import from_millis
from mivid.units import ZERO, parse_units, units_text

ONLINE = "online"
TO_BE_ONLINE = "toBeOnline"
RUN_OUT = "runOut"
EXPIRED = "expired"
#: How people read each status (an unknown one is shown as the service wrote it).
STATUS_WORDS: Mapping[str, str] = {
    ONLINE: "in force",
    TO_BE_ONLINE: "not yet",
    RUN_OUT: "used up",
    EXPIRED: "expired",
}
#: In-force packs first, then those still to come, then used up, then expired.
_STATUS_ORDER = {ONLINE: 0, TO_BE_ONLINE: 1, RUN_OUT: 2, EXPIRED: 3}
#: The window asked for: packs valid at any time from a year ago to a year ahead.
WINDOW_DAYS = 365


@dataclass(frozen=True)
class Pack:
    """One resource pack as read from the service (None where a field was missing or odd)."""

    name: str
    pack_id: str
    pack_type: str
    status: str
    total: Decimal | None
    remaining: Decimal | None
    effective: datetime | None
    invalid: datetime | None

    @property
    def in_force(self) -> bool:
        return self.status == ONLINE

    @property
    def status_word(self) -> str:
        return STATUS_WORDS.get(self.status, self.status or "unknown")

    def quantity(self) -> str:
        """`118 / 200`: remaining of total (`?` for what the service left out)."""
        remaining = units_text(self.remaining) if self.remaining is not None else "?"
        total = units_text(self.total) if self.total is not None else "?"
        return f"{remaining} / {total}"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def read_pack(info: Mapping[str, Any]) -> Pack:
    """One entry of `resource_pack_subscribe_infos`, read tolerantly."""
    return Pack(
        name=_text(info.get("resource_pack_name")),
        pack_id=_text(info.get("resource_pack_id")),
        pack_type=_text(info.get("resource_pack_type")),
        status=_text(info.get("status")),
        total=parse_units(info.get("total_quantity")),
        remaining=parse_units(info.get("remaining_quantity")),
        effective=from_millis(info.get("effective_time")),
        invalid=from_millis(info.get("invalid_time")),
    )


_FAR = datetime.max.replace(tzinfo=timezone.utc)


def in_force_first(pack: Pack) -> tuple[int, datetime, str]:
    """A sort key: in force first (the one ending soonest first), then to come, used up, expired."""
    return (_STATUS_ORDER.get(pack.status, len(_STATUS_ORDER)), pack.invalid or _FAR, pack.name)


@dataclass(frozen=True)
class AccountSummary:
    """What the packs add up to: the units left in force, and how many packs are in each state."""

    packs: Sequence[Pack]

    @property
    def units_left(self) -> Decimal:
        return sum((pack.remaining or ZERO for pack in self.packs if pack.in_force), ZERO)

    @property
    def in_force(self) -> int:
        return sum(1 for pack in self.packs if pack.in_force)

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for pack in self.packs:
            counted[pack.status_word] = counted.get(pack.status_word, 0) + 1
        return counted

    def line(self) -> str:
        """`units left: 118 (1 pack in force)`, or why there are none."""
        if not self.packs:
            return "units left: none — the account has no resource pack"
        if self.in_force:
            packs = f"{self.in_force} pack{'' if self.in_force == 1 else 's'} in force"
            return f"units left: {units_text(self.units_left)} ({packs})"
        counted = ", ".join(f"{count} {word}" for word, count in self.counts().items())
        return f"units left: none — no resource pack is in force ({counted})"

    def as_json(self) -> dict[str, Any]:
        return {
            "units_left": units_text(self.units_left),
            "packs_in_force": self.in_force,
            "packs": self.counts(),
        }


def costs_window(now: float) -> tuple[int, int]:
    """(start_time, end_time) in Unix milliseconds around `now` (Unix seconds)."""
    span = WINDOW_DAYS * 86_400
    return round((now - span) * 1000), round((now + span) * 1000)
