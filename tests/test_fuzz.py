"""Property-based tests: whatever arrives, only a MividError with the right exit status escapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mivid.auth import ApiKeyCredentials
from mivid.cli import run
from mivid.client import KlingClient, RetryPolicy
from mivid.errors import ExitCode, InputError, MividError
from mivid.images import check_image

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "code": st.sampled_from([0, 1004, 1102, 1203, 1301, 1302, 5000, 7777]) | st.integers(),
        "message": st.text(max_size=30) | json_values,
        "request_id": st.text(max_size=20) | json_values,
        "data": json_values
        | st.fixed_dictionaries(
            {"task_id": st.text(max_size=5) | st.integers(), "task_status": st.text(max_size=5)}
        ),
    },
)
bodies = (
    envelopes.map(lambda e: json.dumps(e).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=200)
)


def client_answering(status: int, body: bytes, headers: dict[str, str]) -> KlingClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers)

    return KlingClient(
        "https://kling.test",
        ApiKeyCredentials("key-0123456789"),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=2),
        sleep=lambda _: None,
    )


def calls(client: KlingClient) -> Iterator[Any]:
    yield lambda: client.get_task("t1")
    yield lambda: client.list_tasks()
    yield lambda: client.create_task([b"{}"], content_length=2, external_task_id="e1")


@settings(max_examples=150, deadline=None)
@given(
    status=st.sampled_from([200, 400, 401, 404, 429, 500, 502, 503]) | st.integers(100, 599),
    body=bodies,
    retry_after=st.none() | st.text(max_size=40),
)
def test_any_answer_gives_a_result_or_a_mivid_error(
    status: int, body: bytes, retry_after: str | None
) -> None:
    headers = {}
    if retry_after is not None and retry_after.isprintable() and retry_after.isascii():
        headers["Retry-After"] = retry_after
    client = client_answering(status, body, headers)
    for call in calls(client):
        result, error = outcome(call)
        if error is None:
            assert isinstance(result, (dict, list))
        else:
            assert error.exit_code in (ExitCode.CREDENTIALS, ExitCode.API_REFUSED, ExitCode.SERVICE)
            assert "\x1b" not in error.message


def outcome(call: Any) -> tuple[Any, MividError | None]:
    """The call's result, or the MividError it raised (anything else fails the test)."""
    try:
        return call(), None
    except MividError as error:
        return None, error


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=3000), name=st.sampled_from(["x.png", "x.jpg", "x.gif", "x"]))
def test_any_bytes_as_an_image_is_a_clean_verdict(tmp_path: Path, data: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    image, found = check_image(str(path))
    problems = [problem.text for problem in found]
    assert image is None
    assert problems and all(isinstance(line, str) and line for line in problems)


@settings(max_examples=60, deadline=None)
@given(
    option=st.sampled_from(
        [
            "--prompt",
            "--negative-prompt",
            "--model",
            "--mode",
            "--duration",
            "--aspect-ratio",
            "--callback-url",
            "--external-task-id",
        ]
    ),
    value=st.text(max_size=60).filter(lambda v: "\x00" not in v),
)
def test_any_option_value_is_a_clean_answer(option: str, value: str) -> None:
    args = ["--sandbox", "create", "https://example.com/a.jpg", "--prompt", "p", option, value,
            "--dry-run", "--json"]  # fmt: skip
    code = run(args)
    assert code in (ExitCode.OK, ExitCode.BAD_INPUT)


@pytest.fixture(autouse=True)
def _quiet_streams(capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI writes to stdout/stderr; capsys keeps it out of the report."""


def test_input_error_lists_every_problem() -> None:
    error = InputError(["a", "b"])
    assert error.lines() == ["a", "b"]
    assert error.exit_code == ExitCode.BAD_INPUT
