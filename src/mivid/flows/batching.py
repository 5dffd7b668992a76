"""Running a jobs file (`batch`): plan each job from the journal, then send, follow and save."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mivid.batch import (
    Job,
    JobsFile,
    JobState,
    is_settled,
    plan_jobs,
    read_jobs,
    run_batch,
    saved_videos,
    video_downloader,
    without_concurrency_retries,
)
from mivid.clock import Clock
from mivid.download import download_client
from mivid.errors import AccountError
from mivid.flows import QUIET, Say
from mivid.flows.account import out_of_units
from mivid.flows.following import Saving
from mivid.flows.journal import existing_journal, open_journal
from mivid.flows.saving import skipped_note
from mivid.waiting import PollSchedule


def read_jobs_file(
    path: Path,
    *,
    service: str,
    defaults: Mapping[str, str | None] | None = None,
    fit: str | None = None,
) -> JobsFile:
    """Read and check a jobs file; jobs the journal knows a task for at `service` keep
    their images unchecked (they are never sent again: see `mivid.batch.read_jobs`)."""
    with existing_journal() as journal:
        if journal is None:
            return read_jobs(path, defaults=defaults, fit=fit)

        def settled(external_task_id: str) -> bool:
            try:
                return is_settled(journal.find(external_task_id), service=service)
            except sqlite3.Error:
                return False  # an unreadable journal: every job is checked

        return read_jobs(path, defaults=defaults, fit=fit, settled=settled)


def plan_only(jobs: Sequence[Job], *, service: str, say: Say = QUIET) -> list[JobState]:
    """What a run would do with each job (`--dry-run`): send, skip, resume or look up."""
    with open_journal(say.warn) as journal:
        return plan_jobs(jobs, journal, service=service)


def run_jobs(
    client: Any,
    jobs: Sequence[Job],
    *,
    clock: Clock,
    concurrency: int,
    first_interval: float,
    saving: Saving | None = None,
    sandbox: bool = False,
    say: Say = QUIET,
    on_plan: Callable[[list[JobState]], None] | None = None,
    on_change: Callable[[JobState], None] | None = None,
) -> list[JobState]:
    """Send every job under `concurrency`, follow each to its end, save its videos.

    `on_plan` gets the job states before anything is sent (a live view shows
    them; after Ctrl-C they say what was done), `on_change` each change.
    """
    without_concurrency_retries(client)
    with open_journal(say.warn) as journal:
        states = plan_jobs(jobs, journal, service=client.base_url)
        if on_plan is not None:
            on_plan(states)
        http = download_client(client.transport) if saving is not None else None
        try:
            run_batch(
                client,
                states,
                concurrency=concurrency,
                journal=journal,
                sandbox=sandbox,
                download=video_downloader(
                    http,
                    saving.directory,
                    watermarked=saving.watermarked,
                    sleep=clock.sleep,
                    on_skip=lambda video: say.note(skipped_note(video)),
                )
                if http is not None and saving is not None
                else None,
                saved=saved_videos(saving.directory, watermarked=saving.watermarked)
                if saving is not None
                else None,
                schedule=PollSchedule(first=first_interval),
                clock=clock.now,
                sleep=clock.sleep,
                on_change=on_change,
                on_note=say.note,
            )
        except AccountError as exc:  # 1100-1103 stop the whole batch
            amended = out_of_units(exc, client)
            if amended is None:
                raise
            raise amended from exc
        finally:
            if http is not None:
                http.close()
    return states
