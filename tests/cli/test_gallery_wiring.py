"""`wait`, `batch` and `create --wait` with `--download DIR --gallery`: the page brought up to date at the end,
failed tasks' sidecars (their reason on a card), `made_from` linking variations.

Everything on the page is made by the real commands against the emulator; the
page is read back as a browser would (tests/htmltree.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import RunMivid, Serve, Sleepless
from htmltree import Element, parse
from imagefactory import make_jpeg, make_png
from mivid.sandbox import Emulator, EmulatorServer, FakeClock

REASON = "content-safety policy triggered: the sandbox was told to fail this task"


@pytest.fixture
def api(serve: Serve, fake_clock: FakeClock) -> EmulatorServer:
    fake_clock.set(time.time())
    emulator = Emulator(access_keys={"ak": "sk"}, clock=fake_clock, units="fractional")
    return serve(emulator, keys=("ak", "sk"))


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    make_png(folder / "front.png")
    make_jpeg(folder / "side.jpg", (500, 400))
    return folder


def cards(folder: Path) -> list[Element]:
    page = parse((folder / "index.html").read_text(encoding="utf-8"))
    return page.find_all("article", cls="card")


def facts(card: Element) -> dict[str, str]:
    names = [dt.text() for dt in card.find_all("dt")]
    return dict(zip(names, [dd.text() for dd in card.find_all("dd")], strict=True))


def created(mivid: RunMivid, *args: str) -> str:
    result = mivid("create", *args, "-q")
    assert result.exit_code == 0, result
    return result.stdout.strip()


def sidecar(folder: Path, task_id: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((folder / f"{task_id}.json").read_text(encoding="utf-8"))
    return record


def test_wait_gallery_shows_the_videos_and_a_failed_tasks_reason(
    mivid: RunMivid, api: EmulatorServer, work: Path, sleepless: Sleepless
) -> None:
    good = created(mivid, "front.png", "side.jpg", "--prompt", "the boat sails")
    bad = created(mivid, "front.png", "--prompt", "a storm [fail]")
    videos = work / "videos"

    result = mivid("wait", good, bad, "--download", str(videos), "--gallery", clock=sleepless)

    assert result.exit_code == 1, result  # one failed
    assert f"gallery: {videos / 'index.html'} (2 cards)" in result.stderr
    failure = sidecar(videos, bad)
    assert failure["video"] is None
    assert (failure["task_status"], failure["source"]) == ("failed", "journal")
    assert failure["task_status_msg"].startswith(REASON)
    assert failure["prompt"] == "a storm [fail]"
    assert [image["name"] for image in failure["images"]] == ["front.png"]
    assert failure["created_at"]  # the service's time, from the task object
    shown = {facts(card)["task id"]: card for card in cards(videos)}
    assert set(shown) == {good, bad}
    assert "failed" in shown[bad].classes
    assert shown[bad].only("span", cls="reason").text().startswith(REASON)
    assert shown[good].find("video") is not None


def test_batch_gallery_and_a_rerun_keeps_what_the_failure_card_said(
    mivid: RunMivid, api: EmulatorServer, work: Path, sleepless: Sleepless
) -> None:
    jobs = work / "jobs.jsonl"
    jobs.write_text(
        "\n".join(
            json.dumps(job)
            for job in (
                {"images": ["front.png"], "prompt": "calm sea"},
                {"images": ["front.png", "side.jpg"], "prompt": "storm [fail]"},
            )
        )
        + "\n"
    )
    videos = work / "videos"
    first = mivid("batch", str(jobs), "--download", str(videos), "--gallery", clock=sleepless)
    assert first.exit_code == 1, first
    failed_id = next(line.split("\t")[1] for line in first.stdout.splitlines() if "failed" in line)
    before = sidecar(videos, failed_id)
    assert before["video"] is None and before["task_status_msg"].startswith(REASON)
    assert len(cards(videos)) == 2

    again = mivid("batch", str(jobs), "--download", str(videos), "--gallery", clock=sleepless)

    assert again.exit_code == 1, again
    after = sidecar(videos, failed_id)
    assert after == before  # asked nothing of the service, blanked nothing
    assert len(cards(videos)) == 2


def test_variations_made_with_from_link_to_their_origin(
    mivid: RunMivid, api: EmulatorServer, work: Path, sleepless: Sleepless
) -> None:
    videos = work / "videos"
    origin = created(mivid, "front.png", "--prompt", "dawn")
    variation = created(mivid, "--from", origin, "--prompt", "dusk")

    saved = mivid(
        "wait", origin, variation, "--download", str(videos), "--gallery", clock=sleepless
    )

    assert saved.exit_code == 0, saved
    assert sidecar(videos, variation)["made_from"] == origin
    shown = {facts(card)["task id"]: card for card in cards(videos)}
    names = [dt.text() for dt in shown[variation].find_all("dt")]
    made_from = shown[variation].find_all("dd")[names.index("made from")]
    assert made_from.only("a").text() == origin  # a link to the origin's card


def test_a_page_problem_is_a_warning_and_the_wait_still_succeeds(
    mivid: RunMivid, api: EmulatorServer, work: Path, sleepless: Sleepless
) -> None:
    videos = work / "videos"
    videos.mkdir()
    (videos / "index.html").write_text("<h1>my own page</h1>")  # not mivid's: never replaced
    (videos / "broken.json").write_text("{not json")
    (videos / "broken.mp4").write_bytes(b"\x00")
    task = created(mivid, "front.png", "--prompt", "waves")

    result = mivid("wait", task, "--download", str(videos), "--gallery", clock=sleepless)

    assert result.exit_code == 0, result
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert any("broken.json" in line for line in warnings), warnings
    assert any(line.startswith("warning: the gallery was not written:") for line in warnings)
    assert (videos / "index.html").read_text() == "<h1>my own page</h1>"
    assert (videos / f"{task}.mp4").is_file()


def test_create_wait_gallery_adds_the_new_video_to_the_page(
    mivid: RunMivid, api: EmulatorServer, work: Path, sleepless: Sleepless
) -> None:
    videos = work / "videos"
    first = created(mivid, "front.png", "--prompt", "dawn")
    assert mivid("wait", first, "-d", str(videos), clock=sleepless).exit_code == 0

    result = mivid(
        "create", "front.png", "side.jpg", "--prompt", "the boat sails at dusk",
        "--wait", "--download", str(videos), "--gallery", "-q", clock=sleepless,
    )  # fmt: skip

    assert result.exit_code == 0, result
    task = result.stdout.strip()
    assert f"gallery: {videos / 'index.html'} (2 cards)" in result.stderr
    shown = {facts(card)["task id"]: card for card in cards(videos)}
    assert set(shown) == {first, task}
    assert shown[task].find("video") is not None
    assert "the boat sails at dusk" in shown[task].text()


def test_a_failed_create_wait_gets_its_card_too(
    mivid: RunMivid, api: EmulatorServer, work: Path, sleepless: Sleepless
) -> None:
    videos = work / "videos"
    result = mivid(
        "create", "front.png", "--prompt", "a storm [fail]", "--wait", "-d", str(videos),
        "--gallery", "--json", clock=sleepless,
    )  # fmt: skip
    assert result.exit_code == 1, result
    task = json.loads(result.stdout)["task_id"]
    (card,) = cards(videos)
    assert "failed" in card.classes
    assert facts(card)["task id"] == task
    assert card.only("span", cls="reason").text().startswith(REASON)


def test_gallery_needs_download(mivid: RunMivid, api: EmulatorServer, work: Path) -> None:
    for command in (
        ["wait", "123"],
        ["batch", "jobs.jsonl"],
        ["create", "front.png", "--prompt", "x", "--wait"],
    ):
        result = mivid(*command, "--gallery")
        assert result.exit_code == 2, result
        assert "--gallery: only with --download DIR" in result.stderr
    assert api.emulator.received == []  # nothing was sent


def test_batch_gallery_names_the_page_after_the_final_table(tmp_path: Path) -> None:
    """QA 20: on a terminal `gallery: out/index.html` came above the table of results."""
    from helpers import InProcessTerminal

    folder = tmp_path / "jobs"
    folder.mkdir()
    make_png(folder / "front.png")
    jobs = folder / "jobs.jsonl"
    jobs.write_text(
        "".join(json.dumps({"images": ["front.png"], "prompt": p}) + "\n" for p in ("a", "b"))
    )
    terminal = InProcessTerminal(
        ["--sandbox", "batch", str(jobs), "-d", str(tmp_path / "out"), "--gallery",
         "--interval", "0.1"],
        env={"MIVID_SANDBOX_TASK_SECONDS": "0", "NO_COLOR": "1"}, stdin=False,
    )  # fmt: skip
    assert terminal.finish(timeout=60) == 0
    lines = terminal.text().splitlines()
    header = max(n for n, line in enumerate(lines) if line.startswith("LINE"))
    gallery = [n for n, line in enumerate(lines) if line.startswith("gallery: ")]
    assert len(gallery) == 1 and gallery[0] > header, lines
    assert lines[gallery[0]] == f"gallery: {tmp_path / 'out' / 'index.html'} (2 cards)"
