"""Turning what a user asked for into one checked, billed-at-most-once create.

`prepare_create` checks everything (options and every image) and reports all
problems at once before a byte is sent. `submit_create` sends it through the
client's idempotent create, always with an `external_task_id`: the user's,
or one generated here, so a lost answer can be looked up instead of paid twice.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mivid import hints
from mivid.create_request import (
    ROLE_OPTIONS,
    CreateRequest,
    Inputs,
    check_create_request,
    choose_endpoint,
    element_ids,
    input_problems,
    reference_video,
)
from mivid.endpoints import Endpoint
from mivid.errors import ApiError, InFlightError, InputError, JournalError
from mivid.fit import FitRef, fit_image
from mivid.images import ImageChecks, check_image
from mivid.problems import Problem
from mivid.request_body import CreateBody
from mivid.vocabulary import CREATE_FIELDS, END_FRAME, FIRST_FRAME, with_external_id

if TYPE_CHECKING:
    from mivid.journal import Journal, JournalEntry


def _ignore(_text: str) -> None:
    return None


def new_external_task_id() -> str:
    """A fresh id for a create the user did not name: unique, and says who made it."""
    return f"mivid-{secrets.token_hex(10)}"


@dataclass(frozen=True)
class PreparedCreate:
    request: CreateRequest
    images: list[FitRef]
    warnings: list[str] = field(default_factory=list)
    #: What `--fit` changed, one line per fitted image (for stderr).
    notes: list[str] = field(default_factory=list)
    #: The task id (or external id) of the task this create remakes (`create --from`).
    made_from: str | None = None
    #: Each image's role in `image_list` order (`first_frame`, `end_frame`; None: a reference).
    roles: tuple[str | None, ...] = ()
    #: The external id was made up here (the user named none): a journaled earlier create of
    #: the same request whose outcome is unknown may lend its own instead (`submit_create`).
    external_id_generated: bool = False

    @property
    def endpoint(self) -> Endpoint:
        return self.request.endpoint

    @property
    def external_task_id(self) -> str:
        external = self.request.external_task_id
        assert external is not None
        return external

    @property
    def body(self) -> CreateBody:
        return CreateBody(
            self.request.fields(), self.images, self.request.endpoint, roles=self.roles
        )


def prepare_create(
    image_arguments: Sequence[str],
    *,
    base_dir: Path | None = None,
    fit: str | None = None,
    endpoint: Endpoint | str | None = None,
    checks: ImageChecks | None = None,
    **values: Any,
) -> PreparedCreate:
    """Check the options and the images; every problem at once in one InputError.

    `values` are the create's fields by their jobs-file names (`prompt`,
    `model_name`, `watermark`, `elements`, `video` …, see
    `mivid.vocabulary.CREATE_FIELDS`), and how its inputs are given
    (`mivid.vocabulary.JOB_EXTRAS`: `first_frame`, `end_frame`, `endpoint`,
    `video_use`, `keep_sound`); the external id is generated when not given.
    The images are sent in this order: `image_arguments` (references), then the
    first frame, then the end frame, so `<<<image_1>>>` is the first argument.
    With ``fit`` ("pad" or "crop"), a local image that breaks only a size rule is
    replaced by a conforming in-memory copy (`mivid.fit`), and `notes` says what
    changed. `endpoint` is an endpoint, or the name a user gave (`--endpoint`). With
    ``checks`` (one per run), a file checked for an earlier create is not checked again.
    """
    by_name = {spec.name: values.get(spec.in_jobs) for spec in CREATE_FIELDS}
    generated = by_name.get("external_task_id") is None
    if generated:
        by_name["external_task_id"] = new_external_task_id()
    problems: list[Problem] = []
    warnings: list[str] = []
    if endpoint is None or isinstance(endpoint, str):
        model = str(by_name.get("model_name") or "")
        endpoint, problems, warnings = choose_endpoint(model, endpoint)
    video, video_problems = reference_video(
        values.get("video"), values.get("video_use"), values.get("keep_sound")
    )
    elements, element_problems = element_ids(values.get("elements"))
    by_name["video_list"] = video
    by_name["element_list"] = elements or None
    request, field_problems = check_create_request(by_name, endpoint=endpoint)
    problems = field_problems + problems + video_problems + element_problems
    arguments: list[tuple[str, str | None]] = [(argument, None) for argument in image_arguments]
    arguments += [(values[role], role) for role in (FIRST_FRAME, END_FRAME) if values.get(role)]
    roles = tuple(role for _, role in arguments)
    inputs = Inputs(roles, len(elements), video["refer_type"] if video else None)
    input_found, input_warnings = input_problems(request, inputs)
    if not any(problem.field == "endpoint" for problem in problems):
        problems += input_found  # else judged by rules of an endpoint nobody asked for
    images: list[FitRef] = []
    notes: list[str] = []
    for argument, role in arguments:
        image: FitRef | None
        image_problems: list[Problem]
        if fit is None:
            image, image_problems = check_image(argument, base_dir=base_dir, checks=checks)
        else:
            image, image_problems, image_notes = fit_image(
                argument, mode=fit, base_dir=base_dir, checks=checks
            )
            notes.extend(image_notes)
        if role is not None:
            # Said of the option that gave the image: `--first-frame a.png: …`.
            option = ROLE_OPTIONS[role]
            image_problems = [
                replace(p, subject=f"{option} {p.subject}".strip(), field=role)
                for p in image_problems
            ]
        problems.extend(image_problems)
        if image is not None:
            images.append(image)
    if problems:
        raise InputError(problems)
    return PreparedCreate(
        request,
        images,
        [*warnings, *input_warnings],
        notes,
        roles=roles,
        external_id_generated=generated,
    )


def submit_create(
    client: Any,
    prepared: PreparedCreate,
    *,
    on_ambiguous: Callable[[str, str], None] | None = None,
    journal: Journal | None = None,
    sandbox: bool = False,
    note: Callable[[str], None] = _ignore,
    warn: Callable[[str], None] = _ignore,
) -> dict[str, Any]:
    """Send the create once (looked up, not resent, when its answer is lost); the task object.

    With a `journal`, the create is claimed there first (`Journal.claim`): this
    very request already made its task → that task, nothing sent; its earlier
    outcome is unknown → looked up by its external id first; the external id is
    the journal's for another request → ApiError (exit 4), nothing sent; another mivid
    process is sending it → InFlightError. A create whose external id was made up
    here takes the one of an earlier send of this very request whose outcome is
    unknown (`Journal.unsettled_twin`): a rerun never pays for a second task. A
    resend's refusal with 1201 leaves the outcome unknown. The outcome is written after: the
    task, "not created" for a refusal that surely made nothing, or "unknown"
    when the task may exist (`mivid recover` settles it). Once the service has
    accepted the create, no journal trouble hides it: `warn` says so.
    """
    from mivid.errors import CreateOutcomeUnknownError, ExternalIdTakenError, MividError

    service = client.base_url
    earlier: JournalEntry | None = None  # a send under this external id, outcome unknown
    if journal is not None:
        prepared = _with_unsettled_id(prepared, journal, service, note)
        known, earlier = _claimed(client, prepared, journal, sandbox=sandbox, note=note)
        if known is not None:
            return known
    try:
        task = _sent(client, prepared, on_ambiguous=on_ambiguous, earlier=earlier)
    except CreateOutcomeUnknownError as exc:
        _failed(journal, prepared, service, exc.message, warn, created=None, accepted=exc.accepted)
        raise
    except ExternalIdTakenError as exc:
        reason = f"the external id was already used by task {exc.task.get('task_id')}"
        _failed(journal, prepared, service, reason, warn, created=False)
        raise
    except MividError as exc:
        _failed(journal, prepared, service, exc.message, warn, created=False)
        raise
    except BaseException:
        _failed(journal, prepared, service, "interrupted while sending", warn, created=None)
        external = prepared.external_task_id
        # Said before "interrupted": the next step must not be a second, paid create.
        warn(
            f"the create may have been made (external id `{external}`): see it with "
            f"{hints.command('get', external)} or settle it with {hints.command('recover')}; "
            "running the same create again looks it up first"
        )
        raise
    # The live service's create answer does not echo the external id: link by the one sent.
    task = with_external_id(task, prepared.external_task_id)
    if journal is not None:
        try:
            journal.record_task(task, service=service, external_task_id=prepared.external_task_id)
        except JournalError as exc:
            warn(
                f"task {task['task_id']} was created, but the journal could not record it "
                f"({exc.reason}); `mivid recover` settles it once the journal can be written"
            )
    return task


#: The code of a create refused for one of its values (the external id being taken among them).
_VALUE_REFUSED = 1201


def _sent(
    client: Any,
    prepared: PreparedCreate,
    *,
    on_ambiguous: Callable[[str, str], None] | None,
    earlier: JournalEntry | None,
) -> dict[str, Any]:
    """The task the create made. `earlier`: a send under this external id whose outcome is
    unknown, so a task found under it is that send's, and a refusal proves nothing."""
    from mivid.errors import CreateOutcomeUnknownError, ExternalIdTakenError, MividError

    body = prepared.body
    try:
        task: dict[str, Any] = client.create_task(
            body,
            content_length=body.content_length,
            external_task_id=prepared.external_task_id,
            endpoint=prepared.endpoint,
            on_ambiguous=on_ambiguous,
        )
    except ExternalIdTakenError as taken:
        if earlier is None:
            raise
        return taken.task  # made by the earlier send, visible only now: not paid twice
    except MividError as exc:
        if earlier is None or exc.code != _VALUE_REFUSED:
            raise
        # Refused as a value (the live "External_task_id … already exists"): the first send
        # may have made it, not visible yet. Still unknown, never "not created".
        raise CreateOutcomeUnknownError(
            f"this create was sent before under external id `{prepared.external_task_id}` "
            f"(its outcome unknown) and sending it again was refused ({exc.message}); no task "
            "with that external id can be found yet",
            external_task_id=prepared.external_task_id,
            accepted=earlier.accepted,
        ) from exc
    return task


def _with_unsettled_id(
    prepared: PreparedCreate, journal: Journal, service: str, note: Callable[[str], None]
) -> PreparedCreate:
    """The create under the external id of an earlier send of this very request whose outcome
    is unknown, when the user named none: a rerun then never pays for a second task."""
    if not prepared.external_id_generated:
        return prepared
    try:
        twin = journal.unsettled_twin(prepared, service=service)
    except JournalError:
        return prepared  # the claim that follows reports the journal's trouble
    if twin is None:
        return prepared
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(twin.created))
    note(
        f"this very create was sent on {when} and its outcome is unknown: sending it under "
        f"that send's external id `{twin.external_task_id}`, so it is never made twice "
        "(give --external-task-id to make another task on purpose)"
    )
    return replace(
        prepared,
        request=prepared.request.replaced(external_task_id=twin.external_task_id),
        external_id_generated=False,
    )


def _claimed(
    client: Any,
    prepared: PreparedCreate,
    journal: Journal,
    *,
    sandbox: bool,
    note: Callable[[str], None],
) -> tuple[dict[str, Any] | None, JournalEntry | None]:
    """The task this very request already made (nothing to send), or None once claimed to send;
    and the earlier send's entry when it is claimed to be sent again after an unknown outcome."""
    from mivid.journal import IN_FLIGHT, KNOWN, LOOK_UP, SEND, TAKEN

    service = client.base_url
    external = prepared.external_task_id
    claim = journal.claim(prepared, service=service, sandbox=sandbox)
    earlier: JournalEntry | None = None
    if claim.action == LOOK_UP:
        # Sent before with an outcome nobody learned: the task may exist. Resending with
        # the same external id would be refused if it does; asking first is cheaper.
        found = client.find_task(external, endpoint=prepared.endpoint)
        if found is not None:
            journal.record_task(found, service=service, external_task_id=external)
            note(f"an earlier send of this create made task {found['task_id']}; nothing sent")
            return with_external_id(found, external), None
        earlier = claim.entry
        claim = journal.claim(prepared, service=service, sandbox=sandbox, take_over=True)
    entry = claim.entry
    if claim.action == SEND:
        return None, earlier
    assert entry is not None
    if claim.action == KNOWN:
        assert entry.task_id is not None
        client.is_task_id(entry.task_id)
        task = client.get_task(entry.task_id, endpoint=entry.api)
        journal.record_task(task, service=service, external_task_id=external)
        note(f"this create was sent before and made task {entry.task_id}; nothing sent again")
        return with_external_id(task, external), None
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created))
    if claim.action == IN_FLIGHT:
        raise InFlightError(
            f"external id `{external}`: another mivid (process {entry.pid}) is sending this "
            "create right now; nothing sent",
            hint=f"let it finish, then see the task: {hints.command('get', external)}",
            pid=entry.pid,
        )
    assert claim.action == TAKEN
    what = f"task {entry.task_id}" if entry.task_id else f"a create whose outcome is {entry.status}"
    # Exit 4 as when the service refuses a taken external id (issue 12): the id is in use, by a
    # task (or a create that may have made one) of another request. Still nothing is sent.
    raise ApiError(
        f"external id `{external}` is already used by {what} of another request ({when}); "
        f"nothing sent — see it with: {hints.command('get', external)}",
        hint="give this create its own external id (--external-task-id)",
    )


def _failed(
    journal: Journal | None,
    prepared: PreparedCreate,
    service: str,
    reason: str,
    warn: Callable[[str], None],
    *,
    created: bool | None,
    accepted: bool = False,
) -> None:
    """Write down how a create failed; the journal's own trouble never hides the create's."""
    if journal is None:
        return
    try:
        journal.record_failure(
            prepared.external_task_id, reason, service=service, created=created, accepted=accepted
        )
    except JournalError as exc:
        warn(f"the journal could not record how this create ended ({exc.reason})")
