"""Half a key pair: the message names where the half came from, and never the key."""

from __future__ import annotations

from mivid.auth import redact


def test_a_secret_key_only_in_the_config_file_is_named_as_such(mivid) -> None:
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
