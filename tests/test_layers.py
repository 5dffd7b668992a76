"""The layer rules, checked by walking every module's imports (no dependency needed).

sandbox     imports nothing of mivid outside mivid.sandbox (it is written from the contract)
core        imports no typer, no rich and no command (everything but the CLI layer and render)
commands    no command module imports another (shared helpers: options, picker, following)
rich        imported by the rendering layer (mivid.render) alone
forms       the CLI layer never decides a result's form (`Form.JSON`, `if json_output`):
            `Output.form` picks it and the rendering layer acts on it, so a new form
            is one change in mivid.render
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "mivid"
#: The CLI layer: Typer, the global options, the commands and their helpers.
CLI_LAYER = ("mivid.cli", "mivid.__main__", "mivid.app", "mivid.coercion", "mivid.commands")
RENDER_LAYER = ("mivid.render",)
#: Modules under commands/ that are helpers of several commands, not commands.
COMMAND_HELPERS = {"mivid.commands.options", "mivid.commands.picker", "mivid.commands.following"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(path): imports(path) for path in sorted(SRC.rglob("*.py"))}


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def command_module(name: str) -> str | None:
    """The command module `name` is (or is a name in), or None: `mivid.commands.create`."""
    parts = name.split(".")
    if len(parts) < 3 or parts[:2] != ["mivid", "commands"]:
        return None
    module = ".".join(parts[:3])
    return None if module in COMMAND_HELPERS else module


def is_command(name: str) -> bool:
    return command_module(name) == name


def test_the_walk_sees_every_layer() -> None:
    assert {"mivid.sandbox.app", "mivid.client", "mivid.commands.create", "mivid.render"} <= set(
        MODULES
    )


def violations(names: list[str], wrong: Callable[[str, str], bool]) -> dict[str, list[str]]:
    """Module → the imports of it that break a rule."""
    found = {name: sorted(m for m in MODULES[name] if wrong(name, m)) for name in names}
    return {name: bad for name, bad in found.items() if bad}


def test_the_sandbox_imports_nothing_else_of_mivid() -> None:
    sandbox = [n for n in MODULES if n.startswith("mivid.sandbox")]
    assert not violations(
        sandbox,
        lambda _name, m: within(m, ("mivid",)) and not within(m, ("mivid.sandbox",)),
    ), "the emulator shares nothing with the client"


def test_the_core_imports_no_typer_rich_or_commands() -> None:
    core = [
        n
        for n in MODULES
        if not within(n, CLI_LAYER + RENDER_LAYER) and not n.startswith("mivid.sandbox")
    ]
    forbidden = ("typer", "click", "rich", "mivid.commands", "mivid.app", "mivid.cli")
    assert not violations(core, lambda _name, m: within(m, forbidden))


def test_no_command_imports_another() -> None:
    commands = [n for n in MODULES if is_command(n)]
    assert len(commands) >= 9
    assert not violations(commands, lambda name, m: command_module(m) not in (None, name))


def test_only_the_rendering_layer_imports_rich() -> None:
    others = [n for n in MODULES if not within(n, RENDER_LAYER)]
    assert not violations(others, lambda _name, m: within(m, ("rich",)))


#: Functions of the CLI layer that read --json/-q to refuse a usage, not to pick a form.
USAGE_CHECKS = {"form_problems", "_watch_problems"}
FORM_FLAGS = {"json_output", "quiet"}


def form_decisions(path: Path) -> list[str]:
    """Where a module of the CLI layer names a form or tests --json/-q itself."""
    found: list[str] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "Form"  # Form.JSON, Form.TABLE …: a choice made here
        ):
            found.append(f"{function}:{node.lineno} Form.{node.attr}")
        if isinstance(node, ast.If | ast.IfExp | ast.While) and function not in USAGE_CHECKS:
            tested = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
            found.extend(f"{function}:{node.lineno} tests {name}" for name in tested & FORM_FLAGS)
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(path.read_text(), str(path)), "<module>")
    return found


@pytest.mark.parametrize(
    "path",
    [*sorted((SRC / "commands").glob("*.py")), SRC / "app.py", SRC / "cli.py"],
    ids=lambda path: path.name,
)
def test_the_cli_layer_leaves_the_form_of_results_to_render(path: Path) -> None:
    assert not form_decisions(path)


def test_the_form_rule_sees_a_decision(tmp_path: Path) -> None:
    """The rule above is not vacuous: it finds both kinds of decision."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def show(out, json_output):\n"
        "    if json_output:\n"
        "        out.json([])\n"
        "    return Form.TABLE\n"
    )
    assert form_decisions(sample) == ["show:2 tests json_output", "show:4 Form.TABLE"]


def test_settings_is_the_only_reader_of_the_environment() -> None:
    readers = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if not module_name(path).startswith("mivid.sandbox")
        and ("os.environ" in path.read_text() or "getenv(" in path.read_text())
    )
    assert readers == ["settings.py"]


#: A command body parses, calls a flow and renders: it stays short (Typer's
#: option declarations, being data, do not count; the docstring is the help).
LONGEST_COMMAND_BODY = 60


def body_lines(function: ast.FunctionDef) -> int:
    """Lines of a function's statements, its docstring left out."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if not body:
        return 0
    last = body[-1].end_lineno or body[-1].lineno
    return last - body[0].lineno + 1


@pytest.mark.parametrize(
    "path", sorted((SRC / "commands").glob("*.py")), ids=lambda path: path.name
)
def test_command_functions_are_short(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    long = {
        node.name: body_lines(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and body_lines(node) >= LONGEST_COMMAND_BODY
    }
    assert not long, f"{path.name}: functions of {LONGEST_COMMAND_BODY}+ lines: {long}"
