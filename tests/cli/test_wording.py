"""The polish of issue 15: empty values, misspelt fields, grammar, reminders, Pillow's words,
config's answers (points 22, 23, 24, 25, 27, 28)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from helpers import InProcessTerminal, Result, RunMivid
from imagefactory import make_png, make_truncated_jpeg
from mivid.sandbox import EmulatorServer, FakeClock

FAST = {"MIVID_SANDBOX_TASK_SECONDS": "0.05"}


# -- 22: an empty value is refused, not replaced by the default ---------------------------------


@pytest.mark.parametrize(
    ("option", "line"),
    [
        ("--model", "--model: must not be empty"),
        ("--mode", "--mode: must not be empty — one of std, pro"),
        ("--external-task-id", "--external-task-id: must not be empty"),
    ],
)
def test_an_empty_value_is_refused_like_any_other(mivid: RunMivid, option: str, line: str) -> None:
    result = mivid("--sandbox", "create", "https://example.com/a.png", "-p", "x", option, "")

    assert result.exit_code == 2, result
    assert result.stderr.splitlines()[0] == f"error: {line}"


# -- 23: a misspelt jobs-file field --------------------------------------------------------------


def dry_runs(mivid: RunMivid, folder: Path, line: str, table: str) -> tuple[Result, Result]:
    """`batch --dry-run` of a jobs file of one `line`, and of a CSV `table` (both beside a.png)."""
    make_png(folder / "a.png")
    jobs = folder / "jobs.jsonl"
    jobs.write_text(line + "\n")
    csv = folder / "jobs.csv"
    csv.write_text(table + "\n")
    return (
        mivid("--sandbox", "batch", str(jobs), "--dry-run"),
        mivid("--sandbox", "batch", str(csv), "--dry-run"),
    )


def test_a_misspelt_field_gets_a_did_you_mean(mivid: RunMivid, tmp_path: Path) -> None:
    result, csv = dry_runs(
        mivid,
        tmp_path,
        '{"images": ["a.png"], "prompt": "x", "durtion": "10"}',
        "images,promt\na.png,x",
    )

    assert result.exit_code == 2
    assert "unknown field `durtion` — did you mean `duration`?" in result.stderr
    assert "unknown column `promt` — did you mean `prompt`?" in csv.stderr


def test_a_field_named_as_creates_option_suggests_the_field_that_option_sets(
    mivid: RunMivid, tmp_path: Path
) -> None:
    """`model` is `create`'s --model (`model_name`), not a misspelt `mode`."""
    result, csv = dry_runs(
        mivid,
        tmp_path,
        '{"images": ["a.png"], "prompt": "x", "model": "kling-v2-1", "element": [1]}',
        "images,prompt,model\na.png,x,kling-v2-1",
    )

    assert result.exit_code == 2, result
    assert "unknown field `model` — did you mean `model_name` (create's --model)?" in result.stderr
    assert "unknown field `element` — did you mean `elements` (create's --element)?" in (
        result.stderr
    )
    assert "mode`?" not in result.stderr
    assert csv.exit_code == 2, csv
    assert "unknown column `model` — did you mean `model_name` (create's --model)?" in csv.stderr


# -- 24: counts in the right number ----------------------------------------------------------------


def test_one_job_and_one_image_are_said_in_the_singular(mivid: RunMivid, tmp_path: Path) -> None:
    make_png(tmp_path / "a.png")
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"images": ["a.png"], "prompt": "x"}\n')
    small = make_png(tmp_path / "small.png", size=(200, 200))

    planned = mivid("--sandbox", "batch", str(jobs), "--dry-run")
    refused = mivid("--sandbox", "create", str(small), "-p", "x")

    assert "dry run: 1 job checked (1 to send); nothing sent" in planned.stderr
    assert "add --fit to send a conforming copy of that image (the file stays as it is)" in (
        refused.stderr
    )


# -- 25: the 30-day reminder, the download bar ---------------------------------------------------


def test_the_sandbox_gets_no_30_day_reminder_and_the_service_one(
    mivid: RunMivid, kling_env: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    made = mivid("--sandbox", "create", "https://example.com/a.png", "-p", "x", "-q", env=FAST)
    task_id = made.stdout.strip()
    sandboxed = mivid("--sandbox", "wait", task_id, "-d", str(tmp_path / "s"), env=FAST)
    assert sandboxed.exit_code == 0, sandboxed
    assert "30 days" not in sandboxed.stderr

    real = mivid("create", "https://example.com/a.png", "-p", "x", "-q").stdout.strip()
    fake_clock.advance(60)
    saved = mivid("download", real, "-d", str(tmp_path / "r"))
    assert saved.stderr.count("30 days") == 1, saved


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_the_download_bar_never_shows_a_question_mark(mivid: RunMivid, tmp_path: Path) -> None:
    made = mivid("--sandbox", "create", "https://example.com/a.png", "-p", "x", "--wait", "-q",
                 env=FAST)  # fmt: skip
    task_id = made.stdout.strip()
    terminal = InProcessTerminal(
        ["--sandbox", "download", task_id, "-d", str(tmp_path)], env={"NO_COLOR": "1"}
    )
    assert terminal.finish() == 0
    bar = next(line for line in terminal.text().splitlines() if f"{task_id}.mp4" in line)
    assert "?" not in bar, bar


# -- 27: the image checks speak mivid's words ----------------------------------------------------


def test_a_truncated_jpeg_is_said_in_mivids_words(mivid: RunMivid, tmp_path: Path) -> None:
    cut = make_truncated_jpeg(tmp_path / "cut.jpg")

    result = mivid("--sandbox", "create", str(cut), "-p", "x")

    assert result.exit_code == 2
    assert "the file ends early: it is probably incomplete" in result.stderr
    assert "image file is truncated" not in result.stderr
    assert "bytes not processed" not in result.stderr


# -- 28: config ------------------------------------------------------------------------------------


def test_config_get_base_url_says_the_url_in_use(mivid: RunMivid) -> None:
    plain = mivid("config", "get", "base-url")
    china = mivid("--region", "china", "config", "get", "base-url", "--json")

    assert plain.exit_code == 0
    assert plain.stdout == "https://api-singapore.klingai.com\n"
    assert plain.stderr == "base-url is not set: region global's URL is in use\n"
    assert json.loads(china.stdout)["value"] == "https://api-beijing.klingai.com"


def test_a_choice_is_taken_in_any_case(mivid: RunMivid, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    env = {"MIVID_CONFIG_FILE": str(config)}

    stored = mivid("config", "set", "mode", "PRO", env=env)

    assert stored.exit_code == 0, stored
    assert 'mode = "pro"' in config.read_text()
    assert mivid("--region", "CHINA", "config", "get", "region").stdout == "china\n"


def test_config_check_json_prints_the_verdict_when_it_fails(mivid: RunMivid) -> None:
    result = mivid("config", "check", "--json")

    assert result.exit_code == 3
    verdict = json.loads(result.stdout)
    assert verdict["ok"] is False and verdict["error"]["exit_status"] == 3
    assert re.match(r"no credentials", verdict["error"]["message"])
    assert result.stderr.startswith("error: no credentials")
