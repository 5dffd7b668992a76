"""Running a jobs file (`batch`): plan each job from the journal, then send, follow and save."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from mivid.batch import (
    IF_ROOM,
    LOOKUP,
    OVER_BUDGET,
    RESUME,
    SEND,
    SKIP,
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
from mivid.budget import Budget, Decision, estimate
from mivid.clock import Clock
from mivid.download import download_client
from mivid.errors import AccountError, JournalError
from mivid.flows import QUIET, Say
from mivid.flows.account import Looked, out_of_units, summary_or_none
from mivid.flows.following import Saving
from mivid.flows.journal import existing_journal, open_journal
from mivid.flows.saving import record_failures, skipped_note
from mivid.journal import Journal
from mivid.units import Kind, units_text
from mivid.waiting import PollSchedule


def read_jobs_file(
    path: Path,
    *,
    service: str,
    defaults: Mapping[str, str | None] | None = None,
    sources: Mapping[str, str] | None = None,
    fit: str | None = None,
    use_journal: bool = True,
) -> JobsFile:
    """Read and check a jobs file; jobs the journal knows a task for at `service` keep
    their images unchecked (they are never sent again: see `mivid.batch.read_jobs`).

    A journal that cannot be used stops here (`JournalError`, exit 2), before
    anything is sent, unless `use_journal` is False (`--no-journal`).
    """
    if not use_journal:
        return read_jobs(path, defaults=defaults, sources=sources, fit=fit)
    with existing_journal() as journal:
        if journal is None:
            return read_jobs(path, defaults=defaults, sources=sources, fit=fit)

        def settled(external_task_id: str) -> bool:
            return is_settled(journal.find(external_task_id, service=service), service=service)

        return read_jobs(path, defaults=defaults, sources=sources, fit=fit, settled=settled)


def plan_only(
    jobs: Sequence[Job],
    *,
    service: str,
    say: Say = QUIET,
    use_journal: bool = True,
    budget: Budget | None = None,
) -> list[JobState]:
    """What a run would do with each job (`--dry-run`): send, skip, resume or look up.

    Says (`say.note`) how many tasks it would create and what they should cost.
    With a `budget` (`--max-units`), the jobs it would keep back are OVER_BUDGET,
    and those whose sending depends on a cost not known yet IF_ROOM (`Budget.foresee`).
    """
    with open_journal(use=use_journal) as journal:
        states = plan_jobs(jobs, journal, service=service)
        costs = _known_costs(journal, service)
    for line in before_sending(states, costs, budget=budget):
        say.note(line)
    if budget is not None:
        budget.costs.update(costs)
        for line in _foreseen(states, budget):
            say.note(line)
    return states


def _foreseen(states: Sequence[JobState], budget: Budget) -> list[str]:
    """Mark the jobs `budget` would not send (or only maybe); what to tell a person of them."""
    sending = [state for state in states if state.action == SEND]
    decisions = budget.foresee([state.job.kind for state in sending])
    for state, decision in zip(sending, decisions, strict=True):
        if decision is Decision.STOP:
            state.action = OVER_BUDGET
        elif decision is Decision.WAIT:
            state.action = IF_ROOM
    limit = f"--max-units {units_text(budget.limit)}"
    fits = [state for state in sending if state.action == SEND]
    kept = [state for state in sending if state.action == OVER_BUDGET]
    maybe = [state for state in sending if state.action == IF_ROOM]
    said = []
    if kept:
        sent = estimate([state.job.kind for state in fits], budget.costs)
        cost = f" (about {units_text(sent.known)} units)" if fits and not sent.unpriced else ""
        said.append(
            f"{limit}: {_lines(kept)} would not be sent; {len(fits)} of {len(sending)} fit{cost}"
        )
    if maybe:
        probe = next(state for state in fits if state.job.kind not in budget.costs)
        said.append(
            f"{limit}: {_lines(maybe)} would be sent only if line {probe.line} "
            f"({probe.job.kind.describe()}, a kind not seen yet: sent first, alone, to learn "
            "its cost) leaves room"
        )
    if not kept and not maybe:
        said.append(f"{limit}: every job to send fits")
    return said


def _lines(states: Sequence[JobState]) -> str:
    numbers = [str(state.line) for state in states]
    shown = ", ".join(numbers[:10]) + (", …" if len(numbers) > 10 else "")
    return f"line{'' if len(numbers) == 1 else 's'} {shown}"


def _known_costs(journal: Journal | None, service: str) -> dict[Kind, Decimal]:
    if journal is None:
        return {}
    try:
        return journal.known_costs(service)
    except JournalError:
        return {}  # no estimate from an unreadable journal; the batch still runs


def before_sending(
    states: Sequence[JobState],
    costs: Mapping[Kind, Decimal],
    *,
    account: Looked | None = None,
    budget: Budget | None = None,
) -> list[str]:
    """What a batch is about to do, for people: how many tasks, the units left, the estimate.

    `batch: 8 tasks to create (2 ended before); units left: 118 (1 pack in force)`,
    then `estimate: about 8.8 units (8 × 1.1 for kling-v1-6 std 5 s); --max-units 20`.
    """
    counts = Counter(state.action for state in states)
    to_send = [state.job.kind for state in states if state.action == SEND]
    first = f"batch: {len(to_send)} task{'' if len(to_send) == 1 else 's'} to create"
    others = [
        f"{counts[action]} {words}"
        for action, words in ((LOOKUP, "to look up"), (RESUME, "running"), (SKIP, "ended before"))
        if counts[action]
    ]
    if others:
        first += f" ({', '.join(others)})"
    if not to_send:
        return [first]
    if account is not None:
        first += f"; {account.line()}"
    second = f"estimate: {estimate(to_send, costs).describe()}"
    if budget is not None:
        second += f"; --max-units {units_text(budget.limit)}"
    return [first, second]


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
    budget: Budget | None = None,
    on_plan: Callable[[list[JobState]], None] | None = None,
    on_change: Callable[[JobState], None] | None = None,
    use_journal: bool = True,
) -> list[JobState]:
    """Send every job under `concurrency`, follow each to its end, save its videos.

    Before sending, says (`say.note`) how many tasks it will create, the units
    left and what they should cost; with a `budget` (`--max-units`), keeps
    within it (the budget learns the journal's known costs here).
    `on_plan` gets the job states before anything is sent (a live view shows
    them; after Ctrl-C they say what was done), `on_change` each change. Nothing
    is sent while the journal cannot be used (`JournalError`), unless
    `use_journal` is False (`--no-journal`: each job is looked up first).
    """
    without_concurrency_retries(client)
    with open_journal(use=use_journal) as journal:
        states = plan_jobs(jobs, journal, service=client.base_url)
        if on_plan is not None:
            on_plan(states)
        costs = _known_costs(journal, client.base_url)
        if budget is not None:
            budget.costs.update(costs)
        sending = any(state.action in (SEND, LOOKUP) for state in states)
        account = summary_or_none(client) if sending else None
        for line in before_sending(states, costs, account=account, budget=budget):
            say.note(line)
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
                    # Without the journal (--no-journal), the sidecars hold what the service says.
                    service=client.base_url if journal is not None else None,
                    warn=say.warn,
                    max_bytes=saving.max_video_bytes,
                    pace=saving.pace,
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
                on_warn=say.warn,
                budget=budget,
                on_failed=(
                    lambda task: record_failures(
                        [task],
                        saving.directory,
                        say,
                        service=client.base_url if journal is not None else None,
                    )
                )
                if saving is not None
                else None,
            )
        except AccountError as exc:  # 1100-1103 stop the whole batch
            amended = out_of_units(exc, client)
            if amended is None:
                raise
            raise amended from exc
        finally:
            if http is not None:
                http.close()
    # The gallery (`saving.gallery`) is the caller's to refresh once the results are shown
    # (`refresh_gallery`): its `gallery: DIR/index.html` line is the last a person reads.
    return states
