"""The API's endpoints as data: paths, body fields, limits, choices, defaults and prices.

Routing (`app.py`) and the create checks (`validation.py`) read these
descriptions and nothing else, so the two create endpoints, Multi-Image to
Video and Omni-Video, are two values of `CreateEndpoint` below. A new
endpoint is a new description (plus, if it brings a rule of a new kind, that
rule in `validation.py`).

Units (`final_unit_deduction`, and what a resource pack loses) are a
deterministic price per second of video by endpoint, model and mode, times the
duration asked for:

| endpoint          | model          | std / s | pro / s | e.g.                           |
|-------------------|----------------|---------|---------|--------------------------------|
| multi-image2video | kling-v1-6     | 0.22    | 0.44    | std 5 s "1.1", pro 10 s "4.4"  |
| omni-video        | kling-video-o1 | 0.247   | 0.494   | std 5 s "1.235", pro 5 s "2.47"|
| omni-video        | kling-v3-omni  | 0.3     | 0.6     | std 3 s "0.9", pro 10 s "6"    |

That is the "fractional" form the live service shows. The "whole" form (the
documented sample's "1", and the emulator's historic answer) is
`(2 if pro else 1) * ceil(seconds / 5)`: std 5 s "1", pro 10 s "4".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

MAX_TEXT = 2500
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIN_IMAGE_SIDE = 300
#: Width:height bounds, as the fraction (numerator, denominator) of 2.5.
MAX_IMAGE_RATIO = (5, 2)

ACCOUNT_COSTS_PATH = "/account/costs"
#: Where the emulator serves result videos (under its `video_base_url`).
VIDEO_PREFIX = "/sandbox/videos/"

LIST_PAGE_NUM = (1, 1000)
LIST_PAGE_SIZE = (1, 500)
LIST_DEFAULT_PAGE_SIZE = 30


@dataclass(frozen=True)
class ImageList:
    """How `image_list` items look and how many there may be."""

    key: str
    #: Allowed values of an item's optional "type" key; empty: items have no "type".
    types: tuple[str, ...] = ()
    required: bool = True
    min_items: int = 1
    max_items: int = 4
    #: The most images when a reference video is given (None: no videos on this endpoint).
    max_items_with_video: int | None = None


@dataclass(frozen=True)
class CreateEndpoint:
    """One create endpoint: its paths, its body, its limits and its prices."""

    #: The product name, as in its path: also how tasks are kept apart per endpoint.
    name: str
    path: str
    #: Every top-level body field, in the order problems are looked for.
    fields: tuple[str, ...]
    #: Models this endpoint runs; the first is the default.
    models: tuple[str, ...]
    modes: tuple[str, ...]
    default_mode: str
    durations: tuple[str, ...]
    default_duration: str
    aspect_ratios: tuple[str, ...]
    #: None: aspect_ratio is required unless a first_frame image or a base video is given.
    default_aspect_ratio: str | None
    images: ImageList
    #: Durations allowed for text-only and first-frame videos (None: no such rule).
    short_durations: tuple[str, ...] | None = None
    #: images + elements at most (None: no elements), and at most with a reference video.
    max_references: int | None = None
    max_references_with_video: int | None = None
    max_videos: int = 0
    video_refer_types: tuple[str, ...] = ()
    keep_sound_choices: tuple[str, ...] = ()
    #: A frame sequence may not end with an end_frame when there are more images than this.
    max_images_with_end_frame: int | None = None
    #: The prompt may name inputs as <<<image_N>>>, <<<element_N>>>, <<<video_N>>>: each must exist.
    prompt_placeholders: bool = False
    #: Fields refused with a hint of where their meaning goes instead.
    refused_hints: Mapping[str, str] | None = None
    #: Units per second of video, by (model, mode): the "fractional" price.
    unit_prices: Mapping[tuple[str, str], Decimal] | None = None

    @property
    def default_model(self) -> str:
        return self.models[0]

    def units(self, model: str, mode: str, duration: str, *, fractional: bool) -> str:
        """What a task of this kind deducts, as the string the service shows."""
        seconds = int(duration)
        if not fractional:
            return str((2 if mode == "pro" else 1) * math.ceil(seconds / 5))
        prices = self.unit_prices or {}
        per_second = prices.get((model, mode), Decimal("0.2") * (2 if mode == "pro" else 1))
        return format((per_second * seconds).normalize(), "f")


MULTI_IMAGE = CreateEndpoint(
    name="multi-image2video",
    path="/v1/videos/multi-image2video",
    fields=(
        "model_name",
        "image_list",
        "prompt",
        "negative_prompt",
        "mode",
        "duration",
        "aspect_ratio",
        "watermark_info",
        "callback_url",
        "external_task_id",
    ),
    models=("kling-v1-6",),
    modes=("std", "pro"),
    default_mode="std",
    durations=("5", "10"),
    default_duration="5",
    aspect_ratios=("16:9", "9:16", "1:1"),
    default_aspect_ratio="16:9",
    images=ImageList(key="image", min_items=1, max_items=4),
    unit_prices={
        ("kling-v1-6", "std"): Decimal("0.22"),
        ("kling-v1-6", "pro"): Decimal("0.44"),
    },
)

OMNI_VIDEO = CreateEndpoint(
    name="omni-video",
    path="/v1/videos/omni-video",
    fields=(
        "model_name",
        "image_list",
        "element_list",
        "video_list",
        "prompt",
        "mode",
        "duration",
        "aspect_ratio",
        "watermark_info",
        "callback_url",
        "external_task_id",
    ),
    models=("kling-video-o1", "kling-v3-omni"),
    modes=("std", "pro"),
    default_mode="pro",
    durations=tuple(str(seconds) for seconds in range(3, 11)),
    default_duration="5",
    aspect_ratios=("16:9", "9:16", "1:1"),
    default_aspect_ratio=None,
    images=ImageList(
        key="image_url",
        types=("first_frame", "end_frame"),
        required=False,
        min_items=0,
        max_items=7,
        max_items_with_video=4,
    ),
    short_durations=("5", "10"),
    max_references=7,
    max_references_with_video=4,
    max_videos=1,
    video_refer_types=("feature", "base"),
    keep_sound_choices=("yes", "no"),
    max_images_with_end_frame=2,
    prompt_placeholders=True,
    refused_hints={
        "negative_prompt": "omni-video has no negative_prompt: write negative wishes into the prompt"
    },
    unit_prices={
        ("kling-video-o1", "std"): Decimal("0.247"),
        ("kling-video-o1", "pro"): Decimal("0.494"),
        ("kling-v3-omni", "std"): Decimal("0.3"),
        ("kling-v3-omni", "pro"): Decimal("0.6"),
    },
)

#: Every create endpoint the emulator serves, in routing order.
CREATE_ENDPOINTS: tuple[CreateEndpoint, ...] = (MULTI_IMAGE, OMNI_VIDEO)
ENDPOINT_NAMES: tuple[str, ...] = tuple(endpoint.name for endpoint in CREATE_ENDPOINTS)


def endpoint_named(name: str) -> CreateEndpoint:
    for endpoint in CREATE_ENDPOINTS:
        if endpoint.name == name:
            return endpoint
    raise KeyError(name)
