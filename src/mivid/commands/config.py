"""`mivid config`: keys, profiles and credentials in the config file, and a check that they work.

Reading and resolving is `mivid.settings`'s job, writing the file
`mivid.config_file`'s; these commands parse, call them and print. No secret is
printed unless asked for by name with `get --reveal`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from mivid import hints
from mivid.app import app, state
from mivid.commands import options
from mivid.errors import InputError
from mivid.render import is_tty
from mivid.settings import KEYS

if TYPE_CHECKING:
    from mivid.app import AppState
    from mivid.auth import Credentials
    from mivid.render.views import Checked
    from mivid.settings import Resolved, Settings

config_app = typer.Typer(
    help="Show and change settings: keys, region, defaults, profiles.",
    no_args_is_help=True,
    epilog=options.examples(
        "mivid config set access-key -   # asks without echo: no key in history",
        "mivid config set secret-key - < secret.txt",
        "mivid --profile china config set region china",
        "mivid config show",
        "mivid config check",
    ),
)
app.add_typer(config_app, name="config")

KEY_HELP = "One of: " + ", ".join(KEYS) + "."


def _key_list() -> str:
    """The keys, each described in lines that fit 80 columns (a word never cut)."""
    import textwrap

    from mivid.app import HELP_WIDTH

    width = max(len(name) for name in KEYS)
    lines = []
    for key in KEYS.values():
        extra = f" ({', '.join(key.choices)})" if key.choices else ""
        lines += textwrap.wrap(
            f"{key.help}{extra} [env: {key.env}]",
            width=HELP_WIDTH,
            initial_indent=f"  {key.name:<{width}}  ",
            subsequent_indent=" " * (width + 4),
            break_long_words=False,
            break_on_hyphens=False,
        )
    return "\n".join(lines)


def _profile_and_path(ctx: typer.Context) -> tuple[str, Any]:
    from mivid.settings import choose_profile, config_path

    profile, _source = choose_profile(state(ctx).profile)
    return profile, config_path()


def read_secret_from_stdin(name: str) -> str:
    """`-` as the value: a hidden prompt on a terminal, else all of stdin minus one newline."""
    if sys.stdin is None:
        raise InputError(f"{name} -: reads the value from stdin, but there is no stdin")
    if is_tty(sys.stdin):
        import getpass

        try:
            return getpass.getpass(f"{name}: ", stream=sys.stderr)
        except EOFError:
            return ""
    from mivid.files import MAX_STDIN_TEXT_BYTES, read_stdin

    value = read_stdin(sys.stdin, subject=f"{name} -", limit=MAX_STDIN_TEXT_BYTES)
    if value.endswith("\n"):
        value = value[:-1]
        if value.endswith("\r"):
            value = value[:-1]
    return value


@config_app.command(
    "set",
    epilog=options.examples(
        "mivid config set region china",
        "mivid config set mode pro",
        "mivid config set secret-key -   # asks without echo, or reads a pipe",
        "pass show kling/sk | mivid config set secret-key -",
        "mivid --profile work config set api-key -",
        before="Keys:\n\n\b\n" + _key_list(),
    ),
)
def set_(
    ctx: typer.Context,
    key: str = typer.Argument(..., help=KEY_HELP, metavar="KEY", show_default=False),
    value: str = typer.Argument(
        ...,
        help="The value; `-` reads it from stdin (keeps secrets out of shell history).",
        metavar="VALUE",
        show_default=False,
    ),
) -> None:
    """Store a setting in the config file.

    It goes into the table of the profile chosen by --profile (or MIVID_PROFILE),
    which is created if needed. The file is written with mode 0600.
    """
    from mivid.auth import redact
    from mivid.config_file import check_key, set_value

    out = state(ctx).output
    check_key(key)
    spec = KEYS[key]
    if value == "-":
        value = read_secret_from_stdin(key)
    elif spec.secret and is_tty(sys.stdin):
        out.warn(
            f"the {key} is now in your shell history; next time run "
            f"`{hints.config_command('set', key, '-')}` and paste it at the prompt"
        )
    profile, path = _profile_and_path(ctx)
    value = set_value(path, profile, key, value)
    shown = redact(value) if spec.secret else value
    out.note(f"{key} = {shown} saved in [{profile}] of {path}")
    if state(ctx).runtime.environ.get(spec.env):
        out.warn(f"${spec.env} is set in this environment and takes precedence over the file")
    for warning in _defaults_refused(state(ctx), key, value):
        out.warn(warning)


def _defaults_refused(run: AppState, key: str, value: str) -> list[str]:
    """A default the model in force refuses (`config set duration 3` with kling-v1-6, which
    takes 5 or 10), said now rather than by every create after it; the value stays saved, as
    a create may name a model that takes it."""
    from mivid.create_request import defaults_refused
    from mivid.errors import MividError
    from mivid.settings import Source
    from mivid.vocabulary import CREATE_FIELDS

    settings_of_create = [spec.setting for spec in CREATE_FIELDS if spec.setting]
    if key not in settings_of_create:
        return []
    try:
        settings = run.settings
    except MividError:  # another setting is broken: said by the commands that use it
        return []
    if key == "model":
        chosen = {name: settings.chosen(name) for name in settings_of_create if name != key}
        return defaults_refused(value, "the model just saved", chosen)
    model = settings.values["model"]
    whose = (
        "mivid's default model"
        if model.source in (Source.DEFAULT, None)
        else f"the default model, from {model.describe()}"
    )
    return defaults_refused(str(model.value), whose, {key: value})


@config_app.command(
    "get",
    epilog=options.examples(
        "mivid config get region",
        "mivid --profile work config get base-url",
        "mivid config get api-key --reveal | pbcopy",
    ),
)
def get(
    ctx: typer.Context,
    key: str = typer.Argument(..., help=KEY_HELP, metavar="KEY", show_default=False),
    reveal: bool = typer.Option(
        False, "--reveal", help="Print a secret key's value (refused otherwise)."
    ),
    json_output: bool = options.json_output(
        "Print the key, its value and where it comes from as JSON."
    ),
) -> None:
    """Print one setting's effective value.

    Flags win over environment variables, which win over the profile in the
    config file, which wins over the default. Secrets need --reveal.
    """
    from mivid.auth import redact
    from mivid.config_file import check_key

    run = state(ctx)
    check_key(key)
    resolved = run.settings.values[key]
    secret = KEYS[key].secret and resolved.value is not None
    if secret and not reveal:
        raise InputError(
            f"{key} is a secret and is not printed by default "
            f"(it is set, {redact(resolved.value or '')}, from {resolved.describe()})",
            hint=f"add --reveal to print it: {hints.command('config', 'get', key, '--reveal')}",
        )
    from mivid.render.views import SETTING_VALUE

    form = run.output.form(json=json_output)
    if key == "base-url" and resolved.value is None:
        # Not set: the region's URL is the one in use, and that is what a script asks for.
        resolved = _base_url_in_use(run.settings)
        run.output.note_unless_json(form, f"base-url is not set: {resolved.detail}'s URL is in use")
    elif resolved.value is None:
        run.output.note_unless_json(form, f"{key} is not set")
    with run.output.secrets.revealed(), run.output.records(SETTING_VALUE, form, one=True) as sink:
        sink.add(resolved)  # a secret only with --reveal (refused above otherwise)


@config_app.command(
    "unset",
    epilog=options.examples(
        "mivid config unset api-key", "mivid --profile work config unset region"
    ),
)
def unset(
    ctx: typer.Context,
    key: str = typer.Argument(..., help=KEY_HELP, metavar="KEY", show_default=False),
) -> None:
    """Remove a setting from the profile in the config file."""
    from mivid.config_file import unset_value

    out = state(ctx).output
    profile, path = _profile_and_path(ctx)
    if unset_value(path, profile, key):
        out.note(f"{key} removed from [{profile}] of {path}")
    else:
        out.note(f"{key} was not set in [{profile}] of {path}; nothing changed")


@config_app.command(
    "show",
    epilog=options.examples(
        "mivid config show",
        "mivid --profile work config show --json",
        "mivid config show | cut -f1,3",
        before="Sources: flag (--region, --base-url), env (the variable), config (the profile), "
        "default.",
    ),
)
def show(
    ctx: typer.Context,
    json_output: bool = options.json_output(
        "Print an object: profile, config file, and each key's value."
    ),
) -> None:
    """Show every setting, its value and where it comes from.

    Secrets are masked. A table on a terminal; KEY<TAB>VALUE<TAB>SOURCE lines
    in a pipe.
    """
    from mivid.render.views import settings_shown

    run = state(ctx)
    settings_shown(run.output, run.settings, run.output.form(json=json_output))


@config_app.command(
    "path",
    epilog=options.examples("mivid config path", '"$EDITOR" "$(mivid config path)"'),
)
def path(ctx: typer.Context) -> None:
    """Print the config file's path.

    Set MIVID_CONFIG_FILE to use another file.
    """
    from mivid.settings import config_path

    state(ctx).output.line(str(config_path()))


@config_app.command(
    "check",
    epilog=options.examples(
        "mivid config check",
        "mivid --profile china config check --json",
        before="Exit status 0 when the service accepts the credentials, 3 when it refuses "
        "them, 5 when it cannot be reached.",
    ),
)
def check(
    ctx: typer.Context,
    json_output: bool = options.json_output(
        "Print the result (credential kind, region, base URL) as JSON."
    ),
) -> None:
    """Check that the service accepts the credentials.

    Makes one cheap authenticated call (a one-task list) and says which
    credentials and region were used, without printing the keys; then one
    line about the account: the units left in its resource packs, or that
    they are used up or expired (`mivid account` shows each pack).
    """
    from mivid.errors import MividError
    from mivid.render.views import CHECKED, FAILED_CHECK, FailedCheck

    run = state(ctx)
    settings = run.settings
    form = run.output.form(json=json_output)
    try:
        verdict = _checked(run, settings)
    except MividError as error:
        with run.output.records(FAILED_CHECK, form, one=True) as sink:
            sink.add(FailedCheck(settings, error))
        raise
    with run.output.records(CHECKED, form, one=True) as sink:
        sink.add(verdict)


# -- helpers -----------------------------------------------------------------------------


def _checked(run: AppState, settings: Settings) -> Checked:
    """One cheap authenticated call, and what the account holds: the verdict, or an error."""
    from mivid.connection import service_url
    from mivid.errors import CredentialsError, ServiceError
    from mivid.flows.account import summary_or_none
    from mivid.render.views import Checked

    target = _target(settings)
    with run.client() as client:
        described = _describe_credentials(settings, client.credentials)
        try:
            client.list_tasks(page=1, page_size=1)
        except (CredentialsError, ServiceError) as exc:
            suffix = f" — {described}" if isinstance(exc, CredentialsError) else ""
            raise exc.with_context(prefix=f"{target}: ", suffix=suffix) from exc
        account = summary_or_none(client)
    return Checked(
        profile=settings.profile,
        region=None if settings.get("base-url") else settings.get("region"),
        base_url=service_url(settings),
        credentials=described,
        sandbox=settings.sandbox,
        target=target,
        account=account,
    )


def _base_url_in_use(settings: Settings) -> Resolved:
    """The base URL requests go to when `base-url` is not set: the sandbox's or the region's."""
    from mivid.connection import service_url
    from mivid.settings import Resolved, Source

    where = "the sandbox" if settings.sandbox else f"region {settings.get('region')}"
    return Resolved("base-url", service_url(settings), Source.DEFAULT, where)


def _target(settings: Settings) -> str:
    if settings.sandbox:
        return "the offline sandbox"
    if settings.get("base-url"):
        return f"base URL {settings.base_url()}"
    return f"region {settings.get('region')} ({settings.base_url()})"


def _describe_credentials(settings: Settings, credentials: Credentials) -> str:
    text = credentials.describe()
    if settings.sandbox:
        return f"{text} (the sandbox's own)"
    if type(credentials).__name__ == "ApiKeyCredentials":
        sources = [settings.values["api-key"]]
    else:
        sources = [settings.values["access-key"], settings.values["secret-key"]]
    places = sorted({resolved.describe() for resolved in sources})
    return f"{text} from {' and '.join(places)}"
