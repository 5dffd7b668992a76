"""Codes the contract does not list yet land with their family, not as network failures."""

from __future__ import annotations

import pytest

from mivid.client import error_class
from mivid.errors import ExitCode
from mivid.plaintext import public_url


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (1000, ExitCode.CREDENTIALS),
        (1005, ExitCode.CREDENTIALS),
        (1103, ExitCode.CREDENTIALS),
        (1104, ExitCode.CREDENTIALS),
        (1201, ExitCode.API_REFUSED),
        (1203, ExitCode.API_REFUSED),
        (1305, ExitCode.API_REFUSED),
        (5003, ExitCode.SERVICE),
        (42, ExitCode.SERVICE),
    ],
)
def test_error_code_families_map_to_exit_statuses(code: int, status: ExitCode) -> None:
    assert error_class(code).exit_code is status


def test_urls_shown_to_people_never_carry_credentials() -> None:
    assert (
        public_url("https://tok:pw@gw.example/kling/v1/x?a=1")
        == "https://gw.example/kling/v1/x?a=1"
    )
    assert (
        public_url("https://api-singapore.klingai.com/v1/x")
        == "https://api-singapore.klingai.com/v1/x"
    )
