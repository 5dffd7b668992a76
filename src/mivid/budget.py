"""What creates should cost, from what the journal saw, and `--max-units`: a budget never passed.

An *estimate* for a task is the latest deduction the journal recorded for a
task of the same kind (`mivid.units.Kind`: endpoint, model, mode, duration)
made at the same service (`Journal.known_costs`). It is an estimate: the
service decides, and a price may change.

`Budget` keeps one run within `--max-units N`: the units deducted by the tasks
this run sent, plus the estimate of those still in flight, plus the estimate
of the next one, never pass N. A task of a kind whose cost is not known yet
is a probe: it is sent alone (when nothing else is in flight and some of the
budget is left), and nothing else is sent until it ends and shows what its
kind costs. So the units deducted can pass N only by what one probe cost
beyond what was left, and then nothing more is sent (`tests/cli/test_budget.py`
checks it over many runs). When the next task does not fit: wait while tasks
are in flight (they may cost less than estimated), else stop; what was not sent
is the caller's to report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from mivid.units import ZERO, Kind, units_text


class Decision(Enum):
    SEND = "send"
    WAIT = "wait"  # tasks in flight may free room (or show what a kind costs)
    STOP = "stop"  # nothing in flight, and the next task does not fit


@dataclass
class Budget:
    """`--max-units`: this run's deducted plus estimated-in-flight units never pass `limit`."""

    limit: Decimal
    costs: dict[Kind, Decimal] = field(default_factory=dict)
    deducted: Decimal = ZERO
    #: Tasks this run sent that have not ended: a key (the job's line) → its kind.
    in_flight: dict[object, Kind] = field(default_factory=dict)

    @property
    def estimated_in_flight(self) -> Decimal:
        return sum((self.costs.get(kind, ZERO) for kind in self.in_flight.values()), ZERO)

    @property
    def used(self) -> Decimal:
        """Deducted, plus the estimate of what is in flight."""
        return self.deducted + self.estimated_in_flight

    @property
    def probing(self) -> bool:
        """Is a task whose kind's cost is unknown in flight?"""
        return any(kind not in self.costs for kind in self.in_flight.values())

    def decide(self, kind: Kind) -> Decision:
        """May a task of `kind` be sent now?"""
        if self.probing:
            return Decision.WAIT  # until the probe shows what its kind costs
        cost = self.costs.get(kind)
        if cost is None:  # a probe: alone, and only while some budget is left
            if self.in_flight:
                return Decision.WAIT
            return Decision.SEND if self.deducted < self.limit else Decision.STOP
        if self.used + cost <= self.limit:
            return Decision.SEND
        return Decision.WAIT if self.in_flight else Decision.STOP

    def sent(self, key: object, kind: Kind) -> None:
        self.in_flight[key] = kind

    def ended(self, key: object, deducted: Decimal | None) -> None:
        """A task this run sent has ended; what it deducted (None: the service did not say)."""
        kind = self.in_flight.pop(key, None)
        if deducted is None:
            return
        self.deducted += deducted
        if kind is not None:
            self.costs[kind] = deducted

    def foresee(self, kinds: Sequence[Kind]) -> list[Decision]:
        """What a run would decide for tasks of these kinds, sent in this order (`--dry-run`).

        As if each task cost what the journal last saw a task of its kind cost:
        SEND while the total fits; STOP for the first that does not and every one
        after (a run sends nothing more once the next task does not fit); a kind
        never seen is sent alone to learn its cost, and then the rest is WAIT:
        whether they fit depends on what that task costs.
        """
        used = self.used
        decided: list[Decision] = []
        probing = False
        for kind in kinds:
            cost = self.costs.get(kind)
            if decided and decided[-1] is Decision.STOP:
                decided.append(Decision.STOP)  # nothing more is sent once one does not fit
            elif probing:
                decided.append(Decision.WAIT)  # until the probe shows what its kind costs
            elif cost is None:  # a probe: sent alone, while some of the budget is left
                probing = used < self.limit
                decided.append(Decision.SEND if probing else Decision.STOP)
            elif used + cost <= self.limit:
                used += cost
                decided.append(Decision.SEND)
            else:
                decided.append(Decision.STOP)
        return decided

    def describe(self) -> str:
        """`4.4 of --max-units 5 used (3.3 deducted, 1.1 estimated in flight)`."""
        text = f"{units_text(self.used)} of --max-units {units_text(self.limit)} used"
        if self.used > self.limit:
            # Only a probe can do this: a task whose kind's cost was not known yet.
            text += ": a task of a kind not seen before cost more than was left"
        elif self.in_flight:
            text += (
                f" ({units_text(self.deducted)} deducted, "
                f"{units_text(self.estimated_in_flight)} estimated in flight)"
            )
        return text


@dataclass(frozen=True)
class Estimate:
    """What a set of creates should cost: the known part, and the kinds never seen."""

    tasks: int
    known: Decimal
    #: Known kinds: kind → (how many tasks, the cost of one).
    priced: Mapping[Kind, tuple[int, Decimal]]
    #: Kinds with no known cost → how many tasks.
    unpriced: Mapping[Kind, int]

    def describe(self) -> str:
        """`8.8 units (8 × 1.1 for kling-v1-6 std 5 s)`, naming the kinds not seen yet."""
        if not self.tasks:
            return "nothing to create"
        parts = [
            f"{count} × {units_text(cost)} for {kind.describe()}"
            for kind, (count, cost) in self.priced.items()
        ]
        text = ""
        if self.priced:
            text = f"about {units_text(self.known)} units ({'; '.join(parts)})"
        if self.unpriced:
            unknown = sum(self.unpriced.values())
            kinds = ", ".join(kind.describe() for kind in self.unpriced)
            what = f"{unknown} task{'' if unknown == 1 else 's'} of a kind not seen yet ({kinds})"
            text = f"{text}, plus {what}" if text else f"unknown: {what}"
        return text


def estimate(kinds: Iterable[Kind], costs: Mapping[Kind, Decimal]) -> Estimate:
    """The estimate for one create of each kind given (a kind once per task)."""
    priced: dict[Kind, tuple[int, Decimal]] = {}
    unpriced: dict[Kind, int] = {}
    tasks = 0
    known = ZERO
    for kind in kinds:
        tasks += 1
        cost = costs.get(kind)
        if cost is None:
            unpriced[kind] = unpriced.get(kind, 0) + 1
        else:
            count, _ = priced.get(kind, (0, cost))
            priced[kind] = (count + 1, cost)
            known += cost
    return Estimate(tasks, known, priced, unpriced)
