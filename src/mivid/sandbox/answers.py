"""How the emulator words its answers: as the contract documents them, or as the live service does.

The contract's "What the live service really answers" table lists where the
live service (recorded 2026) differs from the documentation. Each difference
is one field of `AnswerForms`; `DOCUMENTED` and `LIVE` are the two presets and
`Emulator(answers="live")` picks one, while any single field can still be set
on its own (`Emulator(answers="live", not_found="documented")`).

| field                 | documented                        | live                                      |
|-----------------------|-----------------------------------|-------------------------------------------|
| not_found             | 404, 1203                         | 400, 1201 `Task not found by id/external id: <value>` |
| duplicate_external_id | 400, 1201, the sandbox's sentence | 400, 1201 `External_task_id <value> already exists`   |
| create_task_info      | "echo": `task_info.external_task_id` | "omit": no `task_info` (the vendor's sample); "empty": `{}` |
| failed_result         | "omit": no `task_result`          | "empty": `"task_result": {}`, `"task_info": {}`; "null_videos": `{"videos": null}` |
| envelope              | `request_id` always, no `data` on errors | "gateway": no `request_id`, `"data": null` on errors |
| units                 | "whole" (`"1"`, `"4"`)            | "fractional" (`"1.1"`, `"4.4"`, `"1.235"`) |
| token_messages        | the sandbox's sentences           | `The token was expected to have 3 parts, but got <n>` |
| retired_models        | none                              | `kling-v1` from 2026-09-15                |

Today's client reads the documented forms, so "documented" is the default;
flipping `DEFAULT_ANSWERS` below makes every emulator answer the live way.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Answers = Literal["documented", "live"]
Wording = Literal["documented", "live"]
CreateTaskInfo = Literal["echo", "omit", "empty"]
FailedResult = Literal["omit", "empty", "null_videos"]
Envelope = Literal["documented", "gateway"]
Units = Literal["whole", "fractional"]

#: The switch: which forms an emulator answers with when it is not told.
DEFAULT_ANSWERS: Answers = "live"


@dataclass(frozen=True)
class AnswerForms:
    """One choice per place where the live service and the documentation differ."""

    not_found: Wording
    duplicate_external_id: Wording
    create_task_info: CreateTaskInfo
    failed_result: FailedResult
    envelope: Envelope
    units: Units
    token_messages: Wording
    #: Model name -> the day (YYYY-MM-DD, UTC) from which a create naming it is refused.
    retired_models: Mapping[str, str] = field(default_factory=dict)


DOCUMENTED = AnswerForms(
    not_found="documented",
    duplicate_external_id="documented",
    create_task_info="echo",
    failed_result="omit",
    envelope="documented",
    units="whole",
    token_messages="documented",
    retired_models={},
)

LIVE = AnswerForms(
    not_found="live",
    duplicate_external_id="live",
    create_task_info="omit",
    failed_result="empty",
    envelope="gateway",
    units="fractional",
    token_messages="live",
    retired_models={"kling-v1": "2026-09-15"},
)

PRESETS: Mapping[str, AnswerForms] = {"documented": DOCUMENTED, "live": LIVE}


def retirement_time(day: str) -> float:
    """Unix seconds at the start (UTC) of `day`, given as YYYY-MM-DD."""
    return float(calendar.timegm(time.strptime(day, "%Y-%m-%d")))
