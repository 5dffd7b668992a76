"""How each kind of result looks: one `RecordView` per kind, and the rich tables and panels.

Every table, panel and coloured line of mivid's results is drawn here; which
form a run uses is `Output.form`'s decision. rich is imported inside the
functions that draw for a person, never at import.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from mivid.plaintext import (
    cell_text,
    escape_cell,
    from_millis,
    iso_millis,
    iso_seconds,
    iso_time,
    local_time,
    one_line,
    path_from_here,
    public_url,
    relative_time,
    tsv_cell,
    visible,
)
from mivid.render.output import Form, Output, RecordView
from mivid.vocabulary import (
    FAILED,
    SUCCEED,
    external_id_of,
    status_of,
    task_id_of,
    task_videos,
)

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from mivid.batch import JobState
    from mivid.download import SavedVideo
    from mivid.endpoints import Endpoint, ModelInfo
    from mivid.errors import MividError
    from mivid.flows.account import Looked, ShownPack
    from mivid.flows.listing import Listed
    from mivid.flows.settling import Settled
    from mivid.gallery import Gallery
    from mivid.journal import JournalEntry
    from mivid.models import Task
    from mivid.request_body import CreateBody
    from mivid.settings import Resolved, Settings
    from mivid.spending import Spending

STATUS_STYLES = {
    "submitted": "yellow",
    "processing": "cyan",
    "succeed": "green",
    "failed": "red",
}


def _typed(task: Mapping[str, Any]) -> Task:
    from mivid.models import parse_task  # pydantic: for people's views only

    return parse_task(dict(task))


def cut_to(text: str, width: int) -> str:
    """`text` in at most `width` terminal cells, cut with an ellipsis (a CJK character is two)."""
    if _width(text) <= width:
        return text
    if text.isascii():
        return text[: max(0, width - 1)] + "…"
    from rich.cells import set_cell_size

    return set_cell_size(text, max(0, width - 1)).rstrip(" ") + "…"


def _plain_table() -> Table:
    from rich.table import Table

    return Table(box=None, header_style="bold", pad_edge=False, show_edge=False)


# -- create ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """A task just created (with its endpoint and the journal's entry), and the command that
    follows it."""

    listed: Listed
    follow: str

    @property
    def task(self) -> dict[str, Any]:
        return self.listed.task

    def rows(self, *, follow: bool = True) -> list[tuple[str, str]]:
        """The panel's rows; `follow=False` when mivid follows it itself (`create --wait`)."""
        task = _typed(self.task)
        rows = [("task id", task.task_id), ("status", task.task_status)]
        if task.external_task_id:
            rows.append(("external id", task.external_task_id))
        if follow:
            rows.append(("follow it", self.follow))
        return rows


def _created_panel(rows: list[tuple[str, str]]) -> RenderableType:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for name, value in rows:
        style = STATUS_STYLES.get(value, "") if name == "status" else ""
        grid.add_row(name, Text(cell_text(value), style=style))
    return Panel(grid, title="task created", expand=False)


def _created_person(out: Output, created: Created) -> None:
    out.out().print(_created_panel(created.rows()))


def _created_line(created: Created) -> list[str]:
    """task id, status, external id: the created task in a pipe ("follow it" goes to stderr)."""
    task = created.task
    cells = [task_id_of(task), status_of(task), external_id_of(task) or ""]
    return ["\t".join(tsv_cell(cell) for cell in cells)]


CREATED = RecordView[Created](
    json=lambda created: created.listed.as_json(),  # as `get --json` writes the task
    lines=_created_line,
    ident=lambda created: task_id_of(created.task),
    person=_created_person,
    aside=lambda created: f"follow it: {created.follow}",  # on a terminal the panel says it
)


def created_before_following(out: Output, created: Created, form: Form) -> bool:
    """The task `create --wait` made, before following it; True when that was its result.

    With -q its id is the result, on stdout at once (a script has it before the wait
    ends, and no summary follows); with --json nothing (the one document is the task
    as it ended); otherwise the task on stderr, as progress (stdout's one result is
    the summary at the end).
    """
    if form is Form.IDS:
        with out.records(CREATED, form, one=True) as sink:
            sink.add(created)
        return True
    if form is Form.JSON:
        return False
    if out.stderr_is_tty:
        out.err().print(_created_panel(created.rows(follow=False)))
    else:
        for name, value in created.rows(follow=False):
            out.note(f"{name}: {value}")
    return False


def created_unfollowed(out: Output, created: Created, form: Form) -> None:
    """Following the task `create --wait` made failed: it was paid for, so if nothing has
    named it yet (--json: its one document never came), name it on stderr."""
    if form is Form.JSON:
        out.note(f"task {created.task['task_id']} was created; follow it: {created.follow}")


def dry_run_body(out: Output, body: CreateBody, form: Form) -> None:
    """`create --dry-run`: the body that would be sent, as JSON in every form; each image's
    base64 shortened for a person, whole with --json (what would really be sent)."""
    out.json(body.preview(shorten_images=form is not Form.JSON))


# -- get ---------------------------------------------------------------------------------------


def task_rows(
    task: Task,
    *,
    now: datetime | None = None,
    entry: JournalEntry | None = None,
    endpoint: Endpoint | None = None,
) -> list[tuple[str, str]]:
    """The task panel's rows, in order: what the service says of the task, where it was
    found (`endpoint`), and what the journal remembers of its create (`entry`)."""
    rows = [("task id", task.task_id), ("status", task.task_status)]
    if task.task_status_msg:
        rows.append(("reason", task.task_status_msg))
    if task.external_task_id:
        rows.append(("external id", task.external_task_id))
    if endpoint is not None:
        rows.append(("endpoint", f"{endpoint.name} ({endpoint.title})"))
    if entry is not None:
        rows.extend(_request_rows(entry))
    for name, moment in (("created", task.created), ("updated", task.updated)):
        if moment is not None:
            rows.append((name, f"{local_time(moment)} ({relative_time(moment, now=now)})"))
    several = len(task.videos) > 1
    for index, video in enumerate(task.videos, start=1):
        label = f"video {index}" if several else "video"
        if video.duration:  # in the panel: beside a URL, it would wrap on a line of its own
            rows.append((f"length {index}" if several else "length", f"{video.duration} s"))
        if video.url:
            rows.append((label, video.url))
        if video.watermark_url:
            rows.append((f"watermarked {index}" if several else "watermarked", video.watermark_url))
    if task.final_unit_deduction:
        rows.append(("units", task.final_unit_deduction))
    return rows


#: How the panel names an image's role (`image 2 (reference)`: `<<<image_2>>>` in a prompt).
ROLE_WORDS = {"first_frame": "first frame", "end_frame": "end frame", "reference": "reference"}


def _request_rows(entry: JournalEntry) -> list[tuple[str, str]]:
    """What the journal remembers of the create: its settings, prompt, images, elements, video."""
    request = entry.request
    rows: list[tuple[str, str]] = []
    for label, name, unit in (
        ("model", "model_name", ""),
        ("mode", "mode", ""),
        ("duration", "duration", " s"),
        ("aspect ratio", "aspect_ratio", ""),
    ):
        if isinstance(request.get(name), str) and request[name]:
            rows.append((label, f"{request[name]}{unit}"))
    if entry.made_from:
        rows.append(("made from", entry.made_from))
    for label, name in (("prompt", "prompt"), ("negative prompt", "negative_prompt")):
        if request.get(name):
            rows.append((label, str(request[name])))
    for index, image in enumerate(entry.images, start=1):
        role = ROLE_WORDS.get(str(image.get("role")))
        label = f"image {index}" + (f" ({role})" if role else "")
        if "url" in image:
            rows.append((label, str(image["url"])))
            continue
        size = f"{image.get('width')}×{image.get('height')}"
        digest = str(image.get("sha256") or "")[:12]
        # Right from wherever `get` runs, not as typed at create time (`start.png`); a
        # character a terminal acts on (a newline in a file name) drawn as `\xNN`.
        where = path_from_here(str(image["path"])) if image.get("path") else image.get("name")
        rows.append((label, f"{visible(str(where))} ({size}, sha256 {digest}…)"))
    elements = request.get("element_list")
    if isinstance(elements, list) and elements:
        ids = [str(item.get("element_id")) for item in elements if isinstance(item, dict)]
        rows.append(("elements", ", ".join(ids)))
    videos = request.get("video_list")
    for video in videos if isinstance(videos, list) else []:
        if isinstance(video, dict) and video.get("video_url"):
            use = [str(video.get("refer_type") or "feature")]
            if video.get("keep_original_sound"):
                use.append(f"original sound: {video['keep_original_sound']}")
            rows.append(("video use", ", ".join(use)))
            rows.append(("reference video", str(video["video_url"])))
    return rows


def _detail_rows(listed: Listed) -> list[tuple[str, str]]:
    return task_rows(_typed(listed.task), entry=listed.entry, endpoint=listed.endpoint)


#: The panel's rows of prose, drawn on several lines when they hold newlines; every other
#: row is a value (an id, a path) drawn exactly, a newline as `\x0a`.
PROSE_ROWS = frozenset({"reason", "prompt", "negative prompt"})


#: The rows of the task's own videos (`video`, `video 2`, `watermarked` …): the URLs to copy.
_VIDEO_ROW = re.compile(r"(video|watermarked)( \d+)?")


def _is_video_link(name: str, value: str) -> bool:
    return bool(_VIDEO_ROW.fullmatch(name)) and value.startswith(("http://", "https://"))


def _detail_panel(out: Output, listed: Listed) -> None:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    rows = _detail_rows(listed)
    # The video's URL is copied whole: folded inside a border it would not be. Under the
    # panel, on lines of its own, the terminal wraps it without breaking it. What the create
    # was made of (an image or a reference video given as a URL) stays in the panel, in its
    # place among the others (drawn under it, the panel began at "image 2").
    links = [(name, value) for name, value in rows if _is_video_link(name, value)]
    for name, value in rows:
        if (name, value) in links:
            continue
        style = STATUS_STYLES.get(value, "") if name == "status" else ""
        if name == "reason":
            style = "red"
        # Escaped before rich measures the row (escaped after, `\x1b` is wider than the
        # ESC rich measured, and the row runs past the border). Prose keeps its lines, and
        # its tabs become spaces (rich measures a tab as nothing, so the column was too
        # narrow, and the line broke at each tab).
        prose = name in PROSE_ROWS
        shown = cell_text(value.expandtabs(), keep="\n") if prose else cell_text(value)
        grid.add_row(name, Text(shown, style=style))
    # A title given as text is read as markup by rich's Panel: give it a Text.
    title = Text(f"task {cell_text(listed.task_id)}")
    out.out().print(Panel(grid, title=title, expand=False))
    for name, value in links:
        out.out().print(Text.assemble((f"{name}: ", "bold"), value), soft_wrap=True)


TASK_DETAIL = RecordView["Listed"](
    json=lambda listed: listed.as_json(),  # as `list --json` writes the task
    # In a pipe, the line `list` writes for the task: one shape for both.
    lines=lambda listed: _task_line(listed),
    ident=lambda listed: listed.task_id,
    person=_detail_panel,
    between="",  # where one panel ends and the next begins
)


# -- list --------------------------------------------------------------------------------------


class TaskCells(NamedTuple):
    """A listed task's cells, read from the raw task object as the contract shapes it.

    No pydantic: a list of 30,000 tasks in a pipe is 30,000 dict lookups, and a
    field of an unexpected type is read as missing (as `mivid.models` reads it).
    """

    task_id: str
    status: str
    created: datetime | None
    duration: str
    external_id: str
    url: str
    units: str

    @classmethod
    def of(cls, task: Mapping[str, Any]) -> TaskCells:
        videos = task_videos(task)
        first = videos[0] if videos else {}
        url = first.get("url")
        return cls(
            task_id_of(task),
            status_of(task),
            from_millis(task.get("created_at")),
            _text(first.get("duration")),
            external_id_of(task) or "",
            url if isinstance(url, str) else "",
            _units(task.get("final_unit_deduction")),
        )

    def tsv(self) -> list[str]:
        """task id, status, created (ISO, UTC), duration, external id, first video URL."""
        return [
            self.task_id,
            self.status,
            iso_time(self.created),
            self.duration,
            self.external_id,
            self.url,
        ]


def _units(value: object) -> str:
    """What a task deducted, as plain decimal text ("" when it does not say)."""
    if isinstance(value, str) and len(value) <= 64:
        return _units_of_text(value)  # a list repeats a few values: each is read once
    from mivid.units import parse_units, units_text

    deducted = parse_units(value)
    return units_text(deducted) if deducted is not None else ""


@functools.lru_cache(maxsize=256)
def _units_of_text(value: str) -> str:
    from mivid.units import parse_units, units_text

    deducted = parse_units(value)
    return units_text(deducted) if deducted is not None else ""


def _text(value: object) -> str:
    """A string field as it is, a number as its text (gateways send both), else ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def _task_line(listed: Listed) -> list[str]:
    """`list`'s and `get`'s line: the row's cells, the prompt, the units, the endpoint, the
    model (when known) and a failed task's reason.

    The free texts are escaped (`\\t`, `\\n`, `\\\\`), so a line is always one line of
    eleven cells.
    """
    # TaskCells' cells, read without building one: this runs for each of 30,000 tasks.
    task = listed.task
    videos = task_videos(task)
    first = videos[0] if videos else {}
    url = first.get("url")
    status = status_of(task)
    cells = (
        task_id_of(task),
        status,
        iso_millis(task.get("created_at")) or "",
        _text(first.get("duration")),
        external_id_of(task) or "",
        url if isinstance(url, str) else "",
    )
    prompt, model = listed.prompt, listed.model
    reason = task.get("task_status_msg") if status == FAILED else None
    tail = (
        escape_cell(prompt) if prompt else "",
        _units(task.get("final_unit_deduction")),
        listed.endpoint.name if listed.endpoint is not None else "",
        model,
        escape_cell(reason) if isinstance(reason, str) else "",
    )
    line = "\t".join(cells + tail)
    if line.count("\t") != len(cells) + len(tail) - 1 or "\n" in line:
        # A cell holding a tab or a newline (the escaped ones hold neither): made a space.
        line = "\t".join((*map(tsv_cell, cells), *tail[:3], tsv_cell(model), tail[4]))
    return [line]


def endpoint_label(listed: Listed, width: int | None = None) -> str:
    """`omni · kling-video-o1`: whose list the task came from, and its model when known;
    the endpoint's name alone when that is wider than `width`."""
    name = listed.endpoint.name if listed.endpoint is not None else "-"
    label = f"{name} · {cell_text(listed.model)}" if listed.model else name
    return label if width is None or _width(label) <= width else name


@dataclass(frozen=True)
class Column:
    """A column of a table for people: its header, and how it gives way on a narrow terminal.

    `drop`: its place in the order in which columns give way (1 first, the least
    useful; 0: never). A column gives way by being left out — or, when it may be
    cut (`least`: the narrowest it is cut to, with an ellipsis), by being cut as
    far as needed first. `most`: the widest a cut column is drawn (a prompt runs to
    2500 characters). `short`: rather than cut with an ellipsis, the column is
    drawn in its cells' short form, `least` wide (set by the view from its rows: a
    short column without a `least` is only ever left out). A new column only
    declares these (see `fit_columns`).
    """

    header: str
    drop: int = 0
    least: int | None = None
    most: int | None = None
    short: bool = False


#: `mivid list`'s columns, left to right. The task id never gives way: an id is copied, and
#: a cut or folded one is useless, so an id wider than the terminal leaves a line longer
#: than it (the terminal folds it, and what is copied has no newline in it; `list -q` and
#: the pipe give the ids alone). On a narrow terminal the others give way in `drop`
#: order: the external id (mostly one mivid made), the length, the video mark; the
#: endpoint loses its model (`omni`, not `omni · kling-video-o1`); then a failed task's
#: reason is cut, then the prompt (every row has one; one failed task on the page must not
#: cut them all to a stub; when most tasks shown failed, the prompt is cut first); only
#: then do the units and the time go. A column no row has anything to show in is left out.
TASK_COLUMNS = (
    Column("TASK ID"),
    Column("STATUS"),
    Column("CREATED", drop=8),
    Column("LENGTH", drop=2),
    Column("UNITS", drop=7),
    # Endpoint and model (`omni · kling-video-o1`), or the endpoint alone (`omni`): at 80
    # columns a user with tasks on both endpoints can still tell them apart.
    Column("ENDPOINT", drop=4, short=True),
    Column("PROMPT", drop=6, least=12, most=40),
    # Why a task failed (`task_status_msg`): only failed tasks have one.
    Column("REASON", drop=5, least=12, most=40),
    Column("EXTERNAL ID", drop=1),
    # Whether there is a video, never a cut URL: the URL is in `get`, `--json` and the pipe.
    Column("VIDEO", drop=3),
)

#: What the VIDEO column shows for a task with a video.
VIDEO_MARK = "yes"


def fit_columns(columns: Sequence[Column], widths: list[int], room: int) -> list[int]:
    """Each column's width within `room` (2 spaces between columns); 0 for one left out.

    Columns give way in `drop` order: each in turn is left out or, if it may be
    cut, cut as far as needed (down to its `least`; a `short` column straight to
    its `least`, its short form), so a useful column is cut only
    once every less useful one is gone. If the table is still too wide, the cut
    columns are left out too, in the same order. Columns that never give way keep
    their width.
    """
    fitted = [
        min(width, column.most or width) for width, column in zip(widths, columns, strict=True)
    ]
    shown = set(range(len(columns)))

    def excess() -> int:
        return sum(fitted[i] for i in shown) + 2 * (len(shown) - 1) - room

    order = [i for _, i in sorted((c.drop, i) for i, c in enumerate(columns) if c.drop)]
    for i in order:
        over = excess()
        if over <= 0:
            break
        least = columns[i].least
        if least is None:
            shown.discard(i)
        elif columns[i].short:
            fitted[i] = min(fitted[i], least)
        else:
            fitted[i] = max(min(fitted[i], least), fitted[i] - over)
    for i in order:
        if excess() <= 0:
            break
        shown.discard(i)
    return [fitted[i] if i in shown else 0 for i in range(len(columns))]


def fitted_table(
    width: int,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    status_column: int | None = None,
) -> Table:
    """A plain table of `rows` within `width`, its columns giving way as `fit_columns` says.

    The cells are text (never markup); `status_column`'s cells get the status's colour.
    """
    from rich.text import Text

    headers = [column.header for column in columns]
    natural = [widest([row[n] for row in [headers, *rows]]) for n in range(len(columns))]
    widths = fit_columns(columns, natural, width)
    table = _plain_table()
    for header, shown in zip(headers, widths, strict=True):
        if shown:
            table.add_column(header, no_wrap=True, width=shown)
    for row in rows:
        cells = []
        for n, (value, shown) in enumerate(zip(row, widths, strict=True)):
            if not shown:
                continue
            cell = Text(cut_to(value, shown))
            if n == status_column:
                cell.stylize(STATUS_STYLES.get(value, "red"))
            cells.append(cell)
        table.add_row(*cells)
    return table


def task_table_view(out: Output, listed: Sequence[Listed]) -> RenderableType:
    """The terminal table of `mivid list` (also redrawn by `list --watch`).

    A PROMPT column appears when the journal knows any of the tasks, a UNITS
    column when any task says what it deducted. Drawn as lines at widths
    computed once (`StyledLines`): rich's Table would measure every one of
    10,000 rows' cells again, for seconds.
    """
    cells = [TaskCells.of(item.task) for item in listed]
    rows = [
        [
            cell_text(row.task_id),
            cell_text(row.status),
            relative_time(row.created) or "-",
            f"{cell_text(row.duration)}s" if row.duration else "",
            row.units,
            endpoint_label(item),
            one_line(item.prompt),
            _reason(item.task) if row.status == FAILED else "",
            cell_text(row.external_id),
            VIDEO_MARK if row.url else "",
        ]
        for item, row in zip(listed, cells, strict=True)
    ]
    # A column with nothing in it (no length or video among failed tasks, no reason
    # among running ones) leaves its room to the others.
    filled = [any(row[n] for row in rows) for n in range(len(TASK_COLUMNS))]
    wanted = [
        column
        for n, column in enumerate(TASK_COLUMNS)
        if (filled[n] or not column.drop)
        and (column.header != "ENDPOINT" or any(item.endpoint is not None for item in listed))
    ]
    index = [TASK_COLUMNS.index(column) for column in wanted]
    rows = [[row[i] for i in index] for row in rows]
    natural = [
        widest([column.header, *(row[n] for row in rows)]) for n, column in enumerate(wanted)
    ]
    failed = sum(1 for row in cells if row.status == FAILED)
    if 2 * failed >= len(cells):
        # Mostly failed tasks (`list --status failed`): why each failed is what the reader
        # came for, so the prompt gives way before the reason.
        wanted = [
            replace(column, drop=column.drop + (-1 if column.header == "PROMPT" else 1))
            if column.header in ("PROMPT", "REASON")
            else column
            for column in wanted
        ]
    at = next((n for n, column in enumerate(wanted) if column.header == "ENDPOINT"), None)
    if at is not None:
        # The endpoint's short form: its name alone, as wide as the widest one shown.
        names = [endpoint_label(item, 0) for item in listed]
        wanted[at] = replace(wanted[at], least=widest([wanted[at].header, *names]))
    widths = fit_columns(wanted, natural, out.out().width)
    if at is not None and widths[at] < natural[at]:
        for row, name in zip(rows, names, strict=True):
            row[at] = name
    shown = [
        (n, column, width)
        for n, (column, width) in enumerate(zip(wanted, widths, strict=True))
        if width
    ]
    lines = StyledLines()
    lines.add(
        [(column.header, width, "bold", column.header == "UNITS") for _, column, width in shown]
    )
    for row in rows:
        pieces = []
        for n, column, width in shown:
            style = ""
            if column.header == "STATUS":
                style = STATUS_STYLES.get(row[n], "")
            elif column.header == "PROMPT":
                style = "italic"
            elif column.header == "REASON":
                style = "red"
            pieces.append((row[n], width, style, column.header == "UNITS"))
        lines.add(pieces)
    return lines


def _reason(task: Mapping[str, Any]) -> str:
    """A failed task's reason for a cell (`-` when the service gave none)."""
    reason = task.get("task_status_msg")
    return one_line(reason) if isinstance(reason, str) and reason.strip() else "-"


def _width(text: str) -> int:
    """The cells a text takes on a terminal (a CJK character takes two)."""
    from rich.cells import cell_len

    return len(text) if text.isascii() else cell_len(text)


def widest(texts: list[str]) -> int:
    """The widest of `texts` on a terminal (ASCII columns, the usual case, measured at once)."""
    if "".join(texts).isascii():
        return max(map(len, texts))
    return max(map(_width, texts))


class StyledLines:
    """Rows of cells at fixed widths, two spaces apart, drawn as lines (a rich renderable).

    Each cell is cut with an ellipsis or padded to its width once, when added;
    drawing yields a few segments a line, so 10,000 rows draw in a fraction of
    the time rich's Table takes to lay them out.
    """

    def __init__(self) -> None:
        self.lines: list[list[tuple[str, str]]] = []

    def add(self, cells: Sequence[tuple[str, int, str, bool]]) -> None:
        """One row: (text, width, style, right-aligned) per cell."""
        pieces: list[tuple[str, str]] = []
        for n, (text, width, style, right) in enumerate(cells):
            fitted = _fit(text, width, right=right)  # padded to its width, as rich pads
            for part, part_style in ((("  ", ""),) if n else ()) + ((fitted, style),):
                if not part_style and pieces and not pieces[-1][1]:
                    pieces[-1] = (pieces[-1][0] + part, "")  # plain neighbours: one segment
                else:
                    pieces.append((part, part_style))
        self.lines.append(pieces)

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.segment import Segment
        from rich.style import Style

        styles: dict[str, Style | None] = {"": None}
        newline = Segment.line()
        for pieces in self.lines:
            for text, name in pieces:
                style = styles.get(name)
                if name not in styles:
                    style = styles[name] = Style.parse(name)
                yield Segment(text, style)
            yield newline


def _fit(text: str, width: int, *, right: bool) -> str:
    """`text` in exactly `width` cells: cut with an ellipsis, or padded."""
    size = _width(text)
    if size > width:
        if text.isascii():
            return text[: max(0, width - 1)] + "…"
        from rich.cells import set_cell_size

        # A wide character that would be cut in half is left out: the padding comes after
        # the ellipsis, where a cut text's padding goes.
        text = set_cell_size(text, max(0, width - 1)).rstrip(" ") + "…"
        size = _width(text)
    room = " " * (width - size)
    return room + text if right else text + room


def units_total_line(listed: Sequence[Listed]) -> str:
    """`total: 4.4 units deducted by the 5 tasks shown (2 still running)`, under the table.

    Exact (Decimal); a task that ended without saying what it deducted is named apart.
    """
    from mivid.units import task_units, total, units_text
    from mivid.vocabulary import is_final, succeeded

    deducted = total(task_units(item.task) for item in listed)
    apart = []
    running = sum(1 for item in listed if not is_final(item.task))
    if running:
        apart.append(f"{running} still running")
    unsaid = sum(1 for item in listed if succeeded(item.task) and task_units(item.task) is None)
    if unsaid:
        apart.append(f"{unsaid} without a deduction")
    text = (
        f"total: {units_text(deducted)} unit{'' if deducted == 1 else 's'} deducted by the "
        f"{len(listed):,} task{'' if len(listed) == 1 else 's'} shown"
    )
    return text + (f" ({', '.join(apart)})" if apart else "")


def _task_table(out: Output, listed: Sequence[Listed]) -> None:
    from rich.text import Text

    # Not cropped again: every line was fitted to the terminal's width.
    out.out().print(task_table_view(out, listed), crop=False)
    out.out().print(Text(units_total_line(listed), style="dim"))


TASK_LIST = RecordView["Listed"](
    json=lambda listed: listed.as_json(),
    lines=_task_line,
    ident=lambda listed: listed.task_id,
    table=_task_table,
    empty="no tasks",
)


# -- list --local ------------------------------------------------------------------------------


def _journal_line(entry: JournalEntry) -> list[str]:
    fields = [
        entry.task_id or "",
        entry.status,
        iso_seconds(entry.created),
        entry.external_task_id,
        public_url(entry.service),
    ]
    prompt = str(entry.request.get("prompt") or "")
    model = str(entry.request.get("model_name") or "")
    # The endpoint and model come after the prompt: the first six cells stay where scripts
    # written for earlier releases read them.
    return [
        "\t".join(
            [*map(tsv_cell, fields), escape_cell(prompt), tsv_cell(entry.endpoint), tsv_cell(model)]
        )
    ]


#: `mivid list --local`'s columns. LAST SEEN: the status when this machine last asked
#: (the journal is not the service). SERVICE appears when the entries come from several.
JOURNAL_COLUMNS = (
    Column("TASK ID"),
    Column("LAST SEEN"),
    Column("CREATED", drop=5),
    Column("SERVICE", drop=2),
    Column("EXTERNAL ID", drop=1),
    Column("PROMPT", drop=3, least=12, most=60),
)


def service_name(entry: JournalEntry) -> str:
    """`sandbox`, or the host the create was sent to (`api-singapore.klingai.com`)."""
    from urllib.parse import urlsplit

    if entry.sandbox:
        return "sandbox"
    url = public_url(entry.service)
    return urlsplit(url).netloc + urlsplit(url).path.rstrip("/") or url


def _journal_table(out: Output, entries: Sequence[JournalEntry]) -> None:
    from datetime import timezone

    from rich.text import Text

    rows = [
        [
            cell_text(entry.task_id or "-"),
            cell_text(entry.status),
            relative_time(datetime.fromtimestamp(entry.created, timezone.utc)) or "-",
            cell_text(service_name(entry)),
            cell_text(entry.external_task_id),
            one_line(str(entry.request.get("prompt") or "")),
        ]
        for entry in entries
    ]
    several = len({row[3] for row in rows}) > 1
    wanted = [c for c in JOURNAL_COLUMNS if c.header != "SERVICE" or several]
    index = [JOURNAL_COLUMNS.index(column) for column in wanted]
    rows = [[row[i] for i in index] for row in rows]
    headers = [column.header for column in wanted]
    natural = [widest([row[n] for row in [headers, *rows]]) for n in range(len(wanted))]
    widths = fit_columns(wanted, natural, out.out().width)
    table = _plain_table()
    for header, width in zip(headers, widths, strict=True):
        if width:
            table.add_column(header, no_wrap=True, width=width)
    for row in rows:
        cells = [
            Text(cut_to(value, width)) for value, width in zip(row, widths, strict=True) if width
        ]
        cells[1].stylize(STATUS_STYLES.get(row[1], "dim"))
        table.add_row(*cells)
    out.out().print(table)


def _local_json(entry: JournalEntry) -> dict[str, Any]:
    from mivid.flows.listing import local_record

    return local_record(entry)


JOURNAL_LIST = RecordView["JournalEntry"](
    json=_local_json,
    lines=_journal_line,
    ident=lambda entry: entry.task_id or entry.external_task_id,
    table=_journal_table,
    empty="the journal holds no creates yet",
)


# -- wait --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ended:
    """A task at the end of a wait (with its endpoint and the journal's entry), and the files
    saved from it.

    Its JSON is the task as `get --json` writes it; `saved` is None when nothing
    was to be saved (no `--download`), else the object also gets `"files"`, the
    paths saved (as in `batch --json`; `[]` for a task with no video).
    """

    listed: Listed
    saved: Sequence[str] | None = None

    @property
    def task(self) -> dict[str, Any]:
        return self.listed.task

    def as_json(self) -> dict[str, Any]:
        shown = self.listed.as_json()
        if self.saved is None:
            return shown
        return {**shown, "files": list(self.saved)}


def _ended_details(ended: Ended) -> list[str]:
    lines = []
    if status_of(ended.task) == FAILED and ended.task.get("task_status_msg"):
        lines.append(f"  reason: {ended.task['task_status_msg']}")
    for video in task_videos(ended.task):
        if video.get("url"):
            lines.append(f"  video: {video['url']}")
        if video.get("watermark_url"):
            lines.append(f"  watermarked: {video['watermark_url']}")
    lines += [f"  saved: {path}" for path in ended.saved or ()]
    return lines


def _ended_person(out: Output, ended: Ended) -> None:
    from rich.text import Text

    status = status_of(ended.task)
    if out.color:
        line = Text.assemble(
            (cell_text(task_id_of(ended.task)), "bold"),
            "  ",
            (cell_text(status), STATUS_STYLES.get(status, "")),
        )
        out.out().print(line)
    else:
        out.line(f"{task_id_of(ended.task)}\t{status}")
    for text in _ended_details(ended):
        out.line(text)


def _ended_line(ended: Ended) -> list[str]:
    """task id, status, video URL(s), saved file(s), reason: how a task ended, in a pipe.

    Several videos or files are joined by commas (as in `batch`'s lines).
    """
    task = ended.task
    urls = ",".join(str(video["url"]) for video in task_videos(task) if video.get("url"))
    reason = str(task.get("task_status_msg") or "") if status_of(task) == FAILED else ""
    cells = [task_id_of(task), status_of(task), urls, ",".join(ended.saved or ())]
    return ["\t".join([*map(tsv_cell, cells), escape_cell(reason)])]


ENDED = RecordView[Ended](
    json=Ended.as_json,
    lines=_ended_line,
    ident=lambda ended: task_id_of(ended.task),
    person=_ended_person,
)


# -- download ----------------------------------------------------------------------------------


def _saved_json(video: SavedVideo) -> dict[str, Any]:
    from mivid.flows.saving import saved_record

    return saved_record(video)


SAVED = RecordView["SavedVideo"](
    json=_saved_json, lines=lambda video: [str(video.path)], ident=lambda video: video.task_id
)


# -- recover -----------------------------------------------------------------------------------

#: `recover`'s columns, with `list`'s rules: an external id or task id is whole or not at
#: all (it is what a person copies), the note is cut last-but-one, the time and the status
#: give way first. A still-unknown create's reason is in the error line under the table,
#: once, whole (a URL cut or folded is useless).
SETTLED_COLUMNS = (
    Column("EXTERNAL ID"),
    Column("SENT", drop=2),
    Column("OUTCOME"),
    Column("TASK ID", drop=4),
    Column("STATUS", drop=1),
    Column("NOTE", drop=3, least=12, most=60),
)

#: A still-unknown create's NOTE in the table: its reason is the error line's.
SEE_BELOW = "see the error below"


def _settled_cells(settled: Settled) -> list[str]:
    from datetime import timezone

    moment = datetime.fromtimestamp(settled.created, tz=timezone.utc)
    return [
        settled.external_task_id,
        iso_time(moment),
        settled.outcome,
        settled.task_id or "-",
        settled.status,
        settled.note,
    ]


def _settled_table(out: Output, results: Sequence[Settled]) -> None:
    from datetime import timezone

    from mivid.flows.settling import STILL_UNKNOWN

    rows = [
        [
            cell_text(settled.external_task_id),
            relative_time(datetime.fromtimestamp(settled.created, tz=timezone.utc)) or "-",
            settled.outcome,
            cell_text(settled.task_id or "-"),
            cell_text(settled.status),
            SEE_BELOW if settled.outcome == STILL_UNKNOWN else one_line(settled.note),
        ]
        for settled in results
    ]
    # A column no row fills (no note when every create was found) leaves its room.
    wanted = [
        (n, column)
        for n, column in enumerate(SETTLED_COLUMNS)
        if not column.drop or any(row[n] not in ("", "-") for row in rows)
    ]
    columns = [column for _, column in wanted]
    cells = [[row[n] for n, _ in wanted] for row in rows]
    out.out().print(fitted_table(out.out().width, columns, cells))


SETTLED = RecordView["Settled"](
    json=lambda settled: settled.as_json(),
    lines=lambda settled: ["\t".join(tsv_cell(cell) for cell in _settled_cells(settled))],
    table=_settled_table,
)


# -- batch -------------------------------------------------------------------------------------


def job_row(job: JobState) -> list[str]:
    """line, task id, status, and the saved file(s), the reason, or the video URL."""
    if job.download_error:
        detail = f"not saved: {job.download_error}"
    elif job.files:
        detail = ",".join(str(path) for path in job.files)
    elif job.state != SUCCEED:
        detail = job.reason or ""
    else:
        detail = ",".join(str(v["url"]) for v in task_videos(job.task or {}) if v.get("url"))
    return [str(job.line), job.task_id or "", job.state, detail]


def job_prompt(job: JobState) -> str:
    """The job's prompt on one line: what tells one job from another."""
    return one_line(str(job.job.fields.get("prompt") or ""))


#: `batch`'s table at the end: the result (the saved file, else the video's URL, or why the
#: job failed: `job_row`) is whole (a path is copied), the prompt cut.
JOB_COLUMNS = (
    Column("LINE"),
    Column("TASK ID", drop=2),
    Column("STATUS"),
    Column("PROMPT", drop=1, least=12, most=40),
    Column("RESULT", drop=3),
)


def _jobs_table(out: Output, states: Sequence[JobState]) -> None:
    rows = []
    for job in states:
        line, task_id, status, detail = job_row(job)
        # The detail is a saved file's path (copied) or a reason: drawn as it is.
        rows.append([line, cell_text(task_id), status, job_prompt(job), cell_text(detail)])
    out.out().print(fitted_table(out.out().width, JOB_COLUMNS, rows, status_column=2))


#: `batch --dry-run`'s table: what would be done with each line.
PLAN_COLUMNS = (
    Column("LINE"),
    Column("ACTION"),
    Column("TASK ID", drop=2),
    Column("EXTERNAL ID", drop=1),
    Column("PROMPT", drop=3, least=12, most=60),
)


def _plan_table(out: Output, states: Sequence[JobState]) -> None:
    rows = [
        [
            str(job.line),
            job.action,
            cell_text(job.task_id or "-"),
            cell_text(job.job.external_task_id),
            job_prompt(job),
        ]
        for job in states
    ]
    out.out().print(fitted_table(out.out().width, PLAN_COLUMNS, rows))


JOB_RESULTS = RecordView["JobState"](
    json=lambda job: job.report(),
    ident=lambda job: job.task_id or "",
    lines=lambda job: ["\t".join(tsv_cell(cell) for cell in job_row(job))],
    table=_jobs_table,
)

JOB_PLAN = RecordView["JobState"](
    json=lambda job: {**job.report(), "files": []},
    lines=lambda job: [
        f"{job.line}\t{job.job.external_task_id}\t{job.action}\t{job.task_id or ''}"
    ],
    table=_plan_table,
)


# -- config show -------------------------------------------------------------------------------


def shown_value(resolved: Resolved) -> str:
    """The value as `config show` shows it: a secret masked."""
    from mivid.auth import redact
    from mivid.settings import KEYS

    if resolved.value is None:
        return ""
    return redact(resolved.value) if KEYS[resolved.key].secret else resolved.value


def config_table(out: Output, settings: Settings) -> None:
    """Every setting, its (masked) value and where it comes from, for a person."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("KEY")
    table.add_column("VALUE")
    table.add_column("SOURCE")
    for name, resolved in settings.values.items():
        table.add_row(
            Text(name),
            Text(shown_value(resolved) or "-"),
            Text(resolved.describe()),
            style="" if resolved.value else "dim",
        )
    # Above the table, not its title: a title wraps to the table's width, cutting the path.
    out.out().print(Text(f"profile {settings.profile} · {settings.config_file}"), soft_wrap=True)
    out.out().print(table)


def setting_json(resolved: Resolved, *, mask: bool) -> dict[str, Any]:
    """One setting for `config show --json` (masked) and `config get --json`."""
    from mivid.settings import KEYS

    value = shown_value(resolved) if mask else resolved.value
    return {
        "key": resolved.key,
        "value": value if resolved.value is not None else None,
        "source": resolved.token(),
        "secret": KEYS[resolved.key].secret,
    }


#: `config get KEY`: the value alone (nothing on stdout when it is not set).
SETTING_VALUE = RecordView["Resolved"](
    json=lambda resolved: setting_json(resolved, mask=False),
    lines=lambda resolved: [] if resolved.value is None else [resolved.value],
)


@dataclass(frozen=True)
class Checked:
    """`config check`'s verdict when the service accepted the credentials."""

    profile: str
    region: str | None
    base_url: str
    credentials: str
    sandbox: bool
    target: str
    #: What the account's packs hold, or why that is unknown.
    account: Looked | None = None

    def as_json(self) -> dict[str, Any]:
        summary = self.account.summary if self.account is not None else None
        return {
            "ok": True,
            "profile": self.profile,
            "region": self.region,
            "base_url": self.base_url,
            "credentials": self.credentials,
            "sandbox": self.sandbox,
            "account": summary.as_json() if summary is not None else None,
        }

    def lines(self) -> list[str]:
        """For a person: the verdict in words, and what the account holds."""
        lines = [f"ok: the credentials work — {self.credentials}, {self.target}"]
        if self.account is not None:
            lines.append(self.account.line())
        return lines

    def record(self) -> list[str]:
        """In a pipe, one line: ok, profile, base URL, credentials, the account's units."""
        account = self.account.line() if self.account is not None else ""
        cells = ["ok", self.profile, self.base_url, self.credentials, account]
        return ["\t".join(tsv_cell(cell) for cell in cells)]


def failed_check_json(settings: Settings, base_url: str, error: MividError) -> dict[str, Any]:
    """`config check --json`'s verdict when the check failed: what was tried, and why not."""
    return {
        "ok": False,
        "profile": settings.profile,
        "region": None if settings.get("base-url") else settings.get("region"),
        "base_url": base_url,
        "sandbox": settings.sandbox,
        "error": {
            "message": error.message,
            "code": error.code,
            "request_id": error.request_id,
            "exit_status": int(error.exit_code),
        },
    }


def _checked_person(out: Output, checked: Checked) -> None:
    for text in checked.lines():
        out.line(text)


CHECKED = RecordView[Checked](
    json=lambda checked: checked.as_json(), lines=Checked.record, person=_checked_person
)


class FailedCheck(NamedTuple):
    """A `config check` that failed: the settings it tried, and why not."""

    settings: Settings
    error: MividError

    def as_json(self) -> dict[str, Any]:
        from mivid.connection import service_url

        return failed_check_json(self.settings, service_url(self.settings), self.error)


#: A failed check: a script reading --json gets the verdict either way (exit 3 or 5); a
#: person, and a pipe, have the error on stderr and nothing on stdout.
FAILED_CHECK = RecordView[FailedCheck](json=FailedCheck.as_json, lines=lambda _failed: ())


SETTINGS = RecordView["Resolved"](
    json=lambda resolved: setting_json(resolved, mask=True),
    lines=lambda resolved: [f"{resolved.key}\t{shown_value(resolved)}\t{resolved.token()}"],
)


def settings_shown(out: Output, settings: Settings, form: Form) -> None:
    """`config show`: a table on a terminal, a line a setting in a pipe; with --json one
    object about the profile, not a list of settings."""
    if form is Form.JSON:
        out.json(
            {
                "profile": settings.profile,
                "config_file": str(settings.config_file),
                "sandbox": settings.sandbox,
                "settings": {
                    name: setting_json(resolved, mask=True)
                    for name, resolved in settings.values.items()
                },
            }
        )
    elif form is Form.TABLE:
        config_table(out, settings)
        if settings.sandbox:
            out.note("sandbox: the credentials above are not used; the emulator has its own")
    else:
        with out.records(SETTINGS, form) as sink:
            sink.extend(list(settings.values.values()))


# -- gallery -----------------------------------------------------------------------------------


def _gallery_lines(gallery: Gallery) -> list[str]:
    return [str(gallery.page)]


def _gallery_json(gallery: Gallery) -> list[dict[str, Any]]:
    return gallery.card_dicts()


#: `mivid gallery`: the page's path, or with --json the cards it shows (one array).
GALLERY = RecordView["Gallery"](json=_gallery_json, lines=_gallery_lines)


# -- spent -------------------------------------------------------------------------------------


def _spent_footer(spending: Spending) -> list[str]:
    """What is counted apart, for a person."""
    from mivid import hints

    listing = hints.command("list")  # a command that works pasted: the global options in force
    lines = []
    if spending.without_deduction:
        lines.append(
            f"{_tasks(spending.without_deduction)} ended without a known deduction yet "
            f"({hints.command('get', 'ID')} or {listing} learns it)"
        )
    if spending.running:
        # The journal's word, not the service's: they may have ended since.
        lines.append(
            f"{_tasks(spending.running)} last seen running, not counted ({listing} learns how "
            f"{'it' if spending.running == 1 else 'they'} ended)"
        )
    if spending.unsettled:
        lines.append(
            f"{_tasks(spending.unsettled)} with an unknown outcome, not counted ({hints.command('recover')})"
        )
    return lines


def _tasks(count: int) -> str:
    return f"{count} task{'' if count == 1 else 's'}"


def _spent_lines(spending: Spending) -> list[str]:
    """In a pipe: a `total` line, then `day` and `model` lines (tab-separated, no prose)."""
    from mivid.units import units_text

    total = spending.total
    lines = [
        "\t".join(
            [
                "total",
                spending.since.isoformat(),
                spending.until.isoformat(),
                str(total.tasks),
                units_text(total.units),
                str(spending.without_deduction),
                str(spending.running),
                str(spending.unsettled),
            ]
        )
    ]
    lines += [
        f"day\t{day.isoformat()}\t{tally.tasks}\t{units_text(tally.units)}"
        for day, tally in spending.by_day()
    ]
    lines += [
        "\t".join(["model", tsv_cell(model), tsv_cell(endpoint), str(tally.tasks)])
        + f"\t{units_text(tally.units)}"
        for (model, endpoint), tally in spending.by_model()
    ]
    return lines


def _spent_person(out: Output, spending: Spending) -> None:
    from rich.text import Text

    from mivid.units import units_text

    total = spending.total
    out.out().print(
        Text(
            f"since {spending.since.isoformat()} ({spending.period_days} days): "
            f"{_tasks(total.tasks)}, {units_text(total.units)} "
            f"unit{'' if total.units == 1 else 's'}",
            style="bold",
        )
    )
    if spending.days:
        days = _plain_table()
        for header in ("DAY", "TASKS", "UNITS"):
            days.add_column(header, justify="left" if header == "DAY" else "right")
        for day, tally in spending.by_day():
            days.add_row(day.isoformat(), str(tally.tasks), units_text(tally.units))
        out.out().print()
        out.out().print(days)
        models = _plain_table()
        for header in ("MODEL", "ENDPOINT", "TASKS", "UNITS"):
            models.add_column(header, justify="right" if header in ("TASKS", "UNITS") else "left")
        for (model, endpoint), tally in spending.by_model():
            models.add_row(
                Text(cell_text(model) or "-"),
                Text(cell_text(endpoint)),
                str(tally.tasks),
                units_text(tally.units),
            )
        out.out().print()
        out.out().print(models)
    footer = _spent_footer(spending)
    if footer:
        out.out().print()
    for line in footer:
        out.out().print(Text(line, style="dim"))


SPENT = RecordView["Spending"](
    json=lambda spending: spending.as_json(), lines=_spent_lines, person=_spent_person
)


# -- account -----------------------------------------------------------------------------------

#: `account`'s columns. On a narrow terminal the type gives way first (said short, then
#: left out): a pack's name is what tells one from another, cut only after.
ACCOUNT_COLUMNS = (
    Column("NAME", drop=2, least=10),
    Column("TYPE", drop=1),
    Column("STATUS"),
    Column("LEFT / TOTAL"),
    Column("VALID UNTIL"),
)
ACCOUNT_HEADINGS = tuple(column.header for column in ACCOUNT_COLUMNS)

#: The pack types the contract names, said short for a narrow terminal.
SHORT_PACK_TYPES = {"decreasing_total": "total", "constant_period": "period"}


def _pack_line(shown: ShownPack) -> list[str]:
    """name, type, status, remaining, total, valid until (ISO, UTC), pack id."""
    from mivid.units import units_text

    pack = shown.pack
    cells = [
        pack.name,
        pack.pack_type,
        pack.status,
        units_text(pack.remaining) if pack.remaining is not None else "",
        units_text(pack.total) if pack.total is not None else "",
        iso_time(pack.invalid),
        pack.pack_id,
    ]
    return ["\t".join(tsv_cell(cell) for cell in cells)]


def _packs_table(out: Output, packs: Sequence[ShownPack]) -> None:
    from rich.text import Text

    from mivid.account import AccountSummary

    rows = [
        [
            one_line(shown.pack.name) or "-",
            cell_text(shown.pack.pack_type) or "-",
            cell_text(shown.pack.status_word),
            shown.pack.quantity(),
            local_time(shown.pack.invalid)[:16],  # to the minute
        ]
        for shown in packs
    ]
    room = out.out().width

    def natural() -> list[int]:
        return [
            widest([heading, *(row[i] for row in rows)])
            for i, heading in enumerate(ACCOUNT_HEADINGS)
        ]

    if sum(natural()) + 2 * (len(ACCOUNT_COLUMNS) - 1) > room:
        for row in rows:  # `decreasing_total` → `total` before anything gives way
            row[1] = SHORT_PACK_TYPES.get(row[1], row[1])
    widths = fit_columns(ACCOUNT_COLUMNS, natural(), room)
    table = _plain_table()
    for heading, width in zip(ACCOUNT_HEADINGS, widths, strict=True):
        if width:
            right = heading.startswith("LEFT")
            table.add_column(
                heading, justify="right" if right else "left", no_wrap=True, width=width
            )
    for shown, row in zip(packs, rows, strict=True):
        cells = [Text(cut_to(value, widths[i])) for i, value in enumerate(row)]
        cells[2].stylize("green" if shown.pack.in_force else "dim")
        table.add_row(*(cell for cell, width in zip(cells, widths, strict=True) if width))
    out.out().print(table)
    out.out().print(Text(AccountSummary([shown.pack for shown in packs]).line(), style="bold"))


#: `mivid account`: the resource packs; `--json` is the service's list as it came.
ACCOUNT = RecordView["ShownPack"](
    json=lambda shown: shown.raw,
    lines=_pack_line,
    table=_packs_table,
    empty="the account has no resource pack",
)


def account_packs_shown(out: Output, packs: Sequence[ShownPack], form: Form) -> None:
    """`mivid account`: the packs in force first for people and pipes; --json as they came."""
    from mivid.account import in_force_first

    if form is not Form.JSON:
        packs = sorted(packs, key=lambda shown: in_force_first(shown.pack))
    with out.records(ACCOUNT, form) as sink:
        sink.extend(packs)


# -- models ------------------------------------------------------------------------------------


def _seconds(durations: Sequence[str]) -> str:
    """`5, 10` or `3-10`: a run of whole seconds said as a range."""
    numbers = [int(value) for value in durations]
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}-{numbers[-1]}"
    return ", ".join(durations)


#: How `mivid models` says what else a model takes, for a person.
_TAKES = {
    "first-frame": "frames",
    "end-frame": "",
    "elements": "elements",
    "video": "video",
    "negative-prompt": "negative prompt",
}


def _model_line(info: ModelInfo) -> str:
    """model, endpoint, fewest and most images, modes, seconds, what else it takes (option
    names), retirement date, and `default` or "": tab-separated, lists comma-separated."""
    endpoint = info.endpoint
    cells = [
        info.name,
        endpoint.name,
        str(endpoint.min_images),
        str(endpoint.max_images),
        ",".join(endpoint.modes),
        ",".join(endpoint.durations),
        ",".join(info.accepts),
        info.retires or "",
        "default" if info.default else "",
    ]
    return "\t".join(tsv_cell(cell) for cell in cells)


def _models_table(out: Output, infos: Sequence[ModelInfo]) -> None:
    from rich.text import Text

    table = _plain_table()
    for header in ("MODEL", "ENDPOINT", "IMAGES", "MODES", "SECONDS", "ALSO TAKES", "RETIRES"):
        table.add_column(header, no_wrap=header != "ALSO TAKES")
    notes: dict[str, None] = {}
    for info in infos:
        endpoint = info.endpoint
        takes = ", ".join(_TAKES[name] for name in info.accepts if _TAKES[name])
        name = Text(info.name + (" *" if info.default else ""))
        if info.default:
            name.stylize("bold")
        table.add_row(
            name,
            Text(endpoint.name),
            Text(f"{endpoint.min_images}-{endpoint.max_images}"),
            Text("/".join(endpoint.modes)),
            Text(_seconds(endpoint.durations)),
            Text(takes or "-"),
            Text(info.retires or "-"),
        )
        limits = []
        if endpoint.max_images_with_video is not None:
            limits.append(f"at most {endpoint.max_images_with_video} images with a video")
        if endpoint.short_durations:
            limits.append(
                f"{' or '.join(endpoint.short_durations)} s from text alone or a first frame"
            )
        if limits:
            notes[f"{endpoint.title}: {'; '.join(limits)}."] = None
    out.out().print(table)
    lines = [
        "* the default: mivid config set model NAME changes it.",
        *notes,
        "A model mivid does not know yet: mivid create --endpoint multi-image|omni.",
    ]
    for line in lines:
        out.out().print(Text(line, style="dim"))


#: `mivid models`: the models mivid knows.
MODELS = RecordView["ModelInfo"](
    json=lambda info: info.as_json(),
    lines=lambda info: [_model_line(info)],
    ident=lambda info: info.name,
    table=_models_table,
)
