"""Many creates from a jobs file, under the service's limit on running tasks.

Three steps, none of which prints (what happens is reported through callbacks):

1. `read_jobs` reads a JSON Lines or CSV file into checked `Job`s: every
   line's fields, types and images, all problems of all lines at once in one
   `InputError` (each prefixed `FILE:LINE:`), so nothing is sent from a file
   with a single bad line. Each job gets a stable external id derived from
   what the line asks (its fields as written) and the file's name, never from
   where the file lives, unless it names its own: running the same file again
   — from anywhere, after moving its folder — finds the tasks made the first time.
2. `plan_jobs` asks the local journal what became of each external id:
   finished jobs are skipped, running ones resumed, unknown ones looked up at
   the service, the rest sent.
3. `run_batch` is the scheduler: it sends while fewer than the allowed
   number of this batch's tasks are unfinished, polls the running ones side
   by side (each on its own `PollSchedule`), and saves each video as its task
   ends. A create refused with 1303 (too many running tasks) is never a
   failure: the job waits for a slot (backoff from 1 s, doubling, capped) and
   the allowed number drops to what the service accepted; it is probed upwards
   again after a quiet minute. One job's trouble is that job's: a create or a
   query that fails after the client's retries, a download the folder refuses,
   end that job (reported; exit 5 for the network's kind), never the batch;
   only what stops every job (credentials, the account, the IP allow-list)
   does. A job another mivid process is sending right now (the journal's
   claim says so) waits for it instead of being sent twice.

Clock and sleep are injected: tests drive a fake clock and never really sleep.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mivid import hints
from mivid import problems as rules
from mivid.budget import Budget, Decision
from mivid.endpoints import Endpoint
from mivid.errors import (
    ApiError,
    BudgetError,
    CreateOutcomeUnknownError,
    CredentialsError,
    DownloadsFailedError,
    ExternalIdTakenError,
    InFlightError,
    InputError,
    JobsFailedError,
    JobsRefusedError,
    JobsUnfinishedError,
    JournalError,
    MividError,
    NotFoundError,
)
from mivid.plaintext import counted, printable
from mivid.problems import Problem
from mivid.units import Kind, kind_of, task_units
from mivid.vocabulary import (
    CREATE_FIELDS,
    FAILED,
    FIELDS_BY_NAME,
    FINAL_STATUSES,
    FLAG,
    JOB_EXTRAS,
    JOB_FIELDS,
    SUCCEED,
    failure_reason,
    job_field_of_option,
    job_words,
    option_and_job_name,
    status_of,
    task_videos,
    with_external_id,
)
from mivid.waiting import PollSchedule, SideBySide

if TYPE_CHECKING:
    from mivid.download import Pace, SavedVideo
    from mivid.images import ImageChecks
    from mivid.journal import Journal, JournalEntry
    from mivid.submission import PreparedCreate

DEFAULT_CONCURRENCY = 3
MAX_CONCURRENCY = 50
#: Separator of the image paths in a CSV file's `images` column.
CSV_IMAGE_SEPARATOR = "|"
ID_PREFIX = "mivid-b-"

#: Waiting for a slot after 1303: the first pause, the factor, the cap.
SLOT_WAIT_FIRST = 1.0
SLOT_WAIT_CAP = 30.0
#: After this long without a 1303, try one more task at once again.
PROBE_AFTER = 60.0

# Job states. The service's own words (submitted, processing, succeed, failed)
# are used as they are; these are mivid's.
WAITING = "waiting"  # not sent yet
SENDING = "sending"
REFUSED = "refused"  # the service refused the create (content safety, bad parameter …)
NOT_SENT = "not sent"  # `--max-units`: sending it would have passed the budget
UNKNOWN = "unknown"  # the task may exist, but the service could not be asked (retries spent)
SEND_FAILED = "send failed"  # the create surely made nothing, for the network's or server's fault
ELSEWHERE = "sent elsewhere"  # another mivid process is sending it: this run waits
DOWNLOADING = "downloading"
FINAL_STATES = (*FINAL_STATUSES, REFUSED, NOT_SENT, UNKNOWN, SEND_FAILED)
#: A job's polls that fail (each after the client's retries) before it is given up as unknown.
POLL_FAILURES = 3
#: Creates in a row that fail for the network's sake before the rest are not even tried.
SEND_FAILURES = 3
#: How often a job another process is sending is looked at again in the journal (a local
#: read, no request: often enough that a second run follows the first's task at once).
ELSEWHERE_CHECK = 0.5

SEND, SKIP, RESUME, LOOKUP = "send", "skip", "resume", "look up"
#: `--dry-run --max-units N`: a job the budget would keep back, or send only if a task of a
#: kind never seen leaves room (its cost is learnt in the run).
OVER_BUDGET, IF_ROOM = NOT_SENT, "send if room"


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One checked line of the jobs file."""

    line: int
    fields: dict[str, Any]  # as written, types normalised; `external_task_id` always set
    options: dict[str, Any]  # prepare_create's keyword arguments
    base_dir: Path
    fit: str | None = None
    #: Kept when it holds no in-memory image (a fitted copy is made again when sent).
    prepared: PreparedCreate | None = None
    #: The id mivid 0.x derived from the file's path: a journal that knows it has this job's task.
    legacy_external_id: str | None = None

    @property
    def external_task_id(self) -> str:
        return str(self.fields["external_task_id"])

    @property
    def kind(self) -> Kind:
        """What its task's price depends on (endpoint, model, mode, duration)."""
        return kind_of(self.endpoint.name, self.options)

    @property
    def named_id(self) -> bool:
        """Did the line name its own external id (rather than mivid derive one)?"""
        return self.legacy_external_id is None

    def under(self, external_task_id: str) -> Job:
        """This job with another external id (the one an earlier run's journal knows it by)."""
        prepared = self.prepared
        if prepared is not None:
            prepared = replace(
                prepared, request=prepared.request.replaced(external_task_id=external_task_id)
            )
        return replace(
            self,
            fields={**self.fields, "external_task_id": external_task_id},
            options={**self.options, "external_task_id": external_task_id},
            prepared=prepared,
        )

    @property
    def endpoint(self) -> Endpoint:
        """Where this job's task is created and queried (named, or picked by its model)."""
        from mivid.create_request import choose_endpoint

        model = str(self.options.get("model_name") or "")
        return choose_endpoint(model, self.options.get("endpoint"))[0]

    def prepare(self) -> PreparedCreate:
        """The create to send (checked again: a file may have changed since it was read)."""
        if self.prepared is not None:
            return self.prepared
        from mivid.submission import prepare_create

        return prepare_create(
            self.fields.get("images", []), base_dir=self.base_dir, fit=self.fit, **self.options
        )


@dataclass
class JobsFile:
    """What `read_jobs` found: the jobs, and lines for stderr."""

    jobs: list[Job]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_jobs(
    path: Path,
    *,
    defaults: Mapping[str, str | None] | None = None,
    sources: Mapping[str, str] | None = None,
    fit: str | None = None,
    name: str | None = None,
    settled: Callable[[str], bool] | None = None,
) -> JobsFile:
    """Read and check every job of a `.jsonl` or `.csv` file; one InputError for all problems.

    `defaults` (settings keys: `model`, `mode`, `duration`, `aspect-ratio`) fills
    the fields a job leaves out; `sources` says where each was set (`config [work] in
    path`, `$MIVID_MODE`), so a bad default is blamed on its source, not on the line.
    Image paths are relative to the file's folder.
    `name` is how problems name the file (default: the path as given).

    Each distinct image file is checked once, however many jobs name it. A job
    whose external id `settled` says the journal knows a task for (it is never
    sent again) keeps only its field checks: its images are not read at all,
    so a rerun of a finished file costs no decoding (and images moved away
    after their tasks were made do not stop it).
    """
    shown = name or str(path)
    text = _read_text(path, shown)
    is_csv = path.suffix.lower() == ".csv"
    records, syntax = (parse_csv if is_csv else parse_jsonl)(text)
    problems = [(line, Problem("", rules.JOB_SYNTAX, problem)) for line, problem in syntax]
    if not records and not problems:
        what = "rows below the header" if is_csv else "job lines"
        problems.append((0, Problem("", rules.JOB_FILE, f"no jobs: the file has no {what}")))
    reader = _JobReader(
        absolute=str(path.resolve()),
        base_dir=path.resolve().parent,
        defaults={key: value for key, value in (defaults or {}).items() if value},
        sources=sources or {},
        fit=fit,
        shown=shown,
        settled=settled,
    )
    for line, raw in records:
        problems.extend((line, problem) for problem in reader.read(line, raw))
    if problems:
        problems.sort(key=lambda found: found[0])
        raise InputError(
            [problem.about(_job_subject(shown, line, problem)) for line, problem in problems],
            hint="fix these lines"
            + (" or the defaults named" if reader.blamed_default else "")
            + " and run the same command again; nothing was sent",
        )
    return reader.found


def _job_subject(shown: str, line: int, problem: Problem) -> str:
    """`jobs.jsonl:3: prompt` — the file, the line, and what in it the problem is about."""
    where = f"{shown}:{line}" if line else shown
    return f"{where}: {problem.subject}" if problem.subject else where


def _read_text(path: Path, shown: str) -> str:
    """The jobs file's text: a regular file of at most `MAX_JOBS_FILE_BYTES`, UTF-8."""
    from mivid.files import MAX_JOBS_FILE_BYTES, read_regular, utf8_text

    data = read_regular(path, subject=shown, limit=MAX_JOBS_FILE_BYTES, rule=rules.JOB_FILE)
    return utf8_text(data, subject=shown)


@dataclass
class _JobReader:
    """Checks one line after another, remembering what ids the file's lines use."""

    absolute: str
    base_dir: Path
    defaults: Mapping[str, str]
    sources: Mapping[str, str]
    fit: str | None
    shown: str
    settled: Callable[[str], bool] | None = None
    found: JobsFile = field(default_factory=lambda: JobsFile([]))
    seen_content: dict[str, int] = field(default_factory=dict)
    named_ids: dict[str, int] = field(default_factory=dict)
    legacy_ids: dict[int, str] = field(default_factory=dict)
    checks: ImageChecks = field(default_factory=lambda: _image_checks())
    #: Was a problem blamed on a default from the settings (the hint then says so)?
    blamed_default: bool = False

    def read(self, line: int, raw: Any) -> list[Problem]:
        """Check one job line; keep the job when it is sound; return its problems."""
        from mivid.submission import prepare_create

        fields, problems = check_fields(raw)
        if fields is None:
            return problems
        # Fields already reported are left out of the checks below (no second line for them).
        reported = {problem.field for problem in problems if problem.field}
        problems += self._external_id(line, fields)
        values = self._values(fields)
        legacy = self.legacy_ids.get(line)
        if (
            not problems
            and self.settled is not None
            and (
                self.settled(str(fields["external_task_id"]))
                or (legacy is not None and self.settled(legacy))
            )
        ):
            # Its task exists: it is skipped or followed, never sent (prepare() would check).
            self.found.jobs.append(
                Job(line, fields, values, self.base_dir, self.fit, legacy_external_id=legacy)
            )
            return []
        try:
            prepared = prepare_create(
                fields.get("images", []),
                base_dir=self.base_dir,
                fit=self.fit,
                checks=self.checks,
                **values,
            )
        except InputError as exc:
            return problems + [
                self._blame_default(problem, fields)
                for problem in map(_in_job_words, exc.found)
                if not _said(problem, reported)
            ]
        if problems:
            return problems
        where = f"{self.shown}:{line}"
        self.found.warnings.extend(
            f"{where}: {job_words(warning)}" for warning in prepared.warnings
        )
        self.found.notes.extend(f"{where}: {note}" for note in prepared.notes)
        keep = not prepared.notes  # no fitted copy held in memory
        self.found.jobs.append(
            Job(
                line,
                fields,
                values,
                self.base_dir,
                self.fit,
                prepared if keep else None,
                legacy_external_id=legacy,
            )
        )
        return []

    def _blame_default(self, problem: Problem, fields: Mapping[str, Any]) -> Problem:
        """A problem with a field the line left out, filled from a setting (`config set
        duration 7`), names where that default was set: the line has nothing to fix."""
        spec = next((spec for spec in CREATE_FIELDS if spec.name == problem.field), None)
        if spec is None or spec.setting is None or fields.get(spec.in_jobs) is not None:
            return problem
        source = self.sources.get(spec.setting)
        if source is None or spec.setting not in self.defaults:
            return problem
        self.blamed_default = True
        return problem.about(f"{problem.subject} (the default from {source})")

    def _external_id(self, line: int, fields: dict[str, Any]) -> list[Problem]:
        """Derive the job's external id, or check the one it names is the file's only."""
        external = fields.get("external_task_id")
        if external is None:
            canonical = canonical_content(fields)
            seen = self.seen_content.get(canonical, 0)
            self.seen_content[canonical] = seen + 1
            fields["external_task_id"] = job_external_id(Path(self.absolute).name, canonical, seen)
            self.legacy_ids[line] = derived_external_id(self.absolute, canonical, seen)
            return []
        if external in self.named_ids:
            return [
                Problem(
                    "external_task_id",
                    rules.JOB_DUPLICATE_ID,
                    f"`{external}` is also used on line {self.named_ids[external]}"
                    " — each job needs its own",
                    {"line": self.named_ids[external]},
                    field="external_task_id",
                )
            ]
        self.named_ids[external] = line
        return []

    def _values(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """`prepare_create`'s values: the job's fields, the defaults where it has none."""
        from mivid.create_request import with_defaults

        values: dict[str, Any] = {}
        for spec in CREATE_FIELDS:
            value = fields.get(spec.in_jobs)
            values[spec.in_jobs] = bool(value) if spec.kind == FLAG else value
        values["prompt"] = fields.get("prompt", "")
        values.update({name: fields.get(name) for name in JOB_EXTRAS})
        return with_defaults(values, self.defaults)


def _image_checks() -> ImageChecks:
    from mivid.images import ImageChecks

    return ImageChecks()


def _in_job_words(problem: Problem) -> Problem:
    """A create's problem said in the job's words: its field (`mode:`) instead of `create`'s
    option, and every option its text names as the field (`needs `first_frame` too`).

    A frame's image problem (`--first-frame a.png: …`) keeps the file's name.
    """
    detail = job_words(problem.detail)
    if problem.field is None:
        return replace(problem, subject=job_words(problem.subject, quoted=False), detail=detail)
    option, job_name = option_and_job_name(problem.field)
    if problem.subject.startswith(f"{option} "):
        return replace(problem, subject=job_name + problem.subject[len(option) :], detail=detail)
    return replace(problem, subject=job_name, detail=detail)


def _said(problem: Problem, reported: set[str]) -> bool:
    """Was this already reported by the field checks (the field, or the missing images)?"""
    if problem.rule == rules.IMAGE_COUNT and problem.field is None:
        return "images" in reported
    return problem.field is not None and option_and_job_name(problem.field)[1] in reported


def parse_jsonl(text: str) -> tuple[list[tuple[int, Any]], list[tuple[int, str]]]:
    """(line number, parsed value) per job line; blank and `#` lines skipped."""
    records: list[tuple[int, Any]] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            records.append((number, json.loads(stripped, object_pairs_hook=_unique_keys)))
        except _TwiceError as twice:
            # The last one would win silently: a billed job whose text says two things.
            problems.append((number, f"field `{twice.key}` appears twice"))
        except (ValueError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            column = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            problems.append((number, f"not valid JSON: {reason}{column}"))
    return records, problems


class _TwiceError(ValueError):
    """A JSON object with one key twice (`parse_jsonl`)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _TwiceError(printable(key))
        found[key] = value
    return found


def _meant(name: str, what: str) -> str:
    """`did you mean `duration`?` for a misspelt field, else the fields there are.

    A field named as `create`'s option is (`model`, `element`) is taken to mean the field
    that option sets, ahead of one merely spelt alike (`model` is not `mode`).
    """
    import difflib

    named = job_field_of_option(name)
    if named is not None and named[1] != name:
        option, meant = named
        return f"did you mean `{meant}` (create's {option})?"
    close = difflib.get_close_matches(name, JOB_FIELDS, n=1, cutoff=0.7)
    if close:
        return f"did you mean `{close[0]}`?"
    return f"the {what} are {', '.join(JOB_FIELDS)}"


def parse_csv(text: str) -> tuple[list[tuple[int, Any]], list[tuple[int, str]]]:
    """A header row of field names, then one job a row (`images` split on `|`).

    Strict: a quoted field may span lines only when its quote closes and a comma
    or the line's end follows; a quote that never closes (which would silently
    merge the lines after it into one job) is reported on the line it opened.
    """
    records: list[tuple[int, Any]] = []
    problems: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    header_line = 0
    start = 1
    try:
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                continue
            if header is None:
                header, header_line = [cell.strip() for cell in row], start
                unknown = [name for name in header if name not in JOB_FIELDS]
                problems.extend(
                    (start, f"unknown column `{name}` — {_meant(name, 'columns')}")
                    for name in unknown
                )
                repeated = sorted({name for name in header if header.count(name) > 1})
                problems.extend((start, f"column `{name}` appears twice") for name in repeated)
                if unknown or repeated:
                    return [], problems
                continue
            if len(row) > len(header):
                problems.append(
                    (
                        start,
                        f"{len(row)} cells, but the header (line {header_line}) names {len(header)}",
                    )
                )
                continue
            record: dict[str, Any] = {}
            for name, cell in zip(header, row, strict=False):  # short rows: cells left empty
                value = cell.strip()
                if not value:
                    continue
                if name == "images":
                    record[name] = [part.strip() for part in value.split(CSV_IMAGE_SEPARATOR)]
                    record[name] = [part for part in record[name] if part]
                elif name in ("watermark", "keep_sound"):
                    record[name] = _csv_bool(value)
                else:
                    record[name] = value
            records.append((start, record))
    except csv.Error as exc:
        problems.append(_quote_problem(text, start) or (reader.line_num, f"not valid CSV: {exc}"))
    return records, problems


def _quote_problem(text: str, start: int) -> tuple[int, str] | None:
    """The quote that breaks the CSV record beginning on line `start`, and its line.

    Either a quoted field never closes (reported where its quote opened), or
    something other than a comma or the line's end follows a closing quote.
    None when the record's trouble is no quote's.
    """
    # Lines as the csv reader counts them (a StringIO with newline="": \n, \r\n or \r).
    body = "".join(io.StringIO(text, newline="").readlines()[start - 1 :])
    line, column = start, 0
    opened: tuple[int, int] | None = None  # where the quoted field being read began
    field_start = True
    index = 0
    while index < len(body):
        char = body[index]
        index += 1
        column += 1
        if opened is not None:
            if char == '"' and body[index : index + 1] == '"':  # "" inside quotes: one quote
                index += 1
                column += 1
            elif char == '"':
                follows = body[index : index + 1]
                if follows not in ("", ",", "\n", "\r"):
                    return line, (
                        f"not valid CSV: the field quoted from line {opened[0]} (column "
                        f"{opened[1]}) closes here but `{follows}` follows its closing quote "
                        '(a quote inside a quoted field is written "")'
                    )
                opened = None
        elif char == '"' and field_start:
            opened = (line, column)
        field_start = opened is None and char in ",\r\n"
        if char == "\n" or (char == "\r" and body[index : index + 1] != "\n"):
            line, column = line + 1, 0
    if opened is not None:
        return opened[0], (
            f"not valid CSV: the quote opened here (column {opened[1]}) is never closed, "
            "so every line after it would be one field of this job"
        )
    return None


def _csv_bool(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    return value  # reported by check_fields as the wrong type


def check_fields(raw: Any) -> tuple[dict[str, Any] | None, list[Problem]]:
    """A job's valid fields, types normalised (null = left out), and its problems.

    None instead of the fields when the line is not a JSON object at all.
    """
    if not isinstance(raw, dict):
        kind = type(raw).__name__ if raw is not None else "null"
        kind = {"list": "an array", "str": "a string", "int": "a number", "float": "a number"}.get(
            kind, kind
        )
        return None, [
            Problem(
                "",
                rules.JOB_TYPE,
                f'a job must be a JSON object like {{"images": ["a.png"], "prompt": "…"}}, not {kind}',
            )
        ]
    problems: list[Problem] = []
    fields: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in JOB_FIELDS:
            problems.append(
                Problem(
                    "",
                    rules.JOB_FIELD,
                    f"unknown field `{name}` — {_meant(name, 'fields')}",
                )
            )
        elif value is not None:
            normal, wrong = _field_value(name, value)
            if wrong is not None:
                problems.append(Problem(name, rules.JOB_TYPE, wrong, field=name))
            else:
                fields[name] = normal
    # null counts as missing; a value of the wrong type was reported above.
    if "prompt" not in fields and raw.get("prompt") is None:
        problems.append(
            Problem(
                "prompt", rules.REQUIRED, "required — what the video should show", field="prompt"
            )
        )
    if "images" not in fields and raw.get("images") is None and _needs_images(fields):
        problems.append(
            Problem(
                "images",
                rules.REQUIRED,
                "required — 1 to 4 image paths (relative to the file) or URLs",
                field="images",
            )
        )
    return fields, problems


def _needs_images(fields: Mapping[str, Any]) -> bool:
    """Must this job list `images`? Not on an endpoint that takes none, nor with a first frame."""
    if fields.get("first_frame"):
        return False
    from mivid.create_request import choose_endpoint

    endpoint, unknown, _ = choose_endpoint(
        str(fields.get("model_name") or ""), fields.get("endpoint")
    )
    return endpoint.min_images > 0 and not unknown  # an unknown endpoint: said once, as such


def _field_value(name: str, value: Any) -> tuple[Any, str | None]:
    """A field's value with its type normalised, or what is wrong with its type."""
    if name == "images":
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return None, "must be a list of image paths or URLs (strings)"
        return value, None
    if name == "elements":
        # A CSV cell holds `3|5`; JSON a number or a list of numbers (checked when prepared).
        if isinstance(value, str):
            value = [part.strip() for part in value.split(CSV_IMAGE_SEPARATOR) if part.strip()]
        value = value if isinstance(value, list) else [value]
        if not all(isinstance(item, (int, str)) for item in value):
            return None, f"must be a list of element ids (whole numbers), not {json.dumps(value)}"
        return value, None
    if name == "keep_sound":
        if not isinstance(value, bool):
            return None, f"must be true or false, not {json.dumps(value)}"
        return value, None
    spec = FIELDS_BY_NAME.get(name) or next((f for f in CREATE_FIELDS if f.in_jobs == name), None)
    if spec is not None and spec.kind == FLAG:
        if not isinstance(value, bool):
            return None, f"must be true or false, not {json.dumps(value)}"
        return value, None
    if name == "duration":
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # the body's duration is a string; a job may write 5
        if not isinstance(value, str):
            return None, f'must be "5" or "10", not {json.dumps(value)}'
        return value, None
    if not isinstance(value, str):
        return None, f"must be a string, not {json.dumps(value)}"
    return value, None


def canonical_content(fields: Mapping[str, Any]) -> str:
    """The job as one canonical JSON text: key order and spacing do not matter."""
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def job_external_id(file_name: str, canonical: str, occurrence: int = 0) -> str:
    """`mivid-b-` and 20 hex digits of SHA-256 over what the job asks and the file's name.

    Never where the file lives: a moved or copied folder of jobs makes nothing
    twice (another file with the same lines is another batch). `occurrence`
    tells identical lines of one file apart (the second copy is 1, …), so each
    still makes its own task, and the first keeps its id when copies are added.
    """
    text = f"mivid batch job\n{file_name}\n{canonical}"
    if occurrence:
        text += f"\n#{occurrence}"
    return ID_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:20]


def derived_external_id(absolute_path: str, canonical: str, occurrence: int = 0) -> str:
    """The id mivid derived before `job_external_id`: over the file's path and the content.

    Kept only so that a journal written then still finds its tasks (`plan_jobs`).
    """
    text = f"{absolute_path}\n{canonical}"
    if occurrence:
        text += f"\n#{occurrence}"
    return ID_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:20]


# --- planning ------------------------------------------------------------------------------


@dataclass
class JobState:
    """Where one job stands; `run_batch` updates it and reports each change."""

    job: Job
    action: str  # send · skip · resume · look up
    state: str = WAITING
    task_id: str | None = None
    task: dict[str, Any] | None = None
    reason: str | None = None  # the service's task_status_msg, or why the create was refused
    files: list[Path] = field(default_factory=list)
    #: The URLs an earlier run's sidecars say `files` came from (a job ended before, whose
    #: videos are proven saved: the service is not asked, so `task` holds none).
    recorded_urls: list[str] = field(default_factory=list)
    download_error: str | None = None
    started: float | None = None
    finished: float | None = None
    sent: bool = False  # sent by this run
    polling: bool = False
    next_poll: float = 0.0
    poll_failures: int = 0  # polls in a row that failed after the client's retries
    pauses: Iterator[float] | None = field(default=None, repr=False)

    @property
    def line(self) -> int:
        return self.job.line

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def unfinished_task(self) -> bool:
        """Holds one of the service's running-task slots."""
        return self.task_id is not None and self.state in ("submitted", "processing", SENDING)

    def report(self) -> dict[str, Any]:
        """The `--json` object for this job."""
        return {
            "line": self.line,
            "external_task_id": self.job.external_task_id,
            "task_id": self.task_id,
            "action": self.action,
            "status": self.state,
            "task_status_msg": self.reason,
            "files": [str(path) for path in self.files],
            "download_error": self.download_error,
            "prompt": self.job.fields.get("prompt"),
            # Where the video is at the service (for 30 days), saved or not.
            "videos": [str(v["url"]) for v in task_videos(self.task or {}) if v.get("url")]
            or list(self.recorded_urls),
        }


def is_settled(entry: JournalEntry | None, *, service: str) -> bool:
    """Does the journal know the task this job's create made at `service`? Then it is never sent."""
    return (
        entry is not None
        and entry.service.rstrip("/") == service.rstrip("/")
        and entry.task_id is not None
    )


def plan_jobs(jobs: Sequence[Job], journal: Journal | None, *, service: str) -> list[JobState]:
    """What to do with each job, from the journal's record of its external id at `service`.

    Without a journal (`--no-journal`) every job is looked up at the service
    first: its external id is its memory. A job the journal knows by the id an
    older mivid derived keeps that id. A job another live process is sending is
    planned to send: the journal's claim makes it wait for that process.
    """
    import os

    from mivid.journal import NOT_CREATED

    states: list[JobState] = []
    for job in jobs:
        if journal is None:
            states.append(JobState(job, LOOKUP))
            continue
        entry = journal.find(job.external_task_id, service=service)
        if entry is None and job.legacy_external_id is not None:
            entry = journal.find(job.legacy_external_id, service=service)
            if entry is not None:
                job = job.under(job.legacy_external_id)
        if entry is None or entry.status == NOT_CREATED:
            states.append(JobState(job, SEND))
        elif entry.task_id is None and entry.in_flight() and entry.pid != os.getpid():
            states.append(JobState(job, SEND, state=ELSEWHERE))
        elif entry.task_id is None:  # sending or unknown: the task may exist
            states.append(JobState(job, LOOKUP, state=entry.status))
        else:
            action = SKIP if entry.status in FINAL_STATUSES else RESUME
            states.append(
                JobState(job, action, state=entry.status, task_id=entry.task_id, reason=entry.error)
            )
    return states


# --- running -------------------------------------------------------------------------------


def without_concurrency_retries(client: Any) -> Any:
    """The client, told to raise a create's 1303 at once: the scheduler waits for a slot."""
    client.retry = replace(client.retry, retry_concurrency_limit=False)
    return client


Downloader = Callable[[dict[str, Any]], list[Path]]


def video_downloader(
    http: Any,
    directory: Path,
    *,
    watermarked: bool = False,
    sleep: Callable[[float], object] = time.sleep,
    on_skip: Callable[[SavedVideo], None] | None = None,
    service: str | None = None,
    warn: Callable[[str], None] | None = None,
    max_bytes: int | None = None,
    pace: Pace | None = None,
) -> Downloader:
    """Save one finished task's videos into `directory` (the videos already there are kept)."""
    from mivid.download import download_tasks

    def download(task: dict[str, Any]) -> list[Path]:
        saved = download_tasks(
            http,
            [task],
            directory,
            watermarked=watermarked,
            sleep=sleep,
            on_skip=on_skip,
            service=service,
            warn=warn,
            max_bytes=max_bytes,
            pace=pace,
        )
        return [video.path for video in saved.get(str(task["task_id"]), [])]

    return download


#: A succeeded task's videos already saved: each file and the URL it came from (if known).
Saved = Callable[[str], list[tuple[Path, str | None]]]


def saved_videos(directory: Path, *, watermarked: bool = False) -> Saved:
    """A succeeded task's videos already in `directory`, proven by their sidecars (no request),
    each with the URL its sidecar says it came from."""
    from mivid.sidecar import proven_video, recorded_url

    def saved(task_id: str) -> list[tuple[Path, str | None]]:
        video = proven_video(directory, task_id, watermarked=watermarked)
        return [(video, recorded_url(video))] if video is not None else []

    return saved


@dataclass
class Scheduler:
    """Sends, polls and saves until every job has ended (see the module docstring)."""

    client: Any
    states: list[JobState]
    concurrency: int = DEFAULT_CONCURRENCY
    journal: Journal | None = None
    sandbox: bool = False
    download: Downloader | None = None
    #: The videos a finished task already has in the download folder (see `saved_videos`).
    saved: Saved | None = None
    schedule: PollSchedule = field(default_factory=PollSchedule)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], object] = time.sleep
    on_change: Callable[[JobState], None] | None = None
    on_note: Callable[[str], None] | None = None
    #: Told what a person must not miss (a paid task the journal could not record).
    on_warn: Callable[[str], None] | None = None
    #: `--max-units`: what this run's creates may cost (see `mivid.budget`).
    budget: Budget | None = None
    #: Told each task that failed (with `--download`: its failure sidecar is written).
    on_failed: Callable[[dict[str, Any]], None] | None = None
    #: How many tasks may run at once now: `concurrency`, lowered by the service's 1303.
    allowed: int = 0
    refusals: int = 0  # 1303 answers seen
    _queue: deque[JobState] = field(default_factory=deque)
    #: Jobs another process is sending, with when to look at the journal again.
    _elsewhere: dict[int, float] = field(default_factory=dict)
    _send_failures: int = 0  # creates in a row that failed for the network's sake
    _wait_until: float = 0.0
    _slot_wait: float = SLOT_WAIT_FIRST
    _last_refusal: float | None = None
    _held: bool = False  # the budget holds the next create until a task in flight ends
    #: Tasks the journal could not record (said once each).
    _unrecorded: set[str] = field(default_factory=set)
    #: The notes said so far (each is said once a run).
    _noted: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.allowed = self.allowed or self.concurrency

    @property
    def running(self) -> int:
        return sum(1 for state in self.states if state.unfinished_task)

    @property
    def service(self) -> str:
        return str(self.client.base_url)

    def run(self) -> list[JobState]:
        queries = SideBySide(self.clock, opener=self.client, name="mivid-batch")
        try:
            self._start()
            while True:
                due = [s for s in self.states if s.polling and s.next_poll <= self.clock()]
                if due:
                    for state, answer in zip(due, queries.map(self._query, due), strict=True):
                        if isinstance(answer, MividError):
                            self._poll_failed(state, answer)
                        else:
                            self._seen(state, answer)
                self._back_from_elsewhere()
                self._send_while_room()
                waking = [s.next_poll for s in self.states if s.polling]
                waking += self._elsewhere.values()
                if self._queue and self.running < self.allowed and not self._held:
                    waking.append(self._wait_until)
                if not waking:
                    if self._queue:  # nothing runs, yet no room: cannot happen, but never spin
                        waking.append(self.clock() + self._slot_wait)
                    else:
                        return self.states
                pause = min(waking) - self.clock()
                if pause > 0:
                    self.sleep(pause)
        finally:
            queries.close()

    # -- steps ------------------------------------------------------------------------

    def _start(self) -> None:
        now = self.clock()
        for state in self.states:
            if state.action == LOOKUP and not self._look_up(state, now):
                continue
            if state.action == SEND:
                self._queue.append(state)
            elif self._ended_before(state, now):
                pass
            elif state.task_id is not None:
                # Resumed, or finished by an earlier run: one query says where it stands
                # (and gives the video's URL to save).
                state.started = now
                state.polling = True
                state.next_poll = now
                state.pauses = self.schedule.intervals()
            self._changed(state)
        kept = sum(len(s.files) for s in self.states if s.action == SKIP and s.finished == now)
        if kept:
            were = "is" if kept == 1 else "are"
            self._note(
                f"{counted(kept, 'video')} saved by an earlier run {were} already there, "
                "not downloaded again"
            )

    def _look_up(self, state: JobState, now: float) -> bool:
        """Ask the service for a job whose create's outcome is unknown; False when settled here."""
        external = state.job.external_task_id
        try:
            task = self.client.find_task(external, endpoint=state.job.endpoint)
        except MividError as exc:
            if stops_every_job(exc):
                raise
            self._ended(state, UNKNOWN, f"could not be looked up: {exc.message}")
            return False
        if task is not None:
            state.action = RESUME
            self._record(task, external)
            self._follow(state, with_external_id(task, external), now)
            self._seen(state, state.task or task)
            return False
        state.action = SEND
        state.state = WAITING
        if self.journal is not None:
            with contextlib.suppress(JournalError):  # no task: nothing paid to lose
                self.journal.record_failure(
                    external, "the service has no such task", service=self.service, created=False
                )
        return True

    def _ended_before(self, state: JobState, now: float) -> bool:
        """A job the journal says ended that needs no query: failed (the journal keeps the
        reason), or succeeded with its videos proven saved (rerunning a finished file asks
        the service nothing)."""
        if state.action != SKIP or state.task_id is None:
            return False
        if state.state == SUCCEED and self.saved is not None:
            found = self.saved(state.task_id)
            if not found:
                return False
            state.files = [path for path, _ in found]
            state.recorded_urls = [url for _, url in found if url]
        elif state.state != FAILED:
            return False
        else:  # failed: the journal's reason is all there is to say, and no query is made
            self._failed(
                {"task_id": state.task_id, "task_status": FAILED, "task_status_msg": state.reason}
            )
        state.started = state.finished = now
        return True

    def _send_while_room(self) -> None:
        self._held = False
        while self._queue and self.running < self.allowed and self.clock() >= self._wait_until:
            state = self._queue[0]
            if not self._within_budget(state):
                break
            state.state = SENDING
            self._changed(state)
            try:
                task = self._send(state)
            except InFlightError as exc:  # another mivid process is sending it: wait for it
                self._queue.popleft()
                state.state = ELSEWHERE
                state.reason = f"being sent by another mivid (process {exc.pid})"
                self._elsewhere[state.line] = self.clock() + ELSEWHERE_CHECK
                self._changed(state)
                continue
            except InputError as exc:  # an image changed or vanished since the file was read
                self._queue.popleft()
                self._ended(state, REFUSED, f"not sent: {exc.message}")
                continue
            except ApiError as exc:
                if exc.code in (1302, 1303):
                    state.state = WAITING
                    self._changed(state)
                    self._no_slot(exc.code)
                    return
                if exc.code == 1304:
                    raise
                self._queue.popleft()
                self._ended(state, REFUSED, exc.message)
                continue
            except CredentialsError:
                raise  # every other job would be refused alike
            except MividError as exc:  # the network or the server, after the client's retries
                self._queue.popleft()
                self._send_failed(state, exc)
                continue
            self._queue.popleft()
            self._slot_wait = SLOT_WAIT_FIRST
            self._send_failures = 0
            state.sent = True
            if self.budget is not None:
                self.budget.sent(state.line, state.job.kind)
            self._follow(state, task, self.clock())
            if not state.polling:
                # The create's answer already says how it ended, but a create's answer
                # holds no videos (nor, maybe, its deduction): one query gives them.
                state.polling = True
                state.next_poll = self.clock()
            self._changed(state)
        if (
            self.allowed < self.concurrency
            and self._last_refusal is not None
            and self.clock() - self._last_refusal >= PROBE_AFTER
        ):
            self.allowed += 1
            self._last_refusal = self.clock()

    def _within_budget(self, state: JobState) -> bool:
        """May the job at the head of the queue be sent? (False: held, or none more are sent.)"""
        if self.budget is None:
            return True
        decision = self.budget.decide(state.job.kind)
        if decision is Decision.SEND:
            return True
        if decision is Decision.WAIT:
            self._held = True
            return False
        now = self.clock()
        while self._queue:
            unsent = self._queue.popleft()
            unsent.state = NOT_SENT
            # The state says "not sent" already: the reason says only why.
            unsent.reason = f"would pass the budget ({self.budget.describe()})"
            unsent.started = unsent.finished = now
            self._changed(unsent)
        return False

    def _send_failed(self, state: JobState, error: MividError) -> None:
        """A create the network or the server failed: this job's end, not the batch's.

        After `SEND_FAILURES` in a row the service is taken to be unreachable:
        the jobs not sent yet are not tried (a rerun sends them).
        """
        outcome = UNKNOWN if isinstance(error, CreateOutcomeUnknownError) else SEND_FAILED
        self._ended(state, outcome, error.message)
        self._send_failures += 1
        if self._send_failures < SEND_FAILURES:
            return
        reason = f"not tried: {SEND_FAILURES} creates in a row failed ({error.message})"
        while self._queue:
            self._ended(self._queue.popleft(), SEND_FAILED, reason)

    def _back_from_elsewhere(self) -> None:
        """Jobs another process was sending: follow the task it made, or send when it gave up."""
        now = self.clock()
        for state in [s for s in self.states if self._elsewhere.get(s.line, now + 1) <= now]:
            del self._elsewhere[state.line]
            state.state = WAITING
            self._queue.append(state)  # the claim says again: in flight, its task, or send

    def _ended(self, state: JobState, outcome: str, reason: str) -> None:
        state.state = outcome
        state.reason = reason
        state.polling = False
        state.finished = self.clock()
        self._changed(state)

    def _send(self, state: JobState) -> dict[str, Any]:
        from mivid.submission import submit_create

        prepared = state.job.prepare()
        warned: list[str] = []  # the create's own warnings (its journal could not record it)
        try:
            task: dict[str, Any] = submit_create(
                self.client,
                prepared,
                journal=self.journal,
                sandbox=self.sandbox,
                note=self._note,
                warn=warned.append,
            )
        except ExternalIdTakenError as taken:
            if state.job.named_id:
                raise
            # The id mivid derived from this very job: an earlier run (its journal
            # lost) made this task. Follow it rather than fail the job.
            self._record(taken.task, taken.external_task_id)
            return with_external_id(taken.task, taken.external_task_id)
        finally:
            for text in warned:
                self._warn(text)
        if warned:
            self._unrecorded.add(str(task["task_id"]))  # said: not again at each status
        return task

    def _no_slot(self, code: int) -> None:
        now = self.clock()
        self.refusals += 1
        running = self.running
        if code == 1303 and running < self.allowed:
            self.allowed = max(1, running)
            self._note(
                f"the service allows no more running tasks now (code 1303): "
                f"at most {self.allowed} at once from here on, the rest wait for a slot"
            )
        self._last_refusal = now
        self._wait_until = now + self._slot_wait
        self._slot_wait = min(self._slot_wait * 2, SLOT_WAIT_CAP)

    def _follow(self, state: JobState, task: dict[str, Any], now: float) -> None:
        state.task = task
        state.task_id = str(task["task_id"])
        state.state = status_of(task) or "submitted"
        state.started = state.started if state.started is not None else now
        state.polling = state.state not in FINAL_STATES
        state.pauses = self.schedule.intervals()
        state.next_poll = now + next(state.pauses)

    def _query(self, state: JobState) -> dict[str, Any] | MividError:
        """The job's task, or what kept the service from saying (credentials stop everything)."""
        assert state.task_id is not None
        self.client.is_task_id(state.task_id)  # an answer naming another task is broken
        try:
            task: dict[str, Any] = self.client.get_task(state.task_id, endpoint=state.job.endpoint)
        except MividError as exc:
            if stops_every_job(exc):
                raise
            return exc
        return task

    def _poll_failed(self, state: JobState, error: MividError) -> None:
        """A query that failed after the client's retries: try again later, a few times."""
        state.poll_failures += 1
        if isinstance(error, NotFoundError) or state.poll_failures >= POLL_FAILURES:
            self._ended(
                state, UNKNOWN, f"task {state.task_id} could not be checked: {error.message}"
            )
            return
        assert state.pauses is not None
        state.next_poll = self.clock() + next(state.pauses)

    def _seen(self, state: JobState, task: dict[str, Any]) -> None:
        status = status_of(task)
        state.task = task
        state.poll_failures = 0
        if status != state.state or state.action == SKIP:
            self._record(task)
        if status not in FINAL_STATUSES:
            state.state = status or state.state
            assert state.pauses is not None
            state.next_poll = self.clock() + next(state.pauses)
            self._changed(state)
            return
        state.polling = False
        state.reason = task.get("task_status_msg") or None
        if status == FAILED:
            self._failed(task)
        if self.budget is not None and state.sent:
            self.budget.ended(state.line, task_units(task))
        if status == SUCCEED and self.download is not None:
            state.state = DOWNLOADING
            self._changed(state)
            try:
                state.files = self.download(task)
            except MividError as exc:
                state.download_error = exc.message
            except OSError as exc:  # the folder refused (read-only, full): this job's trouble
                state.download_error = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        state.state = status
        state.finished = self.clock()
        self._changed(state)

    def _failed(self, task: dict[str, Any]) -> None:
        if self.on_failed is not None:
            self.on_failed(task)

    def _changed(self, state: JobState) -> None:
        if self.on_change is not None:
            self.on_change(state)

    def _note(self, text: str) -> None:
        """Say `text` once a run: a note true of several jobs (each 1303 that lowers the
        number at once to the same) is not repeated for each."""
        if self.on_note is not None and text not in self._noted:
            self._noted.add(text)
            self.on_note(text)

    def _warn(self, text: str) -> None:
        (self.on_warn or self._note)(text)

    def _record(self, task: dict[str, Any], external_task_id: str | None = None) -> None:
        """Note what the service said of a task in the journal; a journal that cannot
        write it (a full disk) is a warning naming the task, never the batch's end:
        the task exists and is paid for, and the batch goes on following it."""
        if self.journal is None:
            return
        try:
            self.journal.record_task(task, service=self.service, external_task_id=external_task_id)
        except JournalError as exc:
            task_id = str(task.get("task_id"))
            if task_id in self._unrecorded:
                return
            self._unrecorded.add(task_id)
            self._warn(
                f"the journal could not record task {printable(str(task.get('task_id')))} "
                f"({exc.reason}): it exists at the service, and this batch goes on following "
                f"it; `{hints.command('recover')}` settles the journal once it can be written"
            )


def stops_every_job(error: MividError) -> bool:
    """Credentials, the account, the IP allow-list: what no other job would get past either."""
    return isinstance(error, CredentialsError) or error.code == 1304


def run_batch(client: Any, states: list[JobState], **options: Any) -> list[JobState]:
    """Run every job to its end; see `Scheduler` for the options."""
    return Scheduler(client, states, **options).run()


# --- the outcome -------------------------------------------------------------------------


def outcome_error(
    states: Sequence[JobState],
    *,
    name: str,
    budget: Budget | None = None,
    resume: Callable[[str], str] | None = None,
) -> MividError | None:
    """The error to exit with, naming every job that did not end well; None when all did.

    Jobs the budget kept back (`--max-units`) are told in one line; the hint says the
    budget is per run and gives `resume(units)`, the command that sends them with a
    budget their estimate fits in.

    The status is the gravest kind among them: the network's (5: a download not
    saved, a job whose task could not be checked or created), then the budget's
    and a refusal (4), then a failed task (1).
    """
    failed = [
        f"{name}:{s.line}: task {s.task_id} failed: {s.reason or failure_reason({})}"
        for s in states
        if s.state == FAILED
    ]
    refused = [f"{name}:{s.line}: refused: {s.reason}" for s in states if s.state == REFUSED]
    downloads = [
        f"{name}:{s.line}: task {s.task_id} succeeded but its video was not saved: {s.download_error}"
        for s in states
        if s.download_error
    ]
    kept = [s.line for s in states if s.state == NOT_SENT]
    over = []
    if kept:
        used = f" ({budget.describe()})" if budget is not None else ""
        shown = ", ".join(str(line) for line in kept[:10]) + (", …" if len(kept) > 10 else "")
        over = [
            f"{name}: {len(kept)} job{'' if len(kept) == 1 else 's'} not sent: "
            f"the budget would have been passed{used}; line{'' if len(kept) == 1 else 's'} {shown}"
        ]
    unfinished = [
        f"{name}:{s.line}: {_unfinished(s)}" for s in states if s.state in (UNKNOWN, SEND_FAILED)
    ]
    lines = over + downloads + unfinished + refused + failed
    if not lines:
        return None
    retry = (
        "a finished job is never sent again: to try one again, change its line "
        "(or give it a new external_task_id)"
    )
    if downloads and not unfinished:
        return DownloadsFailedError(lines, hint="run the same command again to retry the downloads")
    if unfinished:
        return JobsUnfinishedError(
            lines,
            hint="run the same command again: it looks up what may exist and sends the rest, "
            "never a task twice",
        )
    if over:
        kept_jobs = [s for s in states if s.state == NOT_SENT]
        hint = _budget_hint(kept_jobs, budget, resume) if resume else None
        return BudgetError(lines, hint=hint)
    if refused:
        return JobsRefusedError(lines, hint=retry)
    return JobsFailedError(lines, hint=retry)


def _budget_hint(
    kept: Sequence[JobState], budget: Budget | None, resume: Callable[[str], str]
) -> str:
    """`--max-units` is a budget per run: the same command would spend as much again. The
    command to paste gives a budget the jobs left should cost (what the journal and this
    run saw of their kinds), or `N` when a kind's cost is not known yet."""
    from mivid.budget import estimate
    from mivid.units import units_text

    left = estimate([state.job.kind for state in kept], budget.costs if budget else {})
    jobs = "the job" if len(kept) == 1 else f"the {len(kept)} jobs"
    per_run = "--max-units is a budget for one run (a rerun may spend as much again)"
    if left.unpriced:
        unseen = sum(left.unpriced.values())
        cost = (
            f"{jobs} left should cost about {units_text(left.known)} units, plus "
            f"{counted(unseen, 'task')} of a kind not seen yet"
            if left.known
            else f"what {jobs} left {'costs' if len(kept) == 1 else 'cost'} is not known yet "
            "(a kind not seen yet)"
        )
        them = "it" if len(kept) == 1 else "them"
        return f"{per_run}; {cost}; send {them} with the budget you choose (N): {resume('N')}"
    return (
        f"{per_run}; {jobs} left should cost about {units_text(left.known)} units: "
        f"{resume(units_text(left.known))}"
    )


def _unfinished(state: JobState) -> str:
    if state.state == SEND_FAILED:
        return f"not sent: {state.reason}"
    if state.task_id is not None:
        return f"task {state.task_id}: {state.reason}"
    return f"the create's outcome is unknown: {state.reason}"


def totals(states: Sequence[JobState]) -> dict[str, int]:
    """How many jobs are in each state (for the live view's footer and the final line)."""
    counts: dict[str, int] = {}
    for state in states:
        counts[state.state] = counts.get(state.state, 0) + 1
    return counts
