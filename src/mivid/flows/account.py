"""The account's resource packs (`account`), and the one line about them others print.

`config check`, a create refused with 1102 and `batch` all say what the account
has left; none of them fails because the account endpoint does not answer
(a gateway may not serve it): `summary_or_none` says why instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

from mivid.account import AccountSummary, Pack, costs_window, read_pack
from mivid.errors import AccountError, MividError


class AccountClient(Protocol):
    """What these flows need of `mivid.client.KlingClient`."""

    def account_costs(self, *, start_time: int, end_time: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class ShownPack:
    """A pack as the service sent it (for `--json`) and as mivid read it."""

    raw: dict[str, Any]
    pack: Pack


def account_packs(client: AccountClient, *, now: float | None = None) -> list[ShownPack]:
    """The packs valid from a year ago to a year ahead, in the service's order."""
    start, end = costs_window(time.time() if now is None else now)
    return [
        ShownPack(raw, read_pack(raw))
        for raw in client.account_costs(start_time=start, end_time=end)
    ]


@dataclass(frozen=True)
class Looked:
    """The account's summary, or why it could not be had."""

    summary: AccountSummary | None
    problem: str | None = None

    def line(self) -> str:
        if self.summary is not None:
            return self.summary.line()
        return f"units left: unknown ({self.problem})"


def summary_or_none(client: AccountClient, *, now: float | None = None) -> Looked:
    """What the packs add up to; never raises for a refusal or a failure of the account endpoint."""
    try:
        packs = account_packs(client, now=now)
    except MividError as exc:
        return Looked(None, exc.message)
    return Looked(AccountSummary([shown.pack for shown in packs]))


def out_of_units(error: AccountError, client: AccountClient) -> AccountError | None:
    """A 1102 refusal (packs used up or expired) ending with what the packs say now.

    None when `error` is another account error, or when the account does not answer.
    """
    if error.code != 1102:
        return None
    looked = summary_or_none(client)
    if looked.summary is None:
        return None
    return error.with_context(
        hint=f"buy or renew a resource pack in the Kling console — {looked.summary.line()}"
    )
