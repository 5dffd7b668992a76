"""Following tasks to their end (`wait`, `create --wait`), saving their videos, and how to resume."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mivid import hints
from mivid.clock import Clock
from mivid.download import Pace, Progress, SavedVideo
from mivid.endpoints import Endpoint
from mivid.errors import (
    DeadlineError,
    MividError,
    StillRunningError,
    TasksFailedError,
    WaitTimeoutError,
    combined,
)
from mivid.flows import QUIET, Say, TaskClient
from mivid.flows.journal import RoutedTasks
from mivid.flows.listing import Listed, journaled
from mivid.flows.saving import record_failures, refresh_gallery, save_videos
from mivid.plaintext import printable
from mivid.vocabulary import STATUSES, failed, is_final, status_of, succeeded
from mivid.waiting import PollSchedule, wait_for_tasks

Update = Callable[[Mapping[str, dict[str, Any] | None]], None]
#: The least time a wait gives its first round of queries, whatever its `--timeout`.
FIRST_LOOK_SECONDS = 2.0
#: A live view opened around one step: it yields the step's callback (or None).
View = Callable[[], AbstractContextManager[Any]]


def _no_view() -> AbstractContextManager[None]:
    return nullcontext()


@dataclass
class Followed:
    """What following tasks produced: their final objects and the files saved."""

    #: Each task's final object, with the endpoint it was made on and the journal's entry.
    listed: list[Listed]
    saved: dict[str, list[SavedVideo]] = field(default_factory=dict)
    #: The ids that could not be followed (no such task, refused), each with its error.
    errors: list[MividError] = field(default_factory=list)

    @property
    def tasks(self) -> list[dict[str, Any]]:
        """The final task objects, as the service sent them."""
        return [item.task for item in self.listed]


@dataclass(frozen=True)
class Saving:
    """Where and how to save the videos of the tasks that succeed (`--download DIR` …)."""

    directory: Path
    watermarked: bool = False
    force: bool = False
    #: `--gallery`: bring DIR/index.html up to date at the end.
    gallery: bool = False
    #: Opened around each round of downloads; yields the `on_progress` callback (or None).
    bars: Callable[[], AbstractContextManager[Progress | None]] = _no_view
    #: The largest video saved (`MIVID_MAX_VIDEO_MB`; None: `mivid.download.MAX_VIDEO_BYTES`).
    max_video_bytes: int | None = None
    #: The slowest a video may arrive (`MIVID_STALL_*`; None: `mivid.download.Pace`'s defaults).
    pace: Pace | None = None
    #: Say that the service deletes videos after 30 days (not for the sandbox's).
    remind: bool = True


def resume_command(command: Sequence[str], *, saving: Saving | None = None) -> str:
    """The shell line that picks `command` (e.g. `wait ID…`) up again, with the same saving.

    Built by `mivid.hints.command`: it carries the global options in force.
    """
    words = list(command)
    if saving is not None:
        words += ["--download", str(saving.directory)]
        if saving.watermarked:
            words.append("--watermarked")
        if saving.gallery:
            words.append("--gallery")
    return hints.command(*words)


@dataclass
class _UnknownStatuses:
    """Says once of each status mivid does not know (`queued` …): the task is waited on as running."""

    say: Say
    said: set[str] = field(default_factory=set)

    def heard(self, latest: Mapping[str, dict[str, Any] | None]) -> None:
        for task_id, task in latest.items():
            status = status_of(task)
            # A task no longer followed (not found) is drawn without a task object's id.
            if task is None or "task_id" not in task or status in STATUSES or status in self.said:
                continue
            self.said.add(status)
            self.say.note(
                f"task {printable(task_id)} is `{printable(status)}`, a status mivid does not "
                "know: waiting on as if it were running"
            )


#: Hears the tasks that ended in one round of queries (in the order of the ids), once their
#: videos are saved: each a `Listed`, and the files saved by task id (None: nothing is saved).
OnEnded = Callable[[Sequence[Listed], Mapping[str, list[SavedVideo]] | None], None]


def follow_tasks(
    client: TaskClient,
    ids: Sequence[str],
    *,
    clock: Clock,
    first_interval: float = 1.0,
    timeout: float | None = None,
    saving: Saving | None = None,
    watch: Callable[[], AbstractContextManager[Update | None]] = _no_view,
    say: Say = QUIET,
    known: Mapping[str, Endpoint] | None = None,
    on_ended: OnEnded | None = None,
) -> Followed:
    """Wait for `ids`; each task that ends has its videos saved then and there.

    `watch` is opened around the waiting and yields the `on_update` callback that
    hears every task's latest object after each round (a live view), or None.
    `on_ended` hears the tasks that ended in a round, after their videos are saved
    (`wait A B` shows and saves B as soon as it ends, not when A does).

    On timeout the tasks that ended were saved already (and `on_ended` heard them);
    StillRunningError carries the command that resumes the wait; on Ctrl-C the same
    command is said (`say.note`) before KeyboardInterrupt goes on (exit 130).
    `known` says where some tasks were made (a create just sent); the journal
    says it for the others, or they are looked for on every endpoint.
    """
    routed = RoutedTasks(client, known, warn=say.warn).route(ids)
    unknown = _UnknownStatuses(say)
    # `--timeout` is a promise about the wall clock: no query goes on past it either
    # (but even `--timeout 0` looks once: its first queries get FIRST_LOOK_SECONDS).
    deadline = None if timeout is None else clock.now() + max(timeout, FIRST_LOOK_SECONDS)
    ends = _AsTheyEnd(client, routed, say, clock, saving, timeout, deadline, on_ended)
    errors: dict[str, MividError] = {}

    try:
        with watch() as on_view, client.until(deadline):

            def heard(latest: Mapping[str, dict[str, Any] | None]) -> None:
                unknown.heard(latest)
                if on_view is not None:
                    on_view(latest)  # the live view first: it shows them ended while they are saved
                ends.heard(latest)

            wait_for_tasks(
                routed,
                ids,
                schedule=PollSchedule(first=first_interval),
                timeout=timeout,
                clock=clock.now,
                sleep=clock.sleep,
                on_update=heard,
                errors=errors,
            )
    except StillRunningError as error:
        ends.finish()
        resume = resume_command(["wait", *error.pending], saving=saving)
        timed_out = StillRunningError(
            error.message,
            tasks=error.tasks,
            pending=error.pending,
            hint=f"the tasks go on at the service; resume with: {resume}",
        )
        failures = _failures(ends.listed)
        raise (combined([timed_out, *failures, *_named(errors)]) or timed_out) from error
    except WaitTimeoutError as cut:  # a video still coming in at the deadline (`_cut_at_deadline`)
        ends.finish()
        others = [*_failures(ends.listed), *_named(errors)]
        if not others:
            raise
        raise (combined([cut, *others]) or cut) from cut
    except KeyboardInterrupt:
        resume = resume_command(["wait", *ids], saving=saving)
        say.note(f"stopped waiting; the tasks go on at the service. Resume with: {resume}")
        raise
    ends.finish()
    return Followed(ends.listed, ends.saved, _named(errors))


def _failures(listed: Sequence[Listed]) -> list[MividError]:
    """The error saying which of these tasks failed (none when none did)."""
    ended_badly = [item.task for item in listed if failed(item.task)]
    return [TasksFailedError(ended_badly)] if ended_badly else []


@dataclass
class _AsTheyEnd:
    """Each task taken care of in the round it is first seen ended: shown as `get` shows it
    (its endpoint, what the journal remembers; `list --local` then knows how it ended),
    its videos saved (or its failure sidecar written), then told to `on_ended`.

    A round in which no task ended costs nothing here: no journal, no request.
    """

    client: TaskClient
    routed: RoutedTasks
    say: Say
    clock: Clock
    saving: Saving | None
    timeout: float | None
    deadline: float | None
    on_ended: OnEnded | None
    #: Each ended task, in the order it ended, and the files saved of each.
    listed: list[Listed] = field(default_factory=list)
    saved: dict[str, list[SavedVideo]] = field(default_factory=dict)
    #: The ids (as asked for) taken care of.
    done: set[str] = field(default_factory=set)
    reminded: bool = False

    def heard(self, latest: Mapping[str, dict[str, Any] | None]) -> None:
        ended = {
            task_id: task
            for task_id, task in latest.items()
            if task_id not in self.done
            and task is not None
            and "task_id" in task  # not one no longer followed (not found)
            and is_final(task)
        }
        if not ended:
            return
        self.done.update(ended)
        listed = journaled(
            (Listed(task, endpoint=self.routed.found_on(task)) for task in ended.values()),
            service=self.client.base_url,
            warn=self.say.warn,
        )
        self.listed += listed
        saved = None
        if self.saving is not None:
            still = [
                task_id
                for task_id, task in latest.items()
                if task is None or ("task_id" in task and not is_final(task))
            ]
            saved = self._save(self.saving, [item.task for item in listed], still)
            self.saved.update(saved)
        if self.on_ended is not None:
            self.on_ended(listed, saved)

    def _save(
        self, saving: Saving, tasks: list[dict[str, Any]], still: list[str]
    ) -> dict[str, list[SavedVideo]]:
        """The succeeded tasks' videos, and the failed ones' sidecars.

        `--timeout` holds while downloading too: a video still coming in at the
        deadline is stopped there (its partial file kept), and the wait times out
        (WaitTimeoutError, with the tasks `still` running in its resume command).
        """
        done = [task for task in tasks if succeeded(task)]
        saved: dict[str, list[SavedVideo]] = {}
        if done:
            # The service deletes its videos after 30 days: said once a run (not for the sandbox's).
            remind = saving.remind and not self.reminded
            with saving.bars() as on_progress, _cut_at_deadline(done, still, saving, self.timeout):
                saved = save_videos(
                    self.client,
                    done,
                    saving.directory,
                    watermarked=saving.watermarked,
                    force=saving.force,
                    say=self.say,
                    on_progress=on_progress,
                    sleep=self.clock.sleep,
                    max_bytes=saving.max_video_bytes,
                    remind=remind,
                    pace=replace(
                        saving.pace or Pace(), clock=self.clock.now, deadline=self.deadline
                    ),
                )
            self.reminded |= remind and any(
                not video.skipped for videos in saved.values() for video in videos
            )
        record_failures(tasks, saving.directory, self.say, service=self.client.base_url)
        return saved

    def finish(self) -> None:
        """`--gallery`: DIR/index.html brought up to date, once, with whatever was saved."""
        if self.saving is not None and self.saving.gallery:
            refresh_gallery(self.saving.directory, self.say)


@contextmanager
def _cut_at_deadline(
    done: Sequence[Mapping[str, Any]],
    still: Sequence[str],
    saving: Saving,
    timeout: float | None,
) -> Iterator[None]:
    """A download stopped at `wait --timeout`'s deadline, said as the wait's own timeout
    (its resume command names the tasks being saved and those `still` running)."""
    try:
        yield
    except DeadlineError as cut:
        ids = [str(task["task_id"]) for task in done] + list(still)
        resume = resume_command(["wait", *ids], saving=saving)
        running = f"; still running: {', '.join(still)}" if still else ""
        raise WaitTimeoutError(
            f"gave up after {timeout or 0:g} s (--timeout) while saving the videos: "
            f"{cut.message}{running}",
            hint=f"resume with: {resume} (it resumes from the bytes kept)",
        ) from cut


def _named(errors: Mapping[str, MividError]) -> list[MividError]:
    """Each id's error, saying which id it is about."""
    from mivid.flows.listing import naming

    return [naming(error, task_id) for task_id, error in errors.items()]
