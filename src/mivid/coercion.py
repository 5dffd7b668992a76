"""Plain coercion of command-line values, so a command does not import pydantic.

Typer (0.2x) turns every parameter's text into its Python type through a
pydantic `TypeAdapter`, built when the parameter is first processed — even
for a plain `str` option left at its default, or the `--help` flag. Importing
pydantic and building the adapters costs about as much as the whole HTTP call
of a scripted `mivid list --json`, so for the simple types mivid's options use
(`str`, `int`, `float`, `bool`, and lists of them) `use_plain_coercion` hands
Typer a small coercer instead. Anything else — another annotation, a value of
an unexpected type, a Typer whose internals look different — goes to Typer's
own coercion: slower, never wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_CONVERTERS: dict[Any, tuple[Callable[[Any], Any], str]] = {
    str: (str, "text"),
    int: (int, "integer"),
    float: (float, "number"),
}


def use_plain_coercion(command: Any) -> None:
    """Give each simple parameter of `command` and its subcommands a pydantic-free coercer."""
    try:
        from typer._click import Context
        from typer._coercion import RuntimeParam, build_runtime_param
        from typer._typing import get_args, get_origin
        from typer.core import _TyperParameter
    except ImportError:  # a Typer without these internals keeps its own coercion
        return

    def item_type(annotation: Any) -> Any:
        """`T` for `T` or `list[T]` when T is plain, else None."""
        if get_origin(annotation) is list:
            args = get_args(annotation)
            annotation = args[0] if len(args) == 1 else None
        return annotation if annotation in _CONVERTERS or annotation is bool else None

    class PlainRuntimeParam(RuntimeParam):
        """str/int/float/bool (or a list of one), as int() or str() would read them."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            annotation: Any = self.annotation
            kind = item_type(annotation)
            if get_origin(annotation) is list and isinstance(value, (list, tuple)):
                return [self._one(kind, item, param, ctx) for item in value]
            return self._one(kind, value, param, ctx)

        def _one(self, kind: Any, value: Any, param: Any, ctx: Any) -> Any:
            if kind is bool and isinstance(value, bool):
                return value
            plain = isinstance(value, (str, int, float)) and not isinstance(value, bool)
            if kind in _CONVERTERS and plain:
                convert, label = _CONVERTERS[kind]
                try:
                    return convert(value)
                except ValueError:
                    from typer import BadParameter

                    raise BadParameter(
                        f"{value!r} is not a valid {label}.", ctx=ctx, param=param
                    ) from None
            # Text for a bool flag (from an environment variable), or anything unusual.
            typer_own = build_runtime_param(param.type_descriptor)
            return typer_own._coerce_value(value, param=param, ctx=ctx)

    def install(param: Any) -> None:
        descriptor = getattr(param, "type_descriptor", None)
        if not isinstance(param, _TyperParameter) or descriptor is None:
            return
        info = descriptor.parameter_info
        special = (
            info.min is not None
            or info.max is not None
            or info.parser is not None
            or descriptor.is_choice
            or descriptor.is_file
            or descriptor.is_path
        )
        if special or item_type(descriptor.annotation) is None:
            return
        if getattr(param, "_runtime_param", ...) is None:
            param._runtime_param = PlainRuntimeParam(
                parameter_info=info, annotation=descriptor.annotation
            )

    help_names = (getattr(command, "context_settings", None) or {}).get("help_option_names")

    def visit(node: Any) -> None:
        for param in getattr(node, "params", ()):
            install(param)
        # The help flag is made (and cached) per command on first use.
        install(node.get_help_option(Context(node, help_option_names=help_names)))
        for sub in getattr(node, "commands", {}).values():
            visit(sub)

    visit(command)
