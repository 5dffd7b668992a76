"""Everything that can be checked locally is checked before anything is sent (exit 2, one line each).

The base URL in full, every number an option or the environment gives, the
jobs file's syntax, the download folder, every path a command takes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import RunMivid, error_lines
from imagefactory import make_png
from mivid.journal import default_path
from mivid.sandbox import EmulatorServer

# -- 13.21: the base URL, validated in full --------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "rule"),
    [
        ("/#", "must not carry a query (?…) or a fragment (#…)"),
        ("/?x=1", "must not carry a query (?…) or a fragment (#…)"),
        (":99", "is not a valid URL (Port could not be cast to integer value"),
        ("/kling path", "must not contain spaces or control characters"),
    ],
    ids=["fragment", "query", "two ports", "space"],
)
@pytest.mark.parametrize("where", ["--base-url", "KLING_BASE_URL"])
def test_a_base_url_that_is_not_one_is_refused_before_anything_is_sent(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, suffix: str, rule: str, where: str
) -> None:
    image = make_png(tmp_path / "front.png")
    url = api.url + suffix
    if where == "--base-url":
        result = mivid("--base-url", url, "create", str(image), "--prompt", "waves")
    else:
        result = mivid("create", str(image), "--prompt", "waves", env={"KLING_BASE_URL": url})
    assert result.exit_code == 2, result
    (line,) = error_lines(result.stderr)
    assert (where if where.startswith("--") else f"${where}") in line
    assert rule in line
    assert api.emulator.received == []
    assert not default_path().exists()  # not even journaled


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:0", "http://127.0.0.1:70000", "ftp://127.0.0.1", "http://", "http://[::1"],
)
def test_other_impossible_base_urls_are_refused(
    mivid: RunMivid, api: EmulatorServer, url: str
) -> None:
    result = mivid("--base-url", url, "list")
    assert result.exit_code == 2, result
    assert len(error_lines(result.stderr)) == 1
    assert api.emulator.received == []


def test_a_base_url_with_a_path_and_a_port_is_fine(mivid: RunMivid, api: EmulatorServer) -> None:
    result = mivid("--base-url", api.url + "/", "list", "--json")
    assert result.exit_code == 0, result


# -- 13.22: no option or tunable takes NaN or infinity ----------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "Infinity"])
@pytest.mark.parametrize(
    "args",
    [
        ("wait", "t1", "--timeout", "{v}"),
        ("wait", "t1", "--interval", "{v}"),
        ("create", "{image}", "-p", "x", "--wait", "--timeout", "{v}"),
        ("batch", "{jobs}", "--interval", "{v}"),
        ("list", "--watch", "--interval", "{v}"),
        ("sandbox", "serve", "--port", "0", "--task-seconds", "{v}"),
    ],
    ids=lambda args: " ".join(a for a in args if not a.startswith("{")),
)
def test_non_finite_numbers_are_refused_for_every_option(
    mivid: RunMivid,
    api: EmulatorServer,
    tmp_path: Path,
    sleepless: object,
    value: str,
    args: tuple[str, ...],
) -> None:
    image = make_png(tmp_path / "front.png")
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"images": ["front.png"], "prompt": "waves"}\n')
    words = [
        arg.replace("{v}", value).replace("{image}", str(image)).replace("{jobs}", str(jobs))
        for arg in args
    ]
    result = mivid(*words, clock=sleepless)
    assert result.exit_code == 2, result
    assert "Traceback" not in result.stderr
    assert api.emulator.received == []


@pytest.mark.parametrize("value", ["nan", "inf", "1e999"])
@pytest.mark.parametrize(
    "name",
    [
        "MIVID_RETRY_MAX_SECONDS",
        "MIVID_RETRY_BASE_DELAY",
        "MIVID_RETRY_ATTEMPTS",
        "MIVID_SANDBOX_TASK_SECONDS",
    ],
)
def test_non_finite_numbers_are_refused_for_every_tunable(
    mivid: RunMivid, api: EmulatorServer, name: str, value: str
) -> None:
    result = mivid("list", "--json", env={name: value})
    assert result.exit_code == 2, result
    (line,) = error_lines(result.stderr)
    assert f"${name}: `{value}`" in line
    assert api.emulator.received == []


# -- 13.14: what is read of a local file or stdin is capped, and only regular files -----------


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def sparse(path: Path, size: int) -> Path:
    with path.open("wb") as stream:
        stream.truncate(size)
    return path


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda tmp: Path("/dev/zero"), "is a device, not a regular file"),
        (lambda tmp: fifo(tmp / "jobs.fifo"), "is a pipe or socket"),
        (lambda tmp: tmp, "is a folder, not a file"),
        (lambda tmp: sparse(tmp / "big.jsonl", 65 * 1024 * 1024), "larger than 64 MiB"),
    ],
    ids=["/dev/zero", "fifo", "folder", "65 MiB"],
)
def test_batch_reads_only_a_regular_jobs_file_of_sane_size(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, make: Any, says: str
) -> None:
    jobs = make(tmp_path)
    result = mivid("batch", str(jobs), "--dry-run")
    assert result.exit_code == 2, result
    (line,) = error_lines(result.stderr)
    assert says in line and str(jobs) in line
    assert api.emulator.received == []


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda tmp: Path("/dev/zero"), "is a device, not a regular file"),
        (lambda tmp: fifo(tmp / "c.fifo"), "is a pipe or socket"),
        (lambda tmp: sparse(tmp / "config.toml", 2 * 1024 * 1024), "larger than 1 MiB"),
    ],
    ids=["/dev/zero", "fifo", "2 MiB"],
)
def test_the_config_file_is_read_only_when_regular_and_small(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path, make: Any, says: str
) -> None:
    config = make(tmp_path)
    result = mivid("list", "--json", env={"MIVID_CONFIG_FILE": str(config)})
    assert result.exit_code == 2, result
    (line,) = error_lines(result.stderr)
    assert says in line and str(config) in line
    assert api.emulator.received == []


def test_a_toml_array_nested_5000_deep_is_bad_input(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[default]\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    result = mivid("list", "--json", env={"MIVID_CONFIG_FILE": str(config)})
    assert result.exit_code == 2, result
    (line,) = error_lines(result.stderr)
    assert "not valid TOML" in line
    assert api.emulator.received == []


@pytest.mark.parametrize(
    ("args", "subject"),
    [
        (("create", "{image}", "--prompt", "-", "--dry-run"), "--prompt -"),
        (("wait", "-"), "ID -"),
        (("config", "set", "api-key", "-"), "api-key -"),
    ],
    ids=["prompt", "ids", "secret"],
)
def test_stdin_of_dev_zero_is_refused_at_its_cap(
    api: EmulatorServer, tmp_path: Path, args: tuple[str, ...], subject: str
) -> None:
    image = make_png(tmp_path / "front.png")
    words = [arg.replace("{image}", str(image)) for arg in args]
    env = {**os.environ, "MIVID_CONFIG_FILE": str(tmp_path / "config.toml")}
    with open("/dev/zero", "rb") as zeros:
        completed = subprocess.run(
            [sys.executable, "-m", "mivid", *words],
            stdin=zeros,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
    assert completed.returncode == 2, completed.stderr
    (line,) = error_lines(completed.stderr)
    assert line.startswith(f"error: {subject}: stdin holds more than")
    assert not (tmp_path / "config.toml").exists()
    assert api.emulator.received == []


# -- 13.20: strict CSV --------------------------------------------------------------------------


def test_an_unbalanced_quote_in_a_csv_jobs_file_is_reported_where_it_opened(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path
) -> None:
    for name in ("a.png", "b.png", "c.png"):
        make_png(tmp_path / name)
    jobs = tmp_path / "jobs.csv"
    jobs.write_text('images,prompt\na.png,"a cat\nb.png,a dog\nc.png,a bird\n', encoding="utf-8")
    result = mivid("batch", str(jobs))
    assert result.exit_code == 2, result
    (line,) = error_lines(result.stderr)
    assert line.startswith(f"error: {jobs}:2: not valid CSV: the quote opened here (column 7)")
    assert api.emulator.received == []


def test_a_quoted_prompt_over_two_lines_in_well_formed_csv_is_one_job(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path
) -> None:
    make_png(tmp_path / "a.png")
    jobs = tmp_path / "jobs.csv"
    jobs.write_text('images,prompt\na.png,"a cat\nthat walks"\n', encoding="utf-8")
    result = mivid("batch", str(jobs), "--dry-run", "--json")
    assert result.exit_code == 0, result
    assert "1 jobs checked" in result.stderr or "1 job checked" in result.stderr


# -- 15.1 and 15.2: every path a command takes, checked before anything is sent --------------


@pytest.fixture
def unwritable(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody may write in: mode 555 for a user; for root (whom modes do not stop)
    a read-only tmpfs where mounting is allowed, else a sysfs folder, else the test is skipped."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mounted = tmp_path / "read-only"
    mounted.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mounted)],
        capture_output=True,
        check=False,
    )
    if done.returncode == 0:
        try:
            yield mounted
        finally:
            subprocess.run(["umount", str(mounted)], capture_output=True, check=False)
        return
    for candidate in (Path("/sys/kernel"), Path("/sys")):
        try:
            (candidate / ".mivid-probe").touch()
        except OSError:
            yield candidate
            return
    pytest.skip("no folder here refuses root's writes")


PATH_CASES = {
    # a file where a folder is expected
    "create -d FILE": ("create", "{image}", "-p", "x", "-d", "{file}"),
    "wait -d FILE": ("wait", "t1", "-d", "{file}"),
    "download -d FILE": ("download", "t1", "-d", "{file}"),
    "download -o FILE/sub": ("download", "t1", "-o", "{file}/sub"),
    "batch -d FILE": ("batch", "{jobs}", "-d", "{file}"),
    "open -d FILE": ("open", "t1", "-d", "{file}"),
    "gallery FILE": ("gallery", "{file}"),
    # a folder where a file is expected
    "create IMAGE=FOLDER": ("create", "{folder}", "-p", "x"),
    "batch JOBS=FOLDER": ("batch", "{folder}"),
    "config MIVID_CONFIG_FILE=FOLDER": ("config", "set", "region", "china", "@config={folder}"),
    # a path under /proc
    "create -d /proc": ("create", "{image}", "-p", "x", "-d", "/proc/nope"),
    "wait -d /proc": ("wait", "t1", "-d", "/proc/nope"),
    "download -d /proc": ("download", "t1", "-d", "/proc/nope"),
    "batch -d /proc": ("batch", "{jobs}", "-d", "/proc/nope/videos"),
    "open -d /proc": ("open", "t1", "-d", "/proc/nope"),
    "gallery /proc": ("gallery", "/proc/nope"),
    "create IMAGE=/proc": ("create", "/proc/nope.png", "-p", "x"),
    "batch JOBS=/proc": ("batch", "/proc/nope.jsonl"),
    "config under /proc": ("config", "set", "region", "china", "@config=/proc/nope/c.toml"),
    # a folder mivid cannot write in
    "create -d UNWRITABLE": ("create", "{image}", "-p", "x", "-d", "{unwritable}"),
    "wait -d UNWRITABLE": ("wait", "t1", "-d", "{unwritable}"),
    "download -d UNWRITABLE": ("download", "t1", "-d", "{unwritable}"),
    "batch -d UNWRITABLE": ("batch", "{jobs}", "-d", "{unwritable}/videos"),
    "gallery UNWRITABLE": ("gallery", "{unwritable}"),
    "config in UNWRITABLE": ("config", "set", "region", "china", "@config={unwritable}/c.toml"),
    # a name that is not UTF-8
    "create IMAGE not UTF-8": ("create", "{folder}/caf\udce9.png", "-p", "x"),
    "create -d not UTF-8": ("create", "{image}", "-p", "x", "-d", "{folder}/caf\udce9"),
    "wait -d not UTF-8": ("wait", "t1", "-d", "caf\udce9"),
    "download -d not UTF-8": ("download", "t1", "-d", "caf\udce9"),
    "batch JOBS not UTF-8": ("batch", "{folder}/caf\udce9.jsonl"),
    "open -d not UTF-8": ("open", "t1", "-d", "caf\udce9"),
    "gallery not UTF-8": ("gallery", "caf\udce9"),
    "create --prompt not UTF-8": ("create", "{image}", "-p", "caf\udce9"),
    "get ID not UTF-8": ("get", "caf\udce9"),
}


@pytest.mark.parametrize("case", list(PATH_CASES))
def test_every_path_a_command_takes_is_refused_cleanly_before_anything_is_sent(
    mivid: RunMivid,
    api: EmulatorServer,
    tmp_path: Path,
    case: str,
    request: pytest.FixtureRequest,
) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    image = make_png(folder / "front.png")
    jobs = folder / "jobs.jsonl"
    jobs.write_text('{"images": ["front.png"], "prompt": "waves"}\n')
    afile = folder / "afile"
    afile.write_text("not a folder")
    places = {"{image}": image, "{jobs}": jobs, "{file}": afile, "{folder}": folder}
    if "UNWRITABLE" in case:
        places["{unwritable}"] = request.getfixturevalue("unwritable")
    env: dict[str, str] = {}
    words = []
    for arg in PATH_CASES[case]:
        for name, place in places.items():
            arg = arg.replace(name, str(place))
        if arg.startswith("@config="):
            env["MIVID_CONFIG_FILE"] = arg.removeprefix("@config=")
        else:
            words.append(arg)
    result = mivid(*words, env=env)
    assert result.exit_code == 2, result
    assert len(error_lines(result.stderr)) == 1, result.stderr
    assert "Traceback" not in result.stderr and "bug in mivid" not in result.stderr
    assert api.emulator.received == []


def test_a_file_given_as_the_download_folder_is_refused_before_the_create_naming_the_option(
    mivid: RunMivid, api: EmulatorServer, tmp_path: Path
) -> None:
    image = make_png(tmp_path / "front.png")
    afile = tmp_path / "afile"
    afile.write_text("")
    result = mivid("create", str(image), "-p", "x", "-d", str(afile))
    assert result.exit_code == 2, result
    assert error_lines(result.stderr) == [
        f"error: -d/--download {afile}: exists and is not a folder"
    ]
    assert api.emulator.received == []  # nothing paid for
    assert not default_path().exists()
    old = mivid("download", "t1", "-o", str(afile / "sub"))
    assert error_lines(old.stderr) == [
        f"error: -o/--output {afile / 'sub'}: cannot be made: {afile} is a file, not a folder"
    ]


def test_create_with_nothing_given_names_every_problem_at_once(
    mivid: RunMivid, api: EmulatorServer
) -> None:
    """QA newcomer 3, finding 13: every problem of the command line in one go, nothing sent."""
    result = mivid("create")
    assert result.exit_code == 2, result
    assert result.stderr.splitlines() == [
        "error: --prompt: required — what the video should show",
        "error: no images given — 1 to 4 are required",
    ]
    assert result.stdout == ""
    assert api.emulator.received == []


def test_a_from_the_journal_does_not_know_is_said_with_every_other_problem(
    mivid: RunMivid, api: EmulatorServer
) -> None:
    """`--from ID` naming no create was raised alone, hiding the rest; what it would have
    given (images, prompt) is not reported missing."""
    result = mivid(
        "create", "--from", "nobody-knows", "--mode", "x", "--duration", "7", "--watermarked"
    )
    assert result.exit_code == 2, result
    assert result.stderr.splitlines() == [
        "error: --watermarked: only with --download DIR",
        "error: --from nobody-knows: the journal knows no create of that task id or external id "
        "(only creates sent from this machine can be made again)",
        "error: --mode: `x` is not one of std, pro",
        "error: --duration: `7` is not one of 5, 10",
        "hint: see what it knows: mivid list --local",
    ]
    assert api.emulator.received == []
