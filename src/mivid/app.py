"""The Typer application: global options and the state every command shares.

Global options go before the command (`mivid --sandbox create …`), or anywhere
after it as gh takes them (`mivid list --sandbox`: `hoist_global_options` moves
them in front before the parser sees them); each command's own options after it. Commands live in `mivid.commands.*`, each a
thin function: parse → call the core → render. This module stays light to
import: heavy modules are imported by the commands that need them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import typer

from mivid import __version__
from mivid.auth import Secrets
from mivid.clock import Clock, SystemClock
from mivid.errors import EXIT_CODE_MEANINGS
from mivid.render import Output
from mivid.settings import KEYS, OTHER_ENVIRONMENT, process_environment
from mivid.settings import no_color as no_color_wanted

if TYPE_CHECKING:
    import httpx

    from mivid.client import KlingClient, RequestEvent
    from mivid.download import Pace
    from mivid.settings import Settings


@dataclass(frozen=True)
class Streams:
    """A run's three standard streams (text)."""

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO


@dataclass
class Runtime:
    """The world a run talks to, handed in by `mivid.cli.run` (gh's Factory, httpie's Environment).

    The streams, the environment, the transport for every HTTP request (None:
    the network, or the sandbox) and the clock. Tests pass their own.
    `secrets` collects the run's credential strings, cut out of all it prints.
    """

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=process_environment)
    transport: httpx.BaseTransport | None = None
    clock: Clock = field(default_factory=SystemClock)
    secrets: Secrets = field(default_factory=Secrets)


#: The width the root help's tables are wrapped to: click indents an epilog by 2, so its
#: lines fit an 80-column terminal (a terminal breaking a long line cuts words).
HELP_WIDTH = 78


def _epilog() -> str:
    import textwrap

    codes = "\n".join(
        textwrap.fill(
            meaning,
            width=HELP_WIDTH,
            initial_indent=f"  {int(code):>3}  ",
            subsequent_indent=" " * 7,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for code, meaning in EXIT_CODE_MEANINGS.items()
    )
    env_names = [key.env for key in KEYS.values()] + list(OTHER_ENVIRONMENT)
    # "\b" keeps click from re-wrapping the table into one paragraph.
    return (
        "Exit status:\n\n\b\n" + codes + "\n\n"
        "Environment: " + ", ".join(env_names) + ".\n\n"
        "Try it offline, with no keys and nothing billed (the first command writes two "
        "example images into mivid-examples/):\n\n"
        "\b\n" + "\n".join(f"  {line}" for cmd in TRY_IT for line in shell_lines(cmd)) + "\n\n"
        "See `man mivid` or the README for more."
    )


def shell_lines(command: str, width: int = HELP_WIDTH - 2) -> list[str]:
    """A command as lines of at most `width` a shell reads back as one (` \\` ends each but
    the last; the next is indented), its words and quoted arguments never cut."""
    import shlex

    words: list[str] = []
    for word in map(shlex.quote, shlex.split(command)):
        if words and words[-1].startswith("--") and " " not in words[-1] and word[0] != "-":
            words[-1] += f" {word}"  # an option stays with its value
        else:
            words.append(word)
    lines: list[str] = []
    line = ""
    for word in words:
        if line and len(line) + 1 + len(word) + 2 > width:
            lines.append(line + " \\")
            line = "    " + word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]


#: The root help's first steps (also the README's and the man page's).
TRY_IT = (
    "mivid sandbox examples",
    "mivid --sandbox create mivid-examples/lighthouse.jpg mivid-examples/sailboat.png "
    "--prompt 'the boat sails past the lighthouse' --wait --download videos/",
)


#: What mivid does, for `mivid --help` and the man page's NAME line.
SUMMARY = (
    "Turn reference images and a prompt into a video with Kling AI: Multi-Image to Video "
    "(one to four images) or Omni-Video (up to seven images, first and end frames, a "
    "reference video)."
)

app = typer.Typer(
    name="mivid",
    help=SUMMARY,
    epilog=_epilog(),
    no_args_is_help=True,
    add_completion=False,
    # Plain help: no boxes or colour in pipes, and `[env: …]` is not taken for markup.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class AppState:
    """Global options, and what is derived from them once per run."""

    region: str | None = None
    base_url: str | None = None
    profile: str | None = None
    sandbox: bool = False
    verbose: bool = False
    debug: bool = False
    runtime: Runtime = field(default_factory=Runtime)
    output: Output = field(default_factory=Output)
    _settings: Settings | None = None
    _banner_said: bool = False

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from mivid.settings import resolve_settings

            self._settings = resolve_settings(
                {"region": self.region, "base-url": self.base_url},
                profile=self.profile,
                environ=self.runtime.environ,
                sandbox=self.sandbox,
                verbose=self.verbose,
                debug=self.debug,
            )
            self.runtime.secrets.add(
                *(
                    resolved.value
                    for name, resolved in self._settings.values.items()
                    if KEYS[name].secret
                )
            )
            for warning in self._settings.warnings:
                self.output.warn(warning)
        return self._settings

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    def pace(self) -> Pace:
        """How slowly a video may arrive (`MIVID_STALL_*`), on the run's clock."""
        from mivid.download import MIN_RATE_BYTES, MIN_RATE_SECONDS, Pace

        tuning = self.settings.tuning
        return Pace(
            min_bytes=tuning.stall_bytes or MIN_RATE_BYTES,
            window=tuning.stall_seconds or MIN_RATE_SECONDS,
            clock=self.clock.now,
        )

    def client(self) -> KlingClient:
        from mivid.connection import open_client

        settings = self.settings
        if settings.sandbox and self.output.stderr_is_tty and not self.output.quiet:
            if not self._banner_said:  # once a run, though the picker opens a client first
                self.output.note("sandbox: offline emulator, nothing is sent or billed")
            self._banner_said = True
        client = open_client(
            settings,
            secrets=self.runtime.secrets,
            transport=self.runtime.transport,
            on_event=self._log_request if self.verbose else None,
            sleep=self.clock.sleep,
            clock=self.clock.now,
            wall=self.clock.wall,
        )
        if self.verbose or self.output.stderr_is_tty:
            client.on_retry = self._note_retry
        return client

    def _note_retry(self, wait: float, attempt: int, reason: str, then: str) -> None:
        self.output.note(f"{reason}; {then} in {wait:.1f} s (attempt {attempt})")

    def _log_request(self, event: RequestEvent) -> None:
        status = event.status if event.status is not None else "no answer"
        parts = [f"{event.method} {event.url} → {status}", f"{event.elapsed:.2f}s"]
        if event.code:
            parts.append(f"code {event.code}")
        if event.request_id:
            parts.append(f"request_id {event.request_id}")
        if event.attempt > 1:
            parts.append(f"attempt {event.attempt}")
        if event.note:
            parts.append(event.note)
        self.output.note("http: " + " · ".join(parts))


def state(ctx: typer.Context, *, quiet: bool = False) -> AppState:
    """The run's state; `quiet` (a command's -q) silences the banner and live views too."""
    obj = ctx.find_root().obj
    if not isinstance(obj, AppState):  # a command invoked without the root callback
        obj = AppState(runtime=obj if isinstance(obj, Runtime) else Runtime())
        ctx.find_root().obj = obj
    obj.output.quiet = obj.output.quiet or quiet  # the Output's policy, for the rest of the run
    return obj


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"mivid {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    ctx: typer.Context,
    region: str | None = typer.Option(
        None,
        "--region",
        help="Kling region: global or china [env: KLING_REGION].",
        metavar="REGION",
    ),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        help="API base URL, overriding the region; may carry a path "
        "prefix for gateways [env: KLING_BASE_URL].",
        metavar="URL",
    ),
    profile: str | None = typer.Option(
        None,
        "--profile",
        help="Config file profile to use [env: MIVID_PROFILE].",
        metavar="NAME",
    ),
    sandbox: bool = typer.Option(
        False,
        "--sandbox",
        help="Use the built-in offline emulator: no keys, no network, "
        "nothing billed [env: MIVID_SANDBOX=1].",
    ),
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="Log each HTTP request to stderr (keys redacted).",
    ),
    debug: bool = typer.Option(
        False,
        "--debug",
        help="On an error, print its traceback to stderr too (keys redacted); "
        "the exit status stays the same.",
    ),
    no_color: bool = typer.Option(
        False,
        "--no-color",
        help="No colour (as NO_COLOR does); bold, borders and progress stay on a terminal.",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Turn reference images and a prompt into a video with Kling AI."""
    runtime = ctx.obj if isinstance(ctx.obj, Runtime) else Runtime()
    from mivid import hints
    from mivid.settings import known_secrets, sandbox_from_environment

    # Never printed, also by a command that reads no settings (`gallery`, `list --local`).
    runtime.secrets.add_later(lambda: known_secrets(runtime.environ))

    hints.use(
        hints.global_options(
            sandbox=sandbox or sandbox_from_environment(runtime.environ),
            profile=profile,
            region=region,
            base_url=base_url,
        )
    )
    ctx.obj = AppState(
        region=region,
        base_url=base_url,
        profile=profile,
        sandbox=sandbox,
        verbose=verbose,
        debug=debug,
        runtime=runtime,
        output=Output.for_streams(
            runtime.stdout,
            runtime.stderr,
            stdin=runtime.stdin,
            no_color=no_color or no_color_wanted(runtime.environ),
            secrets=runtime.secrets,
            environ=runtime.environ,
        ),
    )


# -- the command line before and after the parser ----------------------------------------------


def _options_of(command: Any) -> dict[str, bool]:
    """Every option name of a click command → whether it takes a value."""
    table: dict[str, bool] = {}
    for param in getattr(command, "params", ()):
        if param.param_type_name == "option":
            takes_value = not (param.is_flag or param.count)
            for name in (*param.opts, *param.secondary_opts):
                table[name] = takes_value
    return table


def hoist_global_options(root: Any, args: Sequence[str]) -> list[str]:
    """`mivid list --sandbox -v` read as `mivid --sandbox -v list`, as gh does.

    A global option (and its value) written after the command is moved in front
    of it, unless the command has an option of that name itself. The command's
    own options keep their values (`--prompt --sandbox` is a prompt), and
    nothing after `--` moves.
    """
    words = list(args)
    global_options = _options_of(root)
    start = _skip_options(words, 0, global_options)
    command, position = root, start
    while position < len(words) and words[position] in getattr(command, "commands", {}):
        command = command.commands[words[position]]
        position += 1
    if command is root:
        return words
    own = _options_of(command)
    moved: list[str] = []
    kept = words[start:position]
    while position < len(words):
        word = words[position]
        if word == "--":
            kept += words[position:]
            break
        name, joined, _ = word.partition("=")
        target = moved if name in global_options and name not in own else kept
        takes_value = own.get(name, global_options.get(name, False)) and not joined
        taken = 2 if takes_value and position + 1 < len(words) else 1
        target += words[position : position + taken]
        position += taken
    return [*words[:start], *moved, *kept]


def command_path(root: Any, args: Sequence[str]) -> str:
    """`mivid config set` for `--profile w config set …`: the command the words name."""
    words = list(args)
    position = _skip_options(words, 0, _options_of(root))
    path, command = ["mivid"], root
    while position < len(words) and words[position] in getattr(command, "commands", {}):
        command = command.commands[words[position]]
        path.append(words[position])
        position += 1
    return " ".join(path)


def _skip_options(words: list[str], position: int, options: Mapping[str, bool]) -> int:
    """The position after the options (and their values) that start at `position`."""
    while position < len(words) and words[position].startswith("-") and words[position] != "--":
        name, joined, _ = words[position].partition("=")
        position += 2 if options.get(name) and not joined else 1
    return position


def plain_help(command: Any) -> None:
    """Help that names arguments as people write them: `IMAGE...`, `KEY VALUE`.

    Typer 0.2x shows an argument's Python type beside it (`IMAGE <list[str]>`)
    and a required one in braces in the usage line (`{KEY} {VALUE}`); neither
    means anything to a person at a shell.
    """
    for param in getattr(command, "params", ()):
        if param.param_type_name == "argument" and hasattr(param, "display_type"):
            param.display_type = _no_type
            param.display_type_rich = _no_type
            param._usage_display_name = _usage_name(param)
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)


def _no_type(ctx: object = None) -> str:
    return ""


def _usage_name(param: Any) -> Callable[[], str]:
    def name() -> str:
        shown = str(param.metavar or param.name.upper())
        shown = shown if param.required else f"[{shown}]"
        return shown + ("..." if param.nargs != 1 else "")

    return name
