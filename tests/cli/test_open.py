"""`mivid open`: the file on disk when it is there, else the URL; printed where nothing can open it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import RunMivid, finished_task, install_fake_opener
from imagefactory import make_png
from mivid.sandbox import EmulatorServer, FakeClock, Fault
from polling import wait_until


@pytest.fixture
def finished(
    mivid: RunMivid, kling_env: EmulatorServer, fake_clock: FakeClock, tmp_path: Path
) -> str:
    return finished_task(mivid, tmp_path, fake_clock, "--external-task-id", "cat-1", after=60)


@pytest.fixture
def no_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def test_without_a_display_it_prints_the_downloaded_file(
    mivid: RunMivid, finished: str, no_display: None, tmp_path: Path, kling_env: EmulatorServer
) -> None:
    out = tmp_path / "videos"
    assert mivid("download", finished, "-o", str(out)).exit_code == 0
    asked = len(kling_env.emulator.received)
    for wanted in (finished, "cat-1"):  # the task id, or the external id the journal knows
        result = mivid("open", wanted, "--dir", str(out))
        assert result.exit_code == 0, result
        assert result.stdout == f"{out / f'{finished}.mp4'}\n"
    assert len(kling_env.emulator.received) == asked  # found on disk: the service not asked


def test_a_video_not_on_disk_opens_its_url(
    mivid: RunMivid, finished: str, no_display: None, kling_env: EmulatorServer, tmp_path: Path
) -> None:
    result = mivid("open", finished, "--dir", str(tmp_path))
    assert result.exit_code == 0, result
    [task] = kling_env.emulator.tasks()
    assert result.stdout == task["task_result"]["videos"][0]["url"] + "\n"


def test_the_sidecar_finds_a_video_by_an_external_id_the_journal_lacks(
    mivid: RunMivid,
    finished: str,
    no_display: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "videos"
    assert mivid("download", finished, "-o", str(out)).exit_code == 0
    journal = Path(str(tmp_path / "home" / ".local" / "state"))
    for path in journal.rglob("journal.sqlite3*"):
        path.unlink()  # another machine's download: no journal here
    monkeypatch.delenv("KLING_ACCESS_KEY")  # and no keys: the disk alone answers
    result = mivid("open", "cat-1", "--dir", str(out))
    assert result.exit_code == 0, result
    assert result.stdout == f"{out / f'{finished}.mp4'}\n"


def test_with_a_display_the_system_opener_gets_the_absolute_path(
    mivid: RunMivid,
    finished: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "videos"
    assert mivid("download", finished, "-o", str(out)).exit_code == 0
    record = install_fake_opener(tmp_path, monkeypatch)
    monkeypatch.chdir(out)
    result = mivid("open", finished)  # --dir defaults to the current folder
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert "opening" in result.stderr
    # The opener runs detached from mivid: its file is written when it gets to it
    # (and `>` makes it empty before printf fills it).
    opened = wait_until(
        lambda: record.exists() and record.read_text(), what="the fake xdg-open to run"
    )
    assert opened == str((out / f"{finished}.mp4").resolve())

    printed = mivid("open", finished, "--print")
    assert printed.stdout == f"{finished}.mp4\n"


def test_an_unfinished_task_has_nothing_to_open(
    mivid: RunMivid, kling_env: EmulatorServer, no_display: None, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "front.png")
    task_id = json.loads(mivid("create", str(image), "--prompt", "a", "--json").stdout)["task_id"]
    result = mivid("open", task_id, "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert f"ID {task_id}: the task is submitted; it has no video yet" in result.stderr
    assert mivid("open", "nope", "--dir", str(tmp_path)).exit_code == 4
    assert mivid("open", "x", "--dir", str(tmp_path / "missing")).exit_code == 2


# -- only http(s) URLs and files inside the folder are opened (issue 13.18) --------------------


@pytest.fixture
def fake_opener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A display and an `xdg-open` that writes what it was given to the returned file."""
    return install_fake_opener(tmp_path, monkeypatch)


def test_a_planted_sidecar_pointing_out_of_the_folder_is_not_followed(
    mivid: RunMivid, finished: str, no_display: None, tmp_path: Path, kling_env: EmulatorServer
) -> None:
    out = tmp_path / "videos"
    out.mkdir()
    planted = {
        "schema": "mivid.sidecar/1",
        "task_id": finished,
        "external_task_id": "cat-1",
        "video": {"file": "../../../../../../../../etc/passwd"},
    }
    (out / "planted.json").write_text(json.dumps(planted))
    result = mivid("open", finished, "--dir", str(out))
    assert result.exit_code == 0, result
    [task] = kling_env.emulator.tasks()
    assert result.stdout == task["task_result"]["videos"][0]["url"] + "\n"  # not /etc/passwd


def test_a_link_out_of_the_folder_under_the_videos_name_is_not_opened(
    mivid: RunMivid, finished: str, no_display: None, tmp_path: Path, kling_env: EmulatorServer
) -> None:
    out = tmp_path / "videos"
    out.mkdir()
    (out / f"{finished}.mp4").symlink_to("/etc/passwd")
    result = mivid("open", finished, "--dir", str(out))
    assert result.exit_code == 0, result
    assert "passwd" not in result.stdout
    assert result.stdout.startswith("http")


@pytest.mark.parametrize(
    "url",
    [
        "smb://attacker.example/share/video.mp4",
        "file:///etc/shadow",
        "javascript:alert(1)",
        "--help",
        "-a /etc/passwd",
        "http:///no-host.mp4",
    ],
)
def test_a_video_url_that_is_not_http_is_never_handed_to_the_opener(
    mivid: RunMivid,
    finished: str,
    fake_opener: Path,
    tmp_path: Path,
    kling_env: EmulatorServer,
    url: str,
) -> None:
    kling_env.emulator.inject(Fault.patch({"task_result.videos.0.url": url}, on="get", times=None))
    result = mivid("open", finished, "--dir", str(tmp_path))
    assert result.exit_code == 5, result
    assert "opening" not in result.stderr
    assert "is not an http(s) address" in result.stderr
    assert not fake_opener.exists()


# -- the video where the journal says it was saved; a sandbox video never saved ------------------


def test_after_the_quick_start_open_finds_the_video_from_any_folder(
    mivid: RunMivid, no_display: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA newcomer 3, finding 4: README's `create … --wait --download videos/`, then `open ID`
    in the same folder (or any other) printed the sandbox's URL, which opens nowhere; the
    journal now says where each video was saved."""
    monkeypatch.setenv("MIVID_SANDBOX_TASK_SECONDS", "0")
    monkeypatch.chdir(tmp_path)
    make_png(tmp_path / "front.png")
    made = mivid("--sandbox", "create", "front.png", "-p", "a cat", "--wait", "-d", "videos/")
    assert made.exit_code == 0, made
    task_id = made.stdout.split("\t", 1)[0]
    here = mivid("--sandbox", "open", task_id)
    assert here.exit_code == 0, here
    assert here.stdout == f"videos/{task_id}.mp4\n"  # relative: it is under this folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    away = mivid("--sandbox", "open", task_id)
    assert away.exit_code == 0, away
    assert away.stdout == f"{tmp_path / 'videos' / f'{task_id}.mp4'}\n"
    assert "sandbox.mivid.invalid" not in away.stdout + away.stderr


def test_a_sandbox_video_never_saved_says_how_to_save_it_instead_of_a_dead_url(
    mivid: RunMivid, no_display: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIVID_SANDBOX_TASK_SECONDS", "0")
    monkeypatch.chdir(tmp_path)
    make_png(tmp_path / "front.png")
    made = mivid("--sandbox", "create", "front.png", "-p", "a cat", "--wait", "-q")
    assert made.exit_code == 0, made
    task_id = made.stdout.strip()
    for words in (["open", task_id], ["open", task_id, "--print"]):
        refused = mivid("--sandbox", *words)
        assert refused.exit_code == 2, refused
        assert refused.stdout == ""  # no URL offered as if it could be opened
        assert refused.stderr.splitlines() == [
            f"error: ID {task_id}: no saved video of it in the current folder (nor where the "
            "journal says it was saved), and a sandbox video's URL opens nowhere but in mivid; "
            "if it was saved into another folder, name it with -d DIR",
            f"hint: save it, then open it: mivid --sandbox download {task_id} -d .",
        ]
    # The hint, pasted, saves it; `open` then finds it.
    hint = refused.stderr.splitlines()[-1].split(": ", 2)[-1].split()
    assert hint[:2] == ["mivid", "--sandbox"]
    saved = mivid(*hint[1:])
    assert saved.exit_code == 0, saved
    opened = mivid("--sandbox", "open", task_id)
    assert (opened.exit_code, opened.stdout) == (0, f"{task_id}.mp4\n")


def test_a_saved_video_moved_away_is_not_opened_from_the_journal(
    mivid: RunMivid, finished: str, no_display: None, tmp_path: Path, kling_env: EmulatorServer
) -> None:
    """The journal's record is where it was; a file no longer there (or another file there
    now) is not taken for the video: the service's URL is opened instead."""
    out = tmp_path / "videos"
    assert mivid("download", finished, "-o", str(out)).exit_code == 0
    (out / f"{finished}.mp4").rename(tmp_path / "moved.mp4")
    result = mivid("open", finished, "--dir", str(tmp_path))
    assert result.exit_code == 0, result
    [task] = kling_env.emulator.tasks()
    assert result.stdout == task["task_result"]["videos"][0]["url"] + "\n"
