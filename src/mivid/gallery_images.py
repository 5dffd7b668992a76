"""The gallery's reference images: find each file a sidecar names, prove it is the one used, preview it.

A sidecar records each local image by the name the user typed (relative to
wherever they ran mivid), since this release its absolute `path` too, and its
SHA-256. `ImageFinder.find` tries `path`, then `name` relative to the sidecar's
folder, and accepts a file only when its bytes hash to what was recorded: an
image edited or replaced since is never shown as the reference.

Previews are small JPEGs made with Pillow and cached by SHA-256 in the gallery's
hidden folder (`<sha256>-240.jpg`): one image shared by twenty variations is one
file, and a cached preview is never made again. New previews are made in memory
here and written by `mivid.gallery.write_gallery`; nothing here writes to disk,
and the user's files are only read.

Imports neither typer nor rich.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

#: Longest side of a preview, in pixels (shown at about half that: sharp on high-DPI screens).
BOX = 240
JPEG_QUALITY = 82
#: Files larger than this are not hashed: no image mivid sends (≤ 10 MB), nor an original
#: `--fit` shrank, comes near it; it keeps a planted name such as a disk image from costing minutes.
MAX_IMAGE_BYTES = 256 * 1024 * 1024
#: Beyond this a preview is not attempted (a JPEG decodes at ⅛ scale, other formats in full).
MAX_JPEG_PIXELS = 150_000_000
MAX_OTHER_PIXELS = 40_000_000
_HASH_BLOCK = 1024 * 1024

# What became of a recorded image (the `state` of a card's image).
OK = "ok"  # found, same bytes, preview made
CHANGED = "changed"  # a file is there, but not the one used
MISSING = "missing"  # no file at the recorded path or name
NO_PREVIEW = "no preview"  # the right file, but Pillow could not make a preview of it
URL = "url"  # sent as a URL: nothing local to show
UNKNOWN = "unknown"  # the sidecar does not say enough (no SHA-256, no name)


def thumbnail_name(sha256: str) -> str:
    return f"{sha256}-{BOX}.jpg"


def is_sha256(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )


@dataclass(frozen=True)
class Preview:
    """Where a recorded image's preview is (a name in the hidden folder) and its size."""

    state: str
    name: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class ImageFinder:
    """Finds and previews images for one gallery run; remembers what it hashed."""

    folder: Path  # the gallery's hidden folder (may not exist yet)
    pending: dict[str, bytes] = field(default_factory=dict)  # previews to write, by name
    _hashes: dict[tuple[int, int, int, int], str | None] = field(default_factory=dict)
    _previews: dict[str, Preview] = field(default_factory=dict)

    def find(self, candidates: list[Path], sha256: str, size: int | None) -> Preview:
        """The preview of the first candidate whose bytes hash to `sha256`."""
        seen_a_file = False
        for candidate in candidates:
            status = _regular_file(candidate)
            if status is None:
                continue
            seen_a_file = True
            if size is not None and status.st_size != size:
                continue  # not the bytes that were sent: no need to hash
            if status.st_size > MAX_IMAGE_BYTES:
                continue
            preview = self._previews.get(sha256)
            if preview is not None:
                # Previewed once already this run; this file still has to be that image.
                if self._hash(candidate, status) == sha256:
                    return preview
                continue
            preview = self._preview_of(candidate, status, sha256)
            if preview is not None:
                return preview
        return Preview(CHANGED if seen_a_file else MISSING)

    def _preview_of(self, path: Path, status: os.stat_result, sha256: str) -> Preview | None:
        name = thumbnail_name(sha256)
        cached = _cached_size(self.folder / name)
        if cached is not None:
            if self._hash(path, status) != sha256:
                return None
            preview = Preview(OK, name, *cached)
        else:
            # Hash and preview the same bytes: a file changing in between cannot slip in.
            try:
                data = path.read_bytes()
            except OSError:
                return None
            if hashlib.sha256(data).hexdigest() != sha256:
                return None
            made = make_thumbnail(data)
            if made is None:
                preview = Preview(NO_PREVIEW)
            else:
                jpeg, width, height = made
                self.pending[name] = jpeg
                preview = Preview(OK, name, width, height)
        self._previews[sha256] = preview
        return preview

    def _hash(self, path: Path, status: os.stat_result) -> str | None:
        key = (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)
        if key not in self._hashes:
            self._hashes[key] = _file_sha256(path)
        return self._hashes[key]


def _regular_file(path: Path) -> os.stat_result | None:
    """The file's status when it is a regular file (never a FIFO, device or folder)."""
    try:
        status = path.stat()
    except (OSError, ValueError):  # ValueError: a NUL in a planted name
        return None
    return status if stat.S_ISREG(status.st_mode) else None


def _file_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while block := handle.read(_HASH_BLOCK):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _cached_size(path: Path) -> tuple[int, int] | None:
    """The size of a preview already in the cache, or None when it is not there (or broken)."""
    if _regular_file(path) is None:
        return None
    from PIL import Image

    try:
        with Image.open(path, formats=["JPEG"]) as image:
            width, height = image.size
    except Exception:  # a damaged cache file is simply made again
        return None
    return width, height


def make_thumbnail(data: bytes) -> tuple[bytes, int, int] | None:
    """A JPEG at most BOX × BOX of the picture in `data` (EXIF orientation applied), or None.

    The same bytes give the same JPEG (no metadata is copied), which keeps
    regenerated pages and their previews identical.
    """
    from PIL import Image, ImageOps

    # Any exception: the bytes matched a file mivid once checked, yet Pillow may still fail
    # on them in ways it does not document; a missing preview is all that should follow.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bomb warning: the caps below decide
        try:
            with Image.open(io.BytesIO(data)) as image:
                pixels = image.width * image.height
                limit = MAX_JPEG_PIXELS if image.format == "JPEG" else MAX_OTHER_PIXELS
                if pixels > limit:
                    return None
                image.draft(None, (BOX, BOX))  # JPEG only: decode at a reduced scale
                picture = ImageOps.exif_transpose(image)
                picture.thumbnail((BOX, BOX), Image.Resampling.LANCZOS, reducing_gap=3.0)
                rgb = _on_white(picture)
                sink = io.BytesIO()
                rgb.save(sink, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False)
        except Exception:
            return None
    return sink.getvalue(), rgb.width, rgb.height


def _on_white(picture: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency laid over white, 16-bit samples scaled to 8."""
    from PIL import Image

    if picture.mode in ("RGB", "L"):
        return picture.convert("RGB")
    if picture.mode in ("I;16", "I;16B", "I;16L", "I"):
        scaled = picture.point(lambda value: value / 256).convert("L")
        return scaled.convert("RGB")
    rgba = picture.convert("RGBA")
    white = Image.new("RGB", rgba.size, (255, 255, 255))
    white.paste(rgba, mask=rgba.getchannel("A"))
    return white
