"""`mivid create --fit` end to end against the emulator: what is refused, sent, said and kept."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imagefactory import make_jpeg, make_png, make_rgba_png, make_truncated_png
from mivid.sandbox import EmulatorServer, FakeClock

RunMivid = Callable[..., Any]  # the `mivid` fixture (tests/cli/conftest.py)
COLLECTION = "/v1/videos/multi-image2video"


@pytest.fixture
def env(kling_env: EmulatorServer, fake_clock: FakeClock) -> EmulatorServer:
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    return kling_env


@pytest.fixture
def wide_and_small(tmp_path: Path) -> tuple[Path, Path]:
    return make_png(tmp_path / "wide.png", (3000, 1000)), make_jpeg(
        tmp_path / "small.jpg", (200, 200)
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def creates(server: EmulatorServer) -> list[Any]:
    return [r for r in server.emulator.received if r.method == "POST" and r.path == COLLECTION]


def sent_images(server: EmulatorServer) -> list[bytes]:
    (request,) = creates(server)
    return [base64.b64decode(item["image"], validate=True) for item in request.json["image_list"]]


def within_rules(data: bytes) -> tuple[int, int]:
    assert len(data) <= 10 * 1024 * 1024
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format in ("JPEG", "PNG")
        width, height = image.size
    assert min(width, height) >= 300
    assert 2 * width <= 5 * height and 2 * height <= 5 * width
    return width, height


def test_without_fit_both_are_refused_and_nothing_sent(
    mivid: RunMivid, env: EmulatorServer, wide_and_small: tuple[Path, Path]
) -> None:
    wide, small = wide_and_small
    result = mivid("create", str(wide), str(small), "--prompt", "waves")
    assert result.exit_code == 2, result
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    assert f"error: {wide}: 3000×1000 px is 3.00:1 — width:height must be between" in errors[0]
    assert f"error: {small}: 200×200 px — each side must be at least 300 px" in errors[1]
    assert env.emulator.received == []


def test_with_fit_both_are_sent_within_the_rules(
    mivid: RunMivid, env: EmulatorServer, wide_and_small: tuple[Path, Path]
) -> None:
    wide, small = wide_and_small
    before = {wide: digest(wide), small: digest(small)}
    result = mivid("create", str(wide), str(small), "--prompt", "waves", "--fit", "--json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["task_id"]
    images = sent_images(env)
    assert [within_rules(data) for data in images] == [(3000, 1200), (300, 300)]
    assert {wide: digest(wide), small: digest(small)} == before  # the files are untouched
    (request,) = creates(env)
    assert int(request.headers["content-length"]) == len(request.body)
    notes = result.stderr.splitlines()
    assert notes[0].startswith(
        f"{wide}: padded 3000×1000 → 3000×1200 (2.5:1) with edge colour; sending JPEG quality 92, "
    )
    assert notes[1].startswith(f"{small}: upscaled 200×200 → 300×300 (Lanczos); sending JPEG")
    assert len(env.emulator.tasks()) == 1


def test_fit_sends_a_conforming_image_byte_for_byte(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path
) -> None:
    good = make_jpeg(tmp_path / "good.jpg", (640, 480))
    small = make_png(tmp_path / "small.png", (200, 200))
    result = mivid("create", str(good), str(small), "--prompt", "waves", "--fit")
    assert result.exit_code == 0, result
    images = sent_images(env)
    assert images[0] == good.read_bytes()
    assert images[1] != small.read_bytes()
    assert str(good) not in result.stderr  # nothing to say about it
    assert f"{small}: upscaled" in result.stderr


def test_crop_mode_and_transparency(mivid: RunMivid, env: EmulatorServer, tmp_path: Path) -> None:
    tall = make_jpeg(tmp_path / "tall.jpg", (400, 1500))
    cutout = make_rgba_png(tmp_path / "cutout.png", (1500, 400))
    result = mivid("create", str(tall), str(cutout), "--prompt", "w", "--fit-mode", "crop")
    assert result.exit_code == 0, result  # --fit-mode implies --fit
    first, second = sent_images(env)
    assert within_rules(first) == (400, 1000)
    assert within_rules(second) == (1000, 400)
    with Image.open(io.BytesIO(second)) as image:
        assert (image.format, image.mode) == ("PNG", "RGBA")
    assert "around the centre" in result.stderr


def test_dry_run_shows_what_fit_changed(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path
) -> None:
    wide = make_png(tmp_path / "wide.png", (3000, 1000))
    result = mivid("create", str(wide), "--prompt", "waves", "--fit", "--dry-run")
    assert result.exit_code == 0, result
    assert f"{wide}: padded 3000×1000 → 3000×1200 (2.5:1) with edge colour" in result.stderr
    assert "dry run: nothing sent" in result.stderr
    body = json.loads(result.stdout)
    assert "Base64 characters of" in body["image_list"][0]["image"]
    # the full body (--json) carries the fitted copy, not the file
    result = mivid("create", str(wide), "--prompt", "waves", "--fit", "--dry-run", "--json")
    data = base64.b64decode(json.loads(result.stdout)["image_list"][0]["image"])
    assert within_rules(data) == (3000, 1200)
    assert env.emulator.received == []


def test_fit_cannot_repair_a_broken_file(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path
) -> None:
    broken = make_truncated_png(tmp_path / "broken.png", (200, 900))
    wide = make_png(tmp_path / "wide.png", (3000, 1000))
    result = mivid(
        "create", str(broken), str(wide), str(tmp_path / "gone.jpg"), "--prompt", "w", "--fit"
    )
    assert result.exit_code == 2, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2  # every problem at once
    assert f"{broken}: cannot be decoded" in errors[0]
    assert f"{tmp_path / 'gone.jpg'}: no such file" in errors[1]
    assert "Traceback" not in result.stderr
    assert env.emulator.received == []


def test_bad_fit_mode_is_reported_with_the_other_problems(
    mivid: RunMivid, env: EmulatorServer, tmp_path: Path
) -> None:
    result = mivid("create", str(make_png(tmp_path / "a.png")), "--fit-mode", "stretch")
    assert result.exit_code == 2, result
    assert "error: --prompt: required" in result.stderr
    assert "error: --fit-mode: 'stretch' is not a choice — use pad or crop" in result.stderr
    assert env.emulator.received == []


def test_help_documents_the_options(mivid: RunMivid) -> None:
    result = mivid("create", "--help")
    assert result.exit_code == 0
    assert "--fit" in result.stdout
    assert "--fit-mode" in result.stdout
