"""What an installed mivid brings (issue 15, points 15 and 17): a man page `man` finds,
completion scripts where the shells look, `mivid completion SHELL`, and the example
files the help's examples use — from any folder, not only a clone.

The wheel is built here without build isolation (hatchling is a test dependency),
then installed with pip into a virtual environment of the test's own, as
`pip install` and pipx do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from helpers import environment

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("hatchling")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prefix holding mivid installed from a freshly built wheel (its dependencies are ours)."""
    work = tmp_path_factory.mktemp("install")
    wheels = work / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True, timeout=300, cwd=work)
    (wheel,) = wheels.glob("*.whl")
    # A virtual environment of its own (pip --prefix would take mivid out of ours).
    prefix = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)
    python = prefix / ("Scripts" if os.name == "nt" else "bin") / "python"
    install = [*pip, "--python", str(python), "install", "--no-deps", str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300, cwd=work)
    return prefix


def site_packages(prefix: Path) -> Path:
    scheme = "venv" if "venv" in sysconfig.get_scheme_names() else "posix_prefix"
    path = sysconfig.get_path(
        "purelib", scheme, vars={"base": str(prefix), "platbase": str(prefix)}
    )
    return Path(path)


def run_installed(prefix: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m mivid ARGS` from the installed copy, in `cwd` (not the source tree)."""
    env = environment({"PYTHONPATH": str(site_packages(prefix)), "HOME": str(cwd)})
    return subprocess.run(
        [sys.executable, "-P", "-m", "mivid", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_the_man_page_and_completions_land_where_man_and_the_shells_look(
    installed: Path,
) -> None:
    share = installed / "share"
    for shipped, placed in {
        "man/mivid.1": "man/man1/mivid.1",
        "completions/mivid.bash": "bash-completion/completions/mivid",
        "completions/_mivid": "zsh/site-functions/_mivid",
        "completions/mivid.fish": "fish/vendor_completions.d/mivid.fish",
    }.items():
        assert (share / placed).read_bytes() == (ROOT / shipped).read_bytes(), placed


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_man_finds_the_page_on_the_prefixs_manpath(installed: Path) -> None:
    found = subprocess.run(
        ["man", "-w", "mivid"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "MANPATH": str(installed / "share" / "man")},
        check=False,
    )
    assert found.returncode == 0, found
    assert found.stdout.strip() == str(installed / "share" / "man" / "man1" / "mivid.1")


def test_the_installed_copy_prints_completions_and_writes_its_examples_anywhere(
    installed: Path, tmp_path: Path
) -> None:
    for shell, name in {"bash": "mivid.bash", "zsh": "_mivid", "fish": "mivid.fish"}.items():
        printed = run_installed(installed, "completion", shell, cwd=tmp_path)
        assert printed.returncode == 0, printed
        assert printed.stdout == (ROOT / "completions" / name).read_text(), shell

    examples = run_installed(installed, "sandbox", "examples", cwd=tmp_path)

    assert examples.returncode == 0, examples
    for name in ("lighthouse.jpg", "sailboat.png", "jobs.jsonl"):
        assert (tmp_path / "mivid-examples" / name).read_bytes() == (
            ROOT / "examples" / name
        ).read_bytes()
    checked = run_installed(
        installed, "--sandbox", "batch", "mivid-examples/jobs.jsonl", "--dry-run", cwd=tmp_path
    )
    assert checked.returncode == 0, checked
