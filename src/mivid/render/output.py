"""The run's two streams, and the one place that decides what form results take.

stdout carries results, stderr carries progress, warnings and errors. Colour
and live displays appear only on a terminal, never with `NO_COLOR` or
`--no-color`, and never on stdout with `--json`.

`Output.form` decides the form of a command's results — a table on a
terminal, tab-separated lines in a pipe, JSON with `--json`, ids with `-q` —
and `Output.records` writes them through a `RecordView` as they come, one
record at a time (a JSON array is streamed, never built whole), so a new
form is one change here. rich is imported only when something is drawn for a
person on a terminal, which keeps scripted runs fast.

Nothing reaches either stream unguarded: every line, note, warning and error
goes through `mivid.plaintext.visible` (a terminal never acts on text from the
service, a file name or a prompt), every JSON document through
`mivid.plaintext.json_text` (strict JSON), and the rich consoles draw every
segment the same way and never read text as markup.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Any, Generic, TextIO, TypeVar, cast

from mivid.auth import Secrets
from mivid.plaintext import json_text, visible

if TYPE_CHECKING:
    from rich.console import Console
    from rich.segment import Segment

    from mivid.errors import MividError

T = TypeVar("T")


def is_tty(stream: TextIO | None) -> bool:
    """Is the stream a terminal (False for a closed or missing stream)?"""
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


class Form(Enum):
    """How a command's results are written on stdout."""

    TABLE = "table"  # for a person on a terminal
    LINES = "lines"  # in a pipe: one record a line, tab-separated, no prose, no header
    JSON = "json"  # --json: one JSON document
    IDS = "ids"  # -q: one id a line


@dataclass(frozen=True)
class RecordView(Generic[T]):
    """How one kind of record is written in each form.

    `lines`: the pipe's line(s) for one record; `json`: its JSON value; `ident`:
    its id (for `-q`). For a person on a terminal, `table` draws the records
    collected (a table sizes its columns from every row), or `person` draws each
    as it comes; with neither, the pipe's lines are shown. `between` is written
    between two records a person sees, and `empty` is said on stderr, on a
    terminal, when there is no record. In a pipe there is nothing but the
    records' lines: no heading, no blank line, no prose; what a person's view
    shows of a record that is no result (the command that follows a task) is
    `aside`, said on stderr after its lines.
    """

    json: Callable[[T], Any]
    lines: Callable[[T], Sequence[str]]
    ident: Callable[[T], str] | None = None
    table: Callable[[Output, Sequence[T]], None] | None = None
    person: Callable[[Output, T], None] | None = None
    between: str | None = None
    empty: str | None = None
    aside: Callable[[T], str] | None = None


@dataclass
class RecordSink(Generic[T]):
    """Takes records one at a time and writes them in the form decided (see `Output.records`)."""

    out: Output
    view: RecordView[T]
    form: Form
    one: bool = False  # JSON: the one record as an object, not an array
    count: int = 0
    _kept: list[T] = field(default_factory=list)

    def add(self, record: T) -> None:
        first = self.count == 0
        self.count += 1
        if self.form is Form.JSON:
            self._json(record, first=first)
        elif self.form is Form.IDS:
            assert self.view.ident is not None
            ident = self.view.ident(record)
            if ident:  # a record with no id yet (a job not sent) has no line
                self.out.line(ident)
        elif self.form is Form.TABLE and self.view.table is not None:
            self._kept.append(record)  # a table sizes its columns from every row
        else:
            if self.form is Form.TABLE and self.view.person is not None:
                if not first and self.view.between is not None:
                    self.out.line(self.view.between)
                self.view.person(self.out, record)
                return
            for text in self.view.lines(record):
                self.out.line(text)
            if self.form is Form.LINES and self.view.aside is not None:
                self.out.stdout.flush()  # the result first, then what a person would see
                self.out.note(self.view.aside(record))

    def extend(self, records: Iterator[T] | Sequence[T]) -> None:
        """Several records (a page of them), on their way to a reader when it returns."""
        if (
            self.form is Form.LINES
            and self.view.between is None
            and self.view.aside is None
            and self.count
        ):
            # A page of lines written and guarded at once (30,000 lines: 1,000 writes).
            records = list(records)
            self.count += len(records)
            self.out.lines([text for record in records for text in self.view.lines(record)])
        elif self.form is Form.JSON and not self.one:
            # A page of elements scrubbed and written at once.
            pieces = []
            for record in records:
                pieces.append(self._element(record, first=self.count == 0))
                self.count += 1
            if pieces:
                self.out.stdout.write(self.out.secrets.scrub("".join(pieces)))
        else:
            for record in records:
                self.add(record)
        if self.form is not Form.TABLE:
            self.out.stdout.flush()

    def stream(self, records: Iterable[T], *, at_once: int = 500) -> None:
        """Records from a long stream (a journal's 50,000 creates), `at_once` at a time: what is
        written is not held (a table still collects every row to size its columns)."""
        iterator = iter(records)
        while chunk := list(islice(iterator, at_once)):
            self.extend(chunk)

    def _json(self, record: T, *, first: bool) -> None:
        if self.one:
            self.out.stdout.write(self.out.secrets.scrub(json_text(self.view.json(record))) + "\n")
            return
        self.out.stdout.write(self.out.secrets.scrub(self._element(record, first=first)))

    def _element(self, record: T, *, first: bool) -> str:
        """One element of the JSON array, with what goes before it: byte for byte what
        json.dumps(all, indent=2) writes, one element at a time."""
        return ("[\n  " if first else ",\n  ") + json_text(self.view.json(record), margin="  ")

    def close(self) -> None:
        if self.form is Form.JSON and not self.one:
            self.out.stdout.write("[]\n" if self.count == 0 else "\n]\n")
        elif self.form is Form.TABLE and self.view.table is not None and self._kept:
            self.view.table(self.out, self._kept)
        if self.count == 0 and self.form is Form.TABLE and self.view.empty:
            self.out.note(self.view.empty)
        self.out.stdout.flush()


@dataclass
class Output:
    """The run's output policy, decided once from flags, environment and terminals."""

    no_color: bool = False  # --no-color, or NO_COLOR in the environment
    quiet: bool = False  # -q: ids on stdout, and no banner or live view on stderr
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: TextIO | None = field(default_factory=lambda: sys.stdin)
    #: Credential strings cut out of everything written (see `mivid.auth.Secrets`).
    secrets: Secrets = field(default_factory=Secrets, repr=False)
    #: The run's environment, which rich reads too (TERM, COLUMNS …); None: the process's.
    environ: Mapping[str, str] | None = field(default=None, repr=False)
    _out: Console | None = field(default=None, repr=False)
    _err: Console | None = field(default=None, repr=False)
    #: What `warn_once` has said this run.
    _warned: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def for_streams(
        cls,
        stdout: TextIO,
        stderr: TextIO,
        *,
        stdin: TextIO | None,
        no_color: bool,
        secrets: Secrets | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Output:
        return cls(
            no_color=no_color,
            stdout=cast(TextIO, _Results(stdout)),
            stderr=stderr,
            stdin=stdin,
            secrets=secrets if secrets is not None else Secrets(),
            environ=environ,
        )

    def guard(self, text: str, *, keep: str = "") -> str:
        """Text as it may be printed: `visible` (see there), no credential in it."""
        return self.secrets.scrub(visible(text, keep=keep))

    @property
    def color(self) -> bool:
        return not self.no_color

    @property
    def stdout_is_tty(self) -> bool:
        return is_tty(self.stdout)

    @property
    def stderr_is_tty(self) -> bool:
        return is_tty(self.stderr)

    @property
    def can_ask(self) -> bool:
        """A person is there to answer a question: stdin and stderr are terminals."""
        return is_tty(self.stdin) and is_tty(self.stderr)

    def shows_progress(self, form: Form | None = None) -> bool:
        """Live views and progress bars: only for a person watching stderr, not with -q, nor
        when the results are `form` JSON or ids (a script is reading)."""
        scripted = form is Form.JSON or form is Form.IDS
        return self.stderr_is_tty and not scripted and not self.quiet

    # -- the form of results -------------------------------------------------------------

    def form(self, *, json: bool = False, quiet: bool = False) -> Form:
        """The one place that decides how results are written."""
        if json:
            return Form.JSON
        if quiet:
            return Form.IDS
        return Form.TABLE if self.stdout_is_tty else Form.LINES

    def note_unless_json(self, form: Form, text: str) -> None:
        """A note on stderr about results read as text (`base-url is not set`); none with
        --json, whose one document says it (a script reading it has no use for prose)."""
        if form is not Form.JSON:
            self.note(text)

    def note_for_table(self, form: Form, text: str) -> None:
        """A note on stderr for a person reading a table (how to see more); no other form."""
        if form is Form.TABLE:
            self.note(text)

    def nothing(self, form: Form, why: str | None = None) -> None:
        """No records at all (nothing picked, nothing to do): JSON still gets its document,
        an empty array, so a script reading it reads one either way; any other form writes
        nothing on stdout, and `why` (if any) goes to stderr."""
        if form is Form.JSON:
            self.json([])
        elif why is not None:
            self.note(why)

    @contextmanager
    def records(
        self, view: RecordView[T], form: Form, *, one: bool = False
    ) -> Iterator[RecordSink[T]]:
        """A sink for records in `form`, finished (array closed, table drawn) on leaving."""
        sink = RecordSink(self, view, form, one=one)
        try:
            yield sink
        except BaseException:
            if form is Form.JSON and sink.count:
                sink.close()  # stdout stays one valid JSON document, whatever happens
            raise
        sink.close()

    @contextmanager
    def results_may_be_lost(self, going_on: str) -> Iterator[None]:
        """Work that goes on after its first results (a batch's jobs): losing stdout on the
        way must not abandon it (paid tasks unfollowed, jobs never sent).

        A reader that goes away (`| head -1`) or a stdout the machine refuses (a full
        disk) loses the rest of the results: that is said once on stderr, with
        `going_on` (what mivid does now, how to see the results again), and the work
        goes on. After the block, a refused stdout is a LocalFileError (exit 74) when
        the work itself ended well; a reader that went away is no failure.
        """
        results = self.stdout
        if not isinstance(results, _Results):
            yield
            return

        def lost(exc: OSError) -> None:
            why = (
                "stdout was closed (its reader went away)"
                if isinstance(exc, BrokenPipeError)
                else _refused(exc).message
            )
            self.warn(f"{why}: the rest of the results go nowhere; {going_on}")

        results.on_lost = lost
        try:
            yield
        finally:
            results.on_lost = None
        if results.lost is not None and not isinstance(results.lost, BrokenPipeError):
            raise _refused(results.lost)

    # -- consoles --------------------------------------------------------------------------

    def out(self) -> Console:
        """A rich console on stdout (only for people on a terminal)."""
        if self._out is None:
            self._out = self._console(self.stdout)
        return self._out

    def err(self) -> Console:
        """A rich console on stderr: progress, live status, warnings."""
        if self._err is None:
            self._err = self._console(self.stderr)
        return self._err

    def _console(self, stream: TextIO) -> Console:
        console: Console = _safe_console()(
            self.guard,
            file=stream,
            no_color=not self.color,
            highlight=False,
            soft_wrap=False,
            emoji=False,
            markup=False,  # text from a user or the service is never read as [markup]
            # The run's environment, not the process's: the same for a real run, and a run
            # in a test process sees the terminal its test describes.
            _environ=self.environ,
        )
        return console

    # -- plain writing ---------------------------------------------------------------

    def json(self, value: Any) -> None:
        """Pure JSON on stdout: one document, nothing else."""
        self.stdout.write(self.secrets.scrub(json_text(value)) + "\n")
        self.stdout.flush()

    def line(self, text: str = "") -> None:
        """One line of results on stdout (a tab between cells stays a tab)."""
        self.stdout.write(self.guard(text, keep="\t") + "\n")

    def lines(self, texts: Sequence[str]) -> None:
        """Lines of results, as `line` writes each, in one write."""
        if not texts:
            return
        joined = "\n".join(texts)
        if joined.count("\n") != len(texts) - 1:  # a line holding a newline: each on its own
            for text in texts:
                self.line(text)
            return
        self.stdout.write(self.guard(joined, keep="\t\n") + "\n")

    def prompt(self, text: str) -> None:
        """A question on stderr, the cursor left after it."""
        self.stderr.write(self.guard(text, keep="\n"))
        self.stderr.flush()

    def note(self, text: str, *, style: str = "dim") -> None:
        """A line for people on stderr (progress, hints).

        Never broken by mivid: a hint is often a command to copy, and the terminal
        folds a long line without putting a newline into what is pasted.
        """
        text = self.guard(text)
        if self.stderr_is_tty and self.color:
            self.err().print(text, style=style, markup=False, soft_wrap=True)
        else:
            self.stderr.write(text + "\n")
            self.stderr.flush()

    def warn(self, text: str) -> None:
        self._labelled("warning", "yellow", [text])

    def warn_once(self, text: str) -> None:
        """A warning said once a run, however many steps find the same trouble (the journal)."""
        if text not in self._warned:
            self._warned.add(text)
            self.warn(text)

    def error(self, error: MividError) -> None:
        lines = error.lines()
        if error.request_id:
            lines = [*lines[:-1], f"{lines[-1]} (request_id {error.request_id})"] if lines else []
        self._labelled("error", "red", lines)
        if error.hint:
            self._labelled("hint", "blue", [error.hint])

    def _labelled(self, label: str, style: str, lines: list[str]) -> None:
        lines = [self.guard(text) for text in lines]
        if self.stderr_is_tty and self.color:
            from rich.text import Text

            console = self.err()
            for text in lines:
                console.print(Text.assemble((f"{label}: ", f"bold {style}"), text), soft_wrap=True)
        else:
            for text in lines:
                self.stderr.write(f"{label}: {text}\n")
            self.stderr.flush()


@lru_cache(maxsize=1)
def _safe_console() -> Callable[..., Console]:
    """rich's Console, passing the text of every segment through a guard (`Output.guard`).

    rich strips only a few control characters (not ESC, not C1): this console
    guards the text of each segment as it is written, leaving rich's own
    control segments (cursor moves of a live view) and its styles as they
    are. Markup is off in `Output._console`. This is the last guard, not where
    a view's text is escaped: rich has measured a segment by then, so a table or
    panel is given text escaped already (`mivid.plaintext.cell_text`), which
    this leaves as it is.
    """
    from rich import control
    from rich.console import Console
    from rich.segment import Segment

    # rich deletes BEL, BS, VT, FF and CR from every Text before any guard sees it, so an
    # id holding one would be shown as another id (what is copied from a panel is not the
    # id). Drawn as `visible` draws them instead, as in a pipe. (rich passes this table to
    # str.translate; it is read at each call, so it is changed in place, once.)
    table: dict[int, str | None] = control._CONTROL_STRIP_TRANSLATE  # type: ignore[assignment]
    table.update({code: f"\\x{code:02x}" for code in table})

    class SafeConsole(Console):
        def __init__(self, guard: Callable[..., str], **options: Any) -> None:
            super().__init__(**options)
            self.guard = guard

        def _render_buffer(self, buffer: Iterable[Segment]) -> str:
            return super()._render_buffer(
                segment
                if segment.control
                else Segment(self.guard(segment.text, keep="\n"), segment.style)
                for segment in buffer
            )

    return SafeConsole


class _Results:
    """stdout, whose failed writes say what failed: `stdout (the results): No space left …`.

    A write or flush refused by the machine (stdout on /dev/full, a full disk
    under a redirect) becomes a LocalFileError naming stdout, instead of an
    OSError that names nothing; a reader that went away (EPIPE) stays as it is
    (`mivid.cli` treats it as no failure). Everything else is the stream's own.

    While `on_lost` is set (`Output.results_may_be_lost`: work goes on after the
    first results), a write or flush that fails either way loses the results
    instead: `lost` keeps why, `on_lost` is told once, and every later write goes
    nowhere (the file descriptor itself onto /dev/null, so that what Python still
    holds in its buffer cannot fail again at exit).
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.lost: OSError | None = None
        self.on_lost: Callable[[OSError], None] | None = None

    def write(self, text: str) -> int:
        if self.lost is not None:
            return len(text)
        try:
            return self._stream.write(text)
        except OSError as exc:
            self._failed(exc)
            return len(text)

    def flush(self) -> None:
        if self.lost is not None:
            return
        try:
            self._stream.flush()
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        if self.on_lost is None:
            if isinstance(exc, BrokenPipeError):
                raise exc
            raise _refused(exc) from exc
        self.lost = exc
        to_nowhere(self._stream)
        self.on_lost(exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def to_nowhere(stream: TextIO) -> None:
    """Point the stream's file descriptor at /dev/null (a stream with none is left alone)."""
    import os

    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    nowhere = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(nowhere, descriptor)
    finally:
        os.close(nowhere)


def _refused(exc: OSError) -> MividError:
    from mivid.errors import local_file_error

    return local_file_error(exc, what="stdout (the results)")
