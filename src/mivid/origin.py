"""`create --from ID`: a journal entry's create, as the options and images to make it again.

The most common loop of this work is "same images, change the prompt, try
again". The journal kept what each create asked for (`mivid.journal`): its
fields, and each image's path (or URL), role and SHA-256. `origin_of(entry)`
turns that back into `create`'s values (by their jobs-file names), reference
images and frames; the command replaces whatever the user gave on the command
line, and `check_images` proves that each image still used is the file that
was sent: it must exist and have the recorded SHA-256 (for a `--fit` copy, the
original's), or nothing is sent (exit 2, naming it).

The new create is a create of its own: a new external id, and `made_from`
naming the task it came from (the journal and the sidecar record it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mivid import problems as rules
from mivid.problems import Problem
from mivid.vocabulary import (
    CHOICE,
    CREATE_FIELDS,
    ELEMENTS,
    END_FRAME,
    FIRST_FRAME,
    FLAG,
    IDENTIFIER,
    REFERENCE,
    VIDEO,
)

#: The kinds of create field whose body value is not what the user gave: `origin_of` turns
#: each back by hand (a flag's `{"enabled": true}`, the element ids' objects, the reference
#: video's entry, which also holds `video_use` and `keep_sound`).
_BY_HAND = (FLAG, ELEMENTS, VIDEO)
#: The create fields carried over as they are: every field of `CREATE_FIELDS` but those
#: turned back by hand and the external id (a new create is a create of its own, with an
#: id of its own). A new field of a kind the body takes as given is carried with no change here.
CARRIED = tuple(
    spec for spec in CREATE_FIELDS if spec.kind not in _BY_HAND and spec.kind != IDENTIFIER
)


@dataclass(frozen=True)
class OriginImage:
    """One image of the origin's create: where it is now, and what it must hash to."""

    position: int  # 1-based, in the create's order
    role: str
    argument: str  # the recorded absolute path, else the name as typed, or the URL
    sha256: str | None  # of the file (for a --fit copy, of the original); None for a URL

    @property
    def is_url(self) -> bool:
        return self.sha256 is None


@dataclass(frozen=True)
class Origin:
    """What a journal entry's create asked for, ready to be asked again."""

    ident: str  # recorded as `made_from`: the task id, else the external id
    values: Mapping[str, Any]  # `prepare_create`'s values (jobs-file names)
    images: tuple[OriginImage, ...]
    fit: str | None = None  # how its --fit copies were made ("pad" or "crop")
    notes: list[str] = field(default_factory=list)

    @property
    def references(self) -> list[OriginImage]:
        return [image for image in self.images if image.role == REFERENCE]

    def reference_arguments(self) -> list[str]:
        """The reference images as `create`'s IMAGE arguments, in the create's order."""
        return [image.argument for image in self.references]

    def frame(self, role: str) -> OriginImage | None:
        return next((image for image in self.images if image.role == role), None)


def origin_of(entry: Any) -> Origin:
    """The create a `mivid.journal.JournalEntry` recorded, as values and images."""
    request: Mapping[str, Any] = entry.request
    values: dict[str, Any] = {spec.in_jobs: request.get(spec.name) for spec in CARRIED}
    # The kinds in _BY_HAND, one by one: FLAG …
    watermark = request.get("watermark_info")
    values["watermark"] = bool(isinstance(watermark, dict) and watermark.get("enabled"))
    values["endpoint"] = entry.endpoint  # not a body field: the journal's column
    # … ELEMENTS …
    elements = request.get("element_list")
    if isinstance(elements, list):
        values["elements"] = [
            item["element_id"]
            for item in elements
            if isinstance(item, dict) and "element_id" in item
        ] or None
    # … and VIDEO: one entry holding the URL, its use and whether to keep its sound.
    videos = request.get("video_list")
    if isinstance(videos, list) and videos and isinstance(videos[0], dict):
        video = videos[0]
        values["video"] = video.get("video_url")
        values["video_use"] = video.get("refer_type")
        sound = video.get("keep_original_sound")
        values["keep_sound"] = None if sound is None else sound == "yes"
    images = []
    fit = None
    for position, record in enumerate(entry.images, start=1):
        role = record.get("role") if record.get("role") in (FIRST_FRAME, END_FRAME) else REFERENCE
        if "url" in record:
            images.append(OriginImage(position, role, str(record["url"]), None))
            continue
        digest = record.get("original_sha256") or record.get("sha256")
        argument = record.get("path") or record.get("name")
        images.append(OriginImage(position, role, str(argument), str(digest)))
        if record.get("fitted"):
            fit = "crop" if "cropped" in str(record["fitted"]) else "pad"
    return Origin(str(entry.task_id or entry.external_task_id), values, tuple(images), fit)


def check_images(subject: str, images: Iterable[OriginImage]) -> list[Problem]:
    """One problem per image that is gone or no longer the file the origin sent."""
    problems = []
    for image in images:
        if image.is_url:
            continue  # a URL is the service's to fetch: nothing here to prove
        label = f"{subject}: image {image.position} {image.argument}"
        digest, why = _sha256(Path(image.argument))
        if digest is None:
            problems.append(
                Problem(label, rules.IMAGE_MISSING, f"{why} — it was sent by that create")
            )
        elif digest != image.sha256:
            problems.append(
                Problem(
                    label,
                    rules.IMAGE_CHANGED,
                    f"has changed since that create (SHA-256 {str(image.sha256)[:12]}… then, "
                    f"{digest[:12]}… now)",
                    {"then": image.sha256, "now": digest},
                )
            )
    return problems


def _sha256(path: Path) -> tuple[str | None, str]:
    """The file's SHA-256, or None and why it cannot be read."""
    try:
        if not path.is_file():
            return None, "is gone" if not path.exists() else "is not a file any more"
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    return digest.hexdigest(), ""


#: A value `create` carries over (jobs-file name) → the API field that takes it: each create
#: field's, and the reference video's parts, which travel in its `video_list` entry.
_CARRIED_FIELDS = {
    **{spec.in_jobs: spec.name for spec in CREATE_FIELDS},
    "video_use": "video_list",
    "keep_sound": "video_list",
}
#: Carried values checked against the new endpoint's choices: value name → `Endpoint` attribute.
#: (Not the model: a model of another endpoint picks that endpoint.)
_CARRIED_CHOICES = {
    spec.in_jobs: spec.choices for spec in CREATE_FIELDS if spec.kind == CHOICE and spec.choices
}


def refit(subject: str, values: dict[str, Any], carried: Iterable[str], endpoint: Any) -> list[str]:
    """Drop from `values` what was carried over from the origin that `endpoint` cannot take.

    `create --from ID --model <a model of the other endpoint>`: the origin's negative
    prompt (Omni-Video takes none), its elements, reference video and frames
    (Multi-Image to Video takes none), or a duration, mode or aspect ratio outside
    the new endpoint's choices (its default is sent instead) would make the create
    fail with nothing the user typed at fault. Only values carried over are
    dropped: one the user gave is checked as given. One warning each, naming it.
    """
    said: list[str] = []
    where = f"{endpoint.title} ({endpoint.name})"
    for name in carried:
        value = values.get(name)
        if value in (None, False, [], ""):
            continue
        api_field = _CARRIED_FIELDS.get(name)
        if api_field is not None and api_field not in endpoint.fields:
            instead = endpoint.instead.get(name)
            said.append(
                f"{subject}: its {name} ({_shown(value)}) "
                f"{'are' if isinstance(value, list) else 'is'} not sent: {where} takes none"
                + (f"; {instead}" if instead else "")
            )
            values[name] = None
        elif name in (FIRST_FRAME, END_FRAME) and name not in endpoint.image_roles:
            said.append(
                f"{subject}: its {name.replace('_', ' ')} ({_shown(value, whole=True)}) is not sent: "
                f"{where} takes no frames"
            )
            values[name] = None
        elif name in _CARRIED_CHOICES and str(value) not in endpoint.choices(
            _CARRIED_CHOICES[name]
        ):
            choices = ", ".join(endpoint.choices(_CARRIED_CHOICES[name]))
            said.append(
                f"{subject}: its {name.replace('_', ' ')} {value} is not one {where} takes "
                f"({choices}): left to the default"
            )
            values[name] = None
    return said


def _shown(value: Any, *, whole: bool = False) -> str:
    """A carried value on one line; a long text cut (a path is `whole`: it is copied)."""
    from mivid.plaintext import printable

    text = ", ".join(str(item) for item in value) if isinstance(value, list) else str(value)
    text = printable(text)
    return text if whole or len(text) <= 60 else text[:59] + "…"
