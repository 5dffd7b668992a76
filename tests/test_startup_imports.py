"""Start-up is a product feature: which modules each scripted path may import.

Each case runs the real command line in a fresh interpreter against the
emulator and reads `sys.modules` once the command has finished. Nothing here
is timed (benchmarks/run.py measures); it pins the import discipline that
keeps the figures there: `mivid --version` answers before Typer or httpx is
imported, and the scripted `--json` paths import neither pydantic (a tenth
of a second and 14 MB) nor rich, nor PIL where no image is read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from imagefactory import make_png
from mivid.sandbox import EmulatorServer, FakeClock

# Runs `mivid.cli.main` (the console script's entry point), then lists what it imported.
PROBE = """
import json, sys
from mivid.cli import main
status = 0
try:
    main(sys.argv[2:])
except SystemExit as stop:
    status = stop.code
sys.stdout.flush()
with open(sys.argv[1], "w") as out:
    json.dump(sorted(sys.modules), out)
sys.exit(status)
"""

HEAVY_FOR_QUERIES = ("pydantic", "rich", "PIL", "typer._adapters")


def run_probe(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    listing = tmp_path / f"modules-{len(list(tmp_path.glob('modules-*')))}.json"
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, str(listing), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listing.exists(), completed.stderr
    return completed, set(json.loads(listing.read_text()))


def imported(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


def test_version_imports_neither_typer_nor_httpx(tmp_path: Path) -> None:
    completed, modules = run_probe(tmp_path, "--version")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("mivid ")
    for package in ("typer", "httpx", "pydantic", "rich", "PIL"):
        assert imported(modules, package) == [], f"mivid --version imported {package}"


def test_list_json_imports_no_pydantic_rich_or_pil(
    tmp_path: Path, kling_env: EmulatorServer
) -> None:
    image = make_png(tmp_path / "front.png")
    created, _ = run_probe(tmp_path, "create", str(image), "--prompt", "waves", "--json")
    assert created.returncode == 0, created.stderr

    completed, modules = run_probe(tmp_path, "list", "--json")

    assert completed.returncode == 0, completed.stderr
    assert [task["task_id"] for task in json.loads(completed.stdout)] == [
        json.loads(created.stdout)["task_id"]
    ]
    assert "httpx" in modules  # the probe really made the call
    for package in HEAVY_FOR_QUERIES:
        assert imported(modules, package) == [], f"list --json imported {package}"


@pytest.mark.parametrize(
    ("command", "form"), [("get", "--json"), ("wait", "--json"), ("wait", "--no-color")]
)
def test_get_and_wait_in_scripts_import_no_pydantic_rich_or_pil(
    tmp_path: Path, kling_env: EmulatorServer, fake_clock: FakeClock, command: str, form: str
) -> None:
    """`--json`, and `wait`'s lines in a pipe (a summary per task needs no pydantic)."""
    image = make_png(tmp_path / "front.png")
    created, _ = run_probe(tmp_path, "create", str(image), "--prompt", "waves", "--json")
    assert created.returncode == 0, created.stderr
    task_id = json.loads(created.stdout)["task_id"]
    fake_clock.advance(kling_env.emulator.succeed_after + 1)  # the task has ended

    words = (form, command) if form == "--no-color" else (command, form)
    completed, modules = run_probe(tmp_path, *words, task_id)

    assert completed.returncode == 0, completed.stderr
    assert task_id in completed.stdout
    assert "succeed" in completed.stdout
    for package in HEAVY_FOR_QUERIES:
        assert imported(modules, package) == [], f"{command} --json imported {package}"


def test_create_json_imports_no_pydantic_or_rich(tmp_path: Path, kling_env: EmulatorServer) -> None:
    # create reads images (PIL is fine) but stays off pydantic: memory per upload counts it.
    image = make_png(tmp_path / "front.png")

    completed, modules = run_probe(tmp_path, "create", str(image), "--prompt", "waves", "--json")

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["task_status"] == "submitted"
    assert len(kling_env.emulator.tasks()) == 1
    for package in ("pydantic", "rich", "typer._adapters"):
        assert imported(modules, package) == [], f"create --json imported {package}"
