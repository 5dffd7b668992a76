"""`mivid batch`: send every job of a jobs file, at most N running at once, and follow them."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mivid.app import AppState, app, state
from mivid.commands import options

if TYPE_CHECKING:
    from rich.console import RenderableType

    from mivid.batch import JobState


@app.command(
    epilog="Examples:\n\n"
    "  mivid batch jobs.jsonl --download videos/\n\n"
    "  mivid batch jobs.csv --concurrency 5 --json > report.json\n\n"
    "  mivid --sandbox batch examples/jobs.jsonl --dry-run\n\n"
    "A jobs.jsonl line:\n\n"
    '  {"images": ["front.jpg", "side.png"], "prompt": "the cat walks", "mode": "pro"}'
)
def batch(
    ctx: typer.Context,
    jobs: Path = typer.Argument(
        ...,
        help="Jobs file: JSON Lines (.jsonl, one job object a line) or CSV (.csv).",
        metavar="JOBS",
        show_default=False,
    ),
    concurrency: int = typer.Option(
        3,
        "--concurrency",
        "-c",
        help="At most this many of the batch's tasks running at once (1 to 50); "
        "lowered when the service answers 1303.",
        metavar="N",
    ),
    download_dir: Path | None = options.download_dir(
        "Save each video into this folder as soon as its task ends."
    ),
    watermarked: bool = options.watermarked(),
    fit: bool = options.fit(
        "Fix local images that break a size rule in a copy made in memory "
        "(see `mivid create --help`); the files are never changed."
    ),
    fit_mode: str | None = options.fit_mode(
        "How --fit fixes the aspect ratio: pad or crop [default: pad]. Implies --fit."
    ),
    interval: float = options.poll_interval(),
    json_output: bool = options.json_output(
        "Print a JSON report: one object per job, in file order."
    ),
    dry_run: bool = options.dry_run(
        "Check every job and show which would be sent, skipped or resumed; send nothing."
    ),
) -> None:
    """Send every job of a jobs file, at most N running at once.

    Each job is one create: a JSON object per line with "images" (paths
    relative to the jobs file, or URLs) and "prompt", and optionally
    negative_prompt, mode, duration, aspect_ratio, model_name, watermark
    (true/false), callback_url and external_task_id. Blank lines and lines
    starting with # are skipped. A CSV file has a header row with the same
    names; its images column separates paths with | (a.png|b.jpg). Fields a
    job leaves out come from the config (model, mode, duration, aspect ratio).

    Every line is checked before anything is sent. Each job gets a stable
    external id from the file's path and the line's content, written to the
    journal before it is sent: running the same file again never creates a
    task twice (finished jobs are skipped, running ones waited for, the rest
    sent), so after Ctrl-C or a crash just run it again. On a terminal a live
    table shows each job; in a pipe each finished job prints
    LINE<TAB>TASK_ID<TAB>STATUS<TAB>FILE-OR-REASON.

    Exit status 0 when every job succeeded, 1 when a task failed, 4 when the
    service refused a job (the other jobs still finish), 2 for a bad jobs file.
    """
    from mivid.batch import MAX_CONCURRENCY, read_jobs
    from mivid.errors import InputError

    run = state(ctx)
    out = run.output
    settings = run.settings
    problems: list[str] = []
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        problems.append(f"--concurrency: {concurrency} — must be from 1 to {MAX_CONCURRENCY}")
    problems += options.poll_interval_problems(interval)
    fit_as, fit_problems = options.fit_choice(fit, fit_mode)
    problems += fit_problems
    if watermarked and download_dir is None:
        problems.append("--watermarked: only with --download DIR")
    if download_dir is not None and download_dir.exists() and not download_dir.is_dir():
        problems.append(f"--download {download_dir}: exists and is not a folder")
    if problems:
        raise InputError(problems)
    defaults = {name: settings.get(name) for name in ("model", "mode", "duration", "aspect-ratio")}
    found = read_jobs(jobs, defaults=defaults, fit=fit_as)
    for note in found.notes:
        out.note(note)
    for warning in found.warnings:
        out.warn(warning)
    if dry_run:
        _dry_run(run, found.jobs, json_output=json_output)
        return
    _run(
        run,
        found.jobs,
        jobs_file=jobs,
        concurrency=concurrency,
        download_dir=download_dir,
        watermarked=watermarked,
        interval=interval,
        json_output=json_output,
    )


def _dry_run(run: AppState, jobs: Sequence[Any], *, json_output: bool) -> None:
    from mivid.batch import plan_jobs
    from mivid.commands.create import open_journal
    from mivid.connection import service_url

    out = run.output
    with open_journal(out) as journal:
        states = plan_jobs(jobs, journal, service=service_url(run.settings))
    if json_output:
        out.json([{**s.report(), "files": []} for s in states])
    else:
        for s in states:
            out.line(f"{s.line}\t{s.job.external_task_id}\t{s.action}\t{s.task_id or ''}")
    counts: dict[str, int] = {}
    for s in states:
        counts[s.action] = counts.get(s.action, 0) + 1
    summary = ", ".join(f"{count} to {action}" for action, count in counts.items())
    out.note(f"dry run: {len(states)} jobs checked ({summary}); nothing sent")


def _run(
    run: AppState,
    jobs: Sequence[Any],
    *,
    jobs_file: Path,
    concurrency: int,
    download_dir: Path | None,
    watermarked: bool,
    interval: float,
    json_output: bool,
) -> None:
    from mivid.batch import (
        SKIP,
        outcome_error,
        plan_jobs,
        run_batch,
        video_downloader,
        without_concurrency_retries,
    )
    from mivid.commands.create import open_journal
    from mivid.commands.wait import resume_command
    from mivid.download import RETENTION_NOTE, download_client
    from mivid.render import tsv_cell
    from mivid.waiting import PollSchedule

    out = run.output
    live = _LiveTable(time.monotonic) if out.stderr_is_tty and not json_output else None
    stream = not json_output and not (live is not None and out.stdout_is_tty)
    states: list[JobState] = []
    printed: set[int] = set()

    def changed(job: JobState) -> None:
        if stream and job.final and not job.polling and job.line not in printed:
            printed.add(job.line)
            out.line("\t".join(tsv_cell(cell) for cell in _result_row(job)))
            out.stdout.flush()

    def note(text: str) -> None:
        if live is not None and live.live is not None:
            live.live.console.print(text, style="dim", markup=False, highlight=False)
        else:
            out.note(text)

    with run.client() as client, open_journal(out) as journal:
        without_concurrency_retries(client)
        states = plan_jobs(jobs, journal, service=client.base_url)
        if live is not None:
            live.states = states
        http = download_client(client.transport) if download_dir is not None else None
        try:
            with _live(run, live):
                run_batch(
                    client,
                    states,
                    concurrency=concurrency,
                    journal=journal,
                    sandbox=run.settings.sandbox,
                    download=video_downloader(http, download_dir, watermarked=watermarked)
                    if http is not None and download_dir is not None
                    else None,
                    schedule=PollSchedule(first=interval),
                    on_change=changed,
                    on_note=note,
                )
        except KeyboardInterrupt:
            if json_output:
                out.json([s.report() for s in states])
            sent = sum(1 for s in states if s.sent)
            done = sum(1 for s in states if s.final)
            out.note(
                f"stopped: {sent} jobs sent in this run, {done} of {len(states)} finished; "
                "sent tasks go on at the service. Run the same command again to resume: "
                + resume_command(
                    run,
                    ["batch", str(jobs_file)],
                    download_dir=download_dir,
                    watermarked=watermarked,
                )
            )
            raise
        finally:
            if http is not None:
                http.close()
    if json_output:
        out.json([s.report() for s in states])
    elif live is not None and out.stdout_is_tty:
        _final_table(run, states)
    _summary(run, states)
    if download_dir is not None and any(s.files and s.action != SKIP for s in states):
        out.note(RETENTION_NOTE)
    error = outcome_error(states, name=str(jobs_file))
    if error is not None:
        raise error


def _result_row(job: JobState) -> list[str]:
    """line, task id, status, and the saved file(s), the reason, or the video URL."""
    if job.download_error:
        detail = f"not saved: {job.download_error}"
    elif job.files:
        detail = ",".join(str(path) for path in job.files)
    elif job.state != "succeed":
        detail = job.reason or ""
    else:
        videos = ((job.task or {}).get("task_result") or {}).get("videos") or []
        detail = ",".join(str(v.get("url")) for v in videos if isinstance(v, dict) and v.get("url"))
    return [str(job.line), job.task_id or "", job.state, detail]


def _summary(run: AppState, states: Sequence[JobState]) -> None:
    from mivid.batch import SKIP, totals

    parts = [f"{count} {name}" for name, count in sorted(totals(states).items())]
    skipped = sum(1 for s in states if s.action == SKIP)
    sent = sum(1 for s in states if s.sent)
    run.output.note(
        f"{len(states)} jobs: {', '.join(parts)} ({sent} sent now, {skipped} finished before)"
    )


def _final_table(run: AppState, states: Sequence[JobState]) -> None:
    from rich.table import Table
    from rich.text import Text

    from mivid.render import STATUS_STYLES

    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    for header in ("LINE", "TASK ID", "STATUS", "FILE OR REASON"):
        table.add_column(header, overflow="fold")
    for job in states:
        line, task_id, status, detail = _result_row(job)
        table.add_row(line, task_id, Text(status, style=STATUS_STYLES.get(status, "red")), detail)
    run.output.out().print(table)


class _LiveTable:
    """The live view on stderr: running and recent jobs, one row each, and the totals."""

    RECENT = 5

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.states: list[JobState] = []
        self.live: Any = None

    def __rich__(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        from mivid.batch import FINAL_STATES, WAITING, totals
        from mivid.render import STATUS_STYLES, elapsed_time

        now = self.clock()
        table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
        for header in ("LINE", "STATE", "TASK ID", "ELAPSED"):
            table.add_column(header, no_wrap=True)
        active = [s for s in self.states if s.state not in (*FINAL_STATES, WAITING)]
        done = [s for s in self.states if s.final]
        done.sort(key=lambda s: s.finished or 0)
        waiting = [s for s in self.states if s.state == WAITING]
        shown = [*done[-self.RECENT :], *active, *waiting[:3]]
        for job in sorted(shown, key=lambda s: s.line):
            elapsed = ""
            if job.started is not None:
                elapsed = elapsed_time((job.finished or now) - job.started)
            table.add_row(
                str(job.line),
                Text(job.state, style=STATUS_STYLES.get(job.state, "dim")),
                job.task_id or "",
                elapsed,
            )
        counts = totals(self.states)
        footer = " · ".join(f"{count} {name}" for name, count in sorted(counts.items()))
        hidden = len(self.states) - len(shown)
        more = f" ({hidden} more not shown)" if hidden > 0 else ""
        return Group(table, Text(f"{len(self.states)} jobs: {footer}{more}", style="dim"))


@contextmanager
def _live(run: AppState, table: _LiveTable | None) -> Iterator[None]:
    """rich Live on stderr around the batch, or nothing.

    Transient: its last frame would repeat what follows it (the final table on
    stdout, the totals line on stderr).
    """
    if table is None:
        yield
        return
    from rich.live import Live

    with Live(table, console=run.output.err(), refresh_per_second=4, transient=True) as live:
        table.live = live
        try:
            yield
        finally:
            table.live = None
