"""Resource packs: what an account may spend, and the `GET /account/costs` answer.

Every account has the packs the emulator was configured with (by default one
online video pack of a million units), each with its own use per account. A
create costs its endpoint's price (`endpoints.py`); it is charged to the online
video pack that ends first among those with enough units left, when the task
is accepted. A task that will end `failed` is never charged (it deducts
nothing). When no online video pack can pay, the create is refused with 1102
and nothing is created.

A pack's status follows the emulator's clock and its use: `toBeOnline` before
its effective time, `expired` from its invalid time on, `runOut` when nothing
is left, else `online`.

`GET /account/costs` takes `start_time` and `end_time` (both required, Unix
milliseconds, start not after end) and optional `resource_pack_name` (exact
match); it lists the packs whose validity [effective, invalid) meets the
window [start_time, end_time]. It is free, and answers 1302 (429, with
`Retry-After`) to a call less than `account_rate_limit` seconds (1 by
default, by the emulator's clock) after the account's previous answered call.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from mivid.sandbox.codes import RefusalError

PackType = Literal["decreasing_total", "constant_period"]
DEFAULT_UNITS = 1_000_000
DAY = 86_400.0
COSTS_PARAMS = ("start_time", "end_time", "resource_pack_name")


@dataclass(frozen=True)
class ResourcePack:
    """A pack every account starts with. Times are Unix seconds; None: relative to the start.

    `remaining` (None: `total`) is what is left before any task of this emulator;
    `product` is what it pays for ("video" packs pay for every create here).
    """

    name: str = "Sandbox video pack"
    total: float = DEFAULT_UNITS
    remaining: float | None = None
    product: str = "video"
    pack_type: PackType = "decreasing_total"
    #: None: 30 days before the emulator started.
    effective_at: float | None = None
    #: None: ten years after it became effective.
    invalid_at: float | None = None
    #: None: when it became effective.
    purchased_at: float | None = None
    #: None: made from the name.
    pack_id: str | None = None

    def __post_init__(self) -> None:
        if self.total < 0 or (self.remaining is not None and not 0 <= self.remaining <= self.total):
            raise ValueError(f"ResourcePack {self.name!r}: need 0 <= remaining <= total")


@dataclass(frozen=True)
class Pack:
    """A configured pack with its times settled and its id fixed."""

    pack_id: str
    name: str
    product: str
    pack_type: PackType
    total: Decimal
    #: Used before the emulator's first task (total - remaining as configured).
    used_before: Decimal
    purchased_at: float
    effective_at: float
    invalid_at: float

    def status(self, now: float, used: Decimal) -> str:
        if now < self.effective_at:
            return "toBeOnline"
        if now >= self.invalid_at:
            return "expired"
        if self.remaining(used) <= 0:
            return "runOut"
        return "online"

    def remaining(self, used: Decimal) -> Decimal:
        return max(Decimal(0), self.total - self.used_before - used)

    def info(self, now: float, used: Decimal) -> dict[str, Any]:
        """The pack as `resource_pack_subscribe_infos` lists it."""
        return {
            "resource_pack_name": self.name,
            "resource_pack_id": self.pack_id,
            "resource_pack_type": self.pack_type,
            "total_quantity": float(self.total),
            "remaining_quantity": float(self.remaining(used)),
            "purchase_time": round(self.purchased_at * 1000),
            "effective_time": round(self.effective_at * 1000),
            "invalid_time": round(self.invalid_at * 1000),
            "status": self.status(now, used),
        }


def settle_packs(packs: Sequence[ResourcePack], started: float) -> tuple[Pack, ...]:
    """The configured packs with default times (relative to `started`) and ids filled in."""
    settled = []
    seen: set[str] = set()
    for pack in packs:
        effective = pack.effective_at if pack.effective_at is not None else started - 30 * DAY
        invalid = pack.invalid_at if pack.invalid_at is not None else effective + 3650 * DAY
        pack_id = pack.pack_id or hashlib.sha256(pack.name.encode()).hexdigest()[:16]
        if pack_id in seen:
            raise ValueError(f"two resource packs share the id {pack_id!r}: give them other names")
        seen.add(pack_id)
        total = Decimal(str(pack.total))
        remaining = total if pack.remaining is None else Decimal(str(pack.remaining))
        settled.append(
            Pack(
                pack_id=pack_id,
                name=pack.name,
                product=pack.product,
                pack_type=pack.pack_type,
                total=total,
                used_before=total - remaining,
                purchased_at=pack.purchased_at if pack.purchased_at is not None else effective,
                effective_at=effective,
                invalid_at=invalid,
            )
        )
    return tuple(settled)


def choose_pack(
    packs: Sequence[Pack], used: Mapping[str, Decimal], cost: Decimal, now: float
) -> Pack:
    """The online video pack that ends first among those that can pay `cost`, or raise 1102."""
    payers = [
        pack
        for pack in packs
        if pack.product == "video"
        and pack.status(now, used.get(pack.pack_id, Decimal(0))) == "online"
        and pack.remaining(used.get(pack.pack_id, Decimal(0))) >= cost
    ]
    if not payers:
        raise RefusalError(
            1102,
            f"resource pack used up or expired: no online video pack has the {cost} units "
            "this task costs",
        )
    return min(payers, key=lambda pack: (pack.invalid_at, pack.pack_id))


def _millis(query: Mapping[str, str], name: str) -> int:
    raw = query.get(name)
    if raw is None:
        raise RefusalError(1200, f"{name} is required (Unix milliseconds)")
    if not re.fullmatch(r"[0-9]{1,16}", raw):
        raise RefusalError(1201, f"{name} must be an integer of Unix milliseconds, got {raw!r}")
    value = int(raw)
    if value < 10**11:
        raise RefusalError(
            1201, f"{name} = {value} looks like seconds; the account endpoint takes milliseconds"
        )
    return value


def costs_window(query: Sequence[tuple[str, str]]) -> tuple[int, int, str | None]:
    """(start_time, end_time, resource_pack_name) from the query, or raise 1200/1201."""
    seen: dict[str, str] = {}
    for name, value in query:
        if name not in COSTS_PARAMS:
            raise RefusalError(
                1201,
                f"unknown query parameter {name!r}; the account endpoint takes "
                + ", ".join(COSTS_PARAMS),
            )
        if name in seen:
            raise RefusalError(1201, f"query parameter {name} is given more than once")
        seen[name] = value
    start = _millis(seen, "start_time")
    end = _millis(seen, "end_time")
    if start > end:
        raise RefusalError(1201, f"start_time {start} is after end_time {end}")
    return start, end, seen.get("resource_pack_name")


def pack_infos(
    packs: Sequence[Pack],
    used: Mapping[str, Decimal],
    now: float,
    window: tuple[int, int, str | None],
) -> list[dict[str, Any]]:
    start, end, name = window
    return [
        pack.info(now, used.get(pack.pack_id, Decimal(0)))
        for pack in packs
        if (name is None or pack.name == name)
        and pack.effective_at * 1000 <= end
        and pack.invalid_at * 1000 > start
    ]
