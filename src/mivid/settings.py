"""Settings: flags > environment > config file > defaults, each value knowing its source.

The config file is TOML in the platformdirs user config folder; each top-level
table is a profile (`[default]`, `[work]`, …), so one file keeps several
accounts or regions apart. `MIVID_CONFIG_FILE` points elsewhere (tests, CI).

This module reads settings and reports where each came from; writing the file
is `mivid.config_file`'s job, and turning keys into credentials is `mivid.auth`'s.
It is the only module that reads the process environment (`process_environment`);
everything else is handed a mapping, so a test passes its own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from mivid.endpoints import DEFAULT_ENDPOINT, all_choices
from mivid.errors import InputError, MividError

REGION_HOSTS: dict[str, str] = {
    "global": "https://api-singapore.klingai.com",
    "china": "https://api-beijing.klingai.com",
}
DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class Key:
    """A setting a user can give by flag, environment variable or config file."""

    name: str
    env: str
    help: str
    default: str | None = None
    choices: tuple[str, ...] = ()
    secret: bool = False


KEYS: dict[str, Key] = {
    key.name: key
    for key in (
        Key(
            "access-key",
            "KLING_ACCESS_KEY",
            "access key (with the secret key, signs a JWT)",
            secret=True,
        ),
        Key("secret-key", "KLING_SECRET_KEY", "secret key that signs the JWT", secret=True),
        Key("api-key", "KLING_API_KEY", "API key sent as a static bearer token", secret=True),
        Key("region", "KLING_REGION", "which Kling host to use", "global", ("global", "china")),
        Key("base-url", "KLING_BASE_URL", "API base URL; overrides the region (may carry a path)"),
        Key("model", "MIVID_MODEL", "default model for create", DEFAULT_ENDPOINT.default_model),
        Key(
            "mode",
            "MIVID_MODE",
            "default mode for create",
            DEFAULT_ENDPOINT.default_mode,
            all_choices("modes"),
        ),
        Key(
            "duration",
            "MIVID_DURATION",
            "default duration in seconds",
            DEFAULT_ENDPOINT.default_duration,
            all_choices("durations"),
        ),
        Key(
            "aspect-ratio",
            "MIVID_ASPECT_RATIO",
            "default aspect ratio for create",
            DEFAULT_ENDPOINT.default_aspect_ratio,
            all_choices("aspect_ratios"),
        ),
    )
}

# Environment variables that are not settings keys but change what mivid does.
OTHER_ENVIRONMENT: dict[str, str] = {
    "MIVID_PROFILE": "config profile to use (default: default)",
    "MIVID_CONFIG_FILE": "path of the config file (default: the user config folder)",
    "MIVID_SANDBOX": "1 runs every command against the built-in offline emulator",
    "MIVID_SANDBOX_TASK_SECONDS": "how long a sandbox task takes to finish (default 6)",
    "MIVID_RETRY_ATTEMPTS": "how many times a request is tried before giving up (default 5)",
    "MIVID_RETRY_MAX_SECONDS": "the most time spent retrying one request, in seconds (default 60)",
    "MIVID_RETRY_BASE_DELAY": "first delay between tries, in seconds; it doubles (default 0.5)",
    "MIVID_MAX_VIDEO_MB": "the largest video mivid saves, in MiB; a bigger one is refused "
    "(default 2048)",
    "MIVID_STALL_SECONDS": "a video download that gets less than MIVID_STALL_KIB in this many "
    "seconds is stopped, its partial file kept for a rerun (default 30)",
    "MIVID_STALL_KIB": "the least a video download must get in MIVID_STALL_SECONDS, in KiB "
    "(default 16)",
    "NO_COLOR": "any value but empty turns colour off, as --no-color does (bold and borders stay)",
}


def process_environment() -> Mapping[str, str]:
    """The process's environment variables (the one read of `os.environ` in mivid)."""
    return os.environ


def no_color(environ: Mapping[str, str]) -> bool:
    """NO_COLOR set to anything but the empty string turns colour off (https://no-color.org).

    It means what `--no-color` means: no colour; bold, borders and live progress may stay.
    """
    return bool(environ.get("NO_COLOR"))


def has_display(environ: Mapping[str, str]) -> bool:
    """A graphical session a default player could open a window on (X11 or Wayland)."""
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


SANDBOX_DEFAULT_TASK_SECONDS = 6.0


class Source(str, Enum):
    FLAG = "flag"
    ENVIRONMENT = "environment"
    CONFIG = "config file"
    DEFAULT = "default"


@dataclass(frozen=True)
class Resolved:
    """One effective value and where it came from."""

    key: str
    value: str | None
    source: Source | None
    detail: str = ""  # the flag, the variable name, or "[profile] in path", for `config show`
    profile: str | None = None  # the config file's profile, for a value that came from it

    def describe(self) -> str:
        """Where the value comes from, for people: `$KLING_REGION`, `profile work`, …"""
        return self._said(0)

    def token(self) -> str:
        """Where the value comes from, for scripts: flag:--region, env:KLING_REGION, config:work …"""
        return self._said(1)

    def where(self) -> str:
        """Where the value comes from, in a problem line: `--region`, `$KLING_REGION` …"""
        return self._said(2)

    def _said(self, form: int) -> str:
        template = _SOURCE_WORDS[self.source][form]
        return template.format(detail=self.detail, profile=self.profile)


#: How each source is said: (for people, for scripts, in a problem line). One table, so
#: `config show`, `config show` in a pipe and the settings' own problems agree.
_SOURCE_WORDS: dict[Source | None, tuple[str, str, str]] = {
    Source.FLAG: ("flag {detail}", "flag:{detail}", "{detail}"),
    Source.ENVIRONMENT: ("${detail}", "env:{detail}", "${detail}"),
    Source.CONFIG: ("profile {profile}", "config:{profile}", "config {detail}"),
    Source.DEFAULT: ("default", "default", "default"),
    None: ("unset", "unset", "default"),
}


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    override = env.get("MIVID_CONFIG_FILE")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_path

    return user_config_path("mivid", appauthor=False) / "config.toml"


def state_dir() -> Path:
    """Where the journal and the sandbox's task store live."""
    from platformdirs import user_state_path

    return user_state_path("mivid", appauthor=False)


def known_secrets(environ: Mapping[str, str]) -> list[str]:
    """Every credential the environment and the config file (any profile) hold, read as far
    as they can be: what a command that sends nothing must still never print (a sidecar or
    journal written by an older mivid may hold a key a server echoed)."""
    secret = [key for key in KEYS.values() if key.secret]
    values = [environ.get(key.env) for key in secret]
    try:
        profiles = read_config_file(config_path(environ))
    except MividError:  # the command itself says so if it reads the file
        profiles = {}
    values += [table.get(key.name) for table in profiles.values() for key in secret]
    return [value for value in values if isinstance(value, str)]


def read_config_file(path: Path) -> dict[str, dict[str, str]]:
    """Profiles from the TOML file; a missing file is an empty config.

    Only a regular file of at most `mivid.files.MAX_CONFIG_FILE_BYTES` is read
    (`MIVID_CONFIG_FILE=/dev/zero` is refused, not read for ever).
    """
    from mivid import problems as rules
    from mivid.files import MAX_CONFIG_FILE_BYTES, read_regular, utf8_text

    subject = f"{path} (the config file)"
    try:
        data = read_regular(path, subject=subject, limit=MAX_CONFIG_FILE_BYTES)
    except InputError as exc:
        if exc.found[0].rule == rules.FILE_MISSING:
            return {}
        raise
    text = utf8_text(data, subject=subject)
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        parsed: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"{path}: not valid TOML: {exc}", hint="fix or delete the file (mivid config path)"
        ) from exc
    except RecursionError:  # arrays nested thousands deep: tomllib recurses
        raise InputError(
            f"{path}: not valid TOML: nested too deep to read",
            hint="fix or delete the file (mivid config path)",
        ) from None
    profiles: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for profile, table in parsed.items():
        if not isinstance(table, dict):
            problems.append(f"{path}: `{profile}` must be a [table] of settings (a profile)")
            continue
        values: dict[str, str] = {}
        for name, value in table.items():
            if name not in KEYS:
                problems.append(f"{path}: [{profile}] has unknown key `{name}`")
            elif not isinstance(value, str):
                problems.append(f"{path}: [{profile}] {name} must be a string")
            else:
                values[name] = value
        profiles[profile] = values
    if problems:
        raise InputError(problems)
    return profiles


def permission_warning(path: Path) -> str | None:
    """A warning when a file that may hold keys is readable by others; None when it is private."""
    if os.name != "posix":
        return None
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"{path} is readable by other users (mode {mode & 0o777:o}) and may hold "
        f"keys; make it private: chmod 600 {path}"
    )


@dataclass(frozen=True)
class Tuning:
    """The environment's knobs that are not settings keys (see OTHER_ENVIRONMENT)."""

    retry_attempts: int | None = None
    retry_max_seconds: float | None = None
    retry_base_delay: float | None = None
    sandbox_task_seconds: float = SANDBOX_DEFAULT_TASK_SECONDS
    #: The most bytes a video may have (None: `mivid.download.MAX_VIDEO_BYTES`).
    max_video_bytes: int | None = None
    #: The slowest a video may arrive: `stall_bytes` in `stall_seconds` (None: `mivid.download`'s).
    stall_seconds: float | None = None
    stall_bytes: int | None = None


def read_tuning(environ: Mapping[str, str]) -> Tuning:
    """MIVID_RETRY_*, MIVID_SANDBOX_TASK_SECONDS, MIVID_MAX_VIDEO_MB and MIVID_STALL_*,
    checked (raises InputError naming each)."""
    problems: list[str] = []
    attempts = _env_number(environ, "MIVID_RETRY_ATTEMPTS", 1, 100, problems, whole=True)
    total = _env_number(environ, "MIVID_RETRY_MAX_SECONDS", 0, 3600, problems)
    base = _env_number(environ, "MIVID_RETRY_BASE_DELAY", 0, 60, problems)
    seconds = _env_number(environ, "MIVID_SANDBOX_TASK_SECONDS", 0, 3600, problems, what="a number")
    video_mb = _env_number(
        environ, "MIVID_MAX_VIDEO_MB", 1, 1 << 20, problems, whole=True, what="a whole number"
    )
    stall_seconds = _env_number(environ, "MIVID_STALL_SECONDS", 1, 3600, problems)
    stall_kib = _env_number(
        environ, "MIVID_STALL_KIB", 1, 1 << 20, problems, whole=True, what="a whole number"
    )
    if problems:
        raise InputError(problems)
    return Tuning(
        retry_attempts=int(attempts) if attempts is not None else None,
        retry_max_seconds=total,
        retry_base_delay=base,
        sandbox_task_seconds=SANDBOX_DEFAULT_TASK_SECONDS if seconds is None else seconds,
        max_video_bytes=int(video_mb) << 20 if video_mb is not None else None,
        stall_seconds=stall_seconds,
        stall_bytes=int(stall_kib) << 10 if stall_kib is not None else None,
    )


def _env_number(
    env: Mapping[str, str],
    name: str,
    low: float,
    high: float,
    problems: list[str],
    *,
    whole: bool = False,
    what: str | None = None,
) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(int(raw)) if whole else float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # NaN fails too
        kind = what or ("a whole number" if whole else "a number of seconds")
        problems.append(f"${name}: `{raw}` must be {kind} from {low:g} to {high:g}")
        return None
    return value


@dataclass
class Settings:
    """Every effective setting, resolved once per run."""

    profile: str
    profile_source: Source
    config_file: Path
    values: dict[str, Resolved] = field(default_factory=dict)
    sandbox: bool = False
    verbose: bool = False
    debug: bool = False
    tuning: Tuning = field(default_factory=Tuning)
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: Said once on stderr by the app (a config file readable by others).
    warnings: list[str] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        return self.values[name].value

    def chosen(self, name: str) -> str | None:
        """The value a user chose (flag, environment, config file); None for a default."""
        resolved = self.values[name]
        return None if resolved.source in (Source.DEFAULT, None) else resolved.value

    def base_url(self) -> str:
        explicit = self.get("base-url")
        if explicit:
            return explicit.rstrip("/")
        return REGION_HOSTS[self.get("region") or "global"]


def sandbox_from_environment(environ: Mapping[str, str]) -> bool:
    """MIVID_SANDBOX=1 (or true, yes, on): every command runs against the emulator."""
    return _env_flag(environ.get("MIVID_SANDBOX"))


def _env_flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def choose_profile(
    profile: str | None, environ: Mapping[str, str] | None = None
) -> tuple[str, Source]:
    """The profile to use and where its name came from: --profile > $MIVID_PROFILE > default."""
    env = os.environ if environ is None else environ
    if profile:
        return profile, Source.FLAG
    if env.get("MIVID_PROFILE"):
        return env["MIVID_PROFILE"], Source.ENVIRONMENT
    return DEFAULT_PROFILE, Source.DEFAULT


def resolve_settings(
    flags: Mapping[str, str | None] | None = None,
    *,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    sandbox: bool = False,
    verbose: bool = False,
    debug: bool = False,
) -> Settings:
    """Resolve every key: flags > environment > config file (the profile) > defaults.

    Raises InputError for an invalid value (naming where it came from), for an
    unknown profile named explicitly, or for an unreadable config file.
    """
    env = os.environ if environ is None else environ
    flags = flags or {}
    profile_name, profile_source = choose_profile(profile, env)

    path = config_path(env)
    profiles = read_config_file(path)
    warning = permission_warning(path) if path.is_file() else None
    if profile_name not in profiles and profile_source is not Source.DEFAULT:
        known = ", ".join(sorted(profiles)) or "none yet"
        raise InputError(
            f"profile `{profile_name}` is not in {path} (profiles: {known})",
            # The profile is in force (flag or $MIVID_PROFILE), so the command names it.
            hint=f"create it with: {_profile_command(profile_name, profile_source)}",
        )
    from_file = profiles.get(profile_name, {})

    settings = Settings(
        profile=profile_name,
        profile_source=profile_source,
        config_file=path,
        sandbox=sandbox or _env_flag(env.get("MIVID_SANDBOX")),
        verbose=verbose,
        debug=debug,
        tuning=read_tuning(env),
        environ=env,
        warnings=[warning] if warning else [],
    )
    problems: list[str] = []
    for key in KEYS.values():
        resolved = _resolve_one(key, flags.get(key.name), env, from_file, profile_name, path)
        spelled = {choice.lower(): choice for choice in key.choices}
        if resolved.value is not None and resolved.value.lower() in spelled:
            # `--region CHINA`, `MIVID_MODE=PRO`: a choice in any case is that choice.
            resolved = replace(resolved, value=spelled[resolved.value.lower()])
        if key.choices and resolved.value is not None and resolved.value not in key.choices:
            problems.append(
                f"{resolved.where()}: {key.name} `{resolved.value}` is not one of "
                f"{', '.join(key.choices)}"
            )
        if key.name == "base-url" and resolved.value:
            problem = base_url_problem(resolved.value)
            if problem:
                problems.append(f"{resolved.where()}: {problem}")
        settings.values[key.name] = resolved
    if problems:
        raise InputError(problems)
    plain = None if settings.sandbox else plain_http_warning(settings.values["base-url"])
    if plain:
        settings.warnings.append(plain)
    return settings


def plain_http_warning(resolved: Resolved) -> str | None:
    """A warning for an http:// base URL off this machine: the key (or every token signed
    with it) would cross the network readable by anyone on the way."""
    import ipaddress
    from urllib.parse import urlsplit

    from mivid.plaintext import public_url

    url = resolved.value or ""
    if not url.lower().startswith("http://"):
        return None
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost" or host.endswith(".localhost")
    if local:
        return None
    return (
        f"{resolved.where()}: base URL `{public_url(url)}` is plain http: the API key or the "
        f"tokens signed with the secret key go to {host} unencrypted; use https:// unless "
        "this network is yours"
    )


def _profile_command(profile: str, source: Source) -> str:
    from mivid import hints

    words = ["config", "set", "region", "global"]
    if source is Source.ENVIRONMENT:  # $MIVID_PROFILE: the same shell has it
        return hints.command(*words)
    in_force = hints.global_words()
    return (
        hints.command(*words)
        if "--profile" in in_force
        else hints.command("--profile", profile, *words)
    )


def base_url_problem(url: str) -> str | None:
    """What is wrong with `url` as the API's base URL, checked in full before anything is sent.

    http or https, a host, a port from 1 to 65535 if any, a path if need be
    (gateways), and nothing a request path cannot follow: no query, no fragment
    (`http://host/#` would send a create to `/`), no space or control character.
    """
    from urllib.parse import urlsplit

    from mivid.plaintext import public_url

    shown = f"base URL `{public_url(url)}`"
    if any(char.isspace() or not char.isprintable() for char in url):
        return f"{shown} must not contain spaces or control characters"
    if not url.lower().startswith(("http://", "https://")):
        return f"{shown} must start with http:// or https:// and name a host"
    try:
        parts = urlsplit(url)
        port = parts.port  # reads it: `host:PORT:99` or `host:99999` raise here
    except ValueError as exc:
        return f"{shown} is not a valid URL ({exc})"
    if not parts.hostname:
        return f"{shown} must start with http:// or https:// and name a host"
    if port == 0:
        return f"{shown}: port 0 cannot be connected to (use 1 to 65535)"
    if "?" in url or "#" in url:
        return (
            f"{shown} must not carry a query (?…) or a fragment (#…): "
            "the API's paths are added to it"
        )
    import httpx

    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"{shown} is not a valid URL ({exc})"
    return None


def _resolve_one(
    key: Key,
    flag: str | None,
    env: Mapping[str, str],
    from_file: Mapping[str, str],
    profile: str,
    path: Path,
) -> Resolved:
    if flag is not None and flag != "":
        return Resolved(key.name, flag, Source.FLAG, f"--{key.name}")
    if env.get(key.env):
        return Resolved(key.name, env[key.env], Source.ENVIRONMENT, key.env)
    if from_file.get(key.name):
        return Resolved(
            key.name, from_file[key.name], Source.CONFIG, f"[{profile}] in {path}", profile
        )
    if key.default is not None:
        return Resolved(key.name, key.default, Source.DEFAULT, "")
    return Resolved(key.name, None, None, "")
