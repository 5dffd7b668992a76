"""Odd answers and requests in the library and the emulator: a header httpx refuses, task
fields of odd types, a trailing slash on the collection."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mivid.auth import Secrets
from mivid.client import KlingClient, RetryPolicy
from mivid.errors import ServiceError
from mivid.sandbox import EmulatorServer


class _RawCredentials:
    """Sends whatever it is given, as a credential read from elsewhere might be."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.secrets = Secrets()

    def authorization(self) -> str:
        return f"Bearer {self.value}"

    def renew(self) -> bool:
        return False

    def describe(self) -> str:
        return "raw"


def test_a_header_httpx_refuses_is_not_quoted_in_the_error(server: EmulatorServer) -> None:
    """h11's "Illegal header value b'Bearer <key>'" became the message, key and all."""
    client = KlingClient(
        server.url, _RawCredentials("key-with-newline-0123\n"), retry=RetryPolicy(attempts=1)
    )
    with client, pytest.raises(ServiceError) as caught:
        client.list_tasks()
    assert "key-with-newline-0123" not in str(caught.value)
    assert "header" in caught.value.message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
OPTIONAL_FIELDS = [
    "task_status_msg",
    "task_info",
    "task_result",
    "watermark_info",
    "final_unit_deduction",
    "created_at",
    "updated_at",
]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(OPTIONAL_FIELDS), json_values))
def test_parse_task_reads_any_optional_field_as_given_or_missing(extra: dict[str, Any]) -> None:
    """A wrong type in an optional field raised pydantic's ValidationError: exit 70, "a bug"."""
    from mivid.models import parse_task

    task = parse_task({"task_id": "867283741759111202", "task_status": "processing", **extra})
    assert task.task_id == "867283741759111202"
    assert task.task_status == "processing"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_emulator_refuses_a_trailing_slash_on_the_collection(method: str) -> None:
    """`/v1/videos/multi-image2video/` with no query hit an IndexError: code 5000, which a
    client must treat as "the task may exist" and retry."""
    from mivid.sandbox import Emulator, Request

    with Emulator() as emulator:
        response = emulator.handle(Request(method, "/v1/videos/multi-image2video/"))
    envelope = json.loads(response.body)
    assert envelope["code"] == 1202, envelope
    assert response.status == 404
