"""The command line's entry point: the one place where errors become messages and exit statuses.

`mivid --version` is answered before Typer is even imported, so scripts that
probe for mivid pay only for the interpreter. `--debug` re-raises instead of
printing, to show the traceback.

`run(args, streams=…, transport=…, clock=…, environ=…)` is the seam tests use:
the whole command line in this process, with its own streams, the emulator as
the network and a clock that does not really sleep.
"""

from __future__ import annotations

import os
import sys

# Not `typing.TYPE_CHECKING`: importing typing (or collections.abc) costs
# `mivid --version` a quarter of its time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import httpx

    from mivid.app import Runtime, Streams
    from mivid.clock import Clock

# The command modules, imported for the commands they register on the app.
COMMAND_MODULES = (
    *("create", "sandbox", "config", "tasks", "wait", "download", "recover", "batch"),
    *("open", "gallery", "spent"),
)


def main(argv: Sequence[str] | None = None) -> None:
    """Run mivid and exit with its status (see mivid.errors.ExitCode)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        from mivid import __version__

        sys.stdout.write(f"mivid {__version__}\n")
        return
    sys.exit(run(args))


def load_app() -> object:
    """The Typer app with every command registered."""
    import importlib

    from mivid.app import app

    for name in COMMAND_MODULES:
        importlib.import_module(f"mivid.commands.{name}")
    return app


def run(
    args: list[str],
    *,
    streams: Streams | None = None,
    transport: httpx.BaseTransport | None = None,
    clock: Clock | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run one command line; return its exit status.

    `streams` replace stdin, stdout and stderr for the run (the parser's own
    help and usage lines included), `transport` carries every HTTP request,
    `clock` times every wait, `environ` stands for the process environment.
    """
    from contextlib import ExitStack, redirect_stderr, redirect_stdout

    from mivid.app import Runtime

    with ExitStack() as stack:
        if streams is not None:
            stack.enter_context(redirect_stdout(streams.stdout))
            stack.enter_context(redirect_stderr(streams.stderr))
            stack.enter_context(_stdin(streams.stdin))
        runtime = Runtime()
        if transport is not None:
            runtime.transport = transport
        if clock is not None:
            runtime.clock = clock
        if environ is not None:
            runtime.environ = environ
        return _run(args, runtime)
    raise AssertionError("unreachable")  # pragma: no cover - ExitStack does not swallow


def _run(args: list[str], runtime: Runtime) -> int:
    from mivid.errors import ExitCode, MividError
    from mivid.render import Output
    from mivid.settings import no_color

    flags = global_flags(args)
    debug = "--debug" in flags
    plain = "--no-color" in flags or no_color(runtime.environ)
    try:
        import typer.main

        from mivid.coercion import use_plain_coercion

        app = load_app()
        command = typer.main.get_command(app)  # type: ignore[arg-type]
        use_plain_coercion(command)  # keeps pydantic out of scripted runs
        result = command.main(args=args, prog_name="mivid", standalone_mode=False, obj=runtime)
        if result == ExitCode.INTERRUPTED:
            # Typer turns Ctrl-C inside a command into a silent exit 130; say so.
            sys.stderr.write("interrupted\n")
        return result if isinstance(result, int) else 0
    except MividError as error:
        if debug:
            raise
        Output(no_color=plain).error(error)
        return int(error.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        _silence_stdout()
        return int(ExitCode.OK)
    except SystemExit:
        # Typer meets a closed stdout (EPIPE) with exit(1) after wrapping the
        # streams; a reader that went away (`| head`) is no failure of mivid.
        if type(sys.stdout).__name__ == "PacifyFlushWrapper":
            _silence_stdout()
            return int(ExitCode.OK)
        raise
    except Exception as error:
        handled = _parser_exit_status(error, no_color=plain)
        if handled is not None:
            return handled
        if debug:
            raise
        Output(no_color=plain).error(
            MividError(
                f"unexpected {type(error).__name__}: {error}",
                hint="this is a bug in mivid; run again with --debug and report the traceback",
            )
        )
        return int(ExitCode.BUG)


#: Global options that take a value (so the word after one is not a flag or the command).
_VALUED_GLOBALS = ("--region", "--base-url", "--profile")


def global_flags(args: Sequence[str]) -> set[str]:
    """The global options given before the command (`--debug`, `--no-color` …).

    Read before Typer parses, for the error boundary: a value that happens to be
    `--debug` (`create --mode --debug`) is not the flag.
    """
    flags: set[str] = set()
    words = iter(args)
    for word in words:
        if not word.startswith("-") or word == "-":
            break
        flags.add(word.split("=", 1)[0])
        if word in _VALUED_GLOBALS:
            next(words, None)
    return flags


class _stdin:  # noqa: N801 - used like contextlib's redirect_* helpers
    """Replace sys.stdin for the run (contextlib has no redirect_stdin)."""

    def __init__(self, stream: object) -> None:
        self.stream = stream
        self.saved: object = None

    def __enter__(self) -> None:
        self.saved, sys.stdin = sys.stdin, self.stream

    def __exit__(self, *exc: object) -> None:
        sys.stdin = self.saved


def _parser_exit_status(error: Exception, *, no_color: bool) -> int | None:
    """Usage errors, --help exits and aborts from Typer's parser, as exit statuses."""
    from typer import Abort, Exit
    from typer._click.exceptions import ClickException

    from mivid.errors import ExitCode

    if isinstance(error, Exit):
        return error.exit_code
    if isinstance(error, Abort):
        sys.stderr.write("interrupted\n")
        return int(ExitCode.INTERRUPTED)
    if isinstance(error, ClickException):
        # The parser's own errors read like mivid's: the usage line, then `error: …`.
        from typer._click.exceptions import UsageError

        from mivid.errors import MividError
        from mivid.render import Output

        context = error.ctx if isinstance(error, UsageError) else None
        if context is not None:
            sys.stderr.write(f"{context.get_usage()}\n")
            hint = f"see '{context.command_path} --help'"
        else:
            hint = None
        Output(no_color=no_color).error(MividError(error.format_message(), hint=hint))
        return error.exit_code
    return None


def _silence_stdout() -> None:
    # A reader such as `head` went away: send the rest of our output nowhere so
    # the interpreter's final flush does not complain.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
