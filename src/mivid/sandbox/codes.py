"""The contract's error codes, their HTTP statuses, and the refusal the emulator raises.

A copy of the contract's table, kept apart from `mivid.errors` on purpose: the
emulator is written from the contract alone, so a client that misreads it is
caught by the emulator instead of agreeing with itself.
"""

from __future__ import annotations

HTTP_STATUS: dict[int, int] = {
    1000: 401,
    1001: 401,
    1002: 401,
    1003: 401,
    1004: 401,
    1100: 429,
    1101: 429,
    1102: 429,
    1103: 403,
    1200: 400,
    1201: 400,
    1202: 404,
    1203: 404,
    1300: 400,
    1301: 400,
    1302: 429,
    1303: 429,
    1304: 429,
    5000: 500,
    5001: 503,
    5002: 504,
}

MEANING: dict[int, str] = {
    1000: "authentication failed",
    1001: "Authorization header missing",
    1002: "Authorization invalid",
    1003: "token not yet valid",
    1004: "token expired",
    1100: "account exception",
    1101: "account in arrears",
    1102: "resource pack used up or expired",
    1103: "no permission for this resource",
    1200: "invalid request parameters",
    1201: "invalid parameter key or value",
    1202: "invalid request method",
    1203: "resource does not exist",
    1300: "platform policy triggered",
    1301: "content-safety policy triggered",
    1302: "requests too fast, please slow down",
    1303: "too many concurrent tasks for the resource pack",
    1304: "IP allow-list policy triggered",
    5000: "internal error",
    5001: "service temporarily unavailable",
    5002: "internal timeout",
}


def http_status_for(code: int) -> int:
    """The HTTP status the contract pairs with `code` (500 for codes it does not list)."""
    return HTTP_STATUS.get(code, 500)


class RefusalError(Exception):
    """A refusal: becomes an error envelope with `code`, `message` and the table's HTTP status
    (and a `Retry-After` header when `retry_after` is given)."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status if http_status is not None else http_status_for(code)
        self.retry_after = retry_after
