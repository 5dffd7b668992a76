"""Errors mivid raises, each carrying the exit status a script sees.

The core raises these; only `mivid.cli.main` turns them into a message on
stderr and an exit status. The tree::

    MividError                      (never raised itself)
    ├── InputError          exit 2  bad usage or bad input; nothing was sent
    ├── CredentialsError    exit 3  no keys, or the service refused them (1000–1004)
    │   └── AccountError    exit 3  the account cannot be used (1100–1103)
    ├── ApiError            exit 4  the service refused the request (1200–1304)
    │   └── NotFoundError   exit 4  no such task (1203, or an unknown id)
    ├── ServiceError        exit 5  5000s, network failures, timeouts, unreadable answers
    ├── TaskFailedError     exit 1  a task ended `failed`
    └── WaitTimeoutError    exit 6  `wait` gave up while tasks still run

Every message is written for a person: what failed, the value, the rule,
and what to do next (`hint`), with the service's `request_id` when there is
one, since that is what Kling's support asks for.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit statuses documented in `mivid --help` and the man page."""

    OK = 0
    TASK_FAILED = 1
    BAD_INPUT = 2
    CREDENTIALS = 3
    API_REFUSED = 4
    SERVICE = 5
    WAIT_TIMEOUT = 6
    INTERRUPTED = 130


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.TASK_FAILED: "a task ended `failed`",
    ExitCode.BAD_INPUT: "bad usage or bad input; nothing was sent",
    ExitCode.CREDENTIALS: "credentials or account problem (missing keys, API codes 1000-1103)",
    ExitCode.API_REFUSED: "the API refused the request (codes 1200-1304) or the task does not exist",
    ExitCode.SERVICE: "network or server failure after retries (5000s, timeouts, non-JSON answers)",
    ExitCode.WAIT_TIMEOUT: "`wait` timed out while the task still runs",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}


class MividError(Exception):
    """Base of every error mivid reports to a person."""

    exit_code: ExitCode = ExitCode.SERVICE

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: int | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code
        self.request_id = request_id
        self.http_status = http_status

    def lines(self) -> list[str]:
        """The message as the lines printed after `error:`."""
        return [self.message]


class InputError(MividError):
    """Bad usage or bad input, found before anything was sent.

    Holds every problem found, one line each, so a user fixes them all in one go.
    """

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, problems: str | list[str], *, hint: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems), hint=hint)

    def lines(self) -> list[str]:
        return list(self.problems)


class CredentialsError(MividError):
    """No credentials, or the service did not accept them."""

    exit_code = ExitCode.CREDENTIALS


class AccountError(CredentialsError):
    """The account is suspended, in arrears, out of units, or lacks permission."""


class ApiError(MividError):
    """The service understood the request and refused it."""

    exit_code = ExitCode.API_REFUSED


class NotFoundError(ApiError):
    """The task (or model) does not exist at the service."""


class ServiceError(MividError):
    """The service or the network failed, even after retries."""

    exit_code = ExitCode.SERVICE


class TaskFailedError(MividError):
    """A task ended with status `failed`."""

    exit_code = ExitCode.TASK_FAILED


class WaitTimeoutError(MividError):
    """Waiting ran out of time while tasks were still running."""

    exit_code = ExitCode.WAIT_TIMEOUT
