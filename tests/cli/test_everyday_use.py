"""Everyday use, as a person and a script meet it: stdout kept to results, menus that fit,
usage lines, exit statuses that mean the same for every command, sandbox serve's URL."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from helpers import InProcessTerminal, RunMivid, served_sandbox
from imagefactory import make_png
from mivid.sandbox import EmulatorServer, FakeClock


def test_sandbox_serve_prints_its_url_so_port_0_is_usable(mivid_process: RunMivid) -> None:
    """`--port 0` picks a free port: the URL must be on stdout, or nobody can reach it."""
    with served_sandbox("--task-seconds", "1") as sandbox:
        url = sandbox.url
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0"), url
        env = {
            "KLING_BASE_URL": url,
            "KLING_ACCESS_KEY": "sandbox-access-key",
            "KLING_SECRET_KEY": "sandbox-secret-key-not-a-real-secret",
        }
        listed = mivid_process("list", "--json", env=env)
        assert listed.exit_code == 0, listed
        assert json.loads(listed.stdout) == []
    assert sandbox.process.returncode == 0
    assert f"export KLING_BASE_URL={url} KLING_ACCESS_KEY=sandbox-access-key" in sandbox.stderr


def test_sandbox_serve_refuses_bad_options_and_a_busy_port(mivid: RunMivid) -> None:
    bad = mivid("sandbox", "serve", "--port", "99999", "--task-seconds", "-1")
    assert bad.exit_code == 2, bad
    assert "error: --port: 99999 — must be from 0 to 65535" in bad.stderr
    assert "error: --task-seconds: -1 — must be more than 0" in bad.stderr
    assert "Traceback" not in bad.stderr and "unexpected" not in bad.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        busy = mivid("sandbox", "serve", "--port", port)
    assert busy.exit_code == 2, busy
    assert f"error: --port {port}: cannot listen on 127.0.0.1:{port}" in busy.stderr
    assert "unexpected" not in busy.stderr
    assert busy.stdout == ""


def test_create_wait_keeps_stdout_to_the_final_result(
    mivid: RunMivid, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`create --wait | …`: one result in one format on stdout; the create panel is progress."""
    monkeypatch.setenv("MIVID_SANDBOX_TASK_SECONDS", "0")
    image = make_png(tmp_path / "front.png")
    result = mivid("--sandbox", "create", str(image), "--prompt", "a cat", "--wait")
    assert result.exit_code == 0, result
    task_id = result.stdout.split("\t", 1)[0]
    assert len(result.stdout.splitlines()) == 1  # one record, one line
    assert result.stdout.split("\t")[1:3] == [
        "succeed",
        f"http://sandbox.mivid.invalid/sandbox/videos/{task_id}.mp4",
    ]
    assert "task id:" not in result.stdout and "follow it" not in result.stdout
    assert f"task id: {task_id}" in result.stderr
    assert "follow it" not in result.stderr  # mivid follows it: no command to run (15.25)


def _on_a_terminal(args: list[str], answer: str, columns: int) -> tuple[int, str]:
    """Run mivid on a pseudo-terminal `columns` wide, type `answer`, return (status, screen)."""
    terminal = InProcessTerminal(args, columns=columns)
    if answer:
        terminal.expect("q to quit]:", timeout=20)
        terminal.type(answer)
    status = terminal.finish(timeout=20)
    return status, terminal.text()


def test_the_picker_never_cuts_the_id_or_status_on_an_80_column_terminal(
    mivid: RunMivid,
    kling_env: EmulatorServer,
    fake_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A static key: the fake clock jumps ahead, and JWTs signed by the real one would expire.
    monkeypatch.delenv("KLING_ACCESS_KEY")
    monkeypatch.delenv("KLING_SECRET_KEY")
    monkeypatch.setenv("KLING_API_KEY", "test-api-key")
    image = make_png(tmp_path / "front.png")
    ids = []
    for n in range(10):
        made = mivid("create", str(image), "--prompt", f"a long prompt {n} " * 6, "-q")
        assert made.exit_code == 0, made
        ids.append(made.stdout.strip())
        fake_clock.advance(600)  # it ends: the emulator allows 5 running at once
    status, screen = _on_a_terminal(["get"], "q", columns=80)
    assert status == 0, screen  # `q` picks nothing (15.21)
    menu = [line for line in screen.splitlines() if "succeed" in line]
    assert len(menu) == 10, screen
    for task_id in ids:
        assert any(task_id in line for line in menu), screen
    assert any(line.startswith("10 ") for line in menu), screen  # the number is not "…"
    assert all(len(line) <= 80 and line.endswith("…") for line in menu), screen
    assert all(f"{task_id}  multi-image " in screen for task_id in ids), screen  # compact


def test_open_of_a_failed_task_exits_1_like_download(
    mivid: RunMivid, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Exit 1 means "a task ended failed" for every command, not 2 (bad usage) for one."""
    monkeypatch.setenv("MIVID_SANDBOX_TASK_SECONDS", "0")
    image = make_png(tmp_path / "front.png")
    made = mivid("--sandbox", "create", str(image), "--prompt", "a cat [fail]", "--wait", "-q")
    assert made.exit_code == 1, made
    task_id = made.stdout.strip()
    opened = mivid("--sandbox", "open", task_id, "--print", "--dir", str(tmp_path))
    downloaded = mivid("--sandbox", "download", task_id, "-o", str(tmp_path))
    assert opened.exit_code == downloaded.exit_code == 1, (opened, downloaded)
    assert opened.stdout == ""
    assert f"error: task {task_id} failed: " in opened.stderr
    assert f"error: task {task_id} failed: " in downloaded.stderr


def test_config_show_on_a_terminal_names_the_file_on_one_line(
    mivid: RunMivid, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The profile and file heading was the table's title, wrapped to the table's narrow width."""
    config_file = tmp_path / "a" / "rather" / "long" / "folder" / "name" / "config.toml"
    monkeypatch.setenv("MIVID_CONFIG_FILE", str(config_file))
    status, screen = _on_a_terminal(["config", "show"], "", columns=120)
    assert status == 0, screen
    assert f"profile default · {config_file}\n" in screen, screen
    # The same word as in a pipe (QA finding 18: `not set` on a terminal, `unset` in a pipe).
    assert re.search(r"access-key\s+-\s+unset", screen), screen
    assert "not set" not in screen
    piped = mivid("config", "show")
    assert "access-key\t\tunset" in piped.stdout


def test_create_says_a_missing_prompt_once_and_points_to_fit(
    mivid: RunMivid, kling_env: EmulatorServer, tmp_path: Path
) -> None:
    small = make_png(tmp_path / "small.png", size=(200, 200))
    result = mivid("create", str(small))
    assert result.exit_code == 2, result
    assert result.stderr.count("--prompt") == 1, result.stderr  # not "required" + "not empty"
    assert "error: --prompt: required" in result.stderr
    assert f"error: {small}: 200×200 px — each side must be at least 300 px" in result.stderr
    assert "hint: add --fit to send a conforming copy" in result.stderr
    assert kling_env.emulator.received == []
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("hello")
    other = mivid("create", str(not_an_image), "--prompt", "a cat")
    assert other.exit_code == 2 and "--fit" not in other.stderr  # --fit cannot fix that


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        ("create", "Usage: mivid create [OPTIONS] [IMAGE]...\n"),
        ("get", "Usage: mivid get [OPTIONS] [ID]...\n"),
        ("wait", "Usage: mivid wait [OPTIONS] [ID]...\n"),
        ("download", "Usage: mivid download [OPTIONS] [ID]...\n"),
        ("open", "Usage: mivid open [OPTIONS] [ID]\n"),
    ],
)
def test_usage_lines_read_like_other_tools(mivid: RunMivid, command: str, usage: str) -> None:
    """Not `[[ID]...]...` or `[IMAGE...]...`: the brackets and dots said it twice."""
    shown = mivid(command, "--help")
    assert shown.exit_code == 0, shown
    assert shown.stdout.startswith(usage), shown.stdout


def test_recover_limit_speaks_like_every_other_option(mivid: RunMivid) -> None:
    """Was `--limit <int range>` in help and pydantic's 'Input should be greater…' on error."""
    shown = mivid("recover", "--help")
    assert "--limit N " in shown.stdout and "<int range>" not in shown.stdout
    refused = mivid("--sandbox", "recover", "--limit", "0")
    assert refused.exit_code == 2, refused
    assert refused.stderr == "error: --limit: 0 — must be at least 1\n"


def test_get_of_several_ids_separates_the_tasks(
    mivid: RunMivid, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MIVID_SANDBOX_TASK_SECONDS", "0")
    image = make_png(tmp_path / "front.png")
    ids = [
        mivid("--sandbox", "create", str(image), "-p", prompt, "-q").stdout.strip()
        for prompt in ("one", "two")
    ]
    shown = mivid("--sandbox", "get", *ids)
    assert shown.exit_code == 0, shown
    first, second = shown.stdout.splitlines()  # in a pipe: one line a task, as `list`
    assert first.startswith(f"{ids[0]}\t") and first.split("\t")[6] == "one"
    assert second.startswith(f"{ids[1]}\t") and second.split("\t")[6] == "two"
    terminal = InProcessTerminal(["--sandbox", "get", *ids], stdin=False, env={"NO_COLOR": "1"})
    assert terminal.finish() == 0
    panels = terminal.text().split("╰")
    assert f"task {ids[0]}" in panels[0] and f"task {ids[1]}" in panels[1], panels


def test_list_local_points_to_the_sandbox_creates_instead_of_saying_none(
    mivid: RunMivid, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """After the README's sandbox start, `mivid list --local` printed nothing at all."""
    monkeypatch.setenv("MIVID_SANDBOX_TASK_SECONDS", "0")
    image = make_png(tmp_path / "front.png")
    assert mivid("--sandbox", "create", str(image), "-p", "waves", "-q").exit_code == 0
    listed = mivid("list", "--local")
    assert listed.exit_code == 0, listed
    assert listed.stdout == ""
    assert listed.stderr == (
        "no creates here; the journal holds 1 made in the sandbox: mivid --sandbox list --local\n"
    )
    assert mivid("list", "--local", "--json").stdout == "[]\n"
    assert "waves" in mivid("--sandbox", "list", "--local").stdout
