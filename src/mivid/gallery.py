"""The gallery: one HTML page (DIR/index.html) of the videos mivid saved in a folder.

`read_gallery(DIR)` reads the folder's sidecars (`<video>.json`, written by
`mivid.sidecar`) into cards, newest first; `write_gallery(gallery)` writes the
page and its image previews; `Card.to_dict()` is what `mivid gallery --json`
prints. Nothing here prints, and it imports neither typer nor rich.

What it reads from a sidecar (schema `mivid.sidecar/N`; every field but
`task_id` may be missing or null, and is then shown as unknown)::

    task_id, external_task_id, task_status, task_status_msg, prompt,
    negative_prompt, model_name, mode, duration, aspect_ratio,
    final_unit_deduction, created_at (else journal_created_at, written_at:
    ISO 8601), source, made_from, video.file, images[]

Each `images[]` record is `{"url": …}` for an image sent as a URL, else a local
file: `name` (as the user typed it), `path` (absolute, written since this
release), `sha256` (of the bytes sent), `bytes`, `width`, `height`, `format`,
and for a `--fit` copy `original_sha256` (of the file) and `fitted`.

Fields other writers add (the gallery reads them; older sidecars lack them):

- `images[].role`: `"first_frame"`, `"end_frame"` or `"reference"` (the
  default, also for any other value): how the image was used (Omni-Video).
- `made_from`: the task id (or external id) of the task this one was made
  from (`create --from`); a card links to that task's card when it is here.
- A **failure card** is a sidecar with `"video": null` and `"task_status":
  "failed"`, written as `<task_id>.json` (`download.file_stem`) where the
  video would have gone: the same fields as any sidecar, `task_status_msg`
  the service's reason (`sidecar.write_failure_sidecar`: `wait` and `batch`
  with `--download` write one for each failed task). Other sidecars with no
  video are skipped with a warning.

`wait --download DIR --gallery` and `batch --download DIR --gallery` call
`read_gallery` then `write_gallery` at the end (`flows.saving.refresh_gallery`).

Safety: every text is escaped where the page draws it (`mivid.gallery_html`);
every link is a file name in DIR, percent-encoded (a sidecar naming
`../x` or `/etc/passwd` as its video gets no link); the user's files are only
read. Previews live in DIR/.mivid-gallery/ (cached by SHA-256, never made
twice, removed when no card uses them); previews beside the page rather than
inlined keep a page of hundreds of cards small and one image shared by many
cards one file. The page holds no time of its own making: the same folder
gives the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import urlsplit

from mivid.errors import InputError
from mivid.gallery_images import (
    OK,
    UNKNOWN,
    URL,
    ImageFinder,
    Preview,
    is_sha256,
)
from mivid.plaintext import parse_json

PAGE_NAME = "index.html"
PREVIEW_FOLDER = ".mivid-gallery"
SIDECAR_SCHEMA = "mivid.sidecar/"
GENERATOR = "mivid gallery"
ROLES = ("first_frame", "end_frame", "reference")
DEFAULT_ROLE = "reference"
FAILED = "failed"
#: A sidecar is about 2 kB (prompts are at most 2500 characters); anything far bigger is not one.
MAX_SIDECAR_BYTES = 1024 * 1024
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".m4v")
# Left-over temporary files younger than this may belong to a gallery being written right now.
_TEMPORARY_GRACE_SECONDS = 600

# What became of a card's video file.
VIDEO_OK = "ok"
VIDEO_MISSING = "missing"
VIDEO_REFUSED = "refused"  # the sidecar's name is not a plain file name in DIR


@dataclass(frozen=True)
class CardImage:
    """One reference image of a card, in the create's order."""

    role: str
    name: str | None
    url: str | None
    sha256: str | None
    fitted: bool
    state: str  # gallery_images: ok, changed, missing, no preview, url, unknown
    thumbnail: str | None  # the preview's path relative to the page
    width: int | None = None
    height: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "name": self.name,
            "url": self.url,
            "sha256": self.sha256,
            "fitted": self.fitted,
            "state": self.state,
            "thumbnail": self.thumbnail,
        }


@dataclass(frozen=True)
class CardVideo:
    file: str | None  # a plain file name in DIR; None when the sidecar's name was refused
    state: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "state": self.state}


@dataclass(frozen=True)
class Card:
    """What the page shows of one video (or of one failed task)."""

    sidecar: str
    task_id: str
    external_task_id: str | None
    status: str | None
    reason: str | None
    prompt: str | None
    negative_prompt: str | None
    model: str | None
    mode: str | None
    duration: str | None
    aspect_ratio: str | None
    units: str | None
    created_at: str | None
    made_from: str | None
    source: str | None
    video: CardVideo | None  # None: a failure card
    images: tuple[CardImage, ...] | None  # None: not known (a task made by another client)
    group: str  # the same for cards made from the same images, in the same order
    group_label: str

    @property
    def failed(self) -> bool:
        return self.video is None

    @property
    def poster(self) -> str | None:
        """The video's poster: the preview of the image the task was told to start from
        (an Omni `--first-frame`), when that image is here unchanged; else None.

        Only a first frame: a reference image is not the video's first frame, and mivid
        has no video decoder to take one from the video itself. Without a poster the
        browser draws the video's own first frame (`preload="metadata"`)."""
        for image in self.images or ():
            if image.role == "first_frame" and image.state == OK and image.thumbnail:
                return image.thumbnail
        return None

    @property
    def anchor(self) -> str:
        """The card's element id in the page."""
        return "card-" + hashlib.sha256(self.sidecar.encode("utf-8", "replace")).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        """The card as `mivid gallery --json` prints it (stable keys)."""
        return {
            "sidecar": self.sidecar,
            "task_id": self.task_id,
            "external_task_id": self.external_task_id,
            "status": self.status,
            "reason": self.reason,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "model": self.model,
            "mode": self.mode,
            "duration": self.duration,
            "aspect_ratio": self.aspect_ratio,
            "units": self.units,
            "created_at": self.created_at,
            "made_from": self.made_from,
            "source": self.source,
            "video": None
            if self.video is None
            else {**self.video.to_dict(), "poster": self.poster},
            "images": None if self.images is None else [i.to_dict() for i in self.images],
            "group": self.group,
        }


@dataclass
class Gallery:
    """A folder's cards, newest first, and what could not be read (one line each)."""

    directory: Path
    cards: list[Card]
    warnings: list[str] = field(default_factory=list)
    sidecars_seen: int = 0
    _previews: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def page(self) -> Path:
        return self.directory / PAGE_NAME

    def card_dicts(self) -> list[dict[str, Any]]:
        return [card.to_dict() for card in self.cards]


# -- reading -------------------------------------------------------------------------------


def check_folder(directory: Path) -> None:
    """InputError unless `directory` is a folder that exists."""
    shown = shown_name(str(directory))
    try:
        status = directory.stat()
    except FileNotFoundError:
        raise InputError(f"DIR {shown}: no such folder") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"DIR {shown}: cannot be read ({_reason(exc)})") from None
    if not stat.S_ISDIR(status.st_mode):
        raise InputError(
            f"DIR {shown}: is a file, not a folder — give the folder the videos were saved in"
        )


def read_gallery(directory: Path, scrub: Callable[[Any], Any] | None = None) -> Gallery:
    """The cards of every sidecar in `directory` (not its sub-folders), newest first.

    Reads and hashes the reference images and makes the previews that are not
    cached yet, in memory; writes nothing (`write_gallery` does). `scrub` takes each
    sidecar's parsed JSON first: a sidecar an older mivid wrote may hold a key a server
    echoed, which the page must not show (`Secrets.scrub_data`).
    """
    check_folder(directory)
    finder = ImageFinder(directory / PREVIEW_FOLDER)
    warnings: list[str] = []
    cards: list[Card] = []
    seen = 0
    try:
        names = sorted(entry.name for entry in os.scandir(directory))
    except OSError as exc:
        raise InputError(
            f"DIR {shown_name(str(directory))}: cannot be listed ({_reason(exc)})"
        ) from None
    present = set(names)
    for name in names:
        if not name.endswith(".json") or name.startswith("."):
            continue
        record, problem = _read_sidecar(directory / name, present)
        if problem is not None:
            warnings.append(f"{shown_name(name)}: {problem}; skipped")
            seen += 1
            continue
        if record is None:
            continue  # some other JSON file
        if scrub is not None:
            record = scrub(record)
        seen += 1
        card, card_warnings = _card(directory, name, record, finder)
        warnings.extend(f"{shown_name(name)}: {text}" for text in card_warnings)
        if card is not None:
            cards.append(card)
    return Gallery(directory, _newest_first(cards), warnings, seen, dict(finder.pending))


def gallery_cards(directory: Path) -> list[dict[str, Any]]:
    """What the page of `directory` shows, as plain dicts (for scripts); writes nothing."""
    return read_gallery(directory).card_dicts()


def _read_sidecar(path: Path, present: set[str]) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) for a sidecar, (None, None) for another JSON file, (None, why) for a broken one."""
    looks_like_one = any(path.stem + suffix in present for suffix in VIDEO_SUFFIXES)
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            return None, ("not a regular file" if looks_like_one else None)
        if status.st_size > MAX_SIDECAR_BYTES:
            return None, (
                f"{status.st_size} bytes, too big for a sidecar" if looks_like_one else None
            )
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot be read ({_reason(exc)})" if looks_like_one else None
    looks_like_one = looks_like_one or SIDECAR_SCHEMA in text
    try:
        record = parse_json(text)
    except (ValueError, RecursionError) as exc:
        return None, (f"not valid JSON ({exc})" if looks_like_one else None)
    if not isinstance(record, dict):
        return None, ("not a JSON object" if looks_like_one else None)
    schema = record.get("schema")
    if not (isinstance(schema, str) and schema.startswith(SIDECAR_SCHEMA)):
        return None, ('not a mivid sidecar (no "schema")' if looks_like_one else None)
    task_id = record.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        return None, "a sidecar without a task_id"
    return record, None


def _card(
    directory: Path,
    sidecar: str,
    record: Mapping[str, Any],
    finder: ImageFinder,
) -> tuple[Card | None, list[str]]:
    warnings: list[str] = []
    status = _text(record.get("task_status"))
    video_record = record.get("video")
    video: CardVideo | None
    if video_record is None:
        if status != FAILED:
            shown = status or "unknown"
            return None, [f"no video, and the task did not fail (status {shown}); skipped"]
        video = None
    elif not isinstance(video_record, dict):
        return None, ['its "video" is not an object; skipped']
    else:
        video = _video(directory, video_record.get("file"))
        if video.state == VIDEO_REFUSED:
            warnings.append(
                f"its video '{shown_name(str(video_record.get('file')))}' is not a file name "
                "in this folder; no link made"
            )
    images = _images(directory, record.get("images"), finder)
    group, label = _group(images)
    card = Card(
        sidecar=sidecar,
        task_id=clean(str(record["task_id"])),
        external_task_id=_text(record.get("external_task_id")),
        status=status,
        reason=_text(record.get("task_status_msg")),
        prompt=_text(record.get("prompt")),
        negative_prompt=_text(record.get("negative_prompt")),
        model=_text(record.get("model_name")),
        mode=_text(record.get("mode")),
        duration=_text(record.get("duration")),
        aspect_ratio=_text(record.get("aspect_ratio")),
        units=_text(record.get("final_unit_deduction")),
        created_at=_moment(record),
        made_from=_text(record.get("made_from")),
        source=_text(record.get("source")),
        video=video,
        images=images,
        group=group,
        group_label=label,
    )
    return card, warnings


def _video(directory: Path, file: object) -> CardVideo:
    if not isinstance(file, str) or not is_plain_name(file):
        return CardVideo(None, VIDEO_REFUSED)
    return CardVideo(file, VIDEO_OK if (directory / file).is_file() else VIDEO_MISSING)


def is_plain_name(name: str) -> bool:
    """A file name in the folder itself: no separator, not `.`/`..`, nothing odd to a browser."""
    if name in ("", ".", "..", PAGE_NAME, PREVIEW_FOLDER) or len(name) > 255:
        return False
    if PurePosixPath(name).name != name or PureWindowsPath(name).name != name:
        return False
    return not any(ord(c) < 32 or ord(c) == 127 for c in name)


def _images(directory: Path, records: object, finder: ImageFinder) -> tuple[CardImage, ...] | None:
    if not isinstance(records, list):
        return None
    return tuple(_image(directory, record, finder) for record in records)


def _image(directory: Path, record: object, finder: ImageFinder) -> CardImage:
    if not isinstance(record, dict):
        return CardImage(DEFAULT_ROLE, None, None, None, False, UNKNOWN, None)
    role = record.get("role")
    role = role if role in ROLES else DEFAULT_ROLE
    name = _text(record.get("name"))
    url = _text(record.get("url"))
    fitted = is_sha256(record.get("original_sha256"))
    # A --fit copy was made in memory: the file on disk is the original, named by its own hash.
    sha = record.get("original_sha256") if fitted else record.get("sha256")
    if url is not None and name is None:
        return CardImage(role, None, url, None, False, URL, None)
    if not is_sha256(sha) or (name is None and not isinstance(record.get("path"), str)):
        return CardImage(role, name, None, None, fitted, UNKNOWN, None)
    assert isinstance(sha, str)
    size = record.get("bytes")
    expected_size = (
        size if isinstance(size, int) and not isinstance(size, bool) and not fitted else None
    )
    preview = finder.find(_candidates(directory, record), sha, expected_size)
    return CardImage(
        role,
        name,
        None,
        sha,
        fitted,
        preview.state,
        _preview_src(preview),
        preview.width,
        preview.height,
    )


def _candidates(directory: Path, record: Mapping[str, Any]) -> list[Path]:
    """Where the image may be: its recorded absolute path, then its name from the sidecar's folder."""
    found: list[Path] = []
    path = record.get("path")
    if isinstance(path, str) and path and Path(path).is_absolute():
        found.append(Path(path))
    name = record.get("name")
    if isinstance(name, str) and name:
        found.append(directory / name)  # an absolute name stays itself
    return found


def _preview_src(preview: Preview) -> str | None:
    return f"{PREVIEW_FOLDER}/{preview.name}" if preview.name is not None else None


def _group(images: tuple[CardImage, ...] | None) -> tuple[str, str]:
    """The group of cards made from these images (in this order) and its heading."""
    if images is None:
        return "unknown", "reference images unknown"
    if not images:
        return "none", "no reference images"
    keys = [
        image.sha256 or (f"url:{image.url}" if image.url else f"name:{image.name}")
        for image in images
    ]
    digest = hashlib.sha256("\n".join(keys).encode("utf-8", "replace")).hexdigest()[:16]
    names = [
        _short(image.name) if image.name else url_label(image.url) if image.url else "unknown image"
        for image in images
    ]
    return digest, " · ".join(names)


def url_label(url: str) -> str:
    """A URL shown as text, never as a link: host and last path part, no query (it may be signed)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "a URL"
    last = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return f"{host}/…/{last}" if last else host or "a URL"


def _short(name: str) -> str:
    """The last part of an image's name or URL, for a group's heading."""
    last = PureWindowsPath(name).name if "\\" in name else PurePosixPath(name).name
    return last or name


def _newest_first(cards: list[Card]) -> list[Card]:
    by_name = sorted(cards, key=lambda card: card.sidecar)
    return sorted(by_name, key=lambda card: _timestamp(card.created_at), reverse=True)


def _timestamp(moment: str | None) -> float:
    if moment is None:
        return float("-inf")
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return float("-inf")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _moment(record: Mapping[str, Any]) -> str | None:
    """When the task was made (the service's time, else the journal's, else the sidecar's)."""
    for key in ("created_at", "journal_created_at", "written_at"):
        value = _text(record.get(key))
        if value is not None and _timestamp(value) != float("-inf"):
            return value
    return None


def _text(value: object) -> str | None:
    """A sidecar's string (or number) as text; anything else is unknown."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return clean(value)
    return None


def clean(text: str) -> str:
    """Text that can be written as UTF-8: JSON may carry lone surrogates (`"\\ud800"`)."""
    return _SURROGATE.sub("\ufffd", text)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def shown_name(name: str) -> str:
    r"""A file name for a message line: control characters as `\xNN`."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", clean(name))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


# -- writing -------------------------------------------------------------------------------


def write_gallery(gallery: Gallery) -> Path:
    """Write the previews and DIR/index.html; remove the previews no card uses. Return the page.

    InputError (exit 2) when the folder cannot be written, when DIR/index.html
    is a file mivid did not write (it is never overwritten), or when
    DIR/.mivid-gallery is not a folder.
    """
    from mivid.gallery_html import render_page

    directory = gallery.directory
    page = gallery.page
    shown = shown_name(str(directory))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(
            f"DIR {shown}: is not writable — the gallery is written there as {PAGE_NAME}"
        )
    _check_page_is_ours(page)
    wanted = {
        image.thumbnail.rsplit("/", 1)[1]
        for card in gallery.cards
        for image in card.images or ()
        if image.thumbnail
    }
    folder = directory / PREVIEW_FOLDER
    try:
        _write_previews(folder, wanted, gallery._previews)
        text = render_page(
            gallery.cards, title=directory.resolve().name or str(directory.resolve())
        )
        _write_if_changed(page, text.encode("utf-8"))
    except OSError as exc:
        raise InputError(f"DIR {shown}: cannot write the gallery ({_reason(exc)})") from None
    return page


def _check_page_is_ours(page: Path) -> None:
    try:
        with page.open("rb") as handle:
            head = handle.read(2048)
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise InputError(
            f"{shown_name(str(page))}: is a folder; the gallery page goes there"
        ) from None
    except OSError as exc:
        raise InputError(f"{shown_name(str(page))}: cannot be read ({_reason(exc)})") from None
    if f'<meta name="generator" content="{GENERATOR}">'.encode() not in head:
        raise InputError(
            f"{shown_name(str(page))}: exists and was not written by mivid gallery; "
            "move it away (mivid never replaces it)"
        )


def _write_previews(folder: Path, wanted: set[str], made: Mapping[str, bytes]) -> None:
    """Make the folder when some preview is wanted; write new ones; remove all others."""
    try:
        status = folder.lstat()
    except FileNotFoundError:
        status = None
    if status is not None and not stat.S_ISDIR(status.st_mode):
        raise InputError(
            f"{shown_name(str(folder))}: is not a folder mivid made (the gallery keeps its "
            "previews there); move it away"
        )
    if status is None:
        if not wanted:
            return
        folder.mkdir()
    for name in sorted(wanted):
        if name in made:
            _write_atomically(folder / name, made[name])
    _remove_unused(folder, wanted)


def _remove_unused(folder: Path, wanted: set[str]) -> None:
    import time

    now = time.time()
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name in wanted:
                continue
            if entry.name.startswith(".tmp-"):
                try:
                    if now - entry.stat(follow_symlinks=False).st_mtime < _TEMPORARY_GRACE_SECONDS:
                        continue  # perhaps another gallery being written right now
                except OSError:
                    continue
            if entry.is_dir(follow_symlinks=False):
                continue  # nothing the gallery makes; not ours to delete
            Path(entry.path).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()  # only when empty: no previews, nothing left to keep


def _write_if_changed(path: Path, data: bytes) -> None:
    try:
        if path.read_bytes() == data:
            return  # the same page: leave its time alone
    except OSError:
        pass
    _write_atomically(path, data)


def _write_atomically(path: Path, data: bytes) -> None:
    handle, name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as sink:
            sink.write(data)
        temporary.chmod(0o644)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
