"""`mivid config`: the 0600 file, masking, sources and precedence, profiles, stdin secrets, check."""

from __future__ import annotations

import json
import stat
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import RunMivid
from mivid.config_file import value_problems
from mivid.sandbox import EmulatorServer, FakeClock
from mivid.settings import KEYS, read_config_file

# The credentials tests/conftest.py's emulator accepts.
TEST_ACCESS_KEY, TEST_SECRET_KEY, TEST_API_KEY = "test-ak", "test-sk", "test-api-key"
SECRET = "sk-0123456789abcdef-very-secret"


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "mivid" / "config.toml"
    monkeypatch.setenv("MIVID_CONFIG_FILE", str(path))
    return path


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def show_lines(result_stdout: str) -> dict[str, tuple[str, str]]:
    rows = {}
    for line in result_stdout.splitlines():
        key, value, source = line.split("\t")
        rows[key] = (value, source)
    return rows


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_set_writes_a_0600_toml_file_in_a_0700_folder(mivid: RunMivid, config_file: Path) -> None:
    result = mivid("config", "set", "region", "china")

    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert "region = china saved in [default]" in result.stderr
    assert mode_of(config_file) == 0o600
    assert mode_of(config_file.parent) == 0o700
    assert read_config_file(config_file) == {"default": {"region": "china"}}
    assert not [p for p in config_file.parent.iterdir() if p.name != "config.toml"]  # no temp left


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_set_tightens_a_file_others_could_read(mivid: RunMivid, config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[default]\nregion = "global"\n')
    config_file.chmod(0o644)

    assert mivid("config", "set", "mode", "pro").exit_code == 0

    assert mode_of(config_file) == 0o600
    assert read_config_file(config_file) == {"default": {"region": "global", "mode": "pro"}}


def test_secret_from_stdin_strips_one_newline_and_is_never_echoed(
    mivid: RunMivid, config_file: Path
) -> None:
    result = mivid("config", "set", "secret-key", "-", input=SECRET + "\n")

    assert result.exit_code == 0, result
    assert read_config_file(config_file)["default"]["secret-key"] == SECRET
    assert SECRET not in result.stdout + result.stderr
    assert "warning" not in result.stderr  # nothing went into argv


def test_stdin_value_keeps_inner_whitespace_and_refuses_empty(
    mivid: RunMivid, config_file: Path
) -> None:
    assert mivid("config", "set", "api-key", "-", input="key-with-end\n\n").exit_code == 2
    empty = mivid("config", "set", "api-key", "-", input="\n")
    assert empty.exit_code == 2
    assert "api-key: the value is empty" in empty.stderr
    assert not config_file.exists()


def test_show_masks_secrets_and_names_each_source(mivid: RunMivid, config_file: Path) -> None:
    mivid("config", "set", "secret-key", "-", input=SECRET)
    mivid("config", "set", "access-key", "AK-from-the-file-1234")
    mivid("config", "set", "region", "china")
    mivid("config", "set", "mode", "pro")

    result = mivid(
        "--base-url",
        "https://gateway.example/kling",
        "config",
        "show",
        env={"KLING_REGION": "global", "KLING_API_KEY": "env-api-key-123456"},
    )

    assert result.exit_code == 0, result
    assert SECRET not in result.stdout
    assert "env-api-key-123456" not in result.stdout
    rows = show_lines(result.stdout)
    assert list(rows) == list(KEYS)
    assert rows["secret-key"] == ("sk-0…et", "config:default")
    assert rows["access-key"] == ("AK…", "config:default")
    assert rows["api-key"] == ("en…", "env:KLING_API_KEY")
    assert rows["region"] == ("global", "env:KLING_REGION")  # environment beats the file
    assert rows["base-url"] == ("https://gateway.example/kling", "flag:--base-url")
    assert rows["mode"] == ("pro", "config:default")
    assert rows["duration"] == ("5", "default")


def test_show_json_is_one_object_with_masked_values(mivid: RunMivid, config_file: Path) -> None:
    mivid("config", "set", "secret-key", "-", input=SECRET)

    result = mivid("config", "show", "--json")

    assert result.exit_code == 0, result
    document = json.loads(result.stdout)
    assert document["profile"] == "default"
    assert document["config_file"] == str(config_file)
    assert document["settings"]["secret-key"] == {
        "key": "secret-key",
        "value": "sk-0…et",
        "source": "config:default",
        "secret": True,
    }
    assert document["settings"]["api-key"]["value"] is None
    assert document["settings"]["api-key"]["source"] == "unset"
    assert SECRET not in result.stdout


def test_get_prints_values_but_a_secret_only_with_reveal(
    mivid: RunMivid, config_file: Path
) -> None:
    mivid("config", "set", "secret-key", "-", input=SECRET)

    refused = mivid("config", "get", "secret-key")
    assert refused.exit_code == 2
    assert refused.stdout == ""
    assert SECRET not in refused.stderr
    assert "--reveal" in refused.stderr

    revealed = mivid("config", "get", "secret-key", "--reveal")
    assert (revealed.exit_code, revealed.stdout) == (0, SECRET + "\n")

    assert mivid("config", "get", "duration").stdout == "5\n"
    assert mivid("--region", "china", "config", "get", "region").stdout == "china\n"
    unset = mivid("config", "get", "api-key")
    assert (unset.exit_code, unset.stdout) == (0, "")
    assert "api-key is not set" in unset.stderr
    as_json = json.loads(mivid("config", "get", "mode", "--json").stdout)
    assert as_json == {"key": "mode", "value": "std", "source": "default", "secret": False}


def test_profiles_keep_accounts_apart(mivid: RunMivid, config_file: Path) -> None:
    assert mivid("config", "set", "region", "global").exit_code == 0
    assert mivid("--profile", "china", "config", "set", "region", "china").exit_code == 0
    mivid("--profile", "china", "config", "set", "api-key", "-", input="cn-key-0000000")

    assert mivid("config", "get", "region").stdout == "global\n"
    assert mivid("--profile", "china", "config", "get", "region").stdout == "china\n"
    by_env = mivid("config", "show", env={"MIVID_PROFILE": "china"})
    assert show_lines(by_env.stdout)["region"] == ("china", "config:china")
    assert read_config_file(config_file) == {
        "default": {"region": "global"},
        "china": {"region": "china", "api-key": "cn-key-0000000"},
    }

    missing = mivid("--profile", "nope", "config", "show")
    assert missing.exit_code == 2
    assert "profile `nope` is not in" in missing.stderr


def test_unset_removes_only_that_key(mivid: RunMivid, config_file: Path) -> None:
    mivid("config", "set", "region", "china")
    mivid("config", "set", "mode", "pro")

    result = mivid("config", "unset", "region")
    again = mivid("config", "unset", "region")

    assert result.exit_code == 0, result
    assert read_config_file(config_file) == {"default": {"mode": "pro"}}
    assert again.exit_code == 0
    assert "was not set" in again.stderr


def test_bad_keys_values_and_profile_names_are_refused_before_writing(
    mivid: RunMivid, config_file: Path
) -> None:
    cases = [
        (("config", "set", "colour", "blue"), "unknown key `colour`"),
        (("config", "set", "mode", "fast"), "mode: `fast` is not one of std, pro"),
        (
            ("config", "set", "duration", "11"),
            "duration: `11` is not one of 3, 4, 5, 6, 7, 8, 9, 10",
        ),
        (("config", "set", "base-url", "api.example.com"), "must start with http:// or https://"),
        (("--profile", "a b", "config", "set", "mode", "pro"), "profile name `a b`"),
        (("config", "get", "colour"), "unknown key `colour`"),
        (("config", "unset", "colour"), "unknown key `colour`"),
    ]
    for args, message in cases:
        result = mivid(*args)
        assert result.exit_code == 2, (args, result)
        assert message in result.stderr, (args, result)
        assert "Traceback" not in result.stderr
    assert not config_file.exists()


def test_path_prints_the_file_in_use(mivid: RunMivid, config_file: Path) -> None:
    assert mivid("config", "path").stdout == f"{config_file}\n"
    default = mivid("config", "path", env={"MIVID_CONFIG_FILE": None})
    assert default.stdout.strip().endswith("mivid/config.toml")


@given(st.text(max_size=40))
def test_value_rules_accept_exactly_the_choices(value: str) -> None:
    problems = value_problems("aspect-ratio", value)
    assert (problems == []) == (value in ("16:9", "9:16", "1:1"))


@given(st.text(min_size=1, max_size=40))
def test_free_values_refuse_only_control_characters(value: str) -> None:
    problems = value_problems("model", value)
    assert (problems == []) == value.isprintable()


def test_check_says_the_stored_credentials_work(
    mivid: RunMivid, config_file: Path, server: EmulatorServer, fake_clock: FakeClock
) -> None:
    fake_clock.set(time.time())  # the JWT is signed with this machine's clock
    mivid("config", "set", "base-url", server.url)
    mivid("config", "set", "access-key", TEST_ACCESS_KEY)
    mivid("config", "set", "secret-key", "-", input=TEST_SECRET_KEY)

    result = mivid("config", "check")

    assert result.exit_code == 0, result
    verdict, profile, base_url, credentials, units = result.stdout.rstrip("\n").split("\t")
    assert (verdict, profile, base_url) == ("ok", "default", server.url)
    assert "profile default" in credentials  # where the keys came from
    assert TEST_SECRET_KEY not in result.stdout + result.stderr
    request, account = server.emulator.received
    assert request.method == "GET"
    assert request.query == {"pageNum": "1", "pageSize": "1"}
    assert request.headers["authorization"].startswith("Bearer ey")
    assert (account.method, account.path) == ("GET", "/account/costs")
    assert units == "units left: 1000000 (1 pack in force)"


def test_check_json_names_region_and_credential_kind(
    mivid: RunMivid, server: EmulatorServer
) -> None:
    result = mivid(
        "config",
        "check",
        "--json",
        env={"KLING_BASE_URL": server.url, "KLING_API_KEY": TEST_API_KEY},
    )

    assert result.exit_code == 0, result
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert document["base_url"] == server.url
    assert document["credentials"].startswith("API key ")
    assert "$KLING_API_KEY" in document["credentials"]
    assert TEST_API_KEY not in result.stdout


def test_check_with_a_wrong_key_exits_3_without_printing_it(
    mivid: RunMivid, server: EmulatorServer
) -> None:
    wrong = "definitely-not-the-right-key"
    result = mivid(
        "config",
        "check",
        env={"KLING_BASE_URL": server.url, "KLING_API_KEY": wrong},
    )

    assert result.exit_code == 3, result
    assert result.stdout == ""
    assert f"base URL {server.url}" in result.stderr
    assert "API key" in result.stderr
    assert wrong not in result.stderr
    assert "Traceback" not in result.stderr


def test_check_without_credentials_exits_3_with_the_fix(mivid: RunMivid) -> None:
    result = mivid("config", "check")

    assert result.exit_code == 3
    assert "no credentials" in result.stderr
    assert "mivid config set" in result.stderr


def test_check_in_the_sandbox_needs_no_keys(mivid: RunMivid) -> None:
    result = mivid("--sandbox", "config", "check")

    assert result.exit_code == 0, result
    assert result.stdout.split("\t")[:3] == ["ok", "default", "http://sandbox.mivid.invalid"]


def test_a_bad_default_from_the_config_file_is_blamed_on_the_file_not_on_a_flag(
    mivid: RunMivid, config_file: Path, tmp_path: Path
) -> None:
    """QA finding 8: `config set duration 7` is a duration some endpoint takes; the default
    endpoint does not. create and batch name the config file and profile, and nothing is sent."""
    from imagefactory import make_png

    image = make_png(tmp_path / "a.png")
    assert mivid("config", "set", "duration", "7").exit_code == 0
    created = mivid("--sandbox", "create", str(image), "-p", "waves")
    assert created.exit_code == 2, created
    where = f"config [default] in {config_file}"
    assert created.stderr.splitlines() == [
        f"error: duration (the default from {where}): `7` is not one of 5, 10",
        # One command, pasted as it is (no backticks); the config file is the same without
        # --sandbox, so the hint leaves it out as the refused model's does.
        "hint: give --duration for this create, or change the default: mivid config set duration 5",
    ]
    assert "--duration:" not in created.stderr
    # Given as a flag, the flag is named as before.
    flagged = mivid("--sandbox", "create", str(image), "-p", "waves", "--duration", "7")
    assert flagged.exit_code == 2
    assert flagged.stderr.startswith("error: --duration: `7` is not one of 5, 10")

    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(
        json.dumps({"images": [str(image)], "prompt": "a"})
        + "\n"
        + json.dumps({"images": [str(image)], "prompt": "b", "duration": "7"})
        + "\n",
        encoding="utf-8",
    )
    batch = mivid("--sandbox", "batch", str(jobs))
    assert batch.exit_code == 2, batch
    assert batch.stderr.splitlines() == [
        f"error: {jobs}:1: duration (the default from {where}): `7` is not one of 5, 10",
        f"error: {jobs}:2: duration: `7` is not one of 5, 10",  # the line's own field
        "hint: fix these lines or the defaults named and run the same command again; "
        "nothing was sent",
    ]


def test_a_bad_default_from_the_environment_names_the_variable(
    mivid: RunMivid, config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imagefactory import make_png

    image = make_png(tmp_path / "a.png")
    monkeypatch.setenv("MIVID_DURATION", "7")
    created = mivid("--sandbox", "create", str(image), "-p", "waves")
    assert created.exit_code == 2, created
    assert created.stderr.splitlines() == [
        "error: duration (the default from $MIVID_DURATION): `7` is not one of 5, 10",
        "hint: give --duration for this create, or change $MIVID_DURATION",
    ]


# -- a default the model in force refuses is said at `config set` (QA newcomer 3, finding 10) ---


def test_a_duration_the_default_model_refuses_is_saved_with_a_warning_naming_who_takes_it(
    mivid: RunMivid, config_file: Path
) -> None:
    """`config set duration 3` was saved without a word, and every create then failed (exit
    2). It is kept (a create may name a model that takes 3) but said at once."""
    result = mivid("config", "set", "duration", "3")
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"duration = 3 saved in [default] of {config_file}",
        "warning: kling-v1-6 (mivid's default model) takes duration 5 or 10, not 3: a create is "
        "refused unless it gives --duration or another --model (kling-video-o1, kling-v3-omni "
        "take 3)",
    ]
    assert read_config_file(config_file)["default"]["duration"] == "3"

    # Choosing a model that takes it says nothing; going back to one that does not, warns.
    omni = mivid("config", "set", "model", "kling-video-o1")
    assert omni.stderr.splitlines() == [
        f"model = kling-video-o1 saved in [default] of {config_file}"
    ]
    back = mivid("config", "set", "model", "kling-v1-6")
    assert back.exit_code == 0, back
    assert back.stderr.splitlines()[1] == (
        "warning: kling-v1-6 (the model just saved) takes duration 5 or 10, not 3: a create is "
        "refused unless it gives --duration or another --model (kling-video-o1, kling-v3-omni "
        "take 3)"
    )
    # With --sandbox too (one config file), and a value every model takes is said plainly.
    fine = mivid("--sandbox", "config", "set", "duration", "5")
    assert fine.exit_code == 0, fine
    assert "warning" not in fine.stderr


def test_a_mode_or_ratio_of_the_model_in_force_and_an_unknown_model_are_saved_quietly(
    mivid: RunMivid, config_file: Path
) -> None:
    for words in (("mode", "pro"), ("aspect-ratio", "1:1"), ("model", "kling-v9-next")):
        result = mivid("config", "set", *words)
        assert result.exit_code == 0, result
        assert "warning" not in result.stderr, result.stderr
    # kling-v9-next is no model mivid knows: its endpoint (--endpoint) decides, not mivid.
    assert "warning" not in mivid("config", "set", "duration", "7").stderr
