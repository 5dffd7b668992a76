"""How each kind of result looks: one `RecordView` per kind, and the rich tables and panels.

Every table, panel and coloured line of mivid's results is drawn here; which
form a run uses is `Output.form`'s decision. rich is imported inside the
functions that draw for a person, never at import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mivid.plaintext import (
    escape_cell,
    iso_seconds,
    iso_time,
    local_time,
    one_line,
    public_url,
    relative_time,
    tsv_cell,
)
from mivid.render.output import Output, RecordView
from mivid.vocabulary import FAILED, SUCCEED, status_of, task_id_of, task_videos

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

    from mivid.batch import JobState
    from mivid.download import SavedVideo
    from mivid.flows.account import Looked, ShownPack
    from mivid.flows.listing import Listed
    from mivid.flows.settling import Settled
    from mivid.gallery import Gallery
    from mivid.journal import JournalEntry
    from mivid.models import Task
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


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _plain_table() -> Table:
    from rich.table import Table

    return Table(box=None, header_style="bold", pad_edge=False, show_edge=False)


# -- create ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """A task just created, and the command that follows it."""

    task: dict[str, Any]
    follow: str

    def rows(self) -> list[tuple[str, str]]:
        task = _typed(self.task)
        rows = [("task id", task.task_id), ("status", task.task_status)]
        if task.external_task_id:
            rows.append(("external id", task.external_task_id))
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
        grid.add_row(name, Text(value, style=style))
    return Panel(grid, title="task created", expand=False)


def _created_person(out: Output, created: Created) -> None:
    out.out().print(_created_panel(created.rows()))


CREATED = RecordView[Created](
    json=lambda created: created.task,
    lines=lambda created: [f"{name}: {value}" for name, value in created.rows()],
    ident=lambda created: task_id_of(created.task),
    person=_created_person,
)


def created_progress(out: Output, created: Created) -> None:
    """The created task on stderr, as progress (`create --wait`: stdout gets the summary)."""
    if out.stderr_is_tty:
        out.err().print(_created_panel(created.rows()))
    else:
        for name, value in created.rows():
            out.note(f"{name}: {value}")


# -- get ---------------------------------------------------------------------------------------


def task_rows(
    task: Task, *, now: datetime | None = None, local: Mapping[str, Any] | None = None
) -> list[tuple[str, str]]:
    """The task panel's rows, in order (shared by the terminal and plain views)."""
    rows = [("task id", task.task_id), ("status", task.task_status)]
    if task.task_status_msg:
        rows.append(("reason", task.task_status_msg))
    if task.external_task_id:
        rows.append(("external id", task.external_task_id))
    if local is not None:
        rows.extend(_local_rows(local))
    for name, moment in (("created", task.created), ("updated", task.updated)):
        if moment is not None:
            rows.append((name, f"{local_time(moment)} ({relative_time(moment, now=now)})"))
    several = len(task.videos) > 1
    for index, video in enumerate(task.videos, start=1):
        label = f"video {index}" if several else "video"
        if video.url:
            length = f" ({video.duration} s)" if video.duration else ""
            rows.append((label, f"{video.url}{length}"))
        if video.watermark_url:
            rows.append((f"watermarked {index}" if several else "watermarked", video.watermark_url))
    if task.final_unit_deduction:
        rows.append(("units", task.final_unit_deduction))
    return rows


def _local_rows(local: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The prompt and images the journal remembers, as panel rows."""
    rows: list[tuple[str, str]] = []
    if local.get("prompt"):
        rows.append(("prompt", str(local["prompt"])))
    if local.get("negative_prompt"):
        rows.append(("negative prompt", str(local["negative_prompt"])))
    images = local.get("images") or []
    for index, image in enumerate(images, start=1):
        label = f"image {index}" if len(images) > 1 else "image"
        if "url" in image:
            rows.append((label, str(image["url"])))
            continue
        size = f"{image.get('width')}×{image.get('height')}"
        digest = str(image.get("sha256") or "")[:12]
        rows.append((label, f"{image.get('name')} ({size}, sha256 {digest}…)"))
    return rows


def _detail_rows(listed: Listed) -> list[tuple[str, str]]:
    from mivid.sidecar import local_info

    local = local_info(listed.entry) if listed.entry is not None else None
    return task_rows(_typed(listed.task), local=local)


def _detail_panel(out: Output, listed: Listed) -> None:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in _detail_rows(listed):
        style = STATUS_STYLES.get(value, "") if name == "status" else ""
        if name == "reason":
            style = "red"
        grid.add_row(name, Text(value, style=style))
    # A title given as text is read as markup by rich's Panel: give it a Text.
    out.out().print(Panel(grid, title=Text(f"task {listed.task_id}"), expand=False))


TASK_DETAIL = RecordView["Listed"](
    json=lambda listed: listed.task,
    lines=lambda listed: [
        f"{name}: {escape_cell(value) if 'prompt' in name else value}"
        for name, value in _detail_rows(listed)
    ],
    ident=lambda listed: listed.task_id,
    person=_detail_panel,
    between="",  # where one task ends, in a pipe too
)


# -- list --------------------------------------------------------------------------------------


def task_tsv_row(task: Task) -> list[str]:
    """task id, status, created (ISO, UTC), duration, external id, first video URL."""
    first = task.videos[0] if task.videos else None
    return [
        task.task_id,
        task.task_status,
        iso_time(task.created),
        first.duration or "" if first is not None else "",
        task.external_task_id or "",
        first.url or "" if first is not None else "",
    ]


def _task_line(listed: Listed) -> list[str]:
    cells = [tsv_cell(cell) for cell in task_tsv_row(_typed(listed.task))]
    cells.append(escape_cell(listed.prompt))
    return ["\t".join(cells)]


def task_table_view(out: Output, listed: Sequence[Listed]) -> RenderableType:
    """The terminal table of `mivid list` (also redrawn by `list --watch`).

    A PROMPT column appears when the journal knows any of the tasks.
    """
    from rich.text import Text

    with_prompts = any(item.entry is not None for item in listed)
    rows = []
    for item in listed:
        task = _typed(item.task)
        first = task.videos[0] if task.videos else None
        row = [
            task.task_id,
            task.task_status,
            relative_time(task.created) or "-",
            f"{first.duration}s" if first is not None and first.duration else "",
            task.external_task_id or "",
            (first.url or "") if first is not None else "",
        ]
        if with_prompts:
            row.insert(4, one_line(item.prompt))
        rows.append(row)
    headers = ["TASK ID", "STATUS", "CREATED", "LENGTH", "EXTERNAL ID", "VIDEO"]
    if with_prompts:
        headers.insert(4, "PROMPT")
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    # The id, status, time and length keep their width; the prompt, the external
    # id and then the URL give way (cut with an ellipsis) when the terminal is narrow.
    room = out.out().width - 2 * (len(headers) - 1) - sum(widths[:4])
    flexible = widths[4:]
    if with_prompts:
        flexible[0] = min(flexible[0], max(12, min(40, room - 11 - 5)))
        room -= flexible[0]
    ext, url = len(flexible) - 2, len(flexible) - 1
    flexible[ext] = min(flexible[ext], max(11, room - min(flexible[url], 40)))
    flexible[url] = min(flexible[url], max(5, room - flexible[ext]))
    widths[4:] = flexible
    table = _plain_table()
    for header, width in zip(headers, widths, strict=True):
        table.add_column(header, no_wrap=True, width=width)
    for row in rows:
        cells = [Text(_cut(value, widths[i])) for i, value in enumerate(row)]
        cells[1].stylize(STATUS_STYLES.get(row[1], ""))
        if with_prompts:
            cells[4].stylize("italic")
        table.add_row(*cells)
    return table


TASK_LIST = RecordView["Listed"](
    json=lambda listed: listed.as_json(),
    lines=_task_line,
    ident=lambda listed: listed.task_id,
    table=lambda out, listed: out.out().print(task_table_view(out, listed)),
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
    return ["\t".join([*map(tsv_cell, fields), escape_cell(prompt)])]


def _journal_table(out: Output, entries: Sequence[JournalEntry]) -> None:
    from datetime import timezone

    from rich.text import Text

    headers = ["TASK ID", "STATUS", "CREATED", "EXTERNAL ID", "PROMPT"]
    rows = [
        [
            entry.task_id or "-",
            entry.status,
            relative_time(datetime.fromtimestamp(entry.created, timezone.utc)) or "-",
            entry.external_task_id,
            one_line(str(entry.request.get("prompt") or "")),
        ]
        for entry in entries
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    room = out.out().width - 2 * (len(headers) - 1) - sum(widths[:3])
    widths[3] = min(widths[3], max(11, room - min(widths[4], 40)))
    widths[4] = min(widths[4], max(10, room - widths[3]))
    table = _plain_table()
    for header, width in zip(headers, widths, strict=True):
        table.add_column(header, no_wrap=True, width=width)
    for row in rows:
        cells = [Text(_cut(value, widths[i])) for i, value in enumerate(row)]
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
    """A task at the end of a wait, and the files saved from it."""

    task: dict[str, Any]
    saved: Sequence[str] = ()


def _ended_details(ended: Ended) -> list[str]:
    lines = []
    if status_of(ended.task) == FAILED and ended.task.get("task_status_msg"):
        lines.append(f"  reason: {ended.task['task_status_msg']}")
    for video in task_videos(ended.task):
        if video.get("url"):
            lines.append(f"  video: {video['url']}")
        if video.get("watermark_url"):
            lines.append(f"  watermarked: {video['watermark_url']}")
    lines += [f"  saved: {path}" for path in ended.saved]
    return lines


def _ended_person(out: Output, ended: Ended) -> None:
    from rich.text import Text

    status = str(_typed(ended.task).task_status)
    if out.color:
        line = Text.assemble(
            (task_id_of(ended.task), "bold"), "  ", (status, STATUS_STYLES.get(status, ""))
        )
        out.out().print(line)
    else:
        out.line(f"{task_id_of(ended.task)}\t{status}")
    for text in _ended_details(ended):
        out.line(text)


ENDED = RecordView[Ended](
    json=lambda ended: ended.task,
    lines=lambda ended: [
        f"{task_id_of(ended.task)}\t{_typed(ended.task).task_status}",
        *_ended_details(ended),
    ],
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

SETTLED_HEADINGS = ("EXTERNAL ID", "SENT", "OUTCOME", "TASK ID", "STATUS", "NOTE")


def _settled_cells(settled: Settled, *, person: bool) -> list[str]:
    from datetime import timezone

    moment = datetime.fromtimestamp(settled.created, tz=timezone.utc)
    return [
        settled.external_task_id,
        local_time(moment) if person else iso_time(moment),
        settled.outcome,
        settled.task_id or "-",
        settled.status,
        settled.note,
    ]


def _settled_table(out: Output, results: Sequence[Settled]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold")
    for name in SETTLED_HEADINGS:
        table.add_column(name, overflow="fold")
    for settled in results:
        table.add_row(*(Text(cell) for cell in _settled_cells(settled, person=True)))
    out.out().print(table)


SETTLED = RecordView["Settled"](
    json=lambda settled: settled.as_json(),
    lines=lambda settled: ["\t".join(_settled_cells(settled, person=False))],
    table=_settled_table,
    heading="\t".join(SETTLED_HEADINGS),
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


def _jobs_table(out: Output, states: Sequence[JobState]) -> None:
    from rich.text import Text

    table = _plain_table()
    for header in ("LINE", "TASK ID", "STATUS", "FILE OR REASON"):
        table.add_column(header, overflow="fold")
    for job in states:
        line, task_id, status, detail = job_row(job)
        table.add_row(line, task_id, Text(status, style=STATUS_STYLES.get(status, "red")), detail)
    out.out().print(table)


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
        lines = [f"ok: the credentials work — {self.credentials}, {self.target}"]
        if self.account is not None:
            lines.append(self.account.line())
        return lines


CHECKED = RecordView[Checked](json=lambda checked: checked.as_json(), lines=Checked.lines)


SETTINGS = RecordView["Resolved"](
    json=lambda resolved: setting_json(resolved, mask=True),
    lines=lambda resolved: [f"{resolved.key}\t{shown_value(resolved)}\t{resolved.token()}"],
)


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
    lines = []
    if spending.without_deduction:
        lines.append(
            f"{_tasks(spending.without_deduction)} ended without a known deduction yet "
            "(mivid get ID or mivid list learns it)"
        )
    if spending.running:
        lines.append(f"{_tasks(spending.running)} still running, not counted")
    if spending.unsettled:
        lines.append(
            f"{_tasks(spending.unsettled)} with an unknown outcome, not counted (mivid recover)"
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
                Text(one_line(model) or "-"),
                Text(endpoint),
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

ACCOUNT_HEADINGS = ("NAME", "TYPE", "STATUS", "LEFT / TOTAL", "VALID UNTIL")


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
            shown.pack.pack_type or "-",
            shown.pack.status_word,
            shown.pack.quantity(),
            local_time(shown.pack.invalid)[:16],  # to the minute
        ]
        for shown in packs
    ]
    widths = [max(len(row[i]) for row in [list(ACCOUNT_HEADINGS), *rows]) for i in range(5)]
    # Only the name gives way on a narrow terminal (cut with an ellipsis).
    room = out.out().width - 2 * (len(widths) - 1) - sum(widths[1:])
    widths[0] = min(widths[0], max(10, room))
    table = _plain_table()
    for heading, width in zip(ACCOUNT_HEADINGS, widths, strict=True):
        right = heading.startswith("LEFT")
        table.add_column(heading, justify="right" if right else "left", no_wrap=True, width=width)
    for shown, row in zip(packs, rows, strict=True):
        cells = [Text(_cut(value, widths[i])) for i, value in enumerate(row)]
        cells[2].stylize("green" if shown.pack.in_force else "dim")
        table.add_row(*cells)
    out.out().print(table)
    out.out().print(Text(AccountSummary([shown.pack for shown in packs]).line(), style="bold"))


#: `mivid account`: the resource packs; `--json` is the service's list as it came.
ACCOUNT = RecordView["ShownPack"](
    json=lambda shown: shown.raw,
    lines=_pack_line,
    table=_packs_table,
    empty="the account has no resource pack",
)
