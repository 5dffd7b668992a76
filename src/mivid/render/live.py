"""Live views for a person on a terminal: status lines, the batch table, progress bars, the watch.

Each is a context manager that draws while a flow runs and gets the flow's
callbacks (`on_update`, `on_change`, `on_progress`), or does nothing at all
when there is nobody to see it (a pipe, `--json`). One setup for every live
view (`_live`): rich's Live on the chosen console, four frames a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mivid.plaintext import cell_text, counted, elapsed_time
from mivid.render.output import Form, Output, RecordSink
from mivid.render.views import (
    STATUS_STYLES,
    Column,
    Ended,
    fitted_table,
    job_prompt,
    task_table_view,
    units_total_line,
)

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from mivid.batch import JobState
    from mivid.download import SavedVideo
    from mivid.flows.listing import Listed


@contextmanager
def _live(
    console: Console, renderable: Any = None, *, transient: bool, auto_refresh: bool = True
) -> Iterator[Live]:
    from rich.live import Live

    options: dict[str, Any] = {"refresh_per_second": 4} if auto_refresh else {}
    with Live(
        renderable,
        console=console,
        transient=transient,
        auto_refresh=auto_refresh,
        **options,
    ) as live:
        yield live


# -- wait: one line per task -------------------------------------------------------------------


class _StatusLines:
    """One line per task for rich Live: id, status (coloured), time since it was made."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.latest: dict[str, dict[str, Any] | None] = dict.fromkeys(ids)
        self.started = time.time()

    def update(self, tasks: Mapping[str, dict[str, Any] | None]) -> None:
        self.latest.update(tasks)

    def __rich__(self) -> RenderableType:
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 2))
        now = time.time()
        for task_id, task in self.latest.items():
            status = str(task.get("task_status", "")) if task else "asking…"
            created = task.get("created_at") if task else None
            since = self.started
            if isinstance(created, (int, float)) and 0 < created / 1000 <= now:
                since = created / 1000
            table.add_row(
                Text(cell_text(task_id), style="bold"),
                Text(cell_text(status), style=STATUS_STYLES.get(status, "dim")),
                Text(elapsed_time(now - since), style="dim"),
            )
        return table


Update = Callable[[Mapping[str, dict[str, Any] | None]], None]


@contextmanager
def status_lines(out: Output, ids: Sequence[str], *, enabled: bool) -> Iterator[Update | None]:
    """Live status lines on stderr while tasks are followed; yields their `on_update`."""
    if not enabled:
        yield None
        return
    lines = _StatusLines(ids)
    with _live(out.err(), lines, transient=False):
        yield lines.update


class EndedReport:
    """Tasks shown as they end (`wait`, `create --wait`): a script reads each task's line, id or
    JSON element (and a person its lines) the moment it ends, not when the last task does.

    While the live status lines hold the terminal, a person's view of the tasks is held
    until they close (stdout and the live lines share the screen). `finish` writes what is
    held, whatever stopped the wait (a timeout, Ctrl-C): what ended is shown.
    """

    def __init__(self, results: RecordSink[Ended] | None, *, live: bool) -> None:
        self.results = results
        self.held: list[Ended] | None = (
            [] if live and results is not None and results.form is Form.TABLE else None
        )

    def ended(
        self, listed: Sequence[Listed], saved: Mapping[str, Sequence[SavedVideo]] | None
    ) -> None:
        """The tasks that ended in one round, with the files saved (None: no `--download`)."""
        if self.results is None:
            return
        records = [
            Ended(
                item,
                None
                if saved is None
                else [str(video.path) for video in saved.get(item.task_id, ())],
            )
            for item in listed
        ]
        if self.held is not None:
            self.held += records
        else:
            self.results.extend(records)

    def finish(self) -> None:
        if self.results is not None and self.held:
            held, self.held = self.held, []
            self.results.extend(held)


# -- batch: the jobs table ---------------------------------------------------------------------


#: The live batch table: the prompt tells the jobs apart; it is cut first on a narrow terminal.
LIVE_JOB_COLUMNS = (
    Column("LINE"),
    Column("STATE"),
    Column("TASK ID", drop=2),
    Column("ELAPSED", drop=3),
    Column("PROMPT", drop=1, least=12, most=60),
)


#: Lines of the live batch table's frame that are not job rows: the header, the totals
#: line (which may fold onto a second one), and the line the cursor rests on.
JOBS_LINES_BESIDE_ROWS = 4


class _JobsView:
    """As many jobs as the terminal has room for, one row each, and the totals.

    The rows are chosen by what a person follows: the jobs running now, then the ones
    that ended last (newest first), then the next to be sent; they are shown in the
    jobs file's order.
    """

    def __init__(
        self, clock: Callable[[], float], width: Callable[[], int], height: Callable[[], int]
    ) -> None:
        self.clock = clock
        # The terminal's, asked each frame (it may be resized).
        self.width = width
        self.height = height
        self.states: list[JobState] = []

    def shown(self) -> list[JobState]:
        """The jobs that fit on the screen, in the jobs file's order."""
        from mivid.batch import FINAL_STATES, WAITING

        room = max(1, self.height() - JOBS_LINES_BESIDE_ROWS)
        active = [s for s in self.states if s.state not in (*FINAL_STATES, WAITING)]
        done = sorted((s for s in self.states if s.final), key=lambda s: -(s.finished or 0))
        waiting = [s for s in self.states if s.state == WAITING]
        chosen = [*active, *done, *waiting][:room]
        return sorted(chosen, key=lambda s: s.line)

    def __rich__(self) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        from mivid.batch import totals

        now = self.clock()
        shown = self.shown()
        rows = []
        for job in shown:
            elapsed = ""
            if job.started is not None:
                elapsed = elapsed_time((job.finished or now) - job.started)
            rows.append(
                [str(job.line), job.state, cell_text(job.task_id or ""), elapsed, job_prompt(job)]
            )
        table = fitted_table(self.width(), LIVE_JOB_COLUMNS, rows, status_column=1)
        counts = totals(self.states)
        footer = " · ".join(f"{count} {name}" for name, count in sorted(counts.items()))
        hidden = len(self.states) - len(shown)
        more = f" ({hidden} more not shown)" if hidden > 0 else ""
        jobs = counted(len(self.states), "job")
        return Group(table, Text(f"{jobs}: {footer}{more}", style="dim"))


class JobsLive:
    """What a running batch's live view needs from the flow: the states, and notes above it."""

    def __init__(self, out: Output, view: _JobsView | None) -> None:
        self.out = out
        self.view = view
        self.live: Live | None = None

    def plan(self, states: list[JobState]) -> None:
        if self.view is not None:
            self.view.states = states

    def note(self, text: str) -> None:
        """A line above the live table (or on stderr when there is none)."""
        if self.live is not None:
            self.live.console.print(
                text, style="dim", markup=False, highlight=False, soft_wrap=True
            )
        else:
            self.out.note(text)


@contextmanager
def jobs_table(out: Output, *, enabled: bool) -> Iterator[JobsLive]:
    """The live jobs table on stderr while a batch runs.

    Transient: its last frame would repeat what follows it (the final table on
    stdout, the totals line on stderr).
    """
    if not enabled:
        yield JobsLive(out, None)
        return
    view = _JobsView(time.monotonic, lambda: out.err().width, lambda: out.err().height)
    jobs = JobsLive(out, view)
    with _live(out.err(), view, transient=True) as live:
        jobs.live = live
        try:
            yield jobs
        finally:
            jobs.live = None


def job_results_form(form: Form, *, live: bool) -> Form:
    """The form of a batch's results: on a terminal a table at the end only while the live
    view shows the jobs meanwhile; without it, each job's line as the job ends."""
    return Form.LINES if form is Form.TABLE and not live else form


class JobReport:
    """A batch's results as it runs: in a pipe a job's line as the job ends; JSON and the
    table (in the jobs file's order) once every job has ended."""

    def __init__(self, results: RecordSink[JobState], live: JobsLive) -> None:
        self.results = results
        self.streaming = results.form is Form.LINES
        self.live = live
        self.states: list[JobState] = []
        self.printed: set[int] = set()

    def planned(self, found: list[JobState]) -> None:
        self.states.extend(found)
        self.live.plan(found)

    def changed(self, job: JobState) -> None:
        if self.streaming and job.final and not job.polling and job.line not in self.printed:
            self.printed.add(job.line)
            self.results.add(job)
            self.results.out.stdout.flush()

    def finish(self) -> None:
        if not self.streaming:
            self.results.extend(self.states)

    def stopped(self) -> None:
        """Ctrl-C: JSON gets the jobs as they are (stdout stays one document a script reads);
        the lines so far were written, and the live view showed a person where each stood."""
        if self.results.form is Form.JSON:
            self.results.extend(self.states)


# -- downloads: a bar per file -----------------------------------------------------------------

Progress = Callable[[Path, int, "int | None"], None]


@contextmanager
def download_bars(out: Output, *, enabled: bool) -> Iterator[Progress | None]:
    """A rich progress bar per file on stderr, or nothing in a pipe; yields `on_progress`."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn

    bars: dict[Path, TaskID] = {}
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        _speed_column(),
        console=out.err(),
        transient=False,
    ) as progress:

        def update(path: Path, done: int, total: int | None) -> None:
            if path not in bars:
                bars[path] = progress.add_task(cell_text(path.name), total=total)
            progress.update(bars[path], completed=done, total=total)

        yield update


def _speed_column() -> Any:
    """The transfer speed, or nothing while it is not known yet (rich draws a red `?`).

    A file that came faster than rich could measure gets its average speed.
    """
    from rich.filesize import decimal
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class Speed(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            if speed is None and task.finished and task.elapsed:
                speed = task.completed / task.elapsed
            if not speed:
                return Text("")
            return Text(f"{decimal(int(speed))}/s", style="progress.data.speed")

    return Speed()


# -- list --watch ------------------------------------------------------------------------------


#: Lines of `list --watch`'s frame that are not task rows: the header, a footer that may
#: fold onto a second line, and the line the cursor rests on.
WATCH_LINES_BESIDE_ROWS = 4


def watch_tasks(
    out: Output,
    fetch: Callable[[], Sequence[Listed]],
    *,
    interval: float,
    is_running: Callable[[Listed], bool],
    sleep: Callable[[float], object],
) -> None:
    """Redraw the task table on stdout until every task on it has ended (Ctrl-C: exit 130).

    While it redraws, the table has as many rows as the terminal leaves under its
    header and above the footer, so the footer (how many run, when it was redrawn,
    how to stop) never scrolls away; the last frame shows every task. With no task
    to show there is nothing to watch: it says so and returns.
    """
    from rich.console import Group
    from rich.text import Text

    listed = fetch()
    if not listed:
        out.note("no tasks to watch")
        return
    with _live(out.out(), transient=False, auto_refresh=False) as live:
        while True:
            running = [item for item in listed if is_running(item)]
            if not running:
                # The last frame is what `list` prints: every task, then the units total.
                total = Text(units_total_line(listed), style="dim")
                live.update(Group(task_table_view(out, listed), total), refresh=True)
                break
            # The header, a footer of up to two lines, and the line the cursor rests on.
            rows = max(1, out.out().height - WATCH_LINES_BESIDE_ROWS)
            shown = listed[:rows]
            more = f" · {len(listed) - len(shown)} more below" if len(listed) > len(shown) else ""
            footer = Text(
                f"{len(running)} running{more} · every {interval:g} s "
                f"(last {time.strftime('%H:%M:%S')}) · Ctrl-C to stop",
                style="dim",
            )
            live.update(Group(task_table_view(out, shown), footer), refresh=True)
            sleep(interval)
            listed = fetch()
    out.note("every task on the list has ended")
