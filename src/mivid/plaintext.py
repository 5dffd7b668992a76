"""Values as plain text, one way each: times, public URLs, terminal-safe text, JSON, table cells,
file paths.

Shared by the client (messages), the sidecars, the journal's lists and the
renderers, so an ISO time or a scrubbed URL reads the same everywhere. Imports
nothing heavy (the `--json` paths use it).

Two functions guard everything mivid prints: `visible` (no character that a
terminal acts on reaches it: control characters are drawn as `\\xNN`) and
`json_text` (strict JSON: no NaN or Infinity, and no character a terminal acts
on, even inside strings). `mivid.render.output.Output` applies them to every
line, note, error and JSON document, and to every segment rich draws. What a table
or a panel measures is escaped before it is measured, by `cell_text` (an id, a path)
or `one_line` (prose): escaped only as it is drawn, it would be wider than measured.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from datetime import datetime, timezone
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: Format characters that show as nothing (Unicode category Cf): two ids that differ only by
#: a zero-width space, a word joiner, a BOM or a tag character would look the same. The
#: zero-width (non-)joiners U+200C and U+200D are left alone: scripts and emoji need them.
_INVISIBLE = (
    "\u00ad\u0600-\u0605\u06dd\u070f\u08e2\u180e\u200b\u2060-\u2064\u206a-\u206f"
    "\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e007f"
)
#: What a terminal may act on instead of showing: C0 controls and DEL, C1 controls (U+009B is
#: a CSI on its own), the bidirectional overrides and isolates that reorder what is shown
#: ("Trojan source"), the line and paragraph separators, lone surrogates (bytes that were
#: not UTF-8, kept by Python as U+DC80 to U+DCFF, which no stream can encode), and the
#: invisible format characters above.
_UNSAFE_CLASS = (
    "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff"
    + _INVISIBLE
)
_UNSAFE: dict[str, re.Pattern[str]] = {}
_UNSAFE_ASCII: dict[str, re.Pattern[str]] = {}
#: The same characters apart from C0 (which JSON escapes itself): inside a JSON string.
_UNSAFE_IN_JSON = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff"
    + _INVISIBLE
    + "]"
)


def _drawn(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape): the byte
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    if code > 0xFFFF:
        return f"\\U{code:08x}"
    return f"\\u{code:04x}"


def visible(text: str, *, keep: str = "") -> str:
    r"""`text` safe for a terminal: every character it could act on drawn as `\xNN` (or `\uNNNN`).

    ESC, BEL, CR, backspace, C1 controls, bidirectional overrides and the like
    become visible escapes; a byte that was not UTF-8 shows as `\xNN`. `keep`
    names control characters to leave as they are (a tab between the cells of a
    line, the newlines rich draws between rows).
    """
    if text.isascii():
        # In ASCII only C0 and DEL can be unsafe, and a plain class of those (no lookahead)
        # is searched many times quicker than the whole class: a 30,000-line list is 4 MB.
        ascii_unsafe = _UNSAFE_ASCII.get(keep)
        if ascii_unsafe is None:
            unsafe = "".join(
                f"\\x{code:02x}" for code in [*range(0x20), 0x7F] if chr(code) not in keep
            )
            ascii_unsafe = _UNSAFE_ASCII[keep] = re.compile(f"[{unsafe}]")
        if ascii_unsafe.search(text) is None:
            return text
    pattern = _UNSAFE.get(keep)
    if pattern is None:
        kept = "".join(f"\\x{ord(char):02x}" for char in keep)
        pattern = _UNSAFE[keep] = re.compile(
            f"(?![{kept}])[{_UNSAFE_CLASS}]" if kept else f"[{_UNSAFE_CLASS}]"
        )
    return pattern.sub(_drawn, text)


def _escaped_in_json(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xD800 <= code <= 0xDFFF:
        return "\\ufffd"
    if code > 0xFFFF:  # JSON spells it as its UTF-16 surrogate pair
        high, low = divmod(code - 0x10000, 0x400)
        return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
    return f"\\u{code:04x}"


def finite(value: Any) -> Any:
    """`value` with every NaN or infinite float (at any depth) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def json_text(value: Any, *, indent: int | None = 2, margin: str = "") -> str:
    """`value` as strict JSON text (RFC 8259), safe on a terminal.

    NaN and Infinity, which `json.dumps` would write though no JSON parser reads
    them, become null; characters a terminal acts on are escaped (`\\u009b`)
    even where JSON allows them raw; a lone surrogate becomes U+FFFD. Every line
    after the first starts with `margin` (an element of an array being streamed).
    The text is byte for byte what `json.dumps(value, ensure_ascii=False, indent=2)`
    writes (indented further by `margin`).
    """
    text = _quickly_indented(value, "\n" + margin) if indent == 2 else None
    if text is None:
        try:
            text = json.dumps(value, ensure_ascii=False, indent=indent, allow_nan=False)
        except ValueError:  # a non-finite float somewhere: rare, so only then walk the value
            text = json.dumps(finite(value), ensure_ascii=False, indent=indent, allow_nan=False)
        if margin:
            text = text.replace("\n", "\n" + margin)
    if text.isascii() and "\x7f" not in text:  # nothing to escape: skip the slower search
        return text
    return _UNSAFE_IN_JSON.sub(_escaped_in_json, text)


class _NotParsedJsonError(Exception):
    """A value `_indented` leaves to `json.dumps`: of a type parsed JSON never holds."""


def _quickly_indented(value: Any, pad: str) -> str | None:
    """`_indented`, or None for what only `json.dumps` writes (a tuple, a key not a string,
    a nesting deeper than this recursion goes)."""
    try:
        return _indented(value, pad)
    except (_NotParsedJsonError, RecursionError):
        return None


def _indented(value: Any, pad: str) -> str:
    """`json.dumps(value, ensure_ascii=False, indent=2)` for what parsed JSON holds, with
    lines joined by `pad` (a newline and the indentation so far).

    The standard library indents in pure Python, a generator per container: a list of
    30,000 tasks spent most of its time there. This writes each container with one join
    and leaves each string to the C escaper; any other type raises `_NotParsedJsonError`.
    """
    kind = type(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = pad + "  "
        parts = []
        for key, item in value.items():
            if type(key) is not str:
                raise _NotParsedJsonError
            parts.append(f"{inner}{encode_basestring(key)}: {_scalar(item, inner)}")
        return "{" + ",".join(parts) + pad + "}"
    if kind is list:
        if not value:
            return "[]"
        inner = pad + "  "
        return "[" + ",".join([inner + _scalar(item, inner) for item in value]) + pad + "]"
    return _scalar(value, pad)


def _scalar(value: Any, pad: str) -> str:
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is float:
        return float.__repr__(value) if math.isfinite(value) else "null"
    if kind is dict or kind is list:
        return _indented(value, pad)
    raise _NotParsedJsonError


def parse_json(text: str | bytes) -> Any:
    """JSON as the service (or a file) wrote it, with NaN, Infinity and 1e999 read as None.

    Python's parser accepts those tokens, which are not JSON, and a number too
    large for a float becomes infinity: none of them may travel on into mivid.
    """
    if isinstance(text, bytes):  # as json.loads reads bytes: UTF-8, -16 or -32
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    return _DECODER.decode(text)


def _no_constant(_token: str) -> None:
    return None


def _finite_float(token: str) -> float | None:
    number = float(token)
    return number if math.isfinite(number) else None


# One decoder for every answer: json.loads with these arguments builds one a call.
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)


def public_url(url: str) -> str:
    """The URL without any `user:password@` a gateway's base URL may carry."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def web_url(url: str) -> bool:
    """An http(s) URL with a host, nothing an opener could take for an option or a command."""
    if not url or url.startswith("-") or any(ch.isspace() or not ch.isprintable() for ch in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)


def printable(text: str) -> str:
    """Text from the network for a one-line message: whitespace runs as one space, and `visible`."""
    return visible(" ".join(text.split()))


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
    """The contract's Unix milliseconds as ISO 8601 UTC, or None (as `from_millis` reads them)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if 0 < value < _YEAR_10000_MS:  # the common case, without a datetime (a list has 30,000)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value // 1000))
    moment = from_millis(value)
    return iso_time(moment) if moment is not None else None


#: The first millisecond datetime cannot hold, where ISO 8601's four-digit years end.
_YEAR_10000_MS = 253_402_300_800_000


def escape_cell(text: str) -> str:
    r"""One line, reversibly: backslash, tab, newline and CR as `\\`, `\t`, `\n`, `\r`."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def tsv_cell(value: str) -> str:
    """A value for one cell of a tab-separated line: tabs and newlines become spaces."""
    return value.replace("\t", " ").replace("\n", " ")


def path_from_here(path: str, *, here: str | None = None) -> str:
    """A path the journal recorded (absolute) as it is right from the current folder
    (`here`): relative when the file is under it (`shots/start.png`), else absolute.

    As `uv` names files (relative to the working directory when under it, else
    absolute): the path a person typed at create time (`start.png`) means nothing from
    another folder, and a relative one that climbs out (`../../a/start.png`, as git
    writes it) is harder to read than where the file is. Not `~/…` under HOME: an
    absolute path works pasted anywhere (quoted in a shell, a script, another program),
    where `~` is expanded only by a shell, and only unquoted. A path that is not
    absolute (an old record) is left as it is; `..` is folded away first, so a path
    typed as `../a/x.png` is known to be under `a`.
    """
    if not Path(path).is_absolute():
        return path
    normal = Path(os.path.normpath(path))
    try:
        folder = Path(os.path.normpath(here if here is not None else Path.cwd()))
    except OSError:  # the current folder is gone
        return str(normal)
    return str(normal.relative_to(folder)) if normal.is_relative_to(folder) else str(normal)


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 job`, `3 jobs`, `0 jobs`: a count with its noun in the right number."""
    return f"{count} {noun if count == 1 else (plural or noun + 's')}"


#: What joins emoji into one picture, or changes how one is drawn: a zero-width joiner after
#: an emoji (`👨‍👩‍👧‍👦`), the emoji variation selector U+FE0F (`❤️`) and the skin-tone
#: modifiers. Terminals disagree on the width of what they make: xterm, tmux and older VTE
#: draw the family as four emoji (8 cells), kitty, WezTerm and iTerm2 as one (2 cells); rich
#: 13 and 14 measure 8, rich 15 measures 2. No measure is right on every terminal, so in a
#: cell these are drawn as escapes (`👨\u200d👩`), like every other invisible character:
#: what is left is drawn as wide as it is measured everywhere, and an id holding a joiner
#: does not look like one without it. A joiner between letters (Indic scripts) is left.
_JOINERS = re.compile(
    "(?<=[\u2600-\u27bf\U0001f000-\U0001faff\ufe0f])\u200d|[\ufe0f\U0001f3fb-\U0001f3ff]"
)


def cell_text(text: str, *, keep: str = "") -> str:
    r"""A value as a table's cell or a panel's row draws it, exactly: every character a
    terminal acts on drawn (`visible`: `\x0b`), and emoji joiners too (see `_JOINERS`).

    Escaped BEFORE anything measures, fits or cuts it: a cell's width is then what the
    terminal shows, and a cut never leaves half an escape to grow the line past its
    column. Nothing is dropped or merged: an id's cell is the id. `keep` as for `visible`
    (a panel's prompt keeps its newlines).
    """
    if text.isascii():
        # Printable ASCII (an id, a status: most cells) has nothing to escape.
        return text if text.isprintable() else visible(text, keep=keep)
    return _JOINERS.sub(_drawn, visible(text, keep=keep))


def one_line(text: str) -> str:
    r"""Prose (a prompt, a reason) as one table cell: whitespace runs (newlines, tabs) as one
    space, then `cell_text`. Not for an id or a path: a cell must show those as they are.
    """
    if text.isprintable() and "  " not in text:
        text = text.strip()
        if text.isascii():
            return text  # the usual cell, at the cost of three scans
    else:
        text = " ".join(text.split())
    return cell_text(text)


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
    """This machine's time with its offset from UTC: `2026-11-30 18:29:52 +01:00`.

    A time without its zone is a guess for whoever reads it elsewhere (a ticket, a log).
    """
    if moment is None:
        return "-"
    text = moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %z")
    return text[:-2] + ":" + text[-2:]


def elapsed_time(seconds: float) -> str:
    """'7s', '2m05s', '3h07m', '246d05h' — how long a task has been running, for live views
    (a task made months ago is not shown in minutes)."""
    seconds = int(max(0, seconds))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
