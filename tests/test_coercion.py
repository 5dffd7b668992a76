"""mivid.coercion: plain options coerced without pydantic, everything else as Typer would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from hypothesis import given
from hypothesis import strategies as st
from typer import BadParameter

from mivid.cli import load_command
from mivid.coercion import use_plain_coercion


def make_command(seen: dict[str, Any]) -> Any:
    app = typer.Typer()

    @app.command()
    def probe(
        name: str = typer.Option("anon", "--name"),
        count: int = typer.Option(1, "--count"),
        ratio: float = typer.Option(0.5, "--ratio"),
        tags: list[str] | None = typer.Option(None, "--tag"),
        limit: int = typer.Option(1, "--limit", min=1),
        out: Path | None = typer.Option(None, "--out"),
        flag: bool = typer.Option(False, "--flag"),
    ) -> None:
        seen.update(name=name, count=count, ratio=ratio, tags=tags, limit=limit, out=out, flag=flag)

    @app.command()
    def other() -> None:  # a second command, so `probe` is a subcommand as in mivid
        pass

    return typer.main.get_command(app)


def invoke(*args: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    command = make_command(seen)
    use_plain_coercion(command)
    command.main(args=["probe", *args], prog_name="probe", standalone_mode=False)
    return seen


def test_defaults_and_plain_values_keep_their_types() -> None:
    assert invoke() == {
        "name": "anon",
        "count": 1,
        "ratio": 0.5,
        "tags": None,
        "limit": 1,
        "out": None,
        "flag": False,
    }
    seen = invoke("--name", "x", "--count", "7", "--ratio", "2.5", "--tag", "a", "--tag", "b")
    assert (seen["name"], seen["count"], seen["ratio"], seen["tags"]) == ("x", 7, 2.5, ["a", "b"])
    assert type(seen["count"]) is int and type(seen["ratio"]) is float


def test_other_kinds_get_typers_own_coercion() -> None:
    seen = invoke("--out", "videos", "--limit", "3", "--flag")
    assert seen["out"] == Path("videos") and isinstance(seen["out"], Path)
    assert seen["limit"] == 3 and seen["flag"] is True
    with pytest.raises(BadParameter, match="greater than or equal to 1"):
        invoke("--limit", "0")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "many"], "many — must be a whole number"),
        (["--count", "1.5"], "1.5 — must be a whole number"),
        (["--ratio", "half"], "half — must be a number"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_value(args: list[str], message: str) -> None:
    with pytest.raises(BadParameter, match=message):
        invoke(*args)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_any_integer_text_reads_back(number: int) -> None:
    assert invoke("--count", str(number))["count"] == number


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param(("typer.core", "_TyperParameter", "not a class"), id="renamed-class"),
        pytest.param(("typer._coercion", "RuntimeParam", None), id="changed-base"),
    ],
)
def test_a_changed_typer_internal_leaves_typers_own_coercion(
    breakage: tuple[str, str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib
    import io
    import json

    from imagefactory import make_png
    from mivid.app import Streams
    from mivid.cli import run

    module, name, value = breakage
    monkeypatch.setattr(importlib.import_module(module), name, value)
    # The hook itself says it stood back (nothing half-installed) …
    assert use_plain_coercion(make_command({})) is False
    # … and commands still parse and coerce their options, on a command tree built now, with
    # the changed internal (the process's tree, built by earlier tests, has the hook in it).
    load_command.cache_clear()
    try:
        image = make_png(tmp_path / "a.png")
        stdout, stderr = io.StringIO(), io.StringIO()
        code = run(
            ["--sandbox", "create", str(image), "-p", "waves", "--duration", "10", "--dry-run"],
            streams=Streams(io.StringIO(), stdout, stderr),
        )
        assert code == 0, stderr.getvalue()
        assert json.loads(stdout.getvalue())["duration"] == "10"
        refused = run(["list", "--page", "abc"], streams=Streams(io.StringIO(), stdout, stderr))
        assert refused == 2
        assert "--page" in stderr.getvalue()
        # Those runs went through Typer's own coercion: the tree they ran holds no plain coercer.
        assert load_command.cache_info().misses == 1
        assert not [param for param in params_of(load_command()) if plainly_coerced(param)]
    finally:
        load_command.cache_clear()  # the next test builds a tree with Typer as it is


def params_of(command: Any) -> list[Any]:
    """Every parameter of `command` and its subcommands."""
    found = list(getattr(command, "params", ()))
    for sub in getattr(command, "commands", {}).values():
        found += params_of(sub)
    return found


def plainly_coerced(param: Any) -> bool:
    return type(getattr(param, "_runtime_param", None)).__name__ == "PlainRuntimeParam"


def test_the_command_tree_mivid_runs_has_the_plain_coercers() -> None:
    """The check above means something: on this Typer, mivid's tree is built with the hook."""
    load_command.cache_clear()
    try:
        assert [param for param in params_of(load_command()) if plainly_coerced(param)]
    finally:
        load_command.cache_clear()
