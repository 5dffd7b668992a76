"""The local files and folders a user points mivid at: read within limits, checked before use.

What mivid reads from the disk or stdin for a user (a jobs file, the config
file, a sidecar, a prompt or ids on stdin) is read by the functions here:
regular files only (never a FIFO, a device such as /dev/zero, or a folder),
never more than a stated number of bytes, text as strict UTF-8; each refusal
is a `Problem` naming the input. The folders mivid will write videos into
are checked here too (`folder_problems`), before anything is sent, so a paid
create is never followed by "cannot write there".

`DOWNLOAD_OPTION` is how messages name the videos' folder option.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import TextIO

from mivid import problems as rules
from mivid.errors import InputError
from mivid.problems import Problem

MIB = 1024 * 1024
#: The option that names the folder videos are saved into, as messages name it.
DOWNLOAD_OPTION = "-d/--download"
#: A thousand jobs with 2500-character prompts are a few megabytes.
MAX_JOBS_FILE_BYTES = 64 * MIB
#: The config file holds a few short settings per profile.
MAX_CONFIG_FILE_BYTES = 1 * MIB
#: A sidecar is a few kilobytes (the gallery reads them with the same limit).
MAX_SIDECAR_BYTES = 1 * MIB
#: A prompt is at most 2500 characters; a secret pasted into `config set KEY -` far less.
MAX_STDIN_TEXT_BYTES = 1 * MIB
#: Task ids, one a line, piped from `mivid list -q --all` (a hundred thousand ids and more).
MAX_STDIN_IDS_BYTES = 16 * MIB


def size_text(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit >= MIB else f"{limit} bytes"


def read_regular(
    path: Path, *, subject: str, limit: int, rule: str = rules.FILE_UNREADABLE
) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them.

    Raises InputError with one `Problem` about `subject` (how the user named the
    file) when it is missing, not a regular file, larger than `limit` or unreadable.
    A FIFO is never waited on: it is opened without blocking and refused.
    """

    def refuse(detail: str, why: str = rule) -> InputError:
        return InputError(Problem(subject, why, detail, {"limit": limit}))

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise refuse("no such file", rules.FILE_MISSING) from None
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise refuse("is a folder, not a file", rules.NOT_A_FILE)
        if not stat.S_ISREG(mode):
            kind = "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a pipe or socket"
            raise refuse(f"is {kind}, not a regular file", rules.NOT_A_FILE)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise refuse(
            f"is larger than {size_text(limit)}, the most mivid reads of it", rules.FILE_TOO_LARGE
        )
    return data


def utf8_text(data: bytes, *, subject: str) -> str:
    """`data` as UTF-8 text (a byte-order mark dropped); InputError naming the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            Problem(
                subject,
                rules.NOT_UTF8,
                f"is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line})",
            )
        ) from None


def read_stdin(stream: TextIO, *, subject: str, limit: int) -> str:
    """All of stdin as UTF-8 text, at most `limit` bytes (`--prompt -`, `ID -`, `KEY -`)."""
    binary = getattr(stream, "buffer", None)
    if binary is not None:
        data = binary.read(limit + 1)
    else:  # a text stream without bytes beneath (a test's StringIO)
        text = stream.read(limit + 1)
        data = text.encode("utf-8", "surrogateescape")
    if len(data) > limit:
        raise InputError(
            Problem(
                subject,
                rules.FILE_TOO_LARGE,
                f"stdin holds more than {size_text(limit)}, the most mivid reads of it",
            )
        )
    return utf8_text(data, subject=f"{subject} (stdin)")


def folder_problems(folder: Path, *, option: str) -> list[Problem]:
    """Why mivid could not save files into `folder`; empty when it can.

    Checked by doing it, before anything is sent, and undone at once: a file is
    made in the folder (or, when the folder is still to be made, a folder in its
    nearest existing parent) and removed. Permissions alone say nothing for root,
    on a read-only file system or under /proc. `option` is how the folder was
    given (`-d/--download`); the folder itself is made later, when a video comes.
    """
    subject = f"{option} {folder}"
    existing = folder
    while not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    if existing == folder and not folder.is_dir():
        return [Problem(subject, rules.NOT_A_FOLDER, "exists and is not a folder")]
    if not existing.is_dir():
        return [
            Problem(
                subject,
                rules.NOT_A_FOLDER,
                f"cannot be made: {existing} is a file, not a folder",
            )
        ]
    try:
        if existing == folder:
            fd, probe = tempfile.mkstemp(dir=folder, prefix=".mivid-probe-")
            os.close(fd)
            Path(probe).unlink()
        else:
            Path(tempfile.mkdtemp(dir=existing, prefix=".mivid-probe-")).rmdir()
    except OSError as exc:
        what = "written to" if existing == folder else f"made in {existing}"
        return [Problem(subject, rules.NOT_WRITABLE, f"cannot be {what} ({_reason(exc)})")]
    return []


def check_folder(folder: Path | None, *, option: str) -> None:
    """`folder_problems`, raised as one InputError (nothing to check for None)."""
    if folder is None:
        return
    found = folder_problems(folder, option=option)
    if found:
        raise InputError(found)


def _reason(exc: OSError) -> str:
    if isinstance(exc, NotADirectoryError):
        return "a part of the path is a file, not a folder"
    return exc.strerror or str(exc)
