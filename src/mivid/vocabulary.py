"""The API's vocabulary, in one place: task statuses, the create's fields, a task's videos.

Everything that reads a task object asks here (`status_of`, `task_videos`,
`external_id_of`), so a spelling the service adds (`succeeded` for `succeed`)
or a field it moves is one change. The create fields are declared once
(`CREATE_FIELDS`): the checks, the body, the journal, the jobs file, the
sidecar, the completions, the man page and the README's tables read them.
The choices of model, mode, duration and ratio belong to each endpoint
(`mivid.endpoints`).

Imports nothing heavy: `list --json` and `get --json` use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# -- task statuses ------------------------------------------------------------------------------

SUBMITTED = "submitted"
PROCESSING = "processing"
SUCCEED = "succeed"
FAILED = "failed"
#: The contract's statuses, in the order a task goes through them.
STATUSES = (SUBMITTED, PROCESSING, SUCCEED, FAILED)
FINAL_STATUSES = (SUCCEED, FAILED)
#: Other spellings the service (newer APIs, gateways) uses for a status.
STATUS_SPELLINGS: Mapping[str, str] = {"succeeded": SUCCEED}


def normal_status(status: object) -> str:
    """A status in the contract's spelling (`succeeded` → `succeed`); unknown ones as they are."""
    text = status if isinstance(status, str) else ""
    return STATUS_SPELLINGS.get(text, text)


def status_of(task: Mapping[str, Any] | None) -> str:
    """A task object's status, in the contract's spelling ("" when it has none)."""
    return normal_status(task.get("task_status")) if task is not None else ""


def is_final(task: Mapping[str, Any] | None) -> bool:
    """Has the task ended (succeeded or failed)?"""
    return status_of(task) in FINAL_STATUSES


#: `list --status unfinished`: every task that has not ended yet (submitted, processing, or
#: a status mivid does not know): what a script hands on to `mivid wait -`.
UNFINISHED = "unfinished"
#: What `list --status` takes: a status, or `unfinished`.
STATUS_FILTERS = (*STATUSES, UNFINISHED)


def has_status(task: Mapping[str, Any] | None, wanted: str) -> bool:
    """Does the task match `list --status wanted` (a status, or `unfinished`)?"""
    if wanted == UNFINISHED:
        return not is_final(task)
    return status_of(task) == wanted


def succeeded(task: Mapping[str, Any] | None) -> bool:
    return status_of(task) == SUCCEED


def failed(task: Mapping[str, Any] | None) -> bool:
    return status_of(task) == FAILED


def task_id_of(task: Mapping[str, Any]) -> str:
    return str(task["task_id"])


def external_id_of(task: Mapping[str, Any]) -> str | None:
    """The `task_info.external_task_id` the service echoed, if any."""
    info = task.get("task_info")
    external = info.get("external_task_id") if isinstance(info, dict) else None
    return external if isinstance(external, str) else None


def with_external_id(task: Mapping[str, Any], external_task_id: str) -> dict[str, Any]:
    """The task object, its `task_info.external_task_id` filled in when the answer left it out.

    The vendor's own create answer carries no `task_info` (some carry `{}`); the
    external id is the one the create sent, so scripts find it where the contract says.
    """
    if external_id_of(task) is not None:
        return dict(task)
    info = task.get("task_info")
    return {
        **task,
        "task_info": {
            **(info if isinstance(info, dict) else {}),
            "external_task_id": external_task_id,
        },
    }


def task_videos(task: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The task's video objects (`task_result.videos`): [] when missing, null or malformed."""
    result = task.get("task_result")
    videos = result.get("videos") if isinstance(result, dict) else None
    return [video for video in videos or [] if isinstance(video, dict)]


def video_urls(task: Mapping[str, Any], *, watermarked: bool = False) -> list[str]:
    """The URL of each video (or of its watermarked copy); "" where one is missing."""
    key = "watermark_url" if watermarked else "url"
    return [
        str(video[key]) if isinstance(video.get(key), str) else "" for video in task_videos(task)
    ]


def failure_reason(task: Mapping[str, Any]) -> str:
    return str(task.get("task_status_msg") or "no reason given")


# -- the create's fields ------------------------------------------------------------------------

TEXT, CHOICE, MODEL, URL, IDENTIFIER, FLAG = "text", "choice", "model", "url", "id", "flag"
#: Omni-Video's lists: element ids (`[{"element_id": 1}]`), one reference video.
ELEMENTS, VIDEO = "elements", "video"
MAX_PROMPT_CHARS = 2500
MAX_EXTERNAL_ID_CHARS = 256  # not in the contract; a guard against pasting a file by mistake


@dataclass(frozen=True)
class CreateField:
    """One field of a create body (the images apart), and how users give it.

    `name` is the API's; `job_name` the jobs file's (usually the same); `option`
    `create`'s; `setting` the config key that gives its default; `choices` the
    endpoint attribute listing its allowed values.
    """

    name: str
    option: str
    kind: str
    help: str
    metavar: str = ""
    job_name: str = ""
    setting: str | None = None
    choices: str | None = None
    max_chars: int | None = None
    required: bool = False
    sidecar: bool = True  # repeated in the sidecar and `list --local` (not a callback URL)

    @property
    def in_jobs(self) -> str:
        return self.job_name or self.name

    def api_value(self, value: Any) -> Any:
        """The body's value for what a user gave (a flag becomes `{"enabled": true}`).

        Element ids become `[{"element_id": n}, …]`; a reference video (its
        `video_list` entry, see `mivid.create_request.reference_video`) a list of one.
        """
        if self.kind == FLAG:
            return {"enabled": True} if value else None
        if self.kind == ELEMENTS:
            return [{"element_id": element} for element in value] if value else None
        if self.kind == VIDEO:
            return [dict(value)] if value else None
        return value


CREATE_FIELDS: tuple[CreateField, ...] = (
    CreateField(
        "prompt",
        "--prompt",
        TEXT,
        "what the video shows",
        "TEXT",
        max_chars=MAX_PROMPT_CHARS,
        required=True,
    ),
    CreateField(
        "negative_prompt",
        "--negative-prompt",
        TEXT,
        "what the video should avoid",
        "TEXT",
        max_chars=MAX_PROMPT_CHARS,
    ),
    CreateField(
        "model_name",
        "--model",
        MODEL,
        "model name; it picks the endpoint",
        "NAME",
        setting="model",
        choices="models",
    ),
    CreateField(
        "mode",
        "--mode",
        CHOICE,
        "std (720p, cheaper) or pro (1080p)",
        setting="mode",
        choices="modes",
    ),
    CreateField(
        "duration",
        "--duration",
        CHOICE,
        "video length in seconds (a string in the body)",
        setting="duration",
        choices="durations",
    ),
    CreateField(
        "aspect_ratio",
        "--aspect-ratio",
        CHOICE,
        "video width:height",
        setting="aspect-ratio",
        choices="aspect_ratios",
    ),
    CreateField(
        "element_list",
        "--element",
        ELEMENTS,
        "an element id from the account's element library (repeatable)",
        "ID",
        job_name="elements",
    ),
    CreateField(
        "video_list",
        "--video",
        VIDEO,
        "a reference video's URL (MP4/MOV, 3-10 s)",
        "URL",
        job_name="video",
    ),
    CreateField(
        "watermark_info",
        "--watermark",
        FLAG,
        "also produce a watermarked copy",
        job_name="watermark",
        sidecar=False,
    ),
    CreateField(
        "callback_url",
        "--callback-url",
        URL,
        "URL the service POSTs the task to on each status change",
        "URL",
        sidecar=False,
    ),
    CreateField(
        "external_task_id",
        "--external-task-id",
        IDENTIFIER,
        "your own id for the task, unique per account",
        "ID",
        max_chars=MAX_EXTERNAL_ID_CHARS,
        sidecar=False,
    ),
)
FIELDS_BY_NAME: Mapping[str, CreateField] = {spec.name: spec for spec in CREATE_FIELDS}
#: The fields a sidecar and `list --local` repeat (never the callback URL: it may carry a token).
SIDECAR_FIELDS = tuple(spec.name for spec in CREATE_FIELDS if spec.sidecar)
#: What a jobs file line may hold besides the create fields, by its name there: how its
#: frames, its endpoint and its reference video are given, and `create`'s option for each.
EXTRA_OPTIONS: Mapping[str, str] = {
    "first_frame": "--first-frame",
    "end_frame": "--end-frame",
    "endpoint": "--endpoint",
    "video_use": "--video-use",
    "keep_sound": "--keep-sound",
}
JOB_EXTRAS = tuple(EXTRA_OPTIONS)
#: What each of those says in `batch --help` (as `create --help` words its option).
EXTRA_HELP: Mapping[str, str] = {
    "first_frame": "the video's first frame, an image path or URL (Omni-Video)",
    "end_frame": "the video's last frame, with first_frame (Omni-Video)",
    "endpoint": "where to send a model mivid does not know yet",
    "video_use": "with video: feature (take its style, camera, motion) or base (edit it)",
    "keep_sound": "with video: keep its own sound (true) or drop it (false)",
}
#: What a jobs file line may hold: its images and every create field under its jobs-file name.
JOB_FIELDS = ("images", *(spec.in_jobs for spec in CREATE_FIELDS), *JOB_EXTRAS)
#: The roles an image takes in a create (`image_list[].type`; a reference has none).
FIRST_FRAME, END_FRAME, REFERENCE = "first_frame", "end_frame", "reference"


def option_and_job_name(field: str) -> tuple[str, str]:
    """A problem's `field` as `create` names it (`--element`) and as a jobs file does (`elements`)."""
    spec = FIELDS_BY_NAME.get(field)
    if spec is not None:
        return spec.option, spec.in_jobs
    return EXTRA_OPTIONS.get(field, field), field


#: `create`'s option for each field a jobs file names, by the option: how a create's
#: message is said in a jobs file's words (`job_words`).
_JOB_NAME_OF_OPTION: Mapping[str, str] = {
    **{spec.option: spec.in_jobs for spec in CREATE_FIELDS},
    **{option: name for name, option in EXTRA_OPTIONS.items()},
}


def job_field_of_option(word: str) -> tuple[str, str] | None:
    """`create`'s option named `word` and the jobs-file field it sets, if any one is.

    `model` or `--model` → (`--model`, `model_name`).
    """
    option = "--" + word.lstrip("-").replace("_", "-").lower()
    field = _JOB_NAME_OF_OPTION.get(option)
    return None if field is None else (option, field)


#: An option as a message names it: the longest run of letters and dashes (`--video-use`,
#: never `--video` and `-use`).
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*[a-z]")


def job_field_help() -> list[tuple[str, str]]:
    """Each field a jobs file line may hold, and what it is (`create`'s option and its help).

    `batch --help` lists them from here, so a field added to the vocabulary is listed.
    """
    described = [("images", "the IMAGE arguments: a list of paths (relative to the file) or URLs")]
    for spec in CREATE_FIELDS:
        kind = " (true/false)" if spec.kind == FLAG else ""
        kind = " (a list of ids)" if spec.kind == ELEMENTS else kind
        required = " (required)" if spec.required else ""
        text = spec.help.replace(" (repeatable)", "")  # an option's word, not a field's
        described.append((spec.in_jobs, f"{spec.option}: {text}{kind}{required}"))
    for name, option in EXTRA_OPTIONS.items():
        described.append((name, f"{option}: {EXTRA_HELP.get(name, 'as in create')}"))
    return described


def job_words(text: str, *, quoted: bool = True) -> str:
    """A create's message said in a jobs file's words: each option as the job's field.

    `needs a first frame too (--first-frame)` → ``needs a first frame too (`first_frame`)``;
    the image arguments are the job's `images`. `quoted` puts the field names in
    backticks (in a message's text; a problem's subject names them bare).
    """

    def field_name(match: re.Match[str]) -> str:
        name = _JOB_NAME_OF_OPTION.get(match.group(0))
        if name is None:
            return match.group(0)  # not a create field's option (a global one, say)
        return f"`{name}`" if quoted else name

    text = text.replace("the IMAGE arguments", "`images`" if quoted else "images")
    return _OPTION.sub(field_name, text)
