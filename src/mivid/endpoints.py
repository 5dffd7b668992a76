"""The API's products as data: one `Endpoint` description each, and the registry.

An endpoint says where its tasks are created, queried and listed, how its
create body carries the images, how many images it takes, its choices of
model, mode, duration and aspect ratio and their defaults, and which create
fields it accepts. The client, the body builder, the request checks, the
journal (which records each create's endpoint), the picker and the lists read
it; nothing else names a path or a choice.

Adding an endpoint is one new `Endpoint(...)` in `ENDPOINTS` plus its tests
(and its emulator paths, which the sandbox keeps as its own data). Two are
described: Multi-Image to Video (`kling-v1-6`, one to four images) and its
successor for newer models, Omni-Video (up to seven images, first and end
frames, elements, a reference video). Omni's own rules (frames, references,
short durations, placeholders) are data here and checked by
`mivid.create_request`.

The defaults an endpoint carries are mivid's, not the vendor's: Omni-Video
would make a `pro` video when `mode` is left out, so mivid always sends the
mode, and its default is the cheaper `std` on both endpoints.

Imports nothing heavy: the `--json` paths use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from mivid.vocabulary import CREATE_FIELDS

ALL_FIELDS = frozenset(spec.name for spec in CREATE_FIELDS)


@dataclass(frozen=True)
class Endpoint:
    """One API product: its paths, its body's image entries, its limits and choices."""

    name: str  # mivid's short name: the journal's `endpoint` column, `--endpoint`
    title: str  # the vendor's name, for people
    path: str  # create (POST), list (GET with pageNum/pageSize), and the parent of a task's path
    image_key: str  # the key of each `image_list` entry holding a URL or bare Base64
    models: tuple[str, ...]  # the models mivid knows to use this endpoint
    default_model: str
    modes: tuple[str, ...]
    default_mode: str
    durations: tuple[str, ...]
    default_duration: str
    aspect_ratios: tuple[str, ...]
    default_aspect_ratio: str
    max_images: int
    min_images: int = 1
    #: Roles an image may take besides a plain reference (sent as the entry's `type`).
    image_roles: tuple[str, ...] = ()
    fields: frozenset[str] = field(default=ALL_FIELDS)
    max_page: int = 1000
    max_page_size: int = 500
    #: The most images with a reference video (None: the endpoint takes no video).
    max_images_with_video: int | None = None
    #: The most images + elements, and with a reference video (None: no elements).
    max_references: int | None = None
    max_references_with_video: int | None = None
    #: An end frame is allowed with at most this many images (None: no such rule).
    max_images_with_end_frame: int | None = None
    #: Durations allowed for text-only and first-frame videos (None: no such rule).
    short_durations: tuple[str, ...] | None = None
    #: How a reference video may be used (`refer_type`); empty: no reference video.
    video_uses: tuple[str, ...] = ()
    #: The aspect ratio may be left out when one of these is given (`first_frame`, `base`):
    #: the frame or the video decides it. Empty: it is always sent.
    ratio_decided_by: tuple[str, ...] = ()
    #: The prompt may name the inputs as `<<<image_1>>>`, `<<<element_1>>>`, `<<<video_1>>>`.
    placeholders: bool = False
    #: What to do instead, for a field this endpoint does not take.
    instead: Mapping[str, str] = field(default_factory=dict)
    #: The day a model stops being served (ISO date), where Kling has announced it.
    retirements: Mapping[str, str] = field(default_factory=dict)

    # -- paths --------------------------------------------------------------------------------

    @property
    def create_path(self) -> str:
        return self.path

    @property
    def list_path(self) -> str:
        return self.path

    def task_path(self, task_id: str) -> str:
        """The query path of one task by task id or external id, safely quoted."""
        segment = quote(task_id, safe="")
        if segment in (".", ".."):
            # URL normalisation would drop the segment and query another endpoint.
            segment = segment.replace(".", "%2E")
        return f"{self.path}/{segment}"

    # -- the body -----------------------------------------------------------------------------

    def image_entry(self, value: str, role: str | None = None) -> dict[str, Any]:
        """One `image_list` entry: the image (a URL or bare Base64), and its role if any."""
        entry: dict[str, Any] = {self.image_key: value}
        if role is not None:
            entry["type"] = role
        return entry

    def choices(self, kind: str) -> tuple[str, ...]:
        """The allowed values named by a `CreateField.choices` ("modes", "durations" …)."""
        value = getattr(self, kind)
        assert isinstance(value, tuple)
        return value

    def default(self, setting: str) -> str:
        """The endpoint's own default for a create setting ("model", "mode" …)."""
        return {
            "model": self.default_model,
            "mode": self.default_mode,
            "duration": self.default_duration,
            "aspect-ratio": self.default_aspect_ratio,
        }[setting]


MULTI_IMAGE = Endpoint(
    name="multi-image",
    title="Multi-Image to Video",
    path="/v1/videos/multi-image2video",
    image_key="image",
    models=("kling-v1-6",),
    default_model="kling-v1-6",
    modes=("std", "pro"),
    default_mode="std",
    durations=("5", "10"),
    default_duration="5",
    aspect_ratios=("16:9", "9:16", "1:1"),
    default_aspect_ratio="16:9",
    max_images=4,
    fields=ALL_FIELDS - {"element_list", "video_list"},
)

OMNI = Endpoint(
    name="omni",
    title="Omni-Video",
    path="/v1/videos/omni-video",
    image_key="image_url",
    models=("kling-video-o1", "kling-v3-omni"),
    default_model="kling-video-o1",
    modes=("std", "pro"),
    default_mode="std",  # the vendor's is `pro`: mivid always sends the mode
    durations=tuple(str(seconds) for seconds in range(3, 11)),
    default_duration="5",
    aspect_ratios=("16:9", "9:16", "1:1"),
    default_aspect_ratio="16:9",
    max_images=7,
    min_images=0,
    image_roles=("first_frame", "end_frame"),
    fields=ALL_FIELDS - {"negative_prompt"},
    max_images_with_video=4,
    max_references=7,
    max_references_with_video=4,
    max_images_with_end_frame=2,
    short_durations=("5", "10"),
    video_uses=("feature", "base"),
    ratio_decided_by=("first_frame", "base"),
    placeholders=True,
    instead={"negative_prompt": 'write what to avoid into --prompt (e.g. "… no text, no blur")'},
)

#: The account's resource packs (`GET`, `start_time` and `end_time` in Unix milliseconds):
#: free, but at most one request a second.
ACCOUNT_COSTS_PATH = "/account/costs"
ACCOUNT_CALL_INTERVAL = 1.0

#: Every endpoint mivid speaks, by name; the first is the default.
ENDPOINTS: Mapping[str, Endpoint] = {endpoint.name: endpoint for endpoint in (MULTI_IMAGE, OMNI)}
DEFAULT_ENDPOINT = MULTI_IMAGE


def endpoint_named(name: str | None) -> Endpoint:
    """The endpoint of that name (a journal entry's); the default for None or an unknown name."""
    return ENDPOINTS.get(name or "", DEFAULT_ENDPOINT)


def endpoint_for_model(model: str) -> Endpoint:
    """The endpoint a model is sent to; a model no endpoint lists goes to the default one."""
    return known_endpoint(model) or DEFAULT_ENDPOINT


def known_endpoint(model: str) -> Endpoint | None:
    """The endpoint mivid knows a model on; None for a model it does not know."""
    for endpoint in ENDPOINTS.values():
        if model in endpoint.models:
            return endpoint
    return None


def known_models() -> tuple[str, ...]:
    return tuple(model for endpoint in ENDPOINTS.values() for model in endpoint.models)


def all_choices(kind: str) -> tuple[str, ...]:
    """Every value any endpoint allows for a choice (for completions and help), in order."""
    seen: dict[str, None] = {}
    for endpoint in ENDPOINTS.values():
        seen.update(dict.fromkeys(endpoint.choices(kind)))
    if all(value.isdigit() for value in seen):
        return tuple(sorted(seen, key=int))  # durations: 3 … 10, not 5, 10, 3, 4 …
    return tuple(seen)


#: What a create may carry besides a prompt and reference images, by the option that gives it.
OPTIONAL_INPUTS = {
    "first-frame": "--first-frame",
    "end-frame": "--end-frame",
    "elements": "--element",
    "video": "--video",
    "negative-prompt": "--negative-prompt",
}


@dataclass(frozen=True)
class ModelInfo:
    """One model mivid knows, for `mivid models`: where it goes and what it takes."""

    name: str
    endpoint: Endpoint
    default: bool  # the model a create uses when none is named (the config's, else mivid's)

    @property
    def retires(self) -> str | None:
        return self.endpoint.retirements.get(self.name)

    @property
    def accepts(self) -> tuple[str, ...]:
        """The optional inputs it takes (`OPTIONAL_INPUTS`' names), in that order."""
        endpoint = self.endpoint
        takes = {
            "first-frame": "first_frame" in endpoint.image_roles,
            "end-frame": "end_frame" in endpoint.image_roles,
            "elements": "element_list" in endpoint.fields,
            "video": "video_list" in endpoint.fields,
            "negative-prompt": "negative_prompt" in endpoint.fields,
        }
        return tuple(name for name in OPTIONAL_INPUTS if takes[name])

    def as_json(self) -> dict[str, Any]:
        endpoint = self.endpoint
        return {
            "model": self.name,
            "endpoint": endpoint.name,
            "endpoint_title": endpoint.title,
            "path": endpoint.path,
            "default": self.default,
            "images": {
                "least": endpoint.min_images,
                "most": endpoint.max_images,
                "most_with_video": endpoint.max_images_with_video,
            },
            "modes": list(endpoint.modes),
            "default_mode": endpoint.default_mode,
            "durations": list(endpoint.durations),
            "short_durations": list(endpoint.short_durations) if endpoint.short_durations else None,
            "default_duration": endpoint.default_duration,
            "aspect_ratios": list(endpoint.aspect_ratios),
            "accepts": list(self.accepts),
            "retires": self.retires,
        }


def known_model_infos(default_model: str | None = None) -> list[ModelInfo]:
    """Every model mivid knows, endpoint by endpoint; `default_model` marked (else mivid's)."""
    chosen = default_model or DEFAULT_ENDPOINT.default_model
    return [
        ModelInfo(model, endpoint, model == chosen)
        for endpoint in ENDPOINTS.values()
        for model in endpoint.models
    ]
