"""Problems as values: which input, which rule, the figures, and the line a person reads.

Image checks, request checks, jobs-file checks and download refusals return
`Problem`s. Code that decides something (`--fit` mends only size rules, `batch`
names a job's fields instead of `create`'s options, `create` hints at `--fit`)
decides by `rule` and `field`, never by the wording of `text`, so a message can
be reworded without breaking anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

# -- the rules ---------------------------------------------------------------------------------
# Usage mistakes that no code decides on.
USAGE = "usage"
# Options and fields of a create (`mivid.create_request`).
REQUIRED = "required"
EMPTY = "empty"
TOO_LONG = "too-long"
NOT_A_CHOICE = "not-a-choice"
NOT_A_URL = "not-a-url"
BAD_CHARACTERS = "bad-characters"
OUT_OF_RANGE = "out-of-range"
# Images (`mivid.images`, `mivid.fit`).
IMAGE_COUNT = "image-count"
IMAGE_MISSING = "image-missing"
IMAGE_UNREADABLE = "image-unreadable"
IMAGE_FORMAT = "image-format"
IMAGE_URL = "image-url"
IMAGE_DECODE = "image-decode"
IMAGE_PIXELS = "image-pixels"
IMAGE_CHANGED = "image-changed"
IMAGE_BYTES = "image-bytes"  # over 10 MB
IMAGE_SIDE = "image-side"  # a side under 300 px
IMAGE_RATIO = "image-ratio"  # width:height beyond 2.5:1
#: The rules `--fit` can mend by making a conforming copy.
SIZE_RULES = frozenset({IMAGE_BYTES, IMAGE_SIDE, IMAGE_RATIO})
FIT_LIMIT = "fit-limit"  # too large for `--fit` to mend
# Jobs files (`mivid.batch`).
JOB_FILE = "job-file"
JOB_SYNTAX = "job-syntax"
JOB_FIELD = "job-field"
JOB_TYPE = "job-type"
JOB_DUPLICATE_ID = "job-duplicate-id"
# Budgets, periods and origins (`create --max-units`, `spent --since`, `create --from`).
NOT_A_NUMBER = "not-a-number"
NOT_A_DATE = "not-a-date"
NOT_IN_JOURNAL = "not-in-journal"
# Downloads (`mivid.download`).
TASK_UNFINISHED = "task-unfinished"
FILE_EXISTS = "file-exists"
NOT_A_FOLDER = "not-a-folder"
# Local files and folders (`mivid.files`): read within limits, written only where possible.
FILE_MISSING = "file-missing"
FILE_UNREADABLE = "file-unreadable"
NOT_A_FILE = "not-a-file"
FILE_TOO_LARGE = "file-too-large"
NOT_UTF8 = "not-utf8"
NOT_WRITABLE = "not-writable"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input.

    `subject` names the input as the user gave it (`--prompt`, `a.png`,
    `jobs.jsonl:3`); `detail` is the rest of the line; `figures` holds the
    numbers the rule was judged on. `field` is the create field the problem is
    about (`prompt`, `mode` …), so a jobs file can name its own field instead of
    `create`'s option.
    """

    subject: str
    rule: str
    detail: str
    figures: Mapping[str, Any] = field(default_factory=dict)
    field: str | None = None

    @property
    def text(self) -> str:
        return f"{self.subject}: {self.detail}" if self.subject else self.detail

    def about(self, subject: str) -> Problem:
        """The same problem, said of another input (a job's field instead of an option)."""
        return replace(self, subject=subject)

    def __str__(self) -> str:
        return self.text


def usage(text: str) -> Problem:
    """A plain usage problem, its text as given."""
    return Problem("", USAGE, text)


def as_problems(found: str | Problem | Sequence[str | Problem]) -> list[Problem]:
    """Problems from problems or plain lines (a plain line is a usage problem)."""
    if isinstance(found, (str, Problem)):
        found = [found]
    return [item if isinstance(item, Problem) else usage(item) for item in found]


def texts(found: Sequence[Problem]) -> list[str]:
    return [problem.text for problem in found]
