"""Messages a person reads when a command cannot start: credentials and usage."""

from __future__ import annotations

from helpers import RunMivid
from mivid.auth import redact


def test_a_secret_key_only_in_the_config_file_is_named_as_such(mivid: RunMivid) -> None:
    secret = "sk-only-half-of-the-pair-0123456789"
    assert mivid("config", "set", "secret-key", secret).exit_code == 0
    result = mivid("list")
    assert result.exit_code == 3
    assert "secret-key ([default] in" in result.stderr
    assert "KLING_ACCESS_KEY (or access-key in the config file) is not" in result.stderr
    assert "$KLING_SECRET_KEY" not in result.stderr
    assert secret not in result.stderr + result.stdout


def test_redaction_shows_little_of_short_keys() -> None:
    assert redact("short") == "****"
    assert redact("sixteen-chars-ab") == "si…"
    assert redact("a" * 28 + "wxyz") == "aaaa…yz"


def test_parser_errors_read_like_mivid_errors(mivid: RunMivid) -> None:
    result = mivid("list", "--page", "x")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines == ["error: --page: x — must be a whole number", "hint: see 'mivid list --help'"]
    assert result.stdout == ""
