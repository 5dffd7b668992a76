"""`mivid list --watch`: a live table on a terminal (tmux and a bare pty), refused elsewhere."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import ANSI, InProcessTerminal, RunMivid, Serve, Terminal
from imagefactory import make_png
from mivid.sandbox import Emulator, EmulatorServer, FakeClock
from polling import PATIENCE, wait_until


def sandbox_task(mivid: RunMivid, tmp_path: Path, seconds: str) -> str:
    image = make_png(tmp_path / "front.png")
    env = {"MIVID_SANDBOX_TASK_SECONDS": seconds}
    result = mivid("--sandbox", "create", str(image), "--prompt", "waves at dusk", "-q", env=env)
    assert result.exit_code == 0, result
    return str(result.stdout.strip())


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Run tmux on a server of the test's own (its socket in tmp_path)."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    socket_path = tmp_path / f"tmux-{uuid.uuid4().hex[:8]}"

    def run(*args: str) -> str:
        completed = subprocess.run(
            ["tmux", "-S", str(socket_path), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return completed.stdout

    yield run
    subprocess.run(
        ["tmux", "-S", str(socket_path), "kill-server"], capture_output=True, check=False
    )


def emulator_task(mivid: RunMivid, tmp_path: Path) -> str:
    """A task on the test's emulator: it stays `submitted` until the test moves the clock."""
    image = make_png(tmp_path / "front.png")
    result = mivid("create", str(image), "--prompt", "waves at dusk", "-q")
    assert result.exit_code == 0, result
    return str(result.stdout.strip())


@pytest.fixture
def service(kling_env: EmulatorServer, fake_clock: FakeClock) -> EmulatorServer:
    fake_clock.set(time.time())  # mivid signs its JWTs with the real time
    return kling_env


# The watched task ends when the test advances the emulator's clock, once the
# table has shown it running: no race between a task's real-time duration and
# how long a busy machine takes to start `python -m mivid`.


def test_list_watch_under_tmux_redraws_until_the_task_ends(
    mivid: RunMivid,
    tmux: Callable[..., str],
    tmp_path: Path,
    service: EmulatorServer,
    fake_clock: FakeClock,
) -> None:
    task_id = emulator_task(mivid, tmp_path)
    names: tuple[str, ...] = ("HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
    names += ("XDG_DATA_HOME", "PATH", "KLING_BASE_URL", "KLING_ACCESS_KEY", "KLING_SECRET_KEY")
    exports = " ".join(f"{name}='{os.environ[name]}'" for name in names)
    command = (
        f"env {exports} TERM=xterm-256color "
        f"{sys.executable} -m mivid list --watch --interval 0.5; "
        "echo EXIT=$?; sleep 60"
    )
    tmux("new-session", "-d", "-s", "watch", "-x", "150", "-y", "20", command)
    seen: list[str] = []

    def screen_shows(pattern: str) -> bool:
        seen.append(tmux("capture-pane", "-p", "-e", "-t", "watch"))
        return re.search(pattern, ANSI.sub("", seen[-1])) is not None

    wait_until(lambda: screen_shows("Ctrl-C to stop"), what=lambda: f"a live table: {seen[-1]}")
    fake_clock.advance(60)  # the task succeeds
    wait_until(lambda: screen_shows("EXIT="), what=lambda: f"the watch to end: {seen[-1]}")
    final = ANSI.sub("", seen[-1])
    assert "EXIT=0" in final, final
    running = [ANSI.sub("", s) for s in seen if re.search(r"submitted|processing", ANSI.sub("", s))]
    assert running, "the table never showed the task running"
    assert task_id in running[0] and "waves at dusk" in running[0]
    assert "Ctrl-C to stop" in running[0]
    row = next(line for line in final.splitlines() if task_id in line)
    assert "succeed" in row and "waves at dusk" in row
    assert final.count("TASK ID") == 1  # redrawn in place, not appended
    assert "Ctrl-C to stop" not in final  # the last frame is the table alone
    coloured = [s for s in seen if "succeed" in ANSI.sub("", s)]
    assert re.search(r"\x1b\[[0-9;]*32m\s*succeed", coloured[-1])  # succeed in green
    assert any(re.search(r"\x1b\[[0-9;]*3[36]m\s*(submitted|processing)", s) for s in seen)


def test_list_watch_on_a_pty_ends_with_the_task(
    mivid: RunMivid, tmp_path: Path, service: EmulatorServer, fake_clock: FakeClock
) -> None:
    task_id = emulator_task(mivid, tmp_path)
    terminal = InProcessTerminal(["list", "--watch", "--interval", "0.5"])
    wait_until(
        lambda: b"Ctrl-C to stop" in terminal.read(0.1),
        what=lambda: f"a live table: {terminal.raw()}",
    )
    fake_clock.advance(60)  # the task succeeds
    assert terminal.finish(timeout=PATIENCE) == 0
    shown = terminal.shown
    text = ANSI.sub("", shown.decode(errors="replace"))
    assert task_id in text
    assert re.search(r"submitted|processing", text)
    assert "succeed" in text
    assert "every task on the list has ended" in text
    # The last frame keeps list's units total (QA finding 18: it was dropped).
    last = text[text.rindex(task_id) :]
    assert re.search(r"total: [\d.]+ units? deducted by the 1 task shown", last), last
    assert b"\x1b[2K" in shown or b"\x1b[1A" in shown  # rich Live moved the cursor back up


def test_ctrl_c_stops_the_watch_with_130(mivid: RunMivid, tmp_path: Path) -> None:
    sandbox_task(mivid, tmp_path, "600")
    terminal = Terminal(
        ["--sandbox", "list", "--watch", "--interval", "0.5"],
        env={"MIVID_SANDBOX_TASK_SECONDS": "600"},
    )
    wait_until(
        lambda: b"Ctrl-C" in terminal.read(0.1), what=lambda: f"a live table: {terminal.raw()}"
    )
    terminal.process.send_signal(signal.SIGINT)
    assert terminal.finish(timeout=PATIENCE) == 130
    shown = terminal.shown
    assert "Traceback" not in shown.decode(errors="replace")


def test_list_watch_off_a_terminal_is_refused(mivid: RunMivid) -> None:
    result = mivid("--sandbox", "list", "--watch")
    assert result.exit_code == 2
    assert "--watch: stdout is not a terminal" in result.stderr
    assert result.stdout == ""
    both = mivid("--sandbox", "list", "--watch", "--json", "--interval", "0")
    assert both.exit_code == 2
    assert "not with --json or --quiet" in both.stderr
    assert "--interval: 0" in both.stderr


def test_list_watch_keeps_its_footer_on_an_80_by_20_screen(
    mivid: RunMivid,
    tmux: Callable[..., str],
    tmp_path: Path,
    serve: Serve,
    fake_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 15.10: thirty running tasks pushed the footer off a 20-line terminal."""
    emulator = Emulator(api_keys={"test-api-key"}, clock=fake_clock, concurrency_limit=100)
    serve(emulator)
    # A static key: JWTs signed by the real clock could be early for the emulator's.
    monkeypatch.delenv("KLING_ACCESS_KEY")
    monkeypatch.delenv("KLING_SECRET_KEY")
    monkeypatch.setenv("KLING_API_KEY", "test-api-key")
    ids = [emulator_task(mivid, tmp_path) for _ in range(30)]
    names: tuple[str, ...] = ("HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
    names += ("XDG_DATA_HOME", "PATH", "KLING_BASE_URL", "KLING_API_KEY")
    exports = " ".join(f"{name}='{os.environ[name]}'" for name in names)
    command = (
        f"env -u COLUMNS -u LINES {exports} TERM=xterm-256color {sys.executable} -m mivid "
        "list --watch --interval 0.5; sleep 60"
    )
    tmux("new-session", "-d", "-s", "small", "-x", "80", "-y", "20", command)
    seen: list[str] = []

    def screen_shows(pattern: str) -> bool:
        seen.append(ANSI.sub("", tmux("capture-pane", "-p", "-t", "small")))
        return re.search(pattern, seen[-1]) is not None

    wait_until(lambda: screen_shows("Ctrl-C to stop"), what=lambda: f"the footer: {seen[-1]}")
    wait_until(lambda: screen_shows("Ctrl-C to stop"), what=lambda: f"a redraw: {seen[-1]}")
    screen = seen[-1].splitlines()
    assert any("30 running · 14 more below" in line for line in screen), screen
    assert sum(1 for line in screen if line.split()[:1] and line.split()[0] in ids) == 16
    assert all(len(line) <= 80 for line in screen)
    assert screen[0].split()[:3] == ["TASK", "ID", "STATUS"], screen  # the header still on top
