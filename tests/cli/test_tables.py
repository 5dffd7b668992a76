"""Tables for people at 80 and 120 columns (issue 15, points 10 and 20).

The least useful columns go before a useful one is cut; a URL is never shown cut
(the VIDEO column says whether there is one); `list --local` says where each
create went when there are several services, and that its statuses are the
last ones seen.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import InProcessTerminal, RunMivid, Serve
from imagefactory import make_png
from mivid.sandbox import Emulator, EmulatorServer, FakeClock

LONG_PROMPT = "a lighthouse keeper climbs the stairs at dusk while the storm comes in"


def on_screen(args: list[str], columns: int) -> list[str]:
    terminal = InProcessTerminal(args, columns=columns, stdin=False, env={"NO_COLOR": "1"})
    assert terminal.finish() == 0, terminal.text()
    return terminal.text().splitlines()


def serve_with_a_static_key(
    serve: Serve, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> EmulatorServer:
    """An emulator on the fake clock, reached with an API key (a JWT signed by the real
    clock may be early for the fake one)."""
    server = serve(Emulator(api_keys={"test-api-key"}, clock=fake_clock))
    monkeypatch.delenv("KLING_ACCESS_KEY")
    monkeypatch.delenv("KLING_SECRET_KEY")
    monkeypatch.setenv("KLING_API_KEY", "test-api-key")
    return server


@pytest.fixture
def tasks(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    """Three tasks with long prompts, two ended with videos, one running."""
    serve_with_a_static_key(serve, fake_clock, monkeypatch)
    image = make_png(tmp_path / "front.png")
    ids = []
    for n in range(3):
        made = mivid("create", str(image), "-p", f"{LONG_PROMPT} {n}", "-q")
        assert made.exit_code == 0, made
        ids.append(made.stdout.strip())
        if n < 2:
            fake_clock.advance(60)
    return ids


@pytest.mark.parametrize("columns", [80, 120])
def test_list_drops_the_least_useful_columns_and_never_cuts_a_url(
    tasks: list[str], columns: int
) -> None:
    lines = on_screen(["list"], columns)
    header = lines[0].split()

    assert all(len(line) <= columns for line in lines), lines
    assert "http" not in "\n".join(lines)  # the URL is in get, --json and the pipe
    assert all(any(task_id in line for line in lines) for task_id in tasks)  # ids whole
    assert "EXTERNAL" not in header  # the least useful column is the first to go
    if columns == 120:
        assert "VIDEO" in header or "PROMPT" in header
    rows = [line for line in lines[1:] if line.split()[:1] and line.split()[0] in tasks]
    prompts = [row[lines[0].index("PROMPT") :].split("  ")[0] for row in rows]
    if any(len(prompt) < 40 and prompt.endswith("…") for prompt in prompts):
        # The prompt was cut below its usual 40: nothing less useful is left to drop, and
        # the endpoint is down to its name (`multi-image`, not `multi-image · kling-v1-6`).
        assert not {"LENGTH", "VIDEO"} & set(header), header
        assert all(" multi-image " in row and "·" not in row for row in rows), rows
    if columns == 80:
        assert header[:7] == ["TASK", "ID", "STATUS", "CREATED", "UNITS", "ENDPOINT", "PROMPT"]
    assert not any(re.search(r"\w…\s", line) for line in rows), rows  # only the prompt is cut


def test_the_video_column_says_a_video_is_there(tasks: list[str]) -> None:
    lines = on_screen(["list"], 200)
    header = lines[0]
    assert "VIDEO" in header.split()
    at = header.index("VIDEO")
    marks = {line.split()[0]: line[at : at + 3] for line in lines[1:4]}
    assert marks == {tasks[0]: "yes", tasks[1]: "yes", tasks[2]: "   "}


def test_list_local_names_the_service_when_there_are_several(
    mivid: RunMivid,
    serve: Serve,
    fake_clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = make_png(tmp_path / "front.png")
    for prompt in ("first service", "second service"):
        server = serve_with_a_static_key(serve, fake_clock, monkeypatch)
        assert mivid("create", str(image), "-p", prompt, "-q").exit_code == 0
    hosts = {server.url.split("//")[1]}

    lines = on_screen(["list", "--local"], 120)

    assert lines[0].split()[:5] == ["TASK", "ID", "LAST", "SEEN", "CREATED"]
    assert "SERVICE" in lines[0].split()
    assert any(host in line for line in lines for host in hosts), lines
    one = on_screen(["--sandbox", "list", "--local"], 120)  # one service: no column
    assert "SERVICE" not in one[0] if one and one[0].startswith("TASK") else True


def test_gets_panel_at_80_columns_leaves_the_url_whole_under_it(tasks: list[str]) -> None:
    lines = on_screen(["get", tasks[0]], 80)

    at = next(n for n, line in enumerate(lines) if line.startswith("video: "))
    assert lines[at].startswith("video: http://127.0.0.1:") and lines[at].endswith(".mp4")
    assert lines[at + 1 :] == [], lines  # nothing of it wrapped onto a line of its own
    assert not any("http" in line for line in lines if "│" in line)  # none in the border
    assert any(" ".join(line.strip("│ ").split()) == "length 5.1 s" for line in lines), lines


def test_a_cell_is_escaped_before_it_is_measured_and_cut(mivid: RunMivid, tmp_path: Path) -> None:
    """A prompt with a tab, a newline and an escape sequence stays on its row at 80 columns."""
    image = make_png(tmp_path / "front.png")
    prompt = "line1\tTAB\nline2 \x1b[31mred [fail] " + "and a long tail to be cut " * 3
    made = mivid("--sandbox", "create", str(image), "-p", prompt, "-q")
    assert made.exit_code == 0, made
    task_id = made.stdout.strip()

    lines = on_screen(["--sandbox", "list"], 80)

    assert all(len(line) <= 80 for line in lines), lines
    (row,) = [line for line in lines if line.startswith(task_id)]
    assert "line1 TAB line2 \\x1b[31mr" in row and row.endswith("…"), row
    assert "\x1b" not in "".join(lines)
    assert lines[-1].startswith("total: ")  # no piece of the row folded onto a line of its own
    assert len(lines) == 4, lines  # the sandbox banner, the header, the row, the total


def test_failed_tasks_show_their_reason_and_no_empty_columns(
    mivid: RunMivid, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "front.png")
    env = {"MIVID_SANDBOX_TASK_SECONDS": "0"}
    for prompt in ("[fail] the first", "[fail] the second, with a longer prompt to cut"):
        made = mivid("--sandbox", "create", str(image), "-p", prompt, "-q", env=env)
        assert made.exit_code == 0, made

    lines = on_screen(["--sandbox", "list", "--status", "failed"], 80)

    header = lines[1].split()
    assert header[:4] == ["TASK", "ID", "STATUS", "CREATED"], lines
    assert "REASON" in header, lines
    assert not {"LENGTH", "VIDEO", "UNITS"} & set(header), header  # nothing to show there
    rows = lines[2:4]
    assert all("failed" in row and "content-safety" in row for row in rows), lines
    assert all(len(line) <= 80 for line in lines), lines


def test_one_failed_task_among_many_does_not_cut_every_prompt_to_a_stub(
    mivid: RunMivid, tmp_path: Path
) -> None:
    """A newcomer saw every row's prompt cut to 12 characters at 100 columns because one task
    on the page had failed (its REASON column took the room): the reason gives way first."""
    image = make_png(tmp_path / "front.png")
    env = {"MIVID_SANDBOX_TASK_SECONDS": "0"}
    prompts = ["[fail] a lighthouse at dusk, waves breaking on the rocks"] + [
        f"shot {n}: a lighthouse at dusk, waves breaking on the rocks" for n in range(3)
    ]
    for prompt in prompts:
        made = mivid("--sandbox", "create", str(image), "-p", prompt, "-q", env=env)
        assert made.exit_code == 0, made

    lines = on_screen(["--sandbox", "list"], 100)

    header = lines[1]
    assert "PROMPT" in header and "REASON" in header, lines
    assert header.index("REASON") - header.index("PROMPT") - 2 >= 25, lines
    assert any("shot 2: a lighthouse at" in line for line in lines), lines
    assert any("content-saf" in line for line in lines), lines  # the reason, cut
    assert all(len(line) <= 100 for line in lines), lines
