"""mivid.origin: what `create --from` carries over of a journal entry's create."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from mivid.origin import origin_of
from mivid.vocabulary import CREATE_FIELDS, IDENTIFIER


def test_every_create_field_but_the_external_id_is_carried_over() -> None:
    """A field added to `CREATE_FIELDS` is carried by `create --from` without another list."""
    given: dict[str, Any] = {
        "prompt": "waves",
        "negative_prompt": "blur",
        "model_name": "kling-video-o1",
        "mode": "pro",
        "duration": "10",
        "aspect_ratio": "1:1",
        "element_list": [{"element_id": 7}],
        "video_list": [
            {
                "video_url": "https://example.com/v.mp4",
                "refer_type": "base",
                "keep_original_sound": "yes",
            }
        ],
        "watermark_info": {"enabled": True},
        "callback_url": "https://example.com/hook",
        "external_task_id": "shot-1",
    }
    assert set(given) == {spec.name for spec in CREATE_FIELDS}  # one value for each field
    entry = SimpleNamespace(
        request=given, endpoint="omni", images=[], task_id="8672", external_task_id="shot-1"
    )
    values = origin_of(entry).values
    carried = {spec.in_jobs for spec in CREATE_FIELDS if spec.kind != IDENTIFIER}
    assert {name for name in carried if values.get(name) in (None, False)} == set()
    assert "external_task_id" not in values  # a new create has an id of its own
    assert values["elements"] == [7] and values["watermark"] is True
    assert (values["video"], values["video_use"], values["keep_sound"]) == (
        "https://example.com/v.mp4",
        "base",
        True,
    )
    assert values["prompt"] == "waves" and values["callback_url"] == "https://example.com/hook"
