"""Every error mivid raises, each carrying the exit status a script sees.

The core raises these; only `mivid.cli.run` turns them into a message on
stderr and an exit status. Every error class of mivid lives here. The tree::

    MividError                          (never raised itself)
    ├── InputError              exit 2  bad usage or bad input; nothing was sent
    │   ├── JournalError                the journal of creates cannot be used (named, with the fix)
    │   └── InFlightError               another mivid process is sending this very create now
    ├── CredentialsError        exit 3  no keys, or the service refused them (1000–1004)
    │   └── AccountError        exit 3  the account cannot be used (1100–1103)
    ├── ApiError                exit 4  the service refused the request (1200–1304)
    │   ├── NotFoundError       exit 4  no such task (the client decides, in one place)
    │   ├── ExternalIdTakenError        a create's external id is another task's; nothing made
    │   └── JobsRefusedError    exit 4  `batch`: the service refused some jobs' creates
    ├── BudgetError             exit 4  `--max-units` would be passed: those creates were not sent
    ├── ServiceError            exit 5  5000s, network failures, timeouts, unreadable answers
    │   ├── DeadlineError               no whole answer in the time a request may take
    │   ├── CreateOutcomeUnknownError   a create that may have made its task; `recover` settles it
    │   ├── StalledDownloadError        a video arrived too slowly (its partial file is kept)
    │   ├── DownloadsFailedError        `batch`: finished videos that could not be saved
    │   └── JobsUnfinishedError         `batch`: jobs the network kept from ending (rerun resumes)
    ├── TaskFailedError         exit 1  a task ended `failed`
    │   ├── TasksFailedError            one line per failed task (`wait`, `create --wait`)
    │   └── JobsFailedError             `batch`: one line per failed job
    ├── WaitTimeoutError        exit 6  `wait` gave up while tasks still run
    │   └── StillRunningError           with the tasks' latest objects and the unfinished ids
    ├── LocalFileError          exit 74 a local file could not be written or read (disk full …)
    └── SeveralIdsError           exit of the most serious one (SEVERITY): `get`, `wait`,
                                `download` of several ids, one line per id that failed

    ExitCode.BUG (70) is no class: any other exception is a bug in mivid. A module's
    private signals (images._DecodeError, download._RetryableError) never leave it.
    What the environment does is never one: `mivid.cli` says an OSError that reaches
    it as a LocalFileError (`local_file_error`) and a network error as a ServiceError.

Every message is written for a person: what failed, the value, the rule,
and what to do next (`hint`), with the service's `request_id` when there is
one, since that is what Kling's support asks for. An error is never changed
after it is raised: `with_context` makes a new one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from mivid.problems import Problem

E = TypeVar("E", bound="MividError")


class ExitCode(IntEnum):
    """The exit statuses documented in `mivid --help`, the README and the man page."""

    OK = 0
    TASK_FAILED = 1
    BAD_INPUT = 2
    CREDENTIALS = 3
    API_REFUSED = 4
    SERVICE = 5
    WAIT_TIMEOUT = 6
    BUG = 70  # sysexits' EX_SOFTWARE: never reachable from input, the service or the environment
    LOCAL_FILES = 74  # sysexits' EX_IOERR: the disk is full, a folder read-only, stdout closed …
    INTERRUPTED = 130


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.TASK_FAILED: "a task ended `failed`",
    ExitCode.BAD_INPUT: "bad usage or bad input; nothing was sent",
    ExitCode.CREDENTIALS: "credentials or account problem (missing keys, API codes 1000-1103)",
    ExitCode.API_REFUSED: "the API refused the request (codes 1200-1304), the task does not "
    "exist, or --max-units stopped the creates",
    ExitCode.SERVICE: "network or server failure after retries (5000s, timeouts, non-JSON answers)",
    ExitCode.WAIT_TIMEOUT: "`wait` timed out while the task still runs (it goes on at the service)",
    ExitCode.BUG: "a bug in mivid (please report it with the output of --debug)",
    ExitCode.LOCAL_FILES: "a local file could not be written or read (disk full, file too "
    "large, read-only folder, stdout unwritable; a reader that stops early is no error)",
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

    def with_context(self: E, *, prefix: str = "", suffix: str = "", hint: str | None = None) -> E:
        """A new error of the same class: the message framed, the hint replaced when given.

        The error itself is left as it was raised (another frame may still hold it).
        """
        fresh = type(self).__new__(type(self))
        fresh.__dict__.update(self.__dict__)
        fresh.message = f"{prefix}{self.message}{suffix}"
        Exception.__init__(fresh, fresh.message)
        if hint is not None:
            fresh.hint = hint
        return fresh


class _ManyLinesError(MividError):
    """An error of several lines (one per task, job or file), printed one a line."""

    def __init__(self, lines: Sequence[str], *, hint: str | None = None) -> None:
        self.detail_lines = list(lines)
        super().__init__("; ".join(self.detail_lines), hint=hint)

    def lines(self) -> list[str]:
        return list(self.detail_lines)


class InputError(MividError):
    """Bad usage or bad input, found before anything was sent.

    Holds every problem found, one line each, so a user fixes them all in one go.
    A problem is a `mivid.problems.Problem` (which input, which rule, the figures,
    the text) or, for usage errors no code decides on, plain text.
    """

    exit_code = ExitCode.BAD_INPUT

    def __init__(
        self, problems: str | Problem | Sequence[str | Problem], *, hint: str | None = None
    ) -> None:
        from mivid.problems import as_problems

        self.found = as_problems(problems)
        super().__init__("; ".join(p.text for p in self.found), hint=hint)

    @property
    def problems(self) -> list[str]:
        """The problems' texts, one line each."""
        return [problem.text for problem in self.found]

    def lines(self) -> list[str]:
        return self.problems


class JournalError(InputError):
    """The local journal of creates cannot be read or written (corrupt, foreign, unreadable …).

    `create` and `batch` send nothing while they cannot journal (exit 2); the
    read-only commands go on without it, saying so (`warning`). `full`: its disk
    (or `ulimit -f`) is full: the journal is sound, moving it aside would lose it.
    Once a create was accepted, no JournalError hides its task: the commands say
    the task's id in a warning and go on.
    """

    def __init__(
        self, path: str, reason: str, *, full: bool = False, cannot_make: bool = False
    ) -> None:
        import shlex
        from pathlib import Path

        self.path = path
        self.reason = reason
        self.full = full
        aside = shlex.quote(path)
        without = (
            "pass --no-journal to send without one (then `mivid recover` cannot settle a lost "
            "answer)"
        )
        if full:
            hint = (
                "free some space on its disk (or raise `ulimit -f`) and run again; the journal "
                "itself is sound: do not move it aside"
            )
        elif cannot_make:
            # There is no journal to move aside: its folder cannot be written.
            hint = (
                f"make {shlex.quote(str(Path(path).parent))} writable, or set XDG_STATE_HOME to "
                f"a folder that is (the journal is made there), or {without}"
            )
        else:
            hint = (
                f"move it aside and run again (a new one is made): mv {aside} {aside}.broken"
                f" — or {without}"
            )
        what = "made" if cannot_make else "used"
        super().__init__(f"the journal of creates {path} cannot be {what}: {reason}", hint=hint)

    def for_reading(self) -> JournalError:
        """The error as a command that only reads the journal says it: its hint without
        `--no-journal` (which only says how to send without one)."""
        if self.full or self.hint is None or " — or " not in self.hint:
            return self
        return self.with_context(hint=self.hint.split(" — or ", 1)[0])

    @property
    def warning(self) -> str:
        """What a command that only reads says before going on without the journal."""
        return (
            f"the journal of creates {self.path} cannot be read ({self.reason}): going on "
            "without it (no prompts, images or local statuses)"
        )


class InFlightError(InputError):
    """Another live mivid process is sending this very create (the journal says): not sent."""

    def __init__(self, message: str, *, pid: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.pid = pid


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


class ExternalIdTakenError(ApiError):
    """A create refused because the service already has a task with its external id.

    Nothing was created; `task` is the existing task (found by one query by the id).
    """

    def __init__(
        self,
        message: str,
        *,
        task: Mapping[str, Any],
        external_task_id: str,
        hint: str | None = None,
        code: int | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(
            message, hint=hint, code=code, request_id=request_id, http_status=http_status
        )
        self.task = dict(task)
        self.external_task_id = external_task_id


class JobsRefusedError(_ManyLinesError, ApiError):
    """The service refused some jobs' creates (exit 4); one line per job."""


class BudgetError(_ManyLinesError):
    """`--max-units`: the units a create would cost pass the budget, so it was not sent (exit 4).

    The refusal is mivid's own, before sending; a batch's other jobs still finish.
    """

    exit_code = ExitCode.API_REFUSED


class ServiceError(MividError):
    """The service or the network failed, even after retries."""

    exit_code = ExitCode.SERVICE


class DeadlineError(ServiceError):
    """A request ran out of time: its retry budget, or the run's deadline (`wait --timeout`).

    However slowly a server answers (a byte every few seconds keeps every read
    timeout happy), no request runs past its deadline; `wait` turns this into
    its own timeout (exit 6) when its deadline is the one that passed.
    """


class CreateOutcomeUnknownError(ServiceError):
    """A create failed in a way that may have made the task, and no lookup settled it
    (`accepted`: the service even said yes, without naming the task).

    `mivid recover` settles it later by `external_task_id`.
    """

    def __init__(
        self,
        message: str,
        *,
        external_task_id: str,
        hint: str | None = None,
        accepted: bool = False,
    ) -> None:
        from mivid import hints

        super().__init__(
            message,
            hint=hint
            or f"the task may exist: check with `{hints.command('get', external_task_id)}` or "
            f"`{hints.command('recover')}` before creating it again",
        )
        self.external_task_id = external_task_id
        #: The service accepted the create (code 0) but named no task: it almost surely exists.
        self.accepted = accepted


class StalledDownloadError(ServiceError):
    """A video arrived slower than the slowest rate mivid accepts (16 KiB in 30 s by default).

    Not tried again at once: the partial file is kept, and the same command run later
    resumes from it.
    """


class DownloadsFailedError(_ManyLinesError, ServiceError):
    """Some finished videos could not be saved (exit 5); one line per job."""


class JobsUnfinishedError(_ManyLinesError, ServiceError):
    """Some jobs could not be created or checked for the network's sake (exit 5); one line each."""


class TaskFailedError(MividError):
    """A task ended with status `failed`."""

    exit_code = ExitCode.TASK_FAILED


class TasksFailedError(_ManyLinesError, TaskFailedError):
    """One or more tasks ended `failed`: one line per task, with the service's reason."""

    def __init__(self, tasks: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(
            [
                f"task {task['task_id']} failed: {task.get('task_status_msg') or 'no reason given'}"
                for task in tasks
            ]
        )


class JobsFailedError(_ManyLinesError, TaskFailedError):
    """Some jobs' tasks ended `failed` (exit 1); one line per job."""


#: The exit statuses from most to least serious, for a command that met several errors:
#: keys that do not work stop everything; a network failure leaves outcomes unknown; a refusal
#: or a missing task is a definite no; bad input is the user's to fix; a timeout can be resumed;
#: a failed task is a result.
SEVERITY: tuple[ExitCode, ...] = (
    ExitCode.BUG,
    ExitCode.LOCAL_FILES,  # the disk is full: nothing else will be saved either
    ExitCode.CREDENTIALS,
    ExitCode.SERVICE,
    ExitCode.API_REFUSED,
    ExitCode.BAD_INPUT,
    ExitCode.WAIT_TIMEOUT,
    ExitCode.TASK_FAILED,
)


def most_serious(errors: Sequence[MividError]) -> MividError:
    """The error whose exit status comes first in SEVERITY (the first of those, on a tie)."""
    return min(errors, key=lambda error: SEVERITY.index(error.exit_code))


class WaitTimeoutError(MividError):
    """Waiting ran out of time while tasks were still running."""

    exit_code = ExitCode.WAIT_TIMEOUT


class StillRunningError(WaitTimeoutError):
    """The wait's time ran out; the tasks go on at the service."""

    def __init__(
        self,
        message: str,
        *,
        tasks: Mapping[str, dict[str, Any] | None],
        pending: Sequence[str],
        hint: str = "the tasks go on at the service; wait again later",
    ) -> None:
        super().__init__(message, hint=hint)
        self.tasks = dict(tasks)
        self.pending = list(pending)


class SeveralIdsError(MividError):
    """Several ids met several errors: each is said on its own line(s), with its request_id.

    The exit status and the hint are the most serious error's (`most_serious`), so a
    script sees the worst thing that happened; the other ids were still done.
    """

    def __init__(self, errors: Sequence[MividError]) -> None:
        self.errors = list(errors)
        worst = most_serious(self.errors)
        # Each hint once, the worst error's first: a resume line must not be lost to another.
        said = [worst.hint, *(error.hint for error in self.errors)]
        hint = "; ".join(dict.fromkeys(text for text in said if text)) or None
        super().__init__("; ".join(error.message for error in self.errors), hint=hint)
        self.exit_code = worst.exit_code

    def lines(self) -> list[str]:
        found: list[str] = []
        for error in self.errors:
            lines = error.lines()
            if error.request_id and lines:
                lines = [*lines[:-1], f"{lines[-1]} (request_id {error.request_id})"]
            found += lines
        return found


def combined(errors: Sequence[MividError]) -> MividError | None:
    """None for no error, the error itself for one, SeveralIdsError for more."""
    if not errors:
        return None
    return errors[0] if len(errors) == 1 else SeveralIdsError(errors)


class LocalFileError(MividError):
    """The machine refused a file mivid writes or reads: a full disk, a file too large,
    a read-only folder, a name too long, stdout on /dev/full. Checks made before
    anything is sent report a folder the user named as InputError (exit 2); this
    is for what the environment does later."""

    exit_code = ExitCode.LOCAL_FILES


#: What to do about the commonest refusals (errno names), for `local_file_error`'s hint.
_LOCAL_HINTS = {
    "ENOSPC": "free some space (or choose another folder), then run the same command again",
    "EDQUOT": "the disk quota is used up: free some space, then run the same command again",
    "EFBIG": "the file is larger than this file system (or `ulimit -f`) allows",
    "EROFS": "the file system is read-only: choose another folder",
    "EACCES": "choose a folder you can write to",
    "EPERM": "choose a folder you can write to",
    "ENAMETOOLONG": "the name is longer than this file system allows",
    "EMFILE": "too many files are open: raise `ulimit -n`",
}


def local_file_error(exc: OSError, *, what: str | None = None) -> LocalFileError:
    """An OSError as the one line a person reads: the file (or `what`), the reason, a hint."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    subject = what or (str(exc.filename) if exc.filename is not None else "a local file")
    reason = exc.strerror or str(exc) or type(exc).__name__
    return LocalFileError(f"{subject}: {reason}", hint=_LOCAL_HINTS.get(name))
