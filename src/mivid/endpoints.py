"""The API's products as data: one `Endpoint` description each, and the registry.

An endpoint says where its tasks are created, queried and listed, how its
create body carries the images, how many images it takes, its choices of
model, mode, duration and aspect ratio and their defaults, and which create
fields it accepts. The client, the body builder, the request checks, the
journal (which records each create's endpoint), the picker and the lists read
it; nothing else names a path or a choice.

Adding an endpoint is one new `Endpoint(...)` in `ENDPOINTS` plus its tests
(and its emulator paths, which the sandbox keeps as its own data). Kling's
Omni-Video, for instance, would be::

    Endpoint(
        name="omni", title="Omni-Video", path="/v1/videos/omni-video",
        image_key="image_url", image_roles=("first_frame", "end_frame"),
        max_images=7, min_images=0, models=("kling-video-o1", "kling-v3-omni"),
        default_model="kling-video-o1", durations=tuple(str(n) for n in range(3, 11)),
        fields=ALL_FIELDS - {"negative_prompt"}, ...)

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
)

#: The account's resource packs (`GET`, `start_time` and `end_time` in Unix milliseconds):
#: free, but at most one request a second.
ACCOUNT_COSTS_PATH = "/account/costs"
ACCOUNT_CALL_INTERVAL = 1.0

#: Every endpoint mivid speaks, by name; the first is the default.
ENDPOINTS: Mapping[str, Endpoint] = {endpoint.name: endpoint for endpoint in (MULTI_IMAGE,)}
DEFAULT_ENDPOINT = MULTI_IMAGE


def endpoint_named(name: str | None) -> Endpoint:
    """The endpoint of that name (a journal entry's); the default for None or an unknown name."""
    return ENDPOINTS.get(name or "", DEFAULT_ENDPOINT)


def endpoint_for_model(model: str) -> Endpoint:
    """The endpoint a model is sent to; a model no endpoint lists goes to the default one."""
    for endpoint in ENDPOINTS.values():
        if model in endpoint.models:
            return endpoint
    return DEFAULT_ENDPOINT


def known_models() -> tuple[str, ...]:
    return tuple(model for endpoint in ENDPOINTS.values() for model in endpoint.models)


def all_choices(kind: str) -> tuple[str, ...]:
    """Every value any endpoint allows for a choice (for completions and help), in order."""
    seen: dict[str, None] = {}
    for endpoint in ENDPOINTS.values():
        seen.update(dict.fromkeys(endpoint.choices(kind)))
    return tuple(seen)
