"""Values as plain text, one way each: times, public URLs, terminal-safe text, table cells.

Shared by the client (messages), the sidecars, the journal's lists and the
renderers, so an ISO time or a scrubbed URL reads the same everywhere. Imports
nothing heavy (the `--json` paths use it).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def public_url(url: str) -> str:
    """The URL without any `user:password@` a gateway's base URL may carry."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def printable(text: str) -> str:
    """Text from the network made safe for a terminal: no control characters, one line."""
    return "".join(ch if ch.isprintable() else "?" for ch in " ".join(text.split()))


def iso_time(moment: datetime | None) -> str:
    """ISO 8601 in UTC to the second (`2026-11-30T17:29:52Z`); "" for no time."""
    if moment is None:
        return ""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_seconds(value: float) -> str:
    """Unix seconds as ISO 8601 UTC."""
    return iso_time(datetime.fromtimestamp(value, timezone.utc))


def from_millis(value: Any) -> datetime | None:
    """The contract's Unix milliseconds as an aware datetime; None when absent or absurd."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def iso_millis(value: Any) -> str | None:
    """The contract's Unix milliseconds as ISO 8601 UTC, or None."""
    moment = from_millis(value)
    return iso_time(moment) if moment is not None else None


def escape_cell(text: str) -> str:
    r"""One line, reversibly: backslash, tab, newline and CR as `\\`, `\t`, `\n`, `\r`."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def tsv_cell(value: str) -> str:
    """A value for one cell of a tab-separated line: tabs and newlines become spaces."""
    return value.replace("\t", " ").replace("\n", " ")


def one_line(text: str) -> str:
    """A prompt squeezed onto one line for a table cell."""
    return " ".join(text.split())


def relative_time(moment: datetime | None, *, now: datetime | None = None) -> str:
    """'4 min ago', 'just now', 'in 2 h' — for people."""
    if moment is None:
        return ""
    now = now or datetime.now(timezone.utc)
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = int(seconds // size)
            return f"in {amount} {unit}" if future else f"{amount} {unit} ago"
    return "just now"


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def elapsed_time(seconds: float) -> str:
    """'7s', '2m05s' — how long a task has been running, for live views."""
    seconds = int(max(0, seconds))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
