"""`mivid models`: the models mivid knows, offline, in each form; the default follows the config."""

from __future__ import annotations

import json

from helpers import InProcessTerminal, RunMivid


def test_in_a_pipe_one_line_per_model_with_its_endpoint_and_limits(mivid: RunMivid) -> None:
    result = mivid("models")  # no keys, no service: offline
    assert result.exit_code == 0, result
    assert result.stderr == ""
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert rows == [
        ["kling-v1-6", "multi-image", "1", "4", "std,pro", "5,10", "negative-prompt", "",
         "default"],
        ["kling-video-o1", "omni", "0", "7", "std,pro", "3,4,5,6,7,8,9,10",
         "first-frame,end-frame,elements,video", "", ""],
        ["kling-v3-omni", "omni", "0", "7", "std,pro", "3,4,5,6,7,8,9,10",
         "first-frame,end-frame,elements,video", "", ""],
    ]  # fmt: skip


def test_json_describes_each_model(mivid: RunMivid) -> None:
    result = mivid("models", "--json")
    assert result.exit_code == 0, result
    models = {item["model"]: item for item in json.loads(result.stdout)}
    assert list(models) == ["kling-v1-6", "kling-video-o1", "kling-v3-omni"]
    omni = models["kling-video-o1"]
    assert omni["endpoint"] == "omni" and omni["path"] == "/v1/videos/omni-video"
    assert omni["images"] == {"least": 0, "most": 7, "most_with_video": 4}
    assert omni["short_durations"] == ["5", "10"]
    assert omni["default_mode"] == "std"  # mivid's, sent explicitly: not Omni's own `pro`
    assert omni["accepts"] == ["first-frame", "end-frame", "elements", "video"]
    assert omni["retires"] is None  # no date known
    multi = models["kling-v1-6"]
    assert multi["default"] is True and multi["accepts"] == ["negative-prompt"]
    assert multi["images"]["most_with_video"] is None


def test_the_default_is_the_configs_model(mivid: RunMivid) -> None:
    assert mivid("config", "set", "model", "kling-v3-omni").exit_code == 0
    listed = json.loads(mivid("models", "--json").stdout)
    assert [item["model"] for item in listed if item["default"]] == ["kling-v3-omni"]
    env = {"MIVID_MODEL": "kling-v9-new"}  # not one mivid knows: no line is the default
    assert [item for item in json.loads(mivid("models", "--json", env=env).stdout)
            if item["default"]] == []  # fmt: skip


def test_quiet_prints_the_names(mivid: RunMivid) -> None:
    result = mivid("models", "-q")
    assert result.stdout.split() == ["kling-v1-6", "kling-video-o1", "kling-v3-omni"]


def test_on_a_terminal_a_table_that_fits_80_columns() -> None:
    terminal = InProcessTerminal(["--no-color", "models"], columns=80, stdin=False)
    assert terminal.finish(timeout=30) == 0, terminal.text()
    lines = [line for line in terminal.text().splitlines() if line.strip()]
    assert lines[0].split()[:2] == ["MODEL", "ENDPOINT"]
    assert lines[1].startswith("kling-v1-6 *")
    assert any(line.startswith("kling-v3-omni") and " omni " in line for line in lines)
    assert "Omni-Video: at most 4 images with a video" in terminal.text()
    assert all(len(line) <= 80 for line in lines), lines
