"""What a user asked a create to be, checked against the contract before anything is sent.

`CreateRequest` holds the create's JSON fields (the images are streamed apart,
by `mivid.request_body`). It is a plain frozen dataclass, not a pydantic
model, so `create` — run from scripts with `--json` — does not pay pydantic's
import (about 14 MB and a tenth of a second); `mivid.models` re-exports it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from mivid.errors import InputError

DEFAULT_MODEL = "kling-v1-6"
KNOWN_MODELS = ("kling-v1-6",)
MODES = ("std", "pro")
DURATIONS = ("5", "10")
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
MAX_PROMPT_CHARS = 2500
MAX_EXTERNAL_ID_CHARS = 256  # not in the contract; a guard against pasting a file by mistake


@dataclass(frozen=True, kw_only=True)
class CreateRequest:
    """The JSON fields of a create, minus the images (streamed separately)."""

    model_name: str = DEFAULT_MODEL
    prompt: str
    negative_prompt: str | None = None
    mode: str = "std"
    duration: str = "5"
    aspect_ratio: str = "16:9"
    watermark_info: dict[str, bool] | None = None
    callback_url: str | None = None
    external_task_id: str | None = None

    def fields(self) -> dict[str, Any]:
        """The body's fields in the contract's names, unset optionals left out."""
        return {name: value for name, value in asdict(self).items() if value is not None}


def check_create_request(
    *,
    prompt: str,
    negative_prompt: str | None,
    model_name: str,
    mode: str,
    duration: str,
    aspect_ratio: str,
    watermark: bool,
    callback_url: str | None,
    external_task_id: str | None,
) -> tuple[CreateRequest, list[str]]:
    """Build the request; return it with every problem found (empty when valid)."""
    problems: list[str] = []
    if not prompt.strip():
        problems.append("--prompt: must not be empty")
    if len(prompt) > MAX_PROMPT_CHARS:
        problems.append(f"--prompt: {len(prompt)} characters — must be at most {MAX_PROMPT_CHARS}")
    if negative_prompt is not None and len(negative_prompt) > MAX_PROMPT_CHARS:
        problems.append(
            f"--negative-prompt: {len(negative_prompt)} characters — "
            f"must be at most {MAX_PROMPT_CHARS}"
        )
    for option, value, allowed in (
        ("--mode", mode, MODES),
        ("--duration", duration, DURATIONS),
        ("--aspect-ratio", aspect_ratio, ASPECT_RATIOS),
    ):
        if value not in allowed:
            problems.append(f"{option}: `{value}` is not one of {', '.join(allowed)}")
    if not model_name.strip():
        problems.append("--model: must not be empty")
    if callback_url is not None and not callback_url.startswith(("http://", "https://")):
        problems.append(f"--callback-url: `{callback_url}` must be an http:// or https:// URL")
    if external_task_id is not None:
        if not external_task_id.strip():
            problems.append("--external-task-id: must not be empty")
        elif len(external_task_id) > MAX_EXTERNAL_ID_CHARS:
            problems.append(
                f"--external-task-id: {len(external_task_id)} characters — "
                f"must be at most {MAX_EXTERNAL_ID_CHARS}"
            )
        elif any(ch.isspace() or ord(ch) < 32 or ch == "/" for ch in external_task_id):
            # It travels in a URL path when the task is looked up, where gateways
            # refuse an encoded `/`: such a task could never be found again.
            problems.append(
                "--external-task-id: must not contain `/`, spaces or control characters"
            )
    request = CreateRequest(
        model_name=model_name,
        prompt=prompt,
        negative_prompt=negative_prompt,
        mode=mode,
        duration=duration,
        aspect_ratio=aspect_ratio,
        watermark_info={"enabled": True} if watermark else None,
        callback_url=callback_url,
        external_task_id=external_task_id,
    )
    return request, problems


def require_valid(request: CreateRequest, problems: list[str]) -> CreateRequest:
    if problems:
        raise InputError(problems)
    return request
