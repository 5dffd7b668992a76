"""Result videos: a tiny real MP4 made unique per task, and byte ranges over it.

`sample.mp4` is a 1 s, 160x90 H.264 clip (ftyp, moov, mdat), made once with
ffmpeg and committed. Each task's video is that clip plus a trailing MP4
`free` box naming the task: players skip `free` boxes, so the file stays valid
while its bytes (and hash) differ from every other task's.
"""

from __future__ import annotations

import functools
import re
import struct
from importlib import resources

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


@functools.cache
def sample_mp4() -> bytes:
    return resources.files("mivid.sandbox").joinpath("sample.mp4").read_bytes()


def video_bytes(task_id: str, *, watermarked: bool = False) -> bytes:
    """The MP4 served for a task (the watermarked copy differs by its `free` box)."""
    note = f"mivid sandbox video for task {task_id}"
    if watermarked:
        note += " (watermarked)"
    payload = note.encode()
    return sample_mp4() + struct.pack(">I", 8 + len(payload)) + b"free" + payload


def parse_range(header: str, length: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte positions a Range header asks for.

    None when the header is not a single satisfiable byte range; the caller
    answers 416 for that. Accepts `bytes=N-`, `bytes=N-M` and `bytes=-N`.
    """
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text or int(last_text) == 0:
            return None
        return max(0, length - int(last_text)), length - 1
    first = int(first_text)
    last = int(last_text) if last_text else length - 1
    if first >= length or last < first:
        return None
    return first, min(last, length - 1)
