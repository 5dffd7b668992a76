"""What a user asked a create to be, checked against its endpoint before anything is sent.

`CreateRequest` holds the create's JSON fields (the images are streamed apart,
by `mivid.request_body`) and the endpoint they go to. It is a plain frozen
dataclass, not a pydantic model, so `create` — run from scripts with `--json` —
does not pay pydantic's import. The fields and their rules are read from
`mivid.vocabulary.CREATE_FIELDS`, the allowed choices from the endpoint.

The rules only some endpoints have (Omni-Video's frames, references, short
durations, aspect ratio and prompt placeholders) are its data
(`mivid.endpoints.Endpoint`), judged here by `input_problems` from what the
create is made of (`Inputs`: each image's role, the elements, the video).
Which endpoint a create goes to is `choose_endpoint`'s decision: the one
named (`--endpoint`), else the one the model is known on, else the default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mivid import problems as rules
from mivid.endpoints import (
    DEFAULT_ENDPOINT,
    ENDPOINTS,
    Endpoint,
    endpoint_for_model,
    known_endpoint,
)
from mivid.plaintext import counted, visible
from mivid.problems import Problem
from mivid.vocabulary import (
    CHOICE,
    CREATE_FIELDS,
    END_FRAME,
    FIELDS_BY_NAME,
    FIRST_FRAME,
    IDENTIFIER,
    MODEL,
    TEXT,
    URL,
    VIDEO,
    CreateField,
)

#: How a prompt names an input of an Omni-Video create (1-based, in list order).
PLACEHOLDER = re.compile(r"<<<(image|element|video)_(\d+)>>>")
#: The options that give each image role, for problem lines.
ROLE_OPTIONS = {FIRST_FRAME: "--first-frame", END_FRAME: "--end-frame"}


@dataclass(frozen=True)
class CreateRequest:
    """The JSON fields of a create, minus the images (streamed separately), and its endpoint."""

    values: Mapping[str, Any]  # by API field name, as the user gave them; None = left out
    endpoint: Endpoint = DEFAULT_ENDPOINT

    def fields(self) -> dict[str, Any]:
        """The body's fields in the contract's names and order, unset optionals left out."""
        body: dict[str, Any] = {}
        for spec in CREATE_FIELDS:
            value = spec.api_value(self.values.get(spec.name))
            if value is not None:
                body[spec.name] = value
        return body

    def __getattr__(self, name: str) -> Any:
        """A field's body value by its API name (`request.duration`, `request.watermark_info`)."""
        spec = FIELDS_BY_NAME.get(name)
        if spec is None:
            raise AttributeError(name)
        return spec.api_value(self.values.get(name))

    def replaced(self, **values: Any) -> CreateRequest:
        """The same request with some fields (by API name) given other values."""
        return replace(self, values={**self.values, **values})

    @property
    def prompt(self) -> str:
        return str(self.values.get("prompt") or "")

    @property
    def model_name(self) -> str:
        return str(self.values.get("model_name") or "")

    @property
    def external_task_id(self) -> str | None:
        value = self.values.get("external_task_id")
        return None if value is None else str(value)


@dataclass
class _Checker:
    endpoint: Endpoint
    found: list[Problem] = field(default_factory=list)

    def add(self, spec: CreateField, rule: str, detail: str, **figures: Any) -> None:
        self.found.append(Problem(spec.option, rule, detail, figures, field=spec.name))

    def check(self, spec: CreateField, value: Any) -> None:
        """The problems of one field's value (None: not given)."""
        if value is None:
            if spec.required:
                self.add(spec, rules.REQUIRED, "required")
            return
        must_have_text = spec.kind in (MODEL, IDENTIFIER) or (spec.kind == TEXT and spec.required)
        if must_have_text and not str(value).strip():
            self.add(spec, rules.EMPTY, "must not be empty")
            return
        if spec.kind == CHOICE and spec.choices is not None and not str(value).strip():
            allowed = self.endpoint.choices(spec.choices)
            self.add(spec, rules.EMPTY, f"must not be empty — one of {', '.join(allowed)}")
            return
        if spec.max_chars is not None and len(str(value)) > spec.max_chars:
            self.add(
                spec,
                rules.TOO_LONG,
                f"{len(value)} characters — must be at most {spec.max_chars}",
                length=len(value),
                limit=spec.max_chars,
            )
        elif spec.kind == CHOICE and spec.choices is not None:
            allowed = self.endpoint.choices(spec.choices)
            if value not in allowed:
                self.add(
                    spec,
                    rules.NOT_A_CHOICE,
                    f"`{value}` is not one of {', '.join(allowed)}",
                    choices=allowed,
                )
        elif spec.kind == URL and not str(value).startswith(("http://", "https://")):
            self.add(spec, rules.NOT_A_URL, f"`{value}` must be an http:// or https:// URL")
        elif spec.kind == VIDEO:
            self.video(spec, value)
        elif spec.kind == IDENTIFIER and (
            str(value).startswith("-")
            or any(ch.isspace() or ch == "/" or visible(ch) != ch for ch in str(value))
        ):
            # It travels in a URL path when the task is looked up, where gateways
            # refuse an encoded `/`: such a task could never be found again. It is also a
            # word of the commands mivid suggests (`mivid get ID`): one starting with `-`
            # would be read as an option, and one holding a character mivid shows escaped
            # (invisible, bidirectional, control) would be pasted as another id.
            self.add(
                spec,
                rules.BAD_CHARACTERS,
                "must not start with `-`, nor contain `/`, spaces, control or invisible characters",
            )

    def video(self, spec: CreateField, value: Mapping[str, Any]) -> None:
        """A reference video: an http(s) URL (videos are sent by URL only), and its use."""
        from urllib.parse import urlsplit

        url = str(value.get("video_url") or "")
        try:
            parts = urlsplit(url)
            good = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            good = False
        if not good:
            self.add(
                spec, rules.NOT_A_URL, f"`{url}` must be an http:// or https:// URL of a video"
            )
        use = value.get("refer_type")
        allowed = self.endpoint.video_uses
        if allowed and use not in allowed:
            self.found.append(
                Problem(
                    "--video-use",
                    rules.NOT_A_CHOICE,
                    f"`{use}` is not one of {', '.join(allowed)}",
                    {"choices": allowed},
                    field="video_use",
                )
            )


def reference_video(
    url: str | None, use: str | None, keep_sound: bool | None
) -> tuple[dict[str, str] | None, list[Problem]]:
    """The `video_list` entry of `--video URL --video-use … --keep-sound`, and its problems.

    A video is used as a reference (`feature`) unless told it is the one to edit
    (`base`); its own sound is kept or dropped only when the user says so.
    """
    if url is None:
        problems = [
            Problem(option, rules.USAGE, "only with --video", field=name)
            for option, name, value in (
                ("--video-use", "video_use", use),
                ("--keep-sound", "keep_sound", keep_sound),
            )
            if value is not None
        ]
        return None, problems
    entry = {"video_url": url, "refer_type": use or "feature"}
    if keep_sound is not None:
        entry["keep_original_sound"] = "yes" if keep_sound else "no"
    return entry, []


def element_ids(raw: Sequence[Any] | None) -> tuple[list[int], list[Problem]]:
    """`--element` values as whole numbers (`7`, or `"7"` from the command line or a CSV)."""
    ids: list[int] = []
    problems: list[Problem] = []
    for item in raw or []:
        text = str(item).strip()
        if isinstance(item, bool) or not text.isascii() or not text.isdigit() or int(text) < 1:
            problems.append(
                Problem(
                    "--element",
                    rules.NOT_A_NUMBER,
                    f"`{item}` is not an element id (a whole number from 1)",
                    field="element_list",
                )
            )
        else:
            ids.append(int(text))
    return ids, problems


def choose_endpoint(
    model: str, named: str | None = None
) -> tuple[Endpoint, list[Problem], list[str]]:
    """Where a create of `model` goes: the endpoint named, else the model's; problems, warnings.

    A model mivid does not know is never refused: it goes to the endpoint named,
    or to the default one with a warning saying how to send it elsewhere.
    """
    problems: list[Problem] = []
    warnings: list[str] = []
    known = known_endpoint(model)
    chosen = ENDPOINTS.get(named) if named is not None else None
    if named is not None and chosen is None:
        problems.append(
            Problem(
                "--endpoint",
                rules.NOT_A_CHOICE,
                f"`{named}` is not one of {', '.join(ENDPOINTS)}",
                {"choices": tuple(ENDPOINTS)},
                field="endpoint",
            )
        )
    if chosen is not None and known is not None and known is not chosen:
        warnings.append(
            f"mivid knows `{model}` on {known.name} ({known.title}); sending it to "
            f"{chosen.name} as --endpoint says"
        )
    if chosen is None and known is None:
        others = ", ".join(name for name in ENDPOINTS if name != DEFAULT_ENDPOINT.name)
        warnings.append(
            f"model `{model}` is not one mivid knows; sending it to {DEFAULT_ENDPOINT.name} "
            f"({DEFAULT_ENDPOINT.title}) — --endpoint {others} sends it elsewhere"
        )
    return chosen or known or DEFAULT_ENDPOINT, problems, warnings


def with_defaults(values: Mapping[str, Any], defaults: Mapping[str, str | None]) -> dict[str, Any]:
    """Values (by jobs-file name) with each field a user left out taken from `defaults`.

    `defaults` are the settings a user chose (`model`, `mode` …: flags >
    environment > config); what they leave out is the endpoint's own default,
    the endpoint being the one named (`endpoint`) or the one the model picks.
    With `endpoint` named and no model given, a configured model known on
    another endpoint gives way to the named endpoint's default model.

    The aspect ratio is left out when a first frame or a `base` video decides
    it, unless the user chose one.
    """
    filled = dict(values)
    named = ENDPOINTS.get(str(filled.get("endpoint") or ""))
    model = filled.get("model_name")
    # Only a field left out takes a default: `--model ""` is a value, refused as empty (as
    # `--external-task-id ""` is), never quietly replaced.
    if model is None:
        configured = defaults.get("model")
        if named is not None and configured and known_endpoint(configured) not in (None, named):
            configured = None
        model = configured or (named or DEFAULT_ENDPOINT).default_model
        filled["model_name"] = model
    endpoint = named or endpoint_for_model(str(model or ""))
    decided = _ratio_decided(
        endpoint,
        first_frame=bool(filled.get("first_frame")),
        base=bool(filled.get("video")) and filled.get("video_use") == "base",
    )
    for spec in CREATE_FIELDS:
        if spec.setting is None or filled.get(spec.in_jobs) is not None:
            continue
        chosen = defaults.get(spec.setting)
        if chosen is None and spec.name == "aspect_ratio" and decided:
            continue  # the frame or the video decides it
        filled[spec.in_jobs] = chosen or endpoint.default(spec.setting)
    return filled


def defaults_refused(model: str, whose: str, defaults: Mapping[str, str | None]) -> list[str]:
    """What `model` (`whose`: "the default model" …) refuses of these defaults (settings →
    values: `duration` → `3`), one sentence each, naming what it takes and the models that
    take the value; nothing for a model mivid does not know (`--endpoint` decides for it).

    `mivid config set duration 3` says it at once rather than every create after it: the
    value is kept all the same, as a create may name a model that takes it.
    """
    endpoint = known_endpoint(model)
    said: list[str] = []
    for spec in CREATE_FIELDS:
        value = defaults.get(spec.setting or "")
        if endpoint is None or value is None or spec.kind != CHOICE or spec.choices is None:
            continue
        allowed = endpoint.choices(spec.choices)
        if value in allowed:
            continue
        takers = [
            known
            for other in ENDPOINTS.values()
            if value in other.choices(spec.choices)
            for known in other.models
        ]
        said.append(
            f"{model} ({whose}) takes {spec.setting} {' or '.join(allowed)}, not {value}: "
            f"a create is refused unless it gives {spec.option} or another --model"
            + (f" ({', '.join(takers)} take {value})" if takers else "")
        )
    return said


def _ratio_decided(endpoint: Endpoint, *, first_frame: bool, base: bool) -> bool:
    """Does a first frame or a `base` video decide the aspect ratio on this endpoint?"""
    given = {FIRST_FRAME: first_frame, "base": base}
    return any(given.get(reason) for reason in endpoint.ratio_decided_by)


def check_create_request(
    values: Mapping[str, Any], *, endpoint: Endpoint | None = None
) -> tuple[CreateRequest, list[Problem]]:
    """Build the request from field values (by API name); return it with every problem found.

    The endpoint is the one given, or the one the model picks.
    """
    chosen = endpoint or endpoint_for_model(str(values.get("model_name") or ""))
    checker = _Checker(chosen)
    for spec in CREATE_FIELDS:
        checker.check(spec, values.get(spec.name))
        if values.get(spec.name) is not None and spec.name not in chosen.fields:
            instead = chosen.instead.get(spec.name)
            checker.add(
                spec,
                rules.NOT_A_CHOICE,
                f"not accepted by {chosen.title}" + (f": {instead}" if instead else ""),
            )
    known = {spec.name for spec in CREATE_FIELDS}
    request = CreateRequest(
        {name: value for name, value in values.items() if name in known}, chosen
    )
    return request, checker.found


@dataclass(frozen=True)
class Inputs:
    """What a create is made of besides its text: each image's role, the elements, the video."""

    roles: Sequence[str | None]  # per image, in `image_list` order; None: a reference
    elements: int = 0
    video_use: str | None = None  # the reference video's `refer_type`; None: no video

    @property
    def images(self) -> int:
        return len(self.roles)

    @property
    def references(self) -> int:
        return sum(1 for role in self.roles if role is None)


def input_problems(request: CreateRequest, inputs: Inputs) -> tuple[list[Problem], list[str]]:
    """The endpoint's own rules on what the create is made of; (problems, warnings).

    Counts of images and references, the frames, the durations of text-only and
    first-frame videos, the aspect ratio, and the prompt's placeholders.
    """
    endpoint = request.endpoint
    problems = _count_problems(endpoint, inputs)
    problems += _frame_problems(endpoint, inputs)
    problems += _duration_problems(request, inputs)
    first = FIRST_FRAME in inputs.roles
    decided = _ratio_decided(endpoint, first_frame=first, base=inputs.video_use == "base")
    if endpoint.ratio_decided_by and request.values.get("aspect_ratio") is None and not decided:
        problems.append(
            Problem(
                "--aspect-ratio",
                rules.REQUIRED,
                "required unless --first-frame or a --video-use base video is given",
                field="aspect_ratio",
            )
        )
    placeholder_problems, warnings = _placeholders(request, inputs)
    return problems + placeholder_problems, warnings


def _duration_problems(request: CreateRequest, inputs: Inputs) -> list[Problem]:
    """Text-only and first-frame videos take only the endpoint's short durations (not a base)."""
    short = request.endpoint.short_durations
    duration = request.values.get("duration")
    text_only = not inputs.images and not inputs.elements and inputs.video_use is None
    first = FIRST_FRAME in inputs.roles
    if short is None or duration in short or inputs.video_use == "base":
        return []
    if duration not in request.endpoint.durations:
        return []  # said already: not one of the endpoint's durations
    if not (text_only or first):
        return []
    kind = "a text-only video" if text_only else "a first-frame video"
    return [
        Problem(
            "--duration",
            rules.NOT_A_CHOICE,
            f"`{duration}` — {kind} takes {' or '.join(short)}",
            {"choices": short},
            field="duration",
        )
    ]


def _count_problems(endpoint: Endpoint, inputs: Inputs) -> list[Problem]:
    from mivid.images import count_problems

    video = inputs.video_use is not None
    most = endpoint.max_images
    if video and endpoint.max_images_with_video is not None:
        most = endpoint.max_images_with_video
    if video and inputs.images > most:
        return [
            Problem(
                "--video",
                rules.IMAGE_COUNT,
                f"got {inputs.images} images — at most {most} are allowed with a reference video",
                {"count": inputs.images, "limit": most},
            )
        ]
    found = count_problems(inputs.images, low=endpoint.min_images, high=most)
    references = endpoint.max_references
    if video and endpoint.max_references_with_video is not None:
        references = endpoint.max_references_with_video
    total = inputs.images + inputs.elements
    if not found and inputs.elements and references is not None and total > references:
        with_video = " with a reference video" if video else ""
        found.append(
            Problem(
                "--element",
                rules.IMAGE_COUNT,
                f"{counted(inputs.images, 'image')} and {counted(inputs.elements, 'element')} "
                f"make {total} — "
                f"at most {references} are allowed{with_video}",
                {"count": total, "limit": references},
                field="element_list",
            )
        )
    return found


def _frame_problems(endpoint: Endpoint, inputs: Inputs) -> list[Problem]:
    problems = []
    for role in (FIRST_FRAME, END_FRAME):
        if role in inputs.roles and role not in endpoint.image_roles:
            problems.append(
                Problem(
                    ROLE_OPTIONS[role],
                    rules.NOT_A_CHOICE,
                    f"not accepted by {endpoint.title}",
                    field=role,
                )
            )
    if problems:
        return problems
    if END_FRAME in inputs.roles and FIRST_FRAME not in inputs.roles:
        problems.append(
            Problem(
                "--end-frame",
                rules.REQUIRED,
                "needs a first frame too (--first-frame)",
                field=END_FRAME,
            )
        )
    most = endpoint.max_images_with_end_frame
    if END_FRAME in inputs.roles and most is not None and inputs.images > most:
        problems.append(
            Problem(
                "--end-frame",
                rules.IMAGE_COUNT,
                f"with {inputs.images} images — an end frame is allowed with at most {most} "
                "(the first and end frames alone)",
                {"count": inputs.images, "limit": most},
                field=END_FRAME,
            )
        )
    return problems


def placeholder_note(images: int) -> str:
    """How a prompt names the images, for a person (`<<<image_1>>> … <<<image_3>>>`)."""
    names = [f"<<<image_{n}>>>" for n in range(1, images + 1)]
    if len(names) == 1:
        return names[0]
    shown = " … ".join([names[0], names[-1]]) if len(names) > 2 else " and ".join(names)
    return f"{shown} (the IMAGE arguments in order, then --first-frame, then --end-frame)"


def _placeholders(request: CreateRequest, inputs: Inputs) -> tuple[list[Problem], list[str]]:
    """Placeholders naming inputs that are not there (problems); images never named (a warning)."""
    if not request.endpoint.placeholders:
        return [], []
    counts = {
        "image": inputs.images,
        "element": inputs.elements,
        "video": int(inputs.video_use is not None),
    }
    problems = []
    named_images = False
    for kind, number in dict.fromkeys(PLACEHOLDER.findall(request.prompt)):
        given = counts[kind]
        if 1 <= int(number) <= given:
            named_images = named_images or kind == "image"
            continue
        option = {"image": "images", "element": "--element", "video": "--video"}[kind]
        problems.append(
            Problem(
                "--prompt",
                rules.OUT_OF_RANGE,
                f"names <<<{kind}_{number}>>> but {given} {kind}{'' if given == 1 else 's'} "
                f"{'is' if given == 1 else 'are'} given ({option}; numbered from 1)",
                {"count": given, "number": int(number)},
                field="prompt",
            )
        )
    warnings = []
    if inputs.references and not named_images and not problems:
        which = "the image" if inputs.images == 1 else f"any of the {inputs.images} images"
        them = "it" if inputs.images == 1 else "them"
        warnings.append(
            f"--prompt does not name {which}: {request.endpoint.title} follows a prompt "
            f"that refers to {them} as {placeholder_note(inputs.images)}"
        )
    return problems, warnings
