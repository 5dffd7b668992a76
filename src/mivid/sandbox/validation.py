"""The create body checked field by field against the contract.

The first problem found is refused: 1200 for a body that cannot be read or a
required field that is missing, 1201 for a wrong key or value, 1203 for a model
the endpoint does not have. Messages name the field, the value and the rule.

Optional fields must have their documented type when present: `null` is not a
string, so `"negative_prompt": null` is refused (a client should leave the
field out). Image URLs are only checked for form: the emulator fetches nothing.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from mivid.sandbox.codes import RefusalError

MODEL = "kling-v1-6"
MAX_PROMPT = 2500
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIN_SIDE = 300
MODES = ("std", "pro")
DURATIONS = ("5", "10")
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
FIELDS = (
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
)


@dataclass(frozen=True)
class CreateRequest:
    """A create body that passed every check, defaults filled in."""

    model_name: str
    images: int
    prompt: str
    negative_prompt: str | None
    mode: str
    duration: str
    aspect_ratio: str
    watermark: bool
    callback_url: str | None
    external_task_id: str | None


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


def _string(body: dict[str, Any], name: str) -> str | None:
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, str):
        raise RefusalError(1201, f"{name} must be a string, got {_kind(value)} {_show(value)}")
    return value


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    if name in body and not isinstance(body[name], str):
        value = body[name]
        choices = " or ".join(f'"{a}"' for a in allowed)
        raise RefusalError(
            1201, f"{name} must be a string ({choices}), got {_kind(value)} {_show(value)}"
        )
    value = _string(body, name)
    if value is None:
        return default
    if value not in allowed:
        raise RefusalError(
            1201, f"{name} {_show(value)} is not allowed; use one of: {', '.join(allowed)}"
        )
    return value


def _text(body: dict[str, Any], name: str) -> str | None:
    value = _string(body, name)
    if value is not None and len(value) > MAX_PROMPT:
        raise RefusalError(
            1201, f"{name} is {len(value)} characters long; at most {MAX_PROMPT} are allowed"
        )
    return value


def _http_url(value: str, where: str) -> None:
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise RefusalError(1201, f"{where} is not a valid URL: {_show(value)}") from exc
    if parts.scheme not in ("http", "https"):
        raise RefusalError(
            1201, f"{where} must be an http(s) URL, got scheme {parts.scheme!r} in {_show(value)}"
        )
    if not parts.hostname:
        raise RefusalError(1201, f"{where} has no host: {_show(value)}")


def check_image(value: object, where: str) -> None:
    """One `image` value: an http(s) URL, or the bare Base64 of a JPEG/PNG within the limits."""
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
        data = base64.b64decode(value, validate=True)
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
            raise RefusalError(
                1201, f"{where} could not be decoded as a JPEG or PNG image ({exc})"
            ) from exc
    if width < MIN_SIDE or height < MIN_SIDE:
        raise RefusalError(
            1201,
            f"{where} is {width}x{height} px; width and height must each be at least {MIN_SIDE} px",
        )
    if 2 * width > 5 * height or 2 * height > 5 * width:
        raise RefusalError(
            1201,
            f"{where} is {width}x{height} px (ratio {width / height:.2f}); "
            "width:height must be between 1:2.5 and 2.5:1",
        )


def parse_create_body(content_type: str | None, body: bytes) -> dict[str, Any]:
    """The JSON object of a create body, or raise 1200."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise RefusalError(
            1200, f"Content-Type must be application/json, got {content_type or 'none'}"
        )
    try:
        value = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RefusalError(1200, f"request body is not UTF-8 ({exc})") from exc
    except ValueError as exc:
        raise RefusalError(1200, f"request body is not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise RefusalError(1200, f"request body must be a JSON object, got {_kind(value)}")
    return value


def validate_create(body: dict[str, Any]) -> CreateRequest:
    """Check a parsed create body; raise RefusalError on the first problem."""
    unknown = [name for name in body if name not in FIELDS]
    if unknown:
        raise RefusalError(
            1201, f"unknown field {unknown[0]!r}; allowed fields: {', '.join(FIELDS)}"
        )
    model = _string(body, "model_name")
    if model is not None and model != MODEL:
        raise RefusalError(
            1203,
            f"model {model!r} does not exist for multi-image2video; use {MODEL!r}",
        )
    if "image_list" not in body:
        raise RefusalError(1200, 'image_list is required (1 to 4 items of {"image": ...})')
    images = body["image_list"]
    if not isinstance(images, list):
        raise RefusalError(1201, f"image_list must be an array, got {_kind(images)}")
    if not 1 <= len(images) <= MAX_IMAGES:
        raise RefusalError(
            1201, f"image_list has {len(images)} items; send 1 to {MAX_IMAGES} images"
        )
    for index, item in enumerate(images):
        where = f"image_list[{index}]"
        if not isinstance(item, dict):
            raise RefusalError(
                1201, f'{where} must be an object {{"image": ...}}, got {_kind(item)}'
            )
        extra = [key for key in item if key != "image"]
        if extra:
            raise RefusalError(
                1201, f"{where} has unknown key {extra[0]!r}; only 'image' is allowed"
            )
        if "image" not in item:
            raise RefusalError(1200, f"{where}.image is required")
        check_image(item["image"], f"{where}.image")
    if "prompt" not in body:
        raise RefusalError(1200, "prompt is required")
    prompt = _text(body, "prompt")
    assert prompt is not None
    if not prompt.strip():
        raise RefusalError(1201, "prompt is empty")
    negative = _text(body, "negative_prompt")
    mode = _choice(body, "mode", MODES, "std")
    duration = _choice(body, "duration", DURATIONS, "5")
    aspect_ratio = _choice(body, "aspect_ratio", ASPECT_RATIOS, "16:9")
    watermark = False
    if "watermark_info" in body:
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
        watermark = enabled
    callback_url = _string(body, "callback_url")
    if callback_url is not None:
        _http_url(callback_url, "callback_url")
    external_task_id = _string(body, "external_task_id")
    if external_task_id is not None and not external_task_id.strip():
        raise RefusalError(1201, "external_task_id is empty")
    return CreateRequest(
        model_name=model or MODEL,
        images=len(images),
        prompt=prompt,
        negative_prompt=negative,
        mode=mode,
        duration=duration,
        aspect_ratio=aspect_ratio,
        watermark=watermark,
        callback_url=callback_url,
        external_task_id=external_task_id,
    )
