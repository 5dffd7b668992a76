"""Typed views of what mivid sends and receives.

`CreateRequest` is what a user asked for, checked against the contract before
anything is sent. `Task` is a typed, tolerant reading of a task object: any
field but `task_id` and `task_status` may be missing or null, and extra fields
are kept. The service's raw dict stays the source of truth for `--json`, so
scripts see exactly what the service said.

pydantic is imported here and nowhere on the `--json` query path: it costs
about as much start-up time as httpx, so `list --json` and `get --json` pass
the raw objects through `require_task_shape` instead.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mivid.errors import InputError

DEFAULT_MODEL = "kling-v1-6"
KNOWN_MODELS = ("kling-v1-6",)
MODES = ("std", "pro")
DURATIONS = ("5", "10")
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
STATUSES = ("submitted", "processing", "succeed", "failed")
FINAL_STATUSES = ("succeed", "failed")
MAX_PROMPT_CHARS = 2500
MAX_EXTERNAL_ID_CHARS = 256  # not in the contract; a guard against pasting a file by mistake


class CreateRequest(BaseModel):
    """The JSON fields of a create, minus the images (streamed separately)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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
        return self.model_dump(exclude_none=True)


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
        elif any(ch.isspace() or ord(ch) < 32 for ch in external_task_id):
            # It travels in a URL path when the task is looked up.
            problems.append("--external-task-id: must not contain spaces or control characters")
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


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow")


def _as_text(value: Any) -> Any:
    # Gateways sometimes send numbers where the contract says strings.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


class Video(_Tolerant):
    id: str | None = None
    url: str | None = None
    watermark_url: str | None = None
    duration: str | None = None

    _text = field_validator("id", "duration", mode="before")(_as_text)


class TaskResult(_Tolerant):
    videos: list[Video] = Field(default_factory=list)

    @field_validator("videos", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class TaskInfo(_Tolerant):
    external_task_id: str | None = None


class Task(_Tolerant):
    task_id: str
    task_status: str
    task_status_msg: str | None = None
    task_info: TaskInfo | None = None
    task_result: TaskResult | None = None
    watermark_info: dict[str, Any] | None = None
    final_unit_deduction: str | None = None
    created_at: int | None = None
    updated_at: int | None = None

    _text = field_validator("task_id", "final_unit_deduction", mode="before")(_as_text)

    @property
    def external_task_id(self) -> str | None:
        return self.task_info.external_task_id if self.task_info else None

    @property
    def videos(self) -> list[Video]:
        return self.task_result.videos if self.task_result else []

    @property
    def is_final(self) -> bool:
        return self.task_status in FINAL_STATUSES

    @property
    def created(self) -> datetime | None:
        return from_millis(self.created_at)

    @property
    def updated(self) -> datetime | None:
        return from_millis(self.updated_at)


def from_millis(value: int | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def parse_task(raw: dict[str, Any]) -> Task:
    """A typed view of a raw task object already checked by `require_task_shape`."""
    return Task.model_validate(raw)
