"""A typed, tolerant reading of a task object, for the people's views.

`Task`: any field but `task_id` and `task_status` may be missing or null, and
extra fields are kept; the status is read in the contract's spelling
(`succeeded` → `succeed`). The service's raw dict stays the source of truth
for `--json`, so scripts see exactly what the service said.

pydantic is imported here and nowhere on the `--json` query path: it costs
about as much start-up time as httpx, so `list --json` and `get --json` pass
the raw objects through `require_task_shape` instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mivid.errors import ServiceError
from mivid.plaintext import from_millis
from mivid.vocabulary import FINAL_STATUSES, normal_status

__all__ = ["Task", "TaskInfo", "TaskResult", "Video", "parse_task"]

REQUIRED_FIELDS = frozenset({"task_id", "task_status"})


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

    @field_validator("task_status", mode="after")
    @classmethod
    def _contract_spelling(cls, value: str) -> str:
        return normal_status(value)

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


def parse_task(raw: dict[str, Any]) -> Task:
    """A typed view of a raw task object already checked by `require_task_shape`.

    An optional field of an unexpected type is read as missing (the contract
    lets any of them be missing), so a task the service made is still shown.
    """
    try:
        return Task.model_validate(raw)
    except ValidationError as exc:
        broken = {error["loc"][0] for error in exc.errors() if error["loc"]}
    kept = {key: value for key, value in raw.items() if key not in broken - REQUIRED_FIELDS}
    try:
        return Task.model_validate(kept)
    except ValidationError as exc:
        raise ServiceError(
            f"the service's task object cannot be read: {exc.errors()[0]['msg']}",
            hint="the API may have changed, or a gateway rewrote the answer; "
            "`--json` shows the answer as it came",
        ) from None
