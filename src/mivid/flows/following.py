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
    WaitTimeoutError,
    combined,
)
from mivid.flows import QUIET, Say, TaskClient
from mivid.flows.journal import RoutedTasks
from mivid.flows.listing import Listed, journaled
from mivid.flows.saving import record_failures, refresh_gallery, save_videos
from mivid.plaintext import printable
from mivid.vocabulary import STATUSES, is_final, status_of, succeeded
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

    def also(self, on_update: Update) -> Update:
        def both(latest: Mapping[str, dict[str, Any] | None]) -> None:
            self.heard(latest)
            on_update(latest)

        return both


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
) -> Followed:
    """Wait for `ids`, then save the videos of those that succeeded.

    `watch` is opened around the waiting and yields the `on_update` callback that
    hears every task's latest object after each round (a live view), or None.

    On timeout the finished tasks' videos are saved first, then StillRunningError
    carries the command that resumes the wait; on Ctrl-C the same command is
    said (`say.note`) before KeyboardInterrupt goes on (exit 130).
    `known` says where some tasks were made (a create just sent); the journal
    says it for the others, or they are looked for on every endpoint.
    """
    routed = RoutedTasks(client, known, warn=say.warn).route(ids)

    def save(
        tasks: list[dict[str, Any]], still: StillRunningError | None = None
    ) -> dict[str, list[SavedVideo]]:
        """The succeeded tasks' videos, the failed ones' sidecars, and the gallery.

        `--timeout` holds while downloading too: a video still coming in at the
        deadline is stopped there (its partial file kept), and the wait times out
        (WaitTimeoutError, with `still`'s unfinished tasks in its resume command).
        """
        if saving is None:
            return {}
        done = [task for task in tasks if succeeded(task)]
        saved = {}
        if done:
            with saving.bars() as on_progress, _cut_at_deadline(done, still, saving, timeout):
                saved = save_videos(
                    client,
                    done,
                    saving.directory,
                    watermarked=saving.watermarked,
                    force=saving.force,
                    say=say,
                    on_progress=on_progress,
                    sleep=clock.sleep,
                    max_bytes=saving.max_video_bytes,
                    remind=saving.remind,
                    pace=replace(saving.pace or Pace(), clock=clock.now, deadline=deadline),
                )
        record_failures(tasks, saving.directory, say, service=client.base_url)
        if saving.gallery:
            refresh_gallery(saving.directory, say)
        return saved

    unknown = _UnknownStatuses(say)
    # `--timeout` is a promise about the wall clock: no query goes on past it either
    # (but even `--timeout 0` looks once: its first queries get FIRST_LOOK_SECONDS).
    deadline = None if timeout is None else clock.now() + max(timeout, FIRST_LOOK_SECONDS)
    errors: dict[str, MividError] = {}
    try:
        with watch() as on_update, client.until(deadline):
            tasks = wait_for_tasks(
                routed,
                ids,
                schedule=PollSchedule(first=first_interval),
                timeout=timeout,
                clock=clock.now,
                sleep=clock.sleep,
                on_update=unknown.heard if on_update is None else unknown.also(on_update),
                errors=errors,
            )
    except StillRunningError as error:
        try:
            save(
                [task for task in error.tasks.values() if task is not None and is_final(task)],
                still=error,
            )
        except WaitTimeoutError as cut:
            raise (combined([cut, *_named(errors)]) or cut) from error
        resume = resume_command(["wait", *error.pending], saving=saving)
        timed_out = StillRunningError(
            error.message,
            tasks=error.tasks,
            pending=error.pending,
            hint=f"the tasks go on at the service; resume with: {resume}",
        )
        raise (combined([timed_out, *_named(errors)]) or timed_out) from error
    except KeyboardInterrupt:
        resume = resume_command(["wait", *ids], saving=saving)
        say.note(f"stopped waiting; the tasks go on at the service. Resume with: {resume}")
        raise
    # Shown as `get` shows them (their endpoint, what the journal remembers); and
    # `list --local` then knows how they ended.
    listed = journaled(
        (Listed(task, endpoint=routed.found_on(task)) for task in tasks),
        service=client.base_url,
        warn=say.warn,
    )
    return Followed(listed, save(tasks), _named(errors))


@contextmanager
def _cut_at_deadline(
    done: Sequence[Mapping[str, Any]],
    still: StillRunningError | None,
    saving: Saving,
    timeout: float | None,
) -> Iterator[None]:
    """A download stopped at `wait --timeout`'s deadline, said as the wait's own timeout."""
    try:
        yield
    except DeadlineError as cut:
        ids = [str(task["task_id"]) for task in done] + (still.pending if still else [])
        resume = resume_command(["wait", *ids], saving=saving)
        said = f"{still.message}; " if still is not None else ""
        raise WaitTimeoutError(
            f"{said}gave up after {timeout or 0:g} s (--timeout) while saving the videos: "
            f"{cut.message}",
            hint=f"resume with: {resume} (it resumes from the bytes kept)",
        ) from cut


def _named(errors: Mapping[str, MividError]) -> list[MividError]:
    """Each id's error, saying which id it is about."""
    from mivid.flows.listing import naming

    return [naming(error, task_id) for task_id, error in errors.items()]
