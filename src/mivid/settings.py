"""Settings: flags > environment > config file > defaults, each value knowing its source.

The config file is TOML in the platformdirs user config folder; each top-level
table is a profile (`[default]`, `[work]`, …), so one file keeps several
accounts or regions apart. `MIVID_CONFIG_FILE` points elsewhere (tests, CI).

This module reads settings and reports where each came from; writing the file
is `mivid.config_file`'s job, and turning keys into credentials is `mivid.auth`'s.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from mivid.errors import InputError

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
        Key("model", "MIVID_MODEL", "default model for create", "kling-v1-6"),
        Key("mode", "MIVID_MODE", "default mode for create", "std", ("std", "pro")),
        Key("duration", "MIVID_DURATION", "default duration in seconds", "5", ("5", "10")),
        Key(
            "aspect-ratio",
            "MIVID_ASPECT_RATIO",
            "default aspect ratio for create",
            "16:9",
            ("16:9", "9:16", "1:1"),
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
    "NO_COLOR": "any value turns colour off",
}


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
    detail: str = ""  # the variable name, or the profile, for `config show`


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


def read_config_file(path: Path) -> dict[str, dict[str, str]]:
    """Profiles from the TOML file; a missing file is an empty config."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise InputError(f"{path}: cannot read the config file: {exc.strerror}") from exc
    warn_if_readable_by_others(path)
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: not valid TOML: {exc}", hint="fix or delete the file (mivid config path)"
        ) from exc
    profiles: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for profile, table in data.items():
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


_warned_permissions: set[str] = set()


def warn_if_readable_by_others(path: Path) -> None:
    """Say so (once per run, on stderr) when a file that may hold keys is readable by others."""
    if os.name != "posix" or str(path) in _warned_permissions:
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        _warned_permissions.add(str(path))
        sys.stderr.write(
            f"warning: {path} is readable by other users (mode {mode & 0o777:o}) and may hold "
            f"keys; make it private: chmod 600 {path}\n"
        )


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

    def get(self, name: str) -> str | None:
        return self.values[name].value

    def base_url(self) -> str:
        explicit = self.get("base-url")
        if explicit:
            return explicit.rstrip("/")
        return REGION_HOSTS[self.get("region") or "global"]


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
    if profile_name not in profiles and profile_source is not Source.DEFAULT:
        known = ", ".join(sorted(profiles)) or "none yet"
        raise InputError(
            f"profile `{profile_name}` is not in {path} (profiles: {known})",
            hint=f"create it with: mivid --profile {profile_name} config set region global",
        )
    from_file = profiles.get(profile_name, {})

    settings = Settings(
        profile=profile_name,
        profile_source=profile_source,
        config_file=path,
        sandbox=sandbox or _env_flag(env.get("MIVID_SANDBOX")),
        verbose=verbose,
        debug=debug,
    )
    problems: list[str] = []
    for key in KEYS.values():
        resolved = _resolve_one(key, flags.get(key.name), env, from_file, profile_name, path)
        if key.choices and resolved.value is not None and resolved.value not in key.choices:
            problems.append(
                f"{_where(resolved)}: {key.name} `{resolved.value}` is not one of "
                f"{', '.join(key.choices)}"
            )
        if key.name == "base-url" and resolved.value:
            problem = base_url_problem(resolved.value)
            if problem:
                problems.append(f"{_where(resolved)}: {problem}")
        settings.values[key.name] = resolved
    if problems:
        raise InputError(problems)
    return settings


def base_url_problem(url: str) -> str | None:
    if not url.startswith(("http://", "https://")) or len(url.split("/", 3)[2]) == 0:
        return f"base URL `{url}` must start with http:// or https:// and name a host"
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
        return Resolved(key.name, from_file[key.name], Source.CONFIG, f"[{profile}] in {path}")
    if key.default is not None:
        return Resolved(key.name, key.default, Source.DEFAULT, "")
    return Resolved(key.name, None, None, "")


def _where(resolved: Resolved) -> str:
    if resolved.source is Source.FLAG:
        return resolved.detail
    if resolved.source is Source.ENVIRONMENT:
        return f"${resolved.detail}"
    if resolved.source is Source.CONFIG:
        return f"config {resolved.detail}"
    return "default"
