"""Following tasks from a command (`wait`, `create --wait`): live lines, saving, the summary.

A helper of the command layer, not a command: it wires `mivid.flows.following`
to the live view and the summary's record view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from mivid.app import AppState
from mivid.commands.options import DEFAULT_FIRST_INTERVAL
from mivid.endpoints import Endpoint
from mivid.flows import Say, TaskClient
from mivid.render import Form


def follow_and_show(
    run: AppState,
    client: TaskClient,
    ids: Sequence[str],
    *,
    interval: float = DEFAULT_FIRST_INTERVAL,
    timeout: float | None = None,
    download_dir: Path | None = None,
    watermarked: bool = False,
    force: bool = False,
    gallery: bool = False,
    form: Form,
    one: bool = False,
    summary: bool = True,
    known: Mapping[str, Endpoint] | None = None,
) -> None:
    """Wait for `ids` (live lines on a terminal), each task shown and saved as it ends.

    `form`: how the tasks are written (`Output.form`); `one`: the JSON result is the one task's object, not an array (`create --wait`);
    `summary`: False when the id was the result, printed before (`create -q --wait`);
    `known`: where some tasks were made (`create --wait`), see `follow_tasks`;
    `gallery`: with `download_dir`, bring its index.html up to date at the end.
    On a timeout the tasks that ended are shown all the same (`--json`: the array
    of them, whole) before the timeout is raised (exit 6).
    Raises TasksFailedError (exit 1) when any task failed, and with ids that
    could not be followed, every error at once (the worst exit status).
    """
    from contextlib import nullcontext

    from mivid.errors import ExitCode, MividError, TasksFailedError, combined
    from mivid.flows.following import Saving, follow_tasks
    from mivid.render.live import EndedReport, download_bars, status_lines
    from mivid.render.views import ENDED
    from mivid.vocabulary import failed

    out = run.output
    live = out.shows_progress(form)
    saving = (
        Saving(
            download_dir,
            watermarked=watermarked,
            force=force,
            gallery=gallery,
            bars=lambda: download_bars(out, enabled=live),
            max_video_bytes=run.settings.tuning.max_video_bytes,
            remind=not run.settings.sandbox,
            pace=run.pace(),
        )
        if download_dir is not None
        else None
    )
    timed_out: MividError | None = None
    going_on = _saving_goes_on(run, ids, download_dir)
    with going_on, out.records(ENDED, form, one=one) if summary else nullcontext() as sink:
        report = EndedReport(sink, live=live)
        try:
            followed = follow_tasks(
                client,
                ids,
                clock=run.clock,
                first_interval=interval,
                timeout=timeout,
                saving=saving,
                watch=lambda: status_lines(out, ids, enabled=live),
                say=Say(out.note, out.warn_once),
                known=known,
                on_ended=report.ended,
            )
        except MividError as error:
            if error.exit_code != ExitCode.WAIT_TIMEOUT:
                raise
            timed_out = error  # the document is finished first: it holds what ended
        finally:
            report.finish()
    if timed_out is not None:
        raise timed_out
    problems: list[MividError] = list(followed.errors)
    ended_badly = [task for task in followed.tasks if failed(task)]
    if ended_badly:
        problems.append(TasksFailedError(ended_badly))
    failure = combined(problems)
    if failure is not None:
        raise failure


def _saving_goes_on(
    run: AppState, ids: Sequence[str], download_dir: Path | None
) -> AbstractContextManager[None]:
    """Saving is work that goes on after the first results: a reader that goes away
    (`| head -1`) must not leave the other tasks' videos unsaved (as for a batch)."""
    from contextlib import nullcontext

    from mivid import hints

    if download_dir is None:
        return nullcontext()
    return run.output.results_may_be_lost(
        f"mivid goes on saving each video into {download_dir}; once it ends, the same "
        "command prints every result again, downloading nothing twice: "
        + hints.command("wait", *ids, "--download", str(download_dir))
    )
