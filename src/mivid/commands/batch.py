"""`mivid batch`: send every job of a jobs file, at most N running at once, and follow them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mivid.app import AppState, app, state
from mivid.commands import options
from mivid.plaintext import counted

if TYPE_CHECKING:
    from mivid.batch import Job, JobState
    from mivid.flows.following import Saving
    from mivid.render import Form


def _job_fields() -> str:
    """The jobs file's fields for `batch --help`, from the vocabulary (never a copy of it)."""
    import textwrap

    from mivid.vocabulary import job_field_help

    described = job_field_help()
    name_width = max(len(name) for name, _ in described) + 2
    lines = []
    for name, text in described:
        # Folded at 78 columns by hand: a `\b` block is kept as written.
        folded = textwrap.wrap(text, width=76 - name_width) or [""]
        lines.append(f"  {name:<{name_width}}{folded[0]}")
        lines += [f"  {'':<{name_width}}{more}" for more in folded[1:]]
    return "Job fields (create's option for each; see mivid create --help):\n\n\b\n" + "\n".join(
        lines
    )


@app.command(
    epilog=options.examples(
        "mivid batch jobs.jsonl --download videos/",
        "mivid batch jobs.csv --concurrency 5 --json > report.json",
        "mivid --sandbox batch mivid-examples/jobs.jsonl --dry-run",
        before=_job_fields(),
        after="The mivid-examples/ folder: mivid sandbox examples. A jobs.jsonl line:\n\n\b\n"
        '  {"images": ["a.jpg", "b.png"], "prompt": "the cat walks", "mode": "pro"}',
    )
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
    gallery: bool = options.gallery(),
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
    max_units: str | None = options.max_units(
        "Never let this run's tasks cost more than N units (deducted, plus an estimate for "
        "those in flight from the costs the journal saw); the jobs that do not fit are not "
        "sent (exit 4) and a rerun sends them."
    ),
    no_journal: bool = options.no_journal(),
) -> None:
    """Send every job of a jobs file, at most N running at once.

    Each job is one create: a JSON object per line with "images" (paths
    relative to the jobs file, or URLs), "prompt", and any other of the job
    fields listed below. Blank lines and lines starting with # are skipped. A
    CSV file has a header row with the same names; its images and elements
    columns separate values with | (a.png|b.jpg). Fields a job leaves out come
    from the config (model, mode, duration, aspect ratio).

    Every line is checked before anything is sent. Each job gets a stable
    external id from what the line asks and the file's name (never from where
    the file is), written to the journal before it is sent: running the same
    file again never creates a task twice (finished jobs are skipped, running
    ones waited for, the rest sent), so after Ctrl-C or a crash just run it
    again. On a terminal a live
    table shows each job; in a pipe each finished job prints
    LINE<TAB>TASK_ID<TAB>STATUS<TAB>RESULT, the result being the saved file
    (with --download; several joined by commas), else the video's URL, or why
    the job failed.

    Before sending it says how many tasks it will create, the units left and
    an estimate from what tasks of the same model, mode and duration cost
    before. With --max-units, a task of a kind never seen before is sent alone
    to learn its cost.

    Exit status 0 when every job succeeded, 1 when a task failed, 4 when the
    service refused a job or --max-units kept some back, 5 when the network
    kept a job from ending (the other jobs still finish), 2 for a bad jobs file.
    """
    from mivid.batch import MAX_CONCURRENCY
    from mivid.connection import service_url
    from mivid.errors import InputError
    from mivid.flows.batching import read_jobs_file
    from mivid.flows.following import Saving

    run = state(ctx)
    out = run.output
    problems: list[str] = []
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        problems.append(f"--concurrency: {concurrency} — must be from 1 to {MAX_CONCURRENCY}")
    problems += options.poll_interval_problems(interval)
    fit_as, fit_problems = options.fit_choice(fit, fit_mode)
    limit, limit_problems = options.max_units_value(max_units)
    problems += fit_problems + limit_problems
    if watermarked and download_dir is None:
        problems.append("--watermarked: only with --download DIR")
    problems += options.gallery_problems(gallery, download_dir)
    problems += options.folder_problems(download_dir)
    if problems:
        raise InputError(problems)
    again = _Again(jobs, concurrency, fit_as, interval, max_units, json_output, no_journal)
    # Only what the user chose (flag, environment, config): each job's endpoint does the rest.
    names = ("model", "mode", "duration", "aspect-ratio")
    defaults = {name: run.settings.chosen(name) for name in names}
    found = read_jobs_file(
        jobs,
        service=service_url(run.settings),
        defaults=defaults,
        sources={name: run.settings.values[name].where() for name in names},
        fit=fit_as,
        use_journal=not no_journal,
    )
    for note in found.notes:
        out.note(note)
    for warning in found.warnings:
        out.warn(warning)
    if dry_run:
        form = out.form(json=json_output)
        _dry_run(run, found.jobs, form=form, use_journal=not no_journal, limit=limit)
        return
    saving = (
        Saving(
            download_dir,
            watermarked=watermarked,
            gallery=gallery,
            max_video_bytes=run.settings.tuning.max_video_bytes,
            pace=run.pace(),
        )
        if download_dir is not None
        else None
    )
    _run(run, found.jobs, again=again, saving=saving, limit=limit)


@dataclass(frozen=True)
class _Again:
    """The options of this run that a command running it again must repeat."""

    jobs: Path
    concurrency: int
    fit: str | None
    interval: float
    max_units: str | None
    json_output: bool
    no_journal: bool

    def command(self, saving: Saving | None, *, max_units: str | None = None) -> str:
        """The command line that runs this batch again, every option as given (`max_units`:
        another budget in place of this run's)."""
        from mivid.batch import DEFAULT_CONCURRENCY
        from mivid.flows.following import resume_command

        words = ["batch", str(self.jobs)]
        if self.concurrency != DEFAULT_CONCURRENCY:
            words += ["--concurrency", str(self.concurrency)]
        if self.fit is not None:
            words += ["--fit-mode", self.fit]
        if self.interval != options.DEFAULT_FIRST_INTERVAL:
            words += ["--interval", f"{self.interval:g}"]
        units = max_units if max_units is not None else self.max_units
        if units is not None:
            words += ["--max-units", units]
        if self.json_output:
            words.append("--json")
        if self.no_journal:
            words.append("--no-journal")
        return resume_command(words, saving=saving)


def _dry_run(
    run: AppState,
    jobs: Sequence[Job],
    *,
    form: Form,
    use_journal: bool,
    limit: Decimal | None = None,
) -> None:
    from mivid.batch import IF_ROOM, OVER_BUDGET
    from mivid.budget import Budget
    from mivid.connection import service_url
    from mivid.flows import Say
    from mivid.flows.batching import plan_only
    from mivid.render.views import JOB_PLAN

    out = run.output
    states = plan_only(
        jobs,
        service=service_url(run.settings),
        say=Say(out.note, out.warn),
        use_journal=use_journal,
        budget=Budget(limit) if limit is not None else None,
    )
    with out.records(JOB_PLAN, form) as sink:
        sink.extend(states)
    counts: dict[str, int] = {}
    for s in states:
        counts[s.action] = counts.get(s.action, 0) + 1
    said = {OVER_BUDGET: "over --max-units", IF_ROOM: "to send if room is left"}
    summary = ", ".join(
        f"{count} {said.get(action, 'to ' + action)}" for action, count in counts.items()
    )
    out.note(f"dry run: {counted(len(states), 'job')} checked ({summary}); nothing sent")


def _run(
    run: AppState,
    jobs: Sequence[Job],
    *,
    again: _Again,
    saving: Saving | None,
    limit: Decimal | None,
) -> None:
    out = run.output
    # A reader that goes away (`| head -1`) must not abandon paid tasks or unsent jobs.
    going_on = (
        "the batch goes on with every job; once it ends, the same command prints every "
        f"job's result again, sending nothing twice: {again.command(saving)}"
    )
    with out.results_may_be_lost(going_on):
        _run_jobs(run, jobs, again=again, saving=saving, limit=limit)


def _run_jobs(
    run: AppState,
    jobs: Sequence[Job],
    *,
    again: _Again,
    saving: Saving | None,
    limit: Decimal | None,
) -> None:
    from mivid.batch import SKIP, outcome_error
    from mivid.budget import Budget
    from mivid.download import RETENTION_NOTE
    from mivid.flows import Say
    from mivid.flows.batching import run_jobs
    from mivid.flows.saving import refresh_gallery
    from mivid.render.live import JobReport, job_results_form, jobs_table
    from mivid.render.views import JOB_RESULTS

    out = run.output
    budget = Budget(limit) if limit is not None else None
    form = out.form(json=again.json_output)
    live_view = out.shows_progress(form)
    form = job_results_form(form, live=live_view)
    with out.records(JOB_RESULTS, form) as results, jobs_table(out, enabled=live_view) as live:
        report = JobReport(results, live)
        try:
            with run.client() as client:
                run_jobs(
                    client,
                    jobs,
                    clock=run.clock,
                    concurrency=again.concurrency,
                    first_interval=again.interval,
                    saving=saving,
                    sandbox=run.settings.sandbox,
                    say=Say(live.note, out.warn),
                    budget=budget,
                    on_plan=report.planned,
                    on_change=report.changed,
                    use_journal=not again.no_journal,
                )
        except KeyboardInterrupt:
            report.stopped()
            _stopped(run, report.states, again.command(saving))
            raise
        report.finish()
    _summary(run, report.states)
    fresh = any(s.files and s.action != SKIP for s in report.states)
    if saving is not None and fresh and not run.settings.sandbox:  # the sandbox keeps its own
        out.note(RETENTION_NOTE)
    if saving is not None and saving.gallery:  # after the results: the page is what to open
        refresh_gallery(saving.directory, Say(out.note, out.warn))
    error = outcome_error(
        report.states,
        name=str(again.jobs),
        budget=budget,
        resume=lambda units: again.command(saving, max_units=units),
    )
    if error is not None:
        raise error


def _stopped(
    run: AppState,
    states: Sequence[JobState],
    resume: str,
) -> None:
    """After Ctrl-C (the results so far written): what was done, and the command that resumes."""
    sent = sum(1 for s in states if s.sent)
    done = sum(1 for s in states if s.final)
    run.output.note(
        f"stopped: {counted(sent, 'job')} sent in this run, {done} of {len(states)} finished; "
        "sent tasks go on at the service. Run the same command again to resume: " + resume
    )


def _summary(run: AppState, states: Sequence[JobState]) -> None:
    from mivid.batch import SKIP, totals

    parts = [f"{count} {name}" for name, count in sorted(totals(states).items())]
    skipped = sum(1 for s in states if s.action == SKIP)
    sent = sum(1 for s in states if s.sent)
    run.output.note(
        f"{counted(len(states), 'job')}: {', '.join(parts)} "
        f"({sent} sent now, {skipped} finished before)"
    )
