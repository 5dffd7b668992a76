"""`mivid gallery`: the page of a folder's videos, read back the way a browser reads it.

Videos and sidecars are made by the real `mivid create --wait --download`
against the emulator (its clock moved a minute between creates, so "newest
first" has something to order). Failure cards, image roles and `made_from` in
every combination, and what an attacker might plant, are written into sidecars
by hand, in the shape `mivid.gallery` documents (the commands that write them:
tests/cli/test_gallery_wiring.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import pytest

from helpers import Result, RunMivid, install_fake_opener
from htmltree import Element, parse
from imagefactory import make_jpeg, make_png
from mivid.sandbox import Emulator, EmulatorServer, FakeClock
from polling import wait_until

if TYPE_CHECKING:
    from conftest import Serve  # the suite's conftest; a name only, for the types

AK, SK = "test-ak", "test-sk"
HOSTILE = "<script>alert(1)</script> [bold]loud[/bold] & \"quoted\" 'single'"


@pytest.fixture
def api(fake_clock: FakeClock, serve: Serve) -> EmulatorServer:
    """The emulator on a fake clock; its tasks succeed as soon as they are made."""
    emulator = Emulator(access_keys={AK: SK}, clock=fake_clock, processing_after=0, succeed_after=0)
    return serve(emulator, keys=(AK, SK))


@dataclass
class Shots:
    """Where the user works (`work`, the current folder), their images and the video folder."""

    work: Path
    front: Path
    side: Path
    videos: Path


@pytest.fixture
def shots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Shots:
    work = tmp_path / "work"
    (work / "shots").mkdir(parents=True)
    monkeypatch.chdir(work)
    return Shots(
        work,
        make_png(work / "shots" / "front.png"),
        make_jpeg(work / "shots" / "side.jpg", (500, 400)),
        tmp_path / "videos",
    )


def make_video(
    mivid: RunMivid, api: EmulatorServer, images: list[str], prompt: str, out: Path, *extra: str
) -> dict[str, Any]:
    """One real create, waited for and downloaded into `out`; returns its sidecar's record."""
    result = mivid("create", *images, "--prompt", prompt, "--wait", "--download", str(out), *extra)
    assert result.exit_code == 0, result
    task_id = result.stdout.split()[0]
    record: dict[str, Any] = json.loads((out / f"{task_id}.json").read_text(encoding="utf-8"))
    clock = api.emulator.clock
    assert isinstance(clock, FakeClock)
    clock.advance(60)
    return record


@pytest.fixture
def three(mivid: RunMivid, api: EmulatorServer, shots: Shots) -> list[dict[str, Any]]:
    """Three videos, oldest first: two variations of the front+side shot, one of the side alone."""
    first = make_video(
        mivid, api, ["shots/front.png", "shots/side.jpg"], HOSTILE, shots.videos,
        "--negative-prompt", "blur, <b>text</b>", "--mode", "pro", "--duration", "10",
        "--aspect-ratio", "9:16", "--external-task-id", "shot-1",
    )  # fmt: skip
    second = make_video(
        mivid, api, ["shots/front.png", "shots/side.jpg"], "the boat drifts away", shots.videos
    )
    third = make_video(mivid, api, ["shots/side.jpg"], "only the side view", shots.videos)
    return [first, second, third]


def gallery(mivid: RunMivid, *args: str) -> Result:
    return mivid("gallery", *args)


def cards(page: Path) -> list[Element]:
    return page_root(page).find_all("article", cls="card")


def page_root(page: Path) -> Element:
    return parse(page.read_text(encoding="utf-8"))


def facts(card: Element) -> dict[str, str]:
    names = [dt.text() for dt in card.find_all("dt")]
    values = [dd.text() for dd in card.find_all("dd")]
    return dict(zip(names, values, strict=True))


def fact(card: Element, name: str) -> Element:
    names = [dt.text() for dt in card.find_all("dt")]
    return card.find_all("dd")[names.index(name)]


def references(card: Element) -> list[tuple[str | None, str]]:
    """Each reference image: its preview's src (None when there is none) and its caption."""
    found = []
    for figure in card.find_all("figure"):
        image = figure.find("img")
        caption = figure.only("figcaption").text()
        found.append((image.attrs.get("src") if image is not None else None, caption))
    return found


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def edit_sidecar(path: Path, **changes: Any) -> None:
    record = json.loads(path.read_text(encoding="utf-8"))
    record.update(changes)
    path.write_text(json.dumps(record), encoding="utf-8")


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` (hidden ones too): its bytes and modification time."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def failure_sidecar(folder: Path, task_id: str, reason: str, **more: Any) -> Path:
    """A failed task's sidecar in the shape mivid.gallery documents (`wait`/`batch` write them)."""
    record = {
        "schema": "mivid.sidecar/1",
        "source": "journal",
        "task_id": task_id,
        "external_task_id": f"ext-{task_id}",
        "prompt": "a prompt the service refused",
        "negative_prompt": None,
        "model_name": "kling-v1-6",
        "mode": "std",
        "duration": "5",
        "aspect_ratio": "16:9",
        "images": [],
        "task_status": "failed",
        "task_status_msg": reason,
        "created_at": "2030-01-01T00:00:00Z",
        "final_unit_deduction": "0",
        "video": None,
        **more,
    }
    path = folder / f"{task_id}.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


# -- what each card shows --------------------------------------------------------------------


def test_each_card_shows_its_video_images_prompt_and_settings_newest_first(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots
) -> None:
    result = gallery(mivid, str(shots.videos))
    assert result.exit_code == 0, result
    page = shots.videos / "index.html"
    assert result.stdout == f"{page}\n"
    assert result.stderr == ""

    shown = cards(page)
    newest_first = list(reversed(three))
    assert [facts(card)["task id"] for card in shown] == [r["task_id"] for r in newest_first]
    for card, record in zip(shown, newest_first, strict=True):
        video = card.only("video")
        assert video.attrs["src"] == record["video"]["file"]
        assert "controls" in video.attrs and video.attrs["preload"] == "metadata"
        assert "autoplay" not in video.attrs
        assert card.only("p", cls="prompt").text() == record["prompt"]
        table = facts(card)
        assert table["model"] == "kling-v1-6"
        assert table["mode"] == record["mode"]
        assert table["duration"] == f"{record['duration']} s"
        assert table["aspect ratio"] == record["aspect_ratio"]
        assert table["units"] == record["final_unit_deduction"]
        assert table["external id"] == record["external_task_id"]
        moment = fact(card, "made").only("time")
        assert moment.attrs["datetime"] == record["created_at"]
        assert moment.text().endswith(" UTC")
        links = [a.attrs["href"] for a in fact(card, "files").find_all("a")]
        assert links == [record["video"]["file"], f"{record['task_id']}.json"]

    oldest = shown[-1]  # the one with every option set
    assert oldest.only("p", cls="prompt").text() == HOSTILE
    negative = oldest.only("p", cls="negative")
    assert negative.text() == "Negativeblur, <b>text</b>"
    assert (facts(oldest)["mode"], facts(oldest)["duration"]) == ("pro", "10 s")
    assert facts(oldest)["external id"] == "shot-1"
    assert shown[0].find("p", cls="negative") is None  # none given, none shown

    # The images in their order and role, as previews made beside the page.
    front, side = sha256(shots.front), sha256(shots.side)
    assert references(oldest) == [
        (f".mivid-gallery/{front}-240.jpg", "image 1 (reference) front.png"),
        (f".mivid-gallery/{side}-240.jpg", "image 2 (reference) side.jpg"),
    ]
    assert references(shown[0]) == [
        (f".mivid-gallery/{side}-240.jpg", "image 1 (reference) side.jpg")
    ]
    assert sorted(p.name for p in (shots.videos / ".mivid-gallery").iterdir()) == sorted(
        [f"{front}-240.jpg", f"{side}-240.jpg"]
    )
    from PIL import Image

    with Image.open(shots.videos / ".mivid-gallery" / f"{front}-240.jpg") as preview:
        assert preview.format == "JPEG"
        assert max(preview.size) == 240 and preview.size == (240, 180)

    # Grouping: the two variations of one shot share a group, the third has its own.
    groups = [card.attrs["data-group"] for card in shown]
    assert groups[1] == groups[2] != groups[0]
    assert shown[2].attrs["data-group-label"] == "front.png · side.jpg — 2 videos"


def test_json_prints_what_the_page_shows(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots
) -> None:
    result = gallery(mivid, str(shots.videos), "--json")
    assert result.exit_code == 0, result
    printed = json.loads(result.stdout)  # pure JSON on stdout
    assert [card["task_id"] for card in printed] == [r["task_id"] for r in reversed(three)]
    first = printed[-1]
    assert set(first) == {
        "sidecar", "task_id", "external_task_id", "status", "reason", "prompt",
        "negative_prompt", "model", "mode", "duration", "aspect_ratio", "units", "created_at",
        "made_from", "source", "video", "images", "group",
    }  # fmt: skip
    assert first["prompt"] == HOSTILE
    assert first["video"] == {"file": three[0]["video"]["file"], "state": "ok", "poster": None}
    assert [(i["role"], i["name"], i["state"]) for i in first["images"]] == [
        ("reference", "shots/front.png", "ok"),
        ("reference", "shots/side.jpg", "ok"),
    ]
    for card in printed:
        for image in card["images"]:
            assert (shots.videos / image["thumbnail"]).is_file()
    # The page was written too, and shows the same cards.
    shown = cards(shots.videos / "index.html")
    assert [facts(card)["task id"] for card in shown] == [card["task_id"] for card in printed]


def test_roles_made_from_and_a_failed_task(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots
) -> None:
    first, second, _ = three
    sidecar = shots.videos / f"{second['task_id']}.json"
    images = second["images"]
    images[0]["role"], images[1]["role"] = "first_frame", "end_frame"
    edit_sidecar(sidecar, images=images, made_from=first["task_id"])
    failure_sidecar(
        shots.videos, "777", "Failure to pass the risk control system \x1b[31m<b>", images=None,
        made_from="no-such-task",
    )  # fmt: skip
    result = gallery(mivid, str(shots.videos))
    assert result.exit_code == 0, result
    root = page_root(shots.videos / "index.html")
    shown = root.find_all("article", cls="card")

    failed = shown[0]  # created_at 2030: the newest
    assert "failed" in failed.classes
    assert failed.find("video") is None
    assert failed.only("span", cls="reason").text() == (
        "Failure to pass the risk control system \\x1b[31m<b>"
    )
    assert facts(failed)["status"] == "failed"
    assert facts(failed)["made from"] == "no-such-task"  # not here: text, no link
    assert fact(failed, "made from").find("a") is None
    assert "reference images unknown" in failed.text()
    assert "1 failed" in root.only("h1").text()

    variation = next(card for card in shown if facts(card)["task id"] == second["task_id"])
    assert [caption for _, caption in references(variation)] == [
        "image 1 (first frame) front.png",
        "image 2 (end frame) side.jpg",
    ]
    link = fact(variation, "made from").only("a")
    assert link.text() == first["task_id"]
    target = link.attrs["href"]
    assert target is not None and target.startswith("#")
    origin = root.where(lambda element: element.attrs.get("id") == target[1:])
    assert len(origin) == 1 and facts(origin[0])["task id"] == first["task_id"]


def test_a_first_frame_is_the_videos_poster_and_a_reference_image_never_is(
    mivid: RunMivid, api: EmulatorServer, three: list[dict[str, Any]], shots: Shots
) -> None:
    """Issue 18's "first frame as the poster": an Omni video told to start from an image gets
    that image's preview as its poster; a reference image is not the video's first frame, so
    the others get none (the browser draws the video's own first frame)."""
    omni = make_video(
        mivid, api, ["shots/side.jpg"], "<<<image_1>>> sails on", shots.videos,
        "--model", "kling-video-o1", "--first-frame", "shots/front.png",
    )  # fmt: skip
    assert gallery(mivid, str(shots.videos)).exit_code == 0
    shown = cards(shots.videos / "index.html")
    assert facts(shown[0])["task id"] == omni["task_id"]  # the newest
    started = shown[0]
    preview = f".mivid-gallery/{sha256(shots.front)}-240.jpg"
    assert (preview, "image 2 (first frame) front.png") in references(started)
    assert started.only("video").attrs["poster"] == preview
    assert (shots.videos / preview).is_file()
    assert all("poster" not in card.only("video").attrs for card in shown[1:])  # references only
    printed = json.loads(gallery(mivid, str(shots.videos), "--json").stdout)
    assert [card["video"]["poster"] for card in printed] == [preview, None, None, None]

    # The first frame edited since: not the image the video started from, so no poster.
    make_png(shots.front, (700, 500))
    assert gallery(mivid, str(shots.videos)).exit_code == 0
    started = cards(shots.videos / "index.html")[0]
    assert "poster" not in started.only("video").attrs
    assert not (shots.videos / preview).exists()  # a preview no card uses is removed


def test_a_fitted_image_shows_the_original_file_and_a_url_image_only_its_name(
    mivid: RunMivid, api: EmulatorServer, shots: Shots
) -> None:
    small = make_png(shots.work / "shots" / "small.png", (200, 200))
    record = make_video(mivid, api, ["shots/small.png"], "tiny", shots.videos, "--fit")
    assert record["images"][0]["original_sha256"] == sha256(small)  # sent: a fitted copy
    images = [
        *record["images"],
        {"url": "https://cdn.example/refs/cat.png?X-Amz-Signature=s3cr3t"},
        {"name": "odd.png", "sha256": sha256(small), "role": "best_frame"},  # unknown role
    ]
    edit_sidecar(shots.videos / f"{record['task_id']}.json", images=images)
    result = gallery(mivid, str(shots.videos))
    assert result.exit_code == 0, result
    (card,) = cards(shots.videos / "index.html")
    assert references(card) == [
        (f".mivid-gallery/{sha256(small)}-240.jpg", "image 1 (reference) small.png (fitted)"),
        (None, "image 2 (reference) cat.png"),
        (None, "image 3 (reference) odd.png"),
    ]
    assert "image sent as a URL" in card.text()
    assert "s3cr3t" not in (shots.videos / "index.html").read_text()
    assert_links_stay_inside(shots.videos)


# -- safety ----------------------------------------------------------------------------------


def assert_links_stay_inside(folder: Path) -> None:
    """Every href/src is relative, inside the folder, and names a file that is there."""
    text = (folder / "index.html").read_text(encoding="utf-8")
    root = parse(text)
    for element in root.iter():
        for name in ("href", "src", "poster", "action", "srcset", "data"):
            value = element.attrs.get(name)
            if value is None:
                continue
            assert "http" not in value.lower(), (element.tag, name, value)
            if value.startswith("#"):
                continue
            parts = urlsplit(value)
            assert not parts.scheme and not parts.netloc, value
            assert not parts.path.startswith("/"), value
            target = (folder / unquote(parts.path)).resolve()
            assert target.is_relative_to(folder.resolve()), value
            assert target.is_file(), value
    assert not root.find_all("link") and not root.find_all("iframe")
    for block in (*root.find_all("script"), *root.find_all("style")):
        assert "http" not in block.text().lower()
        assert "url(" not in block.text() and "@import" not in block.text()
        assert "fetch(" not in block.text() and "XMLHttpRequest" not in block.text()
    assert len(root.find_all("script")) == 1


def test_every_link_is_relative_inside_the_folder_and_nothing_comes_from_the_network(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots
) -> None:
    assert gallery(mivid, str(shots.videos)).exit_code == 0
    assert_links_stay_inside(shots.videos)
    policy = page_root(shots.videos / "index.html").where(
        lambda element: element.attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert len(policy) == 1
    assert "default-src 'none'" in (policy[0].attrs["content"] or "")


def test_text_from_users_and_the_service_is_escaped(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots
) -> None:
    second = three[1]
    edit_sidecar(
        shots.videos / f"{second['task_id']}.json",
        prompt="ring \x07 bell\x00 esc \x1b[2J [link=x]y[/link] \ud800 <img src=x onerror=alert(1)>",
        external_task_id='"><script>alert(2)</script>',
        model_name="[red]kling[/red]\x9b",
        final_unit_deduction="<i>1</i>",
    )
    result = gallery(mivid, str(shots.videos))
    assert result.exit_code == 0, result
    root = page_root(shots.videos / "index.html")
    assert len(root.find_all("script")) == 1  # ours only
    assert not root.where(lambda e: any(name.startswith("on") for name in e.attrs))
    assert not root.find_all("i") and not root.find_all("b")
    card = next(c for c in root.find_all("article") if facts(c)["task id"] == second["task_id"])
    assert card.only("p", cls="prompt").text() == (
        "ring \\x07 bell\\x00 esc \\x1b[2J [link=x]y[/link] \ufffd <img src=x onerror=alert(1)>"
    )
    drawn = card.only("p", cls="prompt").find_all("span", cls="ctl")  # apart from the text
    assert [span.text() for span in drawn] == ["\\x07", "\\x00", "\\x1b"]
    assert facts(card)["external id"] == '"><script>alert(2)</script>'
    assert facts(card)["model"] == "[red]kling[/red]\\x9b"
    assert facts(card)["units"] == "<i>1</i>"
    printed = json.loads(gallery(mivid, str(shots.videos), "--json").stdout)
    assert printed[1]["external_task_id"] == '"><script>alert(2)</script>'
    assert printed[1]["prompt"].startswith("ring \x07 bell\x00 esc \x1b[2J")


def test_a_planted_sidecar_gets_no_link_outside_the_folder(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.png"
    shutil.copy(shots.front, secret)  # a real image, outside the folder
    source = json.loads((shots.videos / f"{three[0]['task_id']}.json").read_text())
    for number, file in enumerate(
        ["../../etc/passwd", "/etc/passwd", "sub/x.mp4", "..", "a\\b.mp4"]
    ):
        planted = dict(source, task_id=f"planted-{number}", video=dict(source["video"], file=file))
        planted["images"] = [
            {"name": "../../etc/passwd", "sha256": "0" * 64},
            {"path": "/etc/passwd", "name": "/etc/passwd", "sha256": sha256(secret)},
            {"path": str(secret), "name": "x.png", "sha256": "1" * 64},
            {"name": "/dev/zero", "sha256": "2" * 64},
        ]
        (shots.videos / f"planted-{number}.json").write_text(json.dumps(planted))
    result = gallery(mivid, str(shots.videos))
    assert result.exit_code == 0, result
    for number in range(5):
        assert f"planted-{number}.json: its video " in result.stderr
        assert "is not a file name in this folder; no link made" in result.stderr
    assert_links_stay_inside(shots.videos)
    planted_cards = [c for c in cards(shots.videos / "index.html") if "planted" in c.text()]
    assert len(planted_cards) == 5
    for card in planted_cards:
        assert card.find("video") is None
        assert card.only(cls="novideo").text().startswith("video not shown")
        assert [src for src, _ in references(card)] == [None] * 4
        assert card.text().count("image changed or missing") == 4


def test_a_broken_sidecar_is_skipped_with_a_warning_and_other_json_is_left_alone(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots
) -> None:
    (shots.videos / "truncated.mp4").write_bytes(b"\0\0\0\x18ftypmp42")
    (shots.videos / "truncated.json").write_text('{"schema": "mivid.sidecar/1", "task_')
    (shots.videos / "odd.json").write_text('{"schema": "mivid.sidecar/1", "task_id": 7}')
    (shots.videos / "report.json").write_text("[1, 2, 3]")
    (shots.videos / "package.json").write_text('{"name": "not ours"}')
    result = gallery(mivid, str(shots.videos))
    assert result.exit_code == 0, result
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2, result.stderr
    assert warnings[0].startswith("warning: odd.json: a sidecar without a task_id; skipped")
    assert warnings[1].startswith("warning: truncated.json: not valid JSON (")
    assert warnings[1].endswith("; skipped")
    assert len(cards(shots.videos / "index.html")) == 3


def test_missing_and_changed_images_are_named_not_shown(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots
) -> None:
    front = shots.front.read_bytes()
    shots.front.unlink()
    make_jpeg(shots.side, (500, 400), quality=40)  # same name, other bytes
    result = gallery(mivid, str(shots.videos), "--json")
    assert result.exit_code == 0, result
    printed = json.loads(result.stdout)
    assert [i["state"] for i in printed[-1]["images"]] == ["missing", "changed"]
    assert all(i["thumbnail"] is None for card in printed for i in card["images"])
    oldest = cards(shots.videos / "index.html")[-1]
    assert references(oldest) == [
        (None, "image 1 (reference) front.png"),
        (None, "image 2 (reference) side.jpg"),
    ]
    assert oldest.text().count("image changed or missing") == 2
    assert not (shots.videos / ".mivid-gallery").exists()  # no preview is in use: none kept

    # Back in place, but the sidecars no longer know the absolute path: found by name
    # relative to the sidecar's folder.
    (shots.videos / "shots").mkdir()
    (shots.videos / "shots" / "front.png").write_bytes(front)
    for record in three:
        sidecar = shots.videos / f"{record['task_id']}.json"
        images = [{k: v for k, v in i.items() if k != "path"} for i in record["images"]]
        edit_sidecar(sidecar, images=images)
    printed = json.loads(gallery(mivid, str(shots.videos), "--json").stdout)
    assert [i["state"] for i in printed[-1]["images"]] == ["ok", "missing"]


def test_a_missing_video_file_is_said_not_linked(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots
) -> None:
    (shots.videos / three[2]["video"]["file"]).unlink()
    result = gallery(mivid, str(shots.videos))
    assert result.exit_code == 0, result
    newest = cards(shots.videos / "index.html")[0]
    assert newest.find("video") is None
    assert newest.only(cls="novideo").text() == f"video file missing: {three[2]['video']['file']}"
    assert_links_stay_inside(shots.videos)


# -- regenerating ----------------------------------------------------------------------------


def test_regenerating_is_idempotent_and_leaves_the_users_files_alone(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots
) -> None:
    mine = snapshot(shots.work / "shots")
    videos_before = snapshot(shots.videos)
    assert gallery(mivid, str(shots.videos)).exit_code == 0
    first = snapshot(shots.videos)
    for name, content in videos_before.items():
        assert first[name] == content  # videos and sidecars: same bytes, same times
    assert gallery(mivid, str(shots.videos)).exit_code == 0
    assert snapshot(shots.videos) == first  # the page and previews: not even rewritten
    assert snapshot(shots.work / "shots") == mine
    assert sorted(p.name for p in shots.videos.iterdir()) == sorted(
        [*videos_before, "index.html", ".mivid-gallery"]
    )


def test_previews_no_card_uses_are_removed(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots
) -> None:
    assert gallery(mivid, str(shots.videos)).exit_code == 0
    previews = shots.videos / ".mivid-gallery"
    (previews / f"{'f' * 64}-240.jpg").write_bytes(b"old")
    (previews / ".tmp-abandoned").write_bytes(b"x")
    os.utime(previews / ".tmp-abandoned", (1, 1))  # long abandoned
    for record in three[:2]:  # the only two cards that show front.png
        (shots.videos / f"{record['task_id']}.json").unlink()
    result = gallery(mivid, str(shots.videos))
    assert result.exit_code == 0, result
    assert sorted(p.name for p in previews.iterdir()) == [f"{sha256(shots.side)}-240.jpg"]
    assert len(cards(shots.videos / "index.html")) == 1
    assert_links_stay_inside(shots.videos)


# -- problems --------------------------------------------------------------------------------


def test_a_folder_that_is_missing_a_file_or_empty_is_refused_in_one_line(
    mivid: RunMivid, tmp_path: Path
) -> None:
    missing = mivid("gallery", str(tmp_path / "nope"))
    assert (missing.exit_code, missing.stdout) == (2, "")
    assert missing.stderr == f"error: DIR {tmp_path / 'nope'}: no such folder\n"

    (tmp_path / "file").write_text("x")
    a_file = mivid("gallery", str(tmp_path / "file"))
    assert a_file.exit_code == 2
    assert a_file.stderr.startswith(f"error: DIR {tmp_path / 'file'}: is a file, not a folder")
    assert len(a_file.stderr.splitlines()) == 1

    (tmp_path / "empty").mkdir()
    empty = mivid("--sandbox", "gallery", str(tmp_path / "empty"))
    assert (empty.exit_code, empty.stdout) == (2, "")
    error, hint = empty.stderr.splitlines()
    assert (
        error == f"error: DIR {tmp_path / 'empty'}: holds no video sidecars (<video>.json) to show"
    )
    assert hint.endswith(
        "mivid --sandbox list -q --status succeed | "
        f"mivid --sandbox download - --download {tmp_path / 'empty'}/"
    )
    assert list((tmp_path / "empty").iterdir()) == []  # nothing written

    (tmp_path / "empty" / "1.mp4").write_bytes(b"")
    (tmp_path / "empty" / "1.json").write_text("{")
    broken = mivid("gallery", str(tmp_path / "empty"))
    assert broken.exit_code == 2
    warning, error, _hint = broken.stderr.splitlines()
    assert warning.startswith("warning: 1.json: not valid JSON (")
    assert (
        error
        == f"error: DIR {tmp_path / 'empty'}: its one sidecar could not be shown (see the warning)"
    )
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == ["1.json", "1.mp4"]


def test_a_folder_it_cannot_write_is_refused(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots
) -> None:
    (shots.videos / "index.html").mkdir()  # unwritable as a file, even for root
    blocked = gallery(mivid, str(shots.videos))
    assert (blocked.exit_code, blocked.stdout) == (2, "")
    assert (
        blocked.stderr
        == f"error: {shots.videos / 'index.html'}: is a folder; the gallery page goes there\n"
    )
    (shots.videos / "index.html").rmdir()

    (shots.videos / ".mivid-gallery").write_text("mine")
    squatted = gallery(mivid, str(shots.videos))
    assert squatted.exit_code == 2
    assert "is not a folder mivid made" in squatted.stderr
    assert (shots.videos / ".mivid-gallery").read_text() == "mine"
    (shots.videos / ".mivid-gallery").unlink()

    if os.geteuid() != 0:  # root writes anywhere: the mode means nothing to it
        shots.videos.chmod(0o555)
        try:
            read_only = gallery(mivid, str(shots.videos))
        finally:
            shots.videos.chmod(0o755)
        assert read_only.exit_code == 2
        assert read_only.stderr.startswith(f"error: DIR {shots.videos}: is not writable")


def test_an_index_html_it_did_not_write_is_never_replaced(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots
) -> None:
    theirs = shots.videos / "index.html"
    theirs.write_text("<h1>my own page</h1>")
    result = gallery(mivid, str(shots.videos))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {theirs}: exists and was not written by mivid gallery")
    assert theirs.read_text() == "<h1>my own page</h1>"


# -- opening ---------------------------------------------------------------------------------


def test_open_hands_the_page_to_the_systems_opener(
    mivid: RunMivid,
    three: list[dict[str, Any]],
    shots: Shots,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    no_display = gallery(mivid, str(shots.videos), "--open")
    assert no_display.exit_code == 0, no_display
    assert no_display.stdout == f"{shots.videos / 'index.html'}\n"
    assert "no display" in no_display.stderr

    record = install_fake_opener(tmp_path, monkeypatch)
    monkeypatch.chdir(shots.videos)
    result = gallery(mivid, "--open")  # DIR defaults to the current folder
    assert result.exit_code == 0, result
    assert result.stdout == "index.html\n"
    opened = wait_until(
        lambda: record.exists() and record.read_text(), what="the fake xdg-open to run"
    )
    assert opened == str((shots.videos / "index.html").resolve())


# -- in a real browser -------------------------------------------------------------------------

CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH to load the page in (Debian: apt-get install chromium; "
    ".ci/run installs it when it can)",
)


def chromium(profile: Path, url: str, *flags: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on `url`, logging the page's console to stderr; nothing from the network."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *flags, url,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def console_lines(stderr: str) -> list[str]:
    """What the page wrote to its console: errors, CSP refusals, anything (ours writes nothing)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@needs_chromium
def test_chromium_draws_the_page_without_a_console_message(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots, tmp_path: Path
) -> None:
    assert gallery(mivid, str(shots.videos)).exit_code == 0
    screenshot = tmp_path / "page.png"
    drawn = chromium(
        tmp_path / "profile",
        (shots.videos / "index.html").as_uri(),
        f"--screenshot={screenshot}",
        "--window-size=1200,900",
    )
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    assert console_lines(drawn.stderr) == []
    from PIL import Image

    with Image.open(screenshot) as image:
        assert image.size == (1200, 900)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 200  # previews and video frames, not a blank


@needs_chromium
def test_chromium_runs_the_filter_and_the_grouping(
    mivid: RunMivid, three: list[dict[str, Any]], shots: Shots, tmp_path: Path
) -> None:
    assert gallery(mivid, str(shots.videos)).exit_code == 0
    url = (shots.videos / "index.html").as_uri() + "?order=group&filter=BOAT%20drifts"
    dumped = chromium(tmp_path / "profile", url, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert console_lines(dumped.stderr) == []
    root = parse(dumped.stdout)  # the document after the script ran
    sections = root.find_all("section", cls="group")
    assert [section.only("h2").text() for section in sections] == [
        "side.jpg — 1 video",
        "front.png · side.jpg — 2 videos",
    ]
    assert "hidden" in sections[0].attrs and "hidden" not in sections[1].attrs
    visible = [card for card in root.find_all("article") if "hidden" not in card.attrs]
    assert [facts(card)["task id"] for card in visible] == [three[1]["task_id"]]
    shown = root.where(lambda element: element.attrs.get("id") == "shown")
    assert shown[0].text() == "1 of 3 shown"
    controls = root.where(lambda element: element.attrs.get("id") == "controls")
    assert "hidden" not in controls[0].attrs  # shown once the script runs


#: Each video's place on the page, whether it has a frame to show (readyState ≥
#: HAVE_CURRENT_DATA) and its poster, in the page's current order.
VIDEOS = """Array.from(document.querySelectorAll("video")).map(function (video) {
  var box = video.getBoundingClientRect();
  return {src: video.getAttribute("src"), poster: video.getAttribute("poster"),
          ready: video.readyState >= 2, x: box.left + window.scrollX, y: box.top + window.scrollY,
          width: box.width, height: box.height};
})"""


@needs_chromium
def test_every_video_shows_a_frame_or_its_poster_in_every_order(
    mivid: RunMivid, api: EmulatorServer, three: list[dict[str, Any]], shots: Shots, tmp_path: Path
) -> None:
    """Issue 18: the page drawn in Chromium and sorted as a user sorts it (the select, its change
    event); each video, once it says it has a frame, is a picture, never a black box."""
    from PIL import ImageStat

    from browser import Browser

    make_video(
        mivid, api, ["shots/side.jpg"], "<<<image_1>>> sails on", shots.videos,
        "--model", "kling-video-o1", "--first-frame", "shots/front.png",
    )  # fmt: skip
    assert gallery(mivid, str(shots.videos)).exit_code == 0
    assert CHROMIUM is not None
    with Browser(CHROMIUM, tmp_path / "profile", width=1200, height=900) as browser:
        browser.open((shots.videos / "index.html").as_uri())
        wait_until(lambda: browser.evaluate("document.readyState") == "complete", timeout=30)

        def framed() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = browser.evaluate(VIDEOS)
            return found if all(video["ready"] for video in found) else []

        seen: dict[str, list[str]] = {}
        for order in ("newest", "oldest", "group", "newest"):
            browser.evaluate(
                f'var order = document.getElementById("order"); order.value = "{order}";'
                'order.dispatchEvent(new Event("change"));'
            )
            videos = wait_until(
                framed, timeout=30, what=lambda: f"every video's frame: {browser.evaluate(VIDEOS)}"
            )
            assert len(videos) == 4
            seen[order] = [video["src"] for video in videos]
            for n in range(len(videos)):
                # Scrolled into view, where a user looks at it.
                browser.evaluate(f'document.querySelectorAll("video")[{n}].scrollIntoView()')
                video = browser.evaluate(VIDEOS)[n]
                picture = browser.picture(
                    video["x"], video["y"], video["width"], video["height"] * 0.6
                )  # the top of the box: the controls drawn over its foot are never black
                darkest = ImageStat.Stat(picture.convert("L")).extrema[0][1]
                assert darkest > 40, f"{order}: {video['src']} is drawn as a black box"
            posters = [video["poster"] for video in videos if video["poster"]]
            assert posters == [f".mivid-gallery/{sha256(shots.front)}-240.jpg"]
        assert seen["oldest"] == list(reversed(seen["newest"]))
        assert sorted(seen["group"]) == sorted(seen["newest"])
