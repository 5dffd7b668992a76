"""A create body checked field by field against its endpoint's description.

Everything an endpoint allows comes from its `endpoints.CreateEndpoint`; this
module holds only the kinds of rule. The first problem found is refused: 1200
for a body that cannot be read or a required field that is missing, 1201 for a
wrong key or value (a retired model too, with the live service's sentence),
1203 for a model the endpoint does not have. Messages name the field, the
value and the rule.

Optional fields must have their documented type when present: `null` is not a
string, so `"negative_prompt": null` is refused (a client should leave the
field out). A field the endpoint does not have is refused as unknown, whatever
its value (Omni-Video's missing `negative_prompt` included). URLs are only
checked for form: the emulator fetches nothing.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from mivid.sandbox.codes import RefusalError
from mivid.sandbox.endpoints import (
    MAX_IMAGE_BYTES,
    MAX_IMAGE_RATIO,
    MAX_TEXT,
    MIN_IMAGE_SIDE,
    CreateEndpoint,
)

_PLACEHOLDER = re.compile(r"<<<(image|element|video)_(\d+)>>>")


@dataclass(frozen=True)
class CreateRequest:
    """A create body that passed every check, defaults filled in."""

    endpoint: str
    model_name: str
    images: int
    prompt: str
    negative_prompt: str | None
    mode: str
    duration: str
    #: None when the endpoint allows leaving it out (a first frame or a base video decides).
    aspect_ratio: str | None
    watermark: bool
    callback_url: str | None
    external_task_id: str | None
    image_types: tuple[str | None, ...] = ()
    elements: int = 0
    #: The reference video's refer_type, or None without a video.
    video: str | None = None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _string(body: dict[str, Any], name: str, where: str | None = None) -> str | None:
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, str):
        raise RefusalError(
            1201, f"{where or name} must be a string, got {_kind(value)} {_show(value)}"
        )
    return value


def _choice(
    body: dict[str, Any],
    name: str,
    allowed: tuple[str, ...],
    default: str | None,
    where: str | None = None,
) -> str | None:
    shown = where or name
    if name in body and not isinstance(body[name], str):
        value = body[name]
        choices = " or ".join(f'"{a}"' for a in allowed)
        raise RefusalError(
            1201, f"{shown} must be a string ({choices}), got {_kind(value)} {_show(value)}"
        )
    value = _string(body, name, where)
    if value is None:
        return default
    if value not in allowed:
        raise RefusalError(
            1201, f"{shown} {_show(value)} is not allowed; use one of: {', '.join(allowed)}"
        )
    return value


def _text(body: dict[str, Any], name: str) -> str | None:
    value = _string(body, name)
    if value is not None and len(value) > MAX_TEXT:
        raise RefusalError(
            1201, f"{name} is {len(value)} characters long; at most {MAX_TEXT} are allowed"
        )
    return value


def _http_url(value: str, where: str) -> None:
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as exc:
        raise RefusalError(1201, f"{where} is not a valid URL: {_show(value)}") from exc
    if parts.scheme not in ("http", "https"):
        raise RefusalError(
            1201, f"{where} must be an http(s) URL, got scheme {parts.scheme!r} in {_show(value)}"
        )
    if not host:
        raise RefusalError(1201, f"{where} has no host: {_show(value)}")


def _array(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name, [])
    if not isinstance(value, list):
        raise RefusalError(1201, f"{name} must be an array, got {_kind(value)}")
    return value


def _object(item: object, where: str, keys: tuple[str, ...], shape: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise RefusalError(1201, f"{where} must be an object {shape}, got {_kind(item)}")
    extra = [key for key in item if key not in keys]
    if extra:
        allowed = " and ".join(repr(key) for key in keys)
        only = f"only {allowed} {'is' if len(keys) == 1 else 'are'} allowed"
        raise RefusalError(1201, f"{where} has unknown key {extra[0]!r}; {only}")
    return item


_OBJECT_AT = re.compile(r"\s*<[^<>]* object at 0x[0-9a-fA-F]+>")


def check_image(value: object, where: str, decoded: bytes | None = None) -> None:
    """One image value: an http(s) URL, or the bare Base64 of a JPEG/PNG within the limits
    (`decoded`: its bytes, when the request's record has decoded that Base64 already)."""
    if not isinstance(value, str):
        raise RefusalError(1201, f"{where} must be a string, got {_kind(value)}")
    if not value:
        raise RefusalError(1201, f"{where} is empty")
    if value[:5].lower() == "data:":
        raise RefusalError(
            1201,
            f"{where} starts with a 'data:' prefix; send the bare Base64 of the file, "
            "without 'data:image/...;base64,'",
        )
    if ":" in value:  # Base64 has no colon: this is meant as a URL
        _http_url(value, where)
        return
    try:
        data = decoded if decoded is not None else base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RefusalError(
            1201, f"{where} is neither an http(s) URL nor valid standard Base64 ({exc})"
        ) from exc
    if len(data) > MAX_IMAGE_BYTES:
        raise RefusalError(
            1201,
            f"{where} is {len(data)} bytes; an image may be at most {MAX_IMAGE_BYTES} bytes (10 MiB)",
        )
    _check_picture(data, where)


def _check_picture(data: bytes, where: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as picture:
                kind = picture.format
                width, height = picture.size
                if kind not in ("JPEG", "MPO", "PNG"):
                    raise RefusalError(
                        1201, f"{where} is a {kind} image; only JPEG and PNG are accepted"
                    )
                picture.load()
        except RefusalError:
            raise
        except Image.DecompressionBombError as exc:
            raise RefusalError(1201, f"{where} has too many pixels to decode ({exc})") from exc
        except Exception as exc:  # Pillow raises many kinds for broken files
            # Pillow names the buffer it read (`<_io.BytesIO object at 0x7f…>`): an address
            # that made the same refusal differ from run to run.
            why = _OBJECT_AT.sub("", str(exc)).strip()
            raise RefusalError(
                1201, f"{where} could not be decoded as a JPEG or PNG image ({why})"
            ) from exc
    if width < MIN_IMAGE_SIDE or height < MIN_IMAGE_SIDE:
        raise RefusalError(
            1201,
            f"{where} is {width}x{height} px; width and height must each be at least "
            f"{MIN_IMAGE_SIDE} px",
        )
    top, bottom = MAX_IMAGE_RATIO
    if bottom * width > top * height or bottom * height > top * width:
        raise RefusalError(
            1201,
            f"{where} is {width}x{height} px (ratio {width / height:.2f}); "
            "width:height must be between 1:2.5 and 2.5:1",
        )


def parse_json(body: bytes) -> tuple[Any, str | None]:
    """The parsed body, or (None, why it cannot be read)."""
    try:
        return json.loads(body.decode("utf-8")), None
    except UnicodeDecodeError as exc:
        return None, f"request body is not UTF-8 ({exc})"
    except ValueError as exc:
        return None, f"request body is not valid JSON ({exc})"
    except RecursionError:
        return None, "request body is not valid JSON (nested too deeply)"


def create_body(content_type: str | None, parsed: Any, parse_error: str | None) -> dict[str, Any]:
    """The JSON object of a create body (as `parse_json` read it), or raise 1200."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise RefusalError(
            1200, f"Content-Type must be application/json, got {content_type or 'none'}"
        )
    if parse_error is not None:
        raise RefusalError(1200, parse_error)
    if not isinstance(parsed, dict):
        raise RefusalError(1200, f"request body must be a JSON object, got {_kind(parsed)}")
    return parsed


def _model(body: dict[str, Any], endpoint: CreateEndpoint, retired: Callable[[str], bool]) -> str:
    model = _string(body, "model_name")
    name = model if model is not None else endpoint.default_model
    if retired(name):
        raise RefusalError(
            1201, f"The model '{name}' has been discontinued and is no longer available."
        )
    if name not in endpoint.models:
        raise RefusalError(
            1203,
            f"model {name!r} does not exist for {endpoint.name}; use "
            + " or ".join(repr(known) for known in endpoint.models),
        )
    return name


def _images(
    body: dict[str, Any], endpoint: CreateEndpoint, with_video: bool, decoded: Mapping[int, bytes]
) -> tuple[str | None, ...]:
    rule = endpoint.images
    shape = f'{{"{rule.key}": ...}}'
    if "image_list" not in body:
        if rule.required:
            raise RefusalError(
                1200,
                f"image_list is required ({rule.min_items} to {rule.max_items} items of {shape})",
            )
        return ()
    images = _array(body, "image_list")
    most = rule.max_items
    if with_video and rule.max_items_with_video is not None:
        most = rule.max_items_with_video
    if not rule.min_items <= len(images) <= most:
        video = " with a reference video" if most != rule.max_items else ""
        raise RefusalError(
            1201,
            f"image_list has {len(images)} items; send {rule.min_items} to {most} images{video}",
        )
    keys = (rule.key, "type") if rule.types else (rule.key,)
    types: list[str | None] = []
    for index, item in enumerate(images):
        where = f"image_list[{index}]"
        entry = _object(item, where, keys, shape)
        if rule.key not in entry:
            raise RefusalError(1200, f"{where}.{rule.key} is required")
        types.append(_choice(entry, "type", rule.types, None, f"{where}.type"))
        value = entry[rule.key]
        check_image(value, f"{where}.{rule.key}", decoded.get(id(value)))
    return tuple(types)


def _frames(types: tuple[str | None, ...], endpoint: CreateEndpoint) -> None:
    for frame in ("first_frame", "end_frame"):
        if types.count(frame) > 1:
            raise RefusalError(
                1201, f"image_list has {types.count(frame)} {frame} images; at most 1"
            )
    if "end_frame" in types and "first_frame" not in types:
        raise RefusalError(
            1201, "image_list has an end_frame but no first_frame; add a first_frame"
        )
    most = endpoint.max_images_with_end_frame
    if "end_frame" in types and most is not None and len(types) > most:
        raise RefusalError(
            1201,
            f"image_list has {len(types)} images and an end_frame; an end_frame is allowed "
            f"with at most {most} images",
        )


def _elements(body: dict[str, Any]) -> int:
    elements = _array(body, "element_list")
    for index, item in enumerate(elements):
        where = f"element_list[{index}]"
        entry = _object(item, where, ("element_id",), '{"element_id": integer}')
        if "element_id" not in entry:
            raise RefusalError(1200, f"{where}.element_id is required")
        value = entry["element_id"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise RefusalError(
                1201, f"{where}.element_id must be an integer, got {_kind(value)} {_show(value)}"
            )
        if value < 1:
            raise RefusalError(1201, f"{where}.element_id must be a positive integer, got {value}")
    return len(elements)


def _video(body: dict[str, Any], endpoint: CreateEndpoint) -> str | None:
    videos = _array(body, "video_list")
    if len(videos) > endpoint.max_videos:
        raise RefusalError(
            1201, f"video_list has {len(videos)} items; at most {endpoint.max_videos} video"
        )
    if not videos:
        return None
    keys = ("video_url", "refer_type", "keep_original_sound")
    shape = '{"video_url", "refer_type", "keep_original_sound"}'
    entry = _object(videos[0], "video_list[0]", keys, shape)
    for key in ("video_url", "refer_type"):
        if key not in entry:
            raise RefusalError(1200, f"video_list[0].{key} is required")
    url = _string(entry, "video_url", "video_list[0].video_url")
    assert url is not None
    if ":" not in url:
        raise RefusalError(
            1201,
            f"video_list[0].video_url must be an http(s) URL (videos are sent by URL only), "
            f"got {_show(url)}",
        )
    _http_url(url, "video_list[0].video_url")
    where = "video_list[0].keep_original_sound"
    _choice(entry, "keep_original_sound", endpoint.keep_sound_choices, None, where)
    return _choice(
        entry, "refer_type", endpoint.video_refer_types, None, "video_list[0].refer_type"
    )


def _references(images: int, elements: int, video: bool, endpoint: CreateEndpoint) -> None:
    most = endpoint.max_references
    if video and endpoint.max_references_with_video is not None:
        most = endpoint.max_references_with_video
    if most is not None and images + elements > most:
        with_video = " with a reference video" if video else ""
        raise RefusalError(
            1201,
            f"{images} images and {elements} elements make {images + elements} references; "
            f"at most {most} are allowed{with_video}",
        )


def _placeholders(prompt: str, counts: dict[str, int]) -> None:
    for match in _PLACEHOLDER.finditer(prompt):
        kind, number = match.group(1), int(match.group(2))
        if not 1 <= number <= counts[kind]:
            given = counts[kind]
            raise RefusalError(
                1201,
                f"prompt refers to {match.group(0)} but the body has {given} "
                f"{kind}{'' if given == 1 else 's'} (numbered from 1, in list order)",
            )


def _watermark(body: dict[str, Any]) -> bool:
    if "watermark_info" not in body:
        return False
    info = body["watermark_info"]
    if not isinstance(info, dict):
        raise RefusalError(
            1201, f'watermark_info must be an object {{"enabled": true}}, got {_kind(info)}'
        )
    extra = [key for key in info if key != "enabled"]
    if extra:
        raise RefusalError(
            1201, f"watermark_info has unknown key {extra[0]!r}; only 'enabled' is allowed"
        )
    enabled = info.get("enabled", False)
    if not isinstance(enabled, bool):
        raise RefusalError(
            1201, f"watermark_info.enabled must be true or false, got {_show(enabled)}"
        )
    return enabled


def validate_create(
    body: dict[str, Any],
    endpoint: CreateEndpoint,
    *,
    retired: Callable[[str], bool] = lambda model: False,
    decoded: Mapping[int, bytes] | None = None,
) -> CreateRequest:
    """Check a parsed create body against `endpoint`; raise RefusalError on the first problem.
    `decoded`: inline images already decoded, by the id of their Base64 text in `body`."""
    unknown = [name for name in body if name not in endpoint.fields]
    if unknown:
        hint = (endpoint.refused_hints or {}).get(unknown[0])
        raise RefusalError(
            1201,
            f"unknown field {unknown[0]!r}; "
            + (f"{hint}; " if hint else "")
            + f"allowed fields: {', '.join(endpoint.fields)}",
        )
    model = _model(body, endpoint, retired)
    # The reference video changes how many images are allowed: look at it first,
    # but report its own problems in field order, after the images'.
    raw_videos = body.get("video_list") if "video_list" in endpoint.fields else None
    with_video = isinstance(raw_videos, list) and len(raw_videos) > 0
    types = _images(body, endpoint, with_video, decoded or {})
    _frames(types, endpoint)
    elements = _elements(body) if "element_list" in endpoint.fields else 0
    video = _video(body, endpoint) if "video_list" in endpoint.fields else None
    _references(len(types), elements, video is not None, endpoint)
    if "prompt" not in body:
        raise RefusalError(1200, "prompt is required")
    prompt = _text(body, "prompt")
    assert prompt is not None
    if not prompt.strip():
        raise RefusalError(1201, "prompt is empty")
    if endpoint.prompt_placeholders:
        counts = {"image": len(types), "element": elements, "video": int(video is not None)}
        _placeholders(prompt, counts)
    negative = _text(body, "negative_prompt")
    mode = _choice(body, "mode", endpoint.modes, endpoint.default_mode)
    duration = _choice(body, "duration", endpoint.durations, endpoint.default_duration)
    assert mode is not None and duration is not None
    first_frame = "first_frame" in types
    base_video = video == "base"
    text_only = not types and not elements and video is None
    short = endpoint.short_durations
    if (
        short is not None
        and (text_only or first_frame)
        and not base_video
        and duration not in short
    ):
        kind = "a text-only video" if text_only else "a video from a first_frame"
        raise RefusalError(
            1201, f'duration "{duration}" is not allowed for {kind}; use one of: {", ".join(short)}'
        )
    aspect_ratio = _choice(
        body, "aspect_ratio", endpoint.aspect_ratios, endpoint.default_aspect_ratio
    )
    if aspect_ratio is None and not (first_frame or base_video):
        raise RefusalError(
            1200,
            "aspect_ratio is required unless a first_frame image or a base video is given "
            f"({', '.join(endpoint.aspect_ratios)})",
        )
    watermark = _watermark(body)
    callback_url = _string(body, "callback_url")
    if callback_url is not None:
        _http_url(callback_url, "callback_url")
    external_task_id = _string(body, "external_task_id")
    if external_task_id is not None and not external_task_id.strip():
        raise RefusalError(1201, "external_task_id is empty")
    return CreateRequest(
        endpoint=endpoint.name,
        model_name=model,
        images=len(types),
        prompt=prompt,
        negative_prompt=negative,
        mode=mode,
        duration=duration,
        aspect_ratio=aspect_ratio,
        watermark=watermark,
        callback_url=callback_url,
        external_task_id=external_task_id,
        image_types=types,
        elements=elements,
        video=video,
    )
