"""`mivid create` end to end against the emulator: the body, the auth, the output, the refusals."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from helpers import InProcessTerminal, RunMivid
from imagefactory import make_jpeg, make_png, make_truncated_png
from mivid.sandbox import EmulatorServer, FakeClock

TEST_ACCESS_KEY, TEST_SECRET_KEY, TEST_API_KEY = "test-ak", "test-sk", "test-api-key"
URL = "https://example.com/pictures/side.jpg"


@pytest.fixture
def env(kling_env: EmulatorServer, fake_clock: FakeClock) -> EmulatorServer:
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    return kling_env


def sent(server: EmulatorServer) -> Any:
    (request,) = [r for r in server.emulator.received if r.method == "POST"]
    return request


def test_create_sends_the_contract_body(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path
) -> None:
    png = make_png(tmp_path / "front.png")
    jpg = make_jpeg(tmp_path / "side.jpg", (500, 700))
    result = mivid(
        "create", str(png), str(jpg), URL, "--prompt", "the cat walks", "--duration", "10",
        "--mode", "pro", "--aspect-ratio", "1:1", "--negative-prompt", "blur", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result
    request = sent(env)
    assert request.has_content_length
    assert int(request.headers["content-length"]) == len(request.body)
    body = request.json
    assert body["duration"] == "10" and isinstance(body["duration"], str)
    assert body["mode"] == "pro" and body["aspect_ratio"] == "1:1"
    assert body["model_name"] == "kling-v1-6"
    assert body["prompt"] == "the cat walks" and body["negative_prompt"] == "blur"
    assert body["external_task_id"].startswith("mivid-")
    images = [item["image"] for item in body["image_list"]]
    assert base64.b64decode(images[0], validate=True) == png.read_bytes()
    assert base64.b64decode(images[1], validate=True) == jpg.read_bytes()
    assert not images[0].startswith("data:")
    assert images[2] == URL
    claims = jwt.decode(
        request.headers["authorization"].removeprefix("Bearer "),
        TEST_SECRET_KEY,
        algorithms=["HS256"],
    )
    assert claims["iss"] == TEST_ACCESS_KEY
    assert claims["exp"] - claims["nbf"] == 1805
    task = json.loads(result.stdout)
    assert task["task_id"] == env.emulator.tasks()[0]["task_id"]
    assert task["task_status"] == "submitted"
    assert task["task_info"]["external_task_id"] == body["external_task_id"]


def test_create_for_people(mivid: RunMivid, env: EmulatorServer, tmp_path: Path) -> None:
    png = make_png(tmp_path / "front.png")
    result = mivid("create", str(png), "--prompt", "waves", "--external-task-id", "shot-9")
    assert result.exit_code == 0, result
    (task,) = env.emulator.tasks()
    # In a pipe: one line (task id, status, external id); how to follow it goes to stderr.
    assert result.stdout == f"{task['task_id']}\tsubmitted\tshot-9\n"
    assert result.stderr == f"follow it: mivid wait {task['task_id']}\n"
    terminal = InProcessTerminal(
        ["create", str(png), "--prompt", "waves"], stdin=False, env={"NO_COLOR": "1"}
    )
    assert terminal.finish() == 0, terminal.text()
    panel = terminal.text()
    assert "task created" in panel and "follow it" in panel and "mivid wait" in panel


def test_prompt_from_stdin(mivid: RunMivid, env: EmulatorServer, tmp_path: Path) -> None:
    png = make_png(tmp_path / "front.png")
    result = mivid("create", str(png), "--prompt", "-", "--quiet", input="a long\nprompt\n")
    assert result.exit_code == 0, result
    assert sent(env).json["prompt"] == "a long\nprompt"


def test_broken_images_are_all_reported_and_nothing_is_sent(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path
) -> None:
    broken = make_truncated_png(tmp_path / "broken.png")
    small = make_png(tmp_path / "small.png", (200, 200))
    result = mivid("create", str(broken), str(small), str(tmp_path / "gone.jpg"), "--prompt", "x")
    assert result.exit_code == 2, result
    lines = result.stderr.splitlines()
    assert any("broken.png" in line for line in lines)
    assert any("small.png" in line and "300" in line for line in lines)
    assert any("gone.jpg" in line for line in lines)
    assert "Traceback" not in result.stderr
    assert env.emulator.received == []


def test_dry_run_sends_nothing(mivid: RunMivid, env: EmulatorServer, tmp_path: Path) -> None:
    png = make_png(tmp_path / "front.png")
    result = mivid("create", str(png), "--prompt", "waves", "--dry-run", "--json")
    assert result.exit_code == 0, result
    body = json.loads(result.stdout)
    assert base64.b64decode(body["image_list"][0]["image"]) == png.read_bytes()
    assert "nothing sent" in result.stderr
    assert env.emulator.received == []


def test_missing_credentials_exit_3_naming_the_variables(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KLING_ACCESS_KEY")
    monkeypatch.delenv("KLING_SECRET_KEY")
    png = make_png(tmp_path / "front.png")
    result = mivid("create", str(png), "--prompt", "waves")
    assert result.exit_code == 3, result
    for name in ("KLING_ACCESS_KEY", "KLING_SECRET_KEY", "KLING_API_KEY"):
        assert name in result.stderr
    assert env.emulator.received == []


def test_api_key_alone_works(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KLING_ACCESS_KEY")
    monkeypatch.delenv("KLING_SECRET_KEY")
    monkeypatch.setenv("KLING_API_KEY", TEST_API_KEY)
    png = make_png(tmp_path / "front.png")
    result = mivid("create", str(png), "--prompt", "waves", "--quiet")
    assert result.exit_code == 0, result
    assert sent(env).headers["authorization"] == f"Bearer {TEST_API_KEY}"
    assert result.stdout.strip() == env.emulator.tasks()[0]["task_id"]
