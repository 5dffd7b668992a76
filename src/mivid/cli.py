"""The command line's entry point: the one place where errors become messages and exit statuses.

`mivid --version` is answered before Typer is even imported, so scripts that
probe for mivid pay only for the interpreter. `--debug` shows the traceback
before the error's own lines; the exit status stays the error's.

`run(args, streams=…, transport=…, clock=…, environ=…)` is the seam tests use:
the whole command line in this process, with its own streams, the emulator as
the network and a clock that does not really sleep.
"""

from __future__ import annotations

import functools
import os
import sys

# Not `typing.TYPE_CHECKING`: importing typing (or collections.abc) costs
# `mivid --version` a quarter of its time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    import httpx

    from mivid.app import Runtime, Streams
    from mivid.auth import Secrets
    from mivid.clock import Clock
    from mivid.errors import MividError

# The command modules, imported for the commands they register on the app.
COMMAND_MODULES = (
    *("create", "sandbox", "config", "tasks", "wait", "download", "recover", "batch"),
    *("open", "gallery", "spent", "account", "models", "completion"),
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


@functools.lru_cache(maxsize=1)
def load_command() -> Any:
    """The click command tree mivid runs: plain coercion, plain help (the scripts read it too).

    Built once a process (Typer reads every command's signature and type hints: tens of
    ms): a process that runs several command lines (the tests, in process) reuses it;
    click makes a fresh context for each run.
    """
    import typer.main

    from mivid.app import plain_help
    from mivid.coercion import use_plain_coercion

    command = typer.main.get_command(load_app())  # type: ignore[arg-type]
    use_plain_coercion(command)  # keeps pydantic out of scripted runs
    plain_help(command)
    return command


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
        # Progress, notes and errors are for a person: a stderr that cannot take them (closed,
        # /dev/full, a reader gone) costs them, never the results, the work or the status.
        stack.enter_context(redirect_stderr(_Messages(sys.stderr)))
        runtime = Runtime()
        if transport is not None:
            runtime.transport = transport
        if clock is not None:
            runtime.clock = clock
        if environ is not None:
            runtime.environ = environ
        from mivid import hints

        stack.enter_context(hints.scope())  # the run's global options, for the commands it hints
        return _run(args, runtime)
    raise AssertionError("unreachable")  # pragma: no cover - ExitStack does not swallow


def _run(args: list[str], runtime: Runtime) -> int:
    from mivid.errors import ExitCode, MividError
    from mivid.render import Output
    from mivid.settings import no_color

    flags = global_flags(args)
    debug = "--debug" in flags
    plain = "--no-color" in flags or no_color(runtime.environ)
    path = "mivid"
    try:
        from mivid.app import command_path, hoist_global_options

        command = load_command()
        args = hoist_global_options(command, args)
        path = command_path(command, args)
        flags = global_flags(args)  # with those written after the command
        debug = "--debug" in flags
        plain = "--no-color" in flags or no_color(runtime.environ)
        _refuse_bytes_that_are_not_utf8(args)
        result = command.main(args=args, prog_name="mivid", standalone_mode=False, obj=runtime)
        _flush_results()  # a full disk under stdout is said here, not lost at exit
        if result == ExitCode.INTERRUPTED:
            # Typer turns Ctrl-C inside a command into a silent exit 130; say so.
            sys.stderr.write("interrupted\n")
        return result if isinstance(result, int) else 0
    except MividError as error:
        if debug:
            _show_traceback(error, runtime.secrets)
        Output(no_color=plain, secrets=runtime.secrets).error(error)
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
        handled = _parser_exit_status(
            error, no_color=plain, command_path=path, secrets=runtime.secrets
        )
        if handled is not None:
            return handled
        if debug:
            _show_traceback(error, runtime.secrets)
        environmental = _from_environment(error)
        if environmental is not None:
            Output(no_color=plain, secrets=runtime.secrets).error(environmental)
            return int(environmental.exit_code)
        Output(no_color=plain, secrets=runtime.secrets).error(
            MividError(
                f"unexpected {type(error).__name__}: {error}",
                hint="this is a bug in mivid; run again with --debug and report the traceback",
            )
        )
        return int(ExitCode.BUG)


class _Messages:
    """stderr, whose failed writes are dropped: the first failure sends the rest nowhere."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream  # None: Python found file descriptor 2 closed at start
        self.lost = stream is None

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                return int(self._stream.write(text))
            except (OSError, ValueError):  # ValueError: a stream closed under us
                self._lose()
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._lose()

    def isatty(self) -> bool:
        if self.lost:
            return False
        try:
            return bool(self._stream.isatty())
        except (OSError, ValueError):
            return False

    def _lose(self) -> None:
        from mivid.render.output import to_nowhere

        self.lost = True
        to_nowhere(self._stream)  # what it still buffers must not fail again when Python exits

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


def _show_traceback(error: BaseException, secrets: Secrets) -> None:
    """`--debug`: the traceback on stderr, before the error's own lines (and exit status):
    a script that adds --debug to look closer still reads the same status. No secret in it."""
    import traceback

    text = "".join(traceback.format_exception(error))
    sys.stderr.write(secrets.scrub(text))
    sys.stderr.flush()


def _refuse_bytes_that_are_not_utf8(args: Sequence[str]) -> None:
    """Every word of the command line must be UTF-8: names, prompts and ids are kept as such.

    Python hands bytes that are not UTF-8 over as lone surrogates, which the
    journal, the sidecars and JSON cannot hold: each such word is a usage
    error (exit 2), named with the option before it.
    """
    from mivid.errors import InputError
    from mivid.plaintext import visible

    problems = []
    for index, word in enumerate(args):
        if not any("\ud800" <= char <= "\udfff" for char in word):
            continue
        before = args[index - 1] if index else ""
        if word.startswith("-") and "=" in word:
            option, _, value = word.partition("=")
            subject = f"{option} `{visible(value)}`"
        elif before.startswith("-") and not word.startswith("-"):
            subject = f"{before} `{visible(word)}`"
        else:
            subject = f"`{visible(word)}`"
        problems.append(
            f"{subject}: not valid UTF-8 (mivid keeps names, prompts and ids as UTF-8: "
            "rename the file or fix the text)"
        )
    if problems:
        raise InputError(problems)


def _from_environment(error: Exception) -> MividError | None:
    """What the machine or the network did, as mivid's error: never exit 70 for those.

    An OSError that no command caught (a full disk, a read-only folder, a file too
    large) is a LocalFileError (exit 74); an httpx error (a redirect loop, a broken
    gzip body, an invalid URL in an answer) a ServiceError (exit 5).
    """
    from mivid.errors import local_file_error

    if isinstance(error, OSError):
        return local_file_error(error)
    if "httpx" in sys.modules:  # only then can an httpx error have been raised
        from mivid.client import network_failure

        return network_failure(error)
    return None


def _flush_results() -> None:
    """Flush stdout; a write that fails (stdout on /dev/full) is a LocalFileError."""
    from mivid.errors import local_file_error

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        _silence_stdout()  # what is left must not fail again when Python exits
        raise local_file_error(exc, what="stdout (the results)") from exc


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


def _parser_exit_status(
    error: Exception, *, no_color: bool, command_path: str, secrets: Secrets
) -> int | None:
    """Usage errors, --help exits and aborts from Typer's parser, as exit statuses."""
    from typer import Abort, Exit
    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    from mivid.errors import ExitCode

    if isinstance(error, Exit):
        return error.exit_code
    if isinstance(error, Abort):
        sys.stderr.write("interrupted\n")
        return int(ExitCode.INTERRUPTED)
    if isinstance(error, NoArgsIsHelpError):
        # `mivid`, `mivid config`, `mivid sandbox` alone: the group's help, as `git` and `gh` do.
        sys.stdout.write(error.ctx.get_help() + "\n")
        return int(ExitCode.OK)
    if isinstance(error, ClickException):
        # The parser's own errors read like mivid's: `error: --page: `x` — must be …`.
        from typer._click.exceptions import UsageError

        from mivid.errors import MividError
        from mivid.render import Output

        context = error.ctx if isinstance(error, UsageError) else None
        path = context.command_path if context is not None else command_path
        hint = f"see '{path} --help'"
        Output(no_color=no_color, secrets=secrets).error(
            MividError(usage_message(error), hint=hint)
        )
        return error.exit_code
    return None


def usage_message(error: Exception) -> str:
    """A parser error in mivid's words: the option or argument, the value, the rule."""
    from typer._click.exceptions import (
        BadOptionUsage,
        BadParameter,
        ClickException,
        MissingParameter,
        NoSuchOption,
    )

    if isinstance(error, MissingParameter):
        return f"{_parameter_name(error.param)}: required"
    if isinstance(error, BadParameter):
        name = _parameter_name(error.param) if error.param is not None else "value"
        return f"{name}: {error.message.rstrip('.')}"
    if isinstance(error, NoSuchOption):
        context = error.ctx
        where = f" of `{context.command_path}`" if context is not None else ""
        text = f"{error.option_name}: no such option{where}"
        if error.possibilities:
            import difflib

            names = sorted(error.possibilities)
            best = difflib.get_close_matches(error.option_name, names, n=1) or names
            text += f" (did you mean {' or '.join(best)}?)"
        return text
    if isinstance(error, BadOptionUsage):
        if "requires an argument" in error.message:
            return f"{error.option_name}: needs a value"
        return f"{error.option_name}: {_sentence(error.message)}"
    if isinstance(error, ClickException):
        return _command_suggestion(error) or _sentence(error.format_message())
    return str(error)


def _parameter_name(param: object) -> str:
    """`--page` for an option (its long name), `JOBS` for an argument."""
    names = [name for name in getattr(param, "opts", []) if name.startswith("--")]
    if names:
        return str(names[0])
    metavar = getattr(param, "metavar", None) or getattr(param, "name", None) or "value"
    return str(metavar).upper()


def _sentence(text: str) -> str:
    """Click's `Option '--x' requires an argument.` as mivid says things: lower case, no stop."""
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:]


def _command_suggestion(error: Exception) -> str | None:
    """`No such command 'lst'.` → "`lst`: no such command of `mivid` (did you mean `list`?)"."""
    import difflib
    import re

    context = getattr(error, "ctx", None)
    match = re.match(r"No such command '(.*)'\.", getattr(error, "message", ""), re.DOTALL)
    if match is None or context is None:
        return None
    word = match.group(1)
    names = [name for name, sub in context.command.commands.items() if not sub.hidden]
    close = difflib.get_close_matches(word, names, n=1)
    text = f"`{word}`: no such command of `{context.command_path}`"
    if close:
        text += f" (did you mean `{close[0]}`?)"
    return text


def _silence_stdout() -> None:
    # A reader such as `head` went away: send the rest of our output nowhere so
    # the interpreter's final flush does not complain.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
