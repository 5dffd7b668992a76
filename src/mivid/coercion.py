"""Plain coercion of command-line values, so a command does not import pydantic.

Typer (0.2x) turns every parameter's text into its Python type through a
pydantic `TypeAdapter`, built when the parameter is first processed — even
for a plain `str` option left at its default, or the `--help` flag. Importing
pydantic and building the adapters costs about as much as the whole HTTP call
of a scripted `mivid list --json`, so for the simple types mivid's options use
(`str`, `int`, `float`, `bool`, and lists of them) `use_plain_coercion` hands
Typer a small coercer instead, and builds Typer's own only for a parameter of
another kind (a `Path`, a bounded `int`) that is actually given a value. A
value of an unexpected type, or a Typer whose internals look different, also
goes to Typer's own coercion: slower, never wrong. Anything at all that fails
while installing (not only a missing import: a renamed class, a changed
signature) undoes what was installed and leaves Typer's coercion in place;
pyproject.toml bounds Typer to the versions this is tested with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

_CONVERTERS: dict[Any, tuple[Callable[[Any], Any], str]] = {
    str: (str, "text"),
    int: (int, "a whole number"),
    float: (float, "a number"),
}


def use_plain_coercion(command: Any) -> bool:
    """Give every parameter of `command` and its subcommands a pydantic-free coercer.

    Parameters of a simple type are coerced here; any other one (a `Path`, a
    bounded `int`) gets Typer's own coercer, built only when a value arrives.
    Returns False (Typer's own coercion everywhere) when this Typer's internals
    are not the ones expected.
    """
    installed: list[Any] = []
    try:
        _install(command, installed)
    except Exception:  # a changed Typer internal: undo, and let Typer coerce as it does
        for param in installed:
            param._runtime_param = None
        return False
    return True


def _install(command: Any, installed: list[Any]) -> None:
    """Put a `PlainRuntimeParam` on every fresh Typer parameter; note each in `installed`."""
    try:
        from typer._click import Context
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._typing import get_args, get_origin
        from typer.core import _TyperParameter
    except ImportError:  # a Typer without these internals keeps its own coercion
        raise RuntimeError("typer internals not found") from None

    def plain_kind(descriptor: Any) -> Any:
        """`T` when the parameter is a `T` or `list[T]` of a plain type, unconstrained; else None."""
        info = descriptor.parameter_info
        if (
            info.min is not None
            or info.max is not None
            or info.parser is not None
            or descriptor.is_choice
            or descriptor.is_file
            or descriptor.is_path
        ):
            return None
        annotation = descriptor.annotation
        if get_origin(annotation) is list:
            args = get_args(annotation)
            annotation = args[0] if len(args) == 1 else None
        return annotation if annotation in _CONVERTERS or annotation is bool else None

    class PlainRuntimeParam(RuntimeParam):
        """str/int/float/bool (or a list of one) as int() or str() read them; else Typer's."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                kind = plain_kind(param.type_descriptor)
            except Exception:  # the descriptor looks different: Typer's own coercion
                kind = None
            annotation: Any = self.annotation
            if kind is not None:
                if get_origin(annotation) is list and isinstance(value, (list, tuple)):
                    return [_plain(kind, item, param, ctx) for item in value]
                coerced = _plain(kind, value, param, ctx)
                if coerced is not _UNUSUAL:
                    return coerced
            # Text for a bool flag (from an environment variable), a Path, a bounded
            # number…: Typer's own coercer, from now on for this parameter.
            param._runtime_param = build_runtime_param(param.type_descriptor)
            return param._runtime_param._coerce_value(value, param=param, ctx=ctx)

    def install(param: Any) -> None:
        descriptor = getattr(param, "type_descriptor", None)
        fresh = getattr(param, "_runtime_param", ...) is None
        if isinstance(param, _TyperParameter) and descriptor is not None and fresh:
            param._runtime_param = PlainRuntimeParam(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
            )
            installed.append(param)

    help_names = (getattr(command, "context_settings", None) or {}).get("help_option_names")

    def visit(node: Any) -> None:
        for param in getattr(node, "params", ()):
            install(param)
        # The help flag is made (and cached) per command on first use.
        install(node.get_help_option(Context(node, help_option_names=help_names)))
        for sub in getattr(node, "commands", {}).values():
            visit(sub)

    visit(command)


_UNUSUAL = object()


def _plain(kind: Any, value: Any, param: Any, ctx: Any) -> Any:
    """`value` as a `kind`, a usage error when it cannot be one, or _UNUSUAL."""
    if kind is bool:
        return value if isinstance(value, bool) else _UNUSUAL
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return _UNUSUAL
    convert, label = _CONVERTERS[kind]
    try:
        converted = convert(value)
        # float() reads "nan" and "inf", which pass or defeat every range check
        # (`wait --timeout nan` waited for ever): no option of mivid means either.
        if isinstance(converted, float) and not math.isfinite(converted):
            raise ValueError(value)
        return converted
    except ValueError:
        from typer import BadParameter

        # Worded as mivid's own checks are (`--timeout: -5 — must not be negative`).
        raise BadParameter(f"{value} — must be {label}", ctx=ctx, param=param) from None
