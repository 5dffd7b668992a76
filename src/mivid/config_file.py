"""Writing the config file: one TOML table per profile, mode 0600, replaced atomically.

`mivid.settings` reads the file; this module changes it. Every change rewrites
the whole file through a temporary file in the same folder (created 0600, so a
secret is never readable by others, not even for a moment), fsynced, then
`os.replace`d over the old one: a crash leaves the old file or the new one,
never half of each. A symlinked config file (dotfiles) is followed, so the link
survives. Comments in the file are not kept: the file is mivid's to write.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from mivid.errors import InputError
from mivid.settings import KEYS, base_url_problem, read_config_file

FOLDER_MODE = 0o700
PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_key(name: str) -> None:
    """Raise InputError unless `name` is a settings key."""
    if name not in KEYS:
        raise InputError(
            f"unknown key `{name}`: use one of {', '.join(KEYS)}",
            hint="mivid config show lists every key with its value",
        )


def value_problems(name: str, value: str) -> list[str]:
    """Why `value` cannot be stored under the key `name` (empty when it can)."""
    key = KEYS[name]
    if value == "":
        return [f"{name}: the value is empty (to remove it use: mivid config unset {name})"]
    if any(char in value for char in "\r\n\t") or not value.isprintable():
        return [f"{name}: the value contains a line break or another control character"]
    if key.choices and value not in key.choices:
        return [f"{name}: `{value}` is not one of {', '.join(key.choices)}"]
    if name == "base-url":
        problem = base_url_problem(value)
        if problem:
            return [f"{name}: {problem}"]
    return []


def check_profile_name(profile: str) -> None:
    if not PROFILE_NAME.match(profile):
        raise InputError(
            f"profile name `{profile}`: use 1 to 64 letters, digits, `-` or `_`, "
            "starting with a letter or digit"
        )


def as_stored(name: str, value: str) -> str:
    """A choice in any case as the key spells it (`PRO` → `pro`); other values as they are."""
    choices = {choice.lower(): choice for choice in KEYS[name].choices}
    return choices.get(value.lower(), value)


def set_value(path: Path, profile: str, name: str, value: str) -> str:
    """Store `name = value` in `[profile]`, creating the file and the profile if needed.

    Returns the value stored (a choice in its own spelling: `PRO` is stored as `pro`).
    """
    check_key(name)
    value = as_stored(name, value)
    problems = value_problems(name, value)
    if problems:
        raise InputError(problems)
    profiles = read_config_file(path)
    if profile not in profiles:
        check_profile_name(profile)
    profiles.setdefault(profile, {})[name] = value
    write_config(path, profiles)
    return value


def unset_value(path: Path, profile: str, name: str) -> bool:
    """Remove `name` from `[profile]`; False when it was not set there (nothing written)."""
    check_key(name)
    profiles = read_config_file(path)
    if name not in profiles.get(profile, {}):
        return False
    del profiles[profile][name]
    write_config(path, profiles)
    return True


def render_config(profiles: dict[str, dict[str, str]]) -> str:
    """The file's text: profiles in their order, keys in `KEYS` order."""
    import tomli_w

    ordered = {
        profile: {name: values[name] for name in KEYS if name in values}
        for profile, values in profiles.items()
    }
    header = "# mivid settings, one [table] per profile; edit with `mivid config set`.\n\n"
    text: str = tomli_w.dumps(ordered)
    return header + text


def write_config(path: Path, profiles: dict[str, dict[str, str]]) -> None:
    """Replace the file atomically with `profiles`: mode 0600, its folder 0700 when created."""
    target = Path(os.path.realpath(path))
    folder = target.parent
    try:
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        # mkstemp creates the file 0600 from the first moment.
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"{folder}: cannot write the config file here: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(render_config(profiles))
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(f"{target}: cannot write the config file: {exc.strerror}") from exc
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    # Make the rename itself durable; not every platform can open a folder.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
