"""The error tree: every class in errors.py and drawn there, statuses pinned, errors never edited."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from mivid import errors
from mivid.errors import (
    EXIT_CODE_MEANINGS,
    ApiError,
    CreateOutcomeUnknownError,
    ExitCode,
    InputError,
    MividError,
    StillRunningError,
)

SRC = Path(errors.__file__).resolve().parent


def test_the_exit_statuses_are_pinned() -> None:
    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0,
        "TASK_FAILED": 1,
        "BAD_INPUT": 2,
        "CREDENTIALS": 3,
        "API_REFUSED": 4,
        "SERVICE": 5,
        "WAIT_TIMEOUT": 6,
        "BUG": 70,
        "LOCAL_FILES": 74,
        "INTERRUPTED": 130,
    }
    assert set(EXIT_CODE_MEANINGS) == set(ExitCode)  # help, man page and README list each


def test_every_error_class_lives_in_errors_py_and_is_drawn_in_its_tree() -> None:
    """No module but errors.py defines an error a person sees (a MividError or an Exception
    that is not a module's private signal, like images._DecodeError)."""
    public = {name for name, value in vars(errors).items() if inspect.isclass(value)}
    defined_elsewhere = []
    for path in SRC.rglob("*.py"):
        if path.name == "errors.py" or "sandbox" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {base.id for base in node.bases if isinstance(base, ast.Name)}
            private_signal = node.name.startswith("_") and not bases & public
            if (bases & public or "Exception" in bases) and not private_signal:
                defined_elsewhere.append(f"{path.relative_to(SRC)}:{node.name}")
    assert defined_elsewhere == []
    tree = errors.__doc__ or ""
    classes = [
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, MividError) and not name.startswith("_")
    ]
    assert len(classes) >= 14
    assert all(name in tree for name in classes), [n for n in classes if n not in tree]


@pytest.mark.parametrize(
    "error",
    [
        ApiError("refused", hint="check it", code=1201, request_id="r1", http_status=400),
        CreateOutcomeUnknownError("lost", external_task_id="x-1"),
        StillRunningError("gave up", tasks={"t": None}, pending=["t"]),
        InputError(["--mode: bad", "a.png: no such file"]),
    ],
)
def test_with_context_makes_a_new_error_and_leaves_the_raised_one(error: MividError) -> None:
    before = (error.message, error.hint, str(error), error.lines())
    framed = error.with_context(prefix="region global: ", suffix=" — from $KLING_API_KEY", hint="h")
    assert (error.message, error.hint, str(error), error.lines()) == before
    assert type(framed) is type(error) and framed is not error
    assert framed.message == f"region global: {error.message} — from $KLING_API_KEY"
    assert str(framed) == framed.message
    assert framed.hint == "h"
    assert (framed.code, framed.request_id, framed.exit_code) == (
        error.code,
        error.request_id,
        error.exit_code,
    )


def test_only_a_global_debug_shows_a_traceback(tmp_path: Path) -> None:
    """`--debug` as an option's value is a value (the fuzz test found `--mode --debug` raising)."""
    import io

    from imagefactory import make_png
    from mivid.app import Streams
    from mivid.cli import global_flags, run

    assert global_flags(["--profile", "--debug", "list"]) == {"--profile"}
    assert global_flags(["--debug", "--no-color", "create", "--debug"]) == {"--debug", "--no-color"}
    image = make_png(tmp_path / "a.png")
    stderr = io.StringIO()
    code = run(
        ["create", str(image), "--prompt", "waves", "--mode", "--debug", "--dry-run"],
        streams=Streams(io.StringIO(), io.StringIO(), stderr),
    )
    assert code == ExitCode.BAD_INPUT
    assert "--mode: `--debug` is not one of std, pro" in stderr.getvalue()
    assert "Traceback" not in stderr.getvalue()
