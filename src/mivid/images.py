"""Check the images given to `mivid create` before anything is sent.

Each argument is a local path or an http(s) URL. URLs pass through untouched
(only the scheme and host are checked: the service fetches them itself). A
local file must satisfy the service's rules — JPEG or PNG judged by content,
at most 10 MB, each side at least 300 px, width:height within 1:2.5 … 2.5:1 —
and must really decode, so a broken file is caught here and not after a
billed upload. Every problem in every argument is collected and raised as one
`InputError`, one line per problem, naming the argument as the user typed it.

How the decoding stays cheap and bounded (one file at a time, its bytes read
once into memory — at most 10 MB — hashed, decoded, released):

* **JPEG** (and MPO, the multi-picture JPEG phones write: its first picture
  is decoded, the others only checked to lie whole where its index says) is
  decoded with ``Image.draft()`` at 1/8 scale. libjpeg still runs the whole
  entropy-coded stream, so corruption that libjpeg treats as an error and any
  truncation are found, but the pixel buffer is 64 times smaller: a
  100-megapixel, 10 MB baseline JPEG checks in about 0.25 s and 40 MB.
  Truncation is detected twice: Pillow raises on a premature end unless
  ``ImageFile.LOAD_TRUNCATED_IMAGES`` was set by someone (it is
  process-global, so it is not trusted), and the stream handed to Pillow
  records whether the decoder asked for bytes past the end of the file —
  which a complete JPEG never does. A *progressive* JPEG cannot be decoded at
  reduced cost: libjpeg keeps every DCT coefficient of the whole image (2
  bytes per sample), so one whose coefficient buffer would exceed
  `PROGRESSIVE_MAX_BYTES` is refused with a clear line instead of risking
  gigabytes. Garbage inside the entropy-coded data is only a libjpeg
  *warning* (grey blocks); no decoder can tell it from a real picture.
* **PNG** is verified by a small streaming reader of our own, whatever its
  size: signature, IHDR first and valid, every chunk's CRC, PLTE where
  needed, IDAT runs inflated in constant memory (bounded input and output
  slices), every scanline's filter byte valid, the inflated length exactly
  what IHDR implies (for interlaced images the seven Adam7 passes), and IEND
  present. It does not depend on Pillow's process-global flags and never
  holds more than about a megabyte of pixels (the worst case under
  `MAX_PIXELS`, a flat 13000×13000 16-bit RGBA PNG — 1.35 GB inflated —
  takes under a second in ~30 MB). PNGs of at most `FULL_DECODE_MAX_PIXELS`
  are additionally decoded fully by Pillow as a second opinion; bigger ones
  (a 20000×20000 flat-colour PNG would need GBs)
  rely on the streaming check alone.
* **Pillow's decompression-bomb guard** is decided per file, never silenced
  for the process: Pillow is only ever asked to open a file we decode at
  bounded cost (draft-scaled JPEG, or a PNG under `FULL_DECODE_MAX_PIXELS`),
  so its *warning* — raised by ``Image.open`` from the declared size, before
  any decoding — is recorded and dropped inside that one call; its *error*
  (a global threshold that another part of a process may lower) becomes a
  problem line for a JPEG (for a PNG the streamed verification stands and
  Pillow's second opinion is skipped). Our own limit, `MAX_PIXELS` (Pillow's
  default hard limit), applies to every format whatever Pillow's global
  says: above it a file is refused as too large to check, before any pixel
  is decoded.
* **EXIF orientation** (JPEG APP1, PNG eXIf) is applied to the reported size:
  `LocalImage.width`/`height` are what the user sees. The rules are symmetric,
  so this changes messages, never verdicts. Unreadable EXIF is ignored.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import stat
import struct
import warnings
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urlsplit

from mivid import problems as rules
from mivid.errors import InputError
from mivid.problems import Problem

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage
    from PIL.MpoImagePlugin import MpoImageFile

__all__ = [
    "MAX_IMAGES",
    "MAX_IMAGE_BYTES",
    "MIN_SIDE",
    "ImageChecks",
    "ImageRef",
    "Inspection",
    "LocalImage",
    "RemoteImage",
    "check_image",
    "check_images",
    "display_name",
    "inspect_bytes",
    "read_up_to",
    "size_problems",
]

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MIN_SIDE = 300
MAX_IMAGES = 4

#: Refuse to check images with more pixels than this (Pillow's default hard limit).
MAX_PIXELS = 2 * (1024 * 1024 * 1024 // 4 // 3)
#: PNGs up to this many pixels are also fully decoded by Pillow (≤ ~100 MB of pixels).
FULL_DECODE_MAX_PIXELS = 24_000_000
#: A progressive JPEG's whole-image coefficient buffer may be at most this large.
PROGRESSIVE_MAX_BYTES = 256 * 1024 * 1024

FORMAT_RULE = "must be JPEG or PNG (judged by content, not by name)"
_RATIO_RULE = "width:height must be between 1:2.5 and 2.5:1"
_HEAD_BYTES = 1024 * 1024  # read from an oversized file to still report its kind and size
_INFLATE_IN = 64 * 1024
_INFLATE_OUT = 1024 * 1024
_MB = 1024 * 1024


@dataclass(frozen=True)
class LocalImage:
    """A local JPEG or PNG that passed every check."""

    argument: str
    path: Path
    size: int
    width: int
    height: int
    format: str
    sha256: str

    def base64_length(self) -> int:
        """Length of the file's bare Base64 text: 4 × ⌈size / 3⌉."""
        return 4 * ((self.size + 2) // 3)

    def iter_base64(self, chunk_size: int = 3 * 256 * 1024) -> Iterator[bytes]:
        """Stream the file's bytes as bare Base64 (no ``data:`` prefix, no newlines).

        Reads the file again in blocks of a multiple of 3 bytes (``chunk_size``
        rounded down, at least 3), so the pieces concatenate to the Base64 of
        the whole file. Raises `InputError` when the file is gone or its size
        changed since the check (before the first piece), or when its bytes
        changed (after the last piece: a consumer streaming a request body
        then aborts it rather than sending an unchecked image).
        """
        step = max(3, chunk_size - chunk_size % 3)
        name = display_name(self.argument)
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise InputError(
                _problem(name, rules.IMAGE_CHANGED, f"cannot be read any more ({_os_reason(exc)})")
            ) from exc
        with handle:
            now = os.fstat(handle.fileno()).st_size
            if now != self.size:
                raise InputError([_changed(name, f"{self.size} → {now} bytes")])
            digest = hashlib.sha256()
            total = 0
            while True:
                block = read_up_to(handle, step)
                if not block:
                    break
                total += len(block)
                if total > self.size:
                    raise InputError([_changed(name, "it grew while being read")])
                digest.update(block)
                yield base64.b64encode(block)
            if total != self.size:
                raise InputError([_changed(name, f"{self.size} → {total} bytes")])
            if digest.hexdigest() != self.sha256:
                raise InputError([_changed(name, "its content differs")])


@dataclass(frozen=True)
class RemoteImage:
    """An http(s) URL, passed to the service as is."""

    url: str
    argument: str


ImageRef = LocalImage | RemoteImage


def check_images(arguments: Sequence[str], *, base_dir: Path | None = None) -> list[ImageRef]:
    """Check every argument; return the images, or raise one `InputError` with all problems.

    Files are checked one after the other, so only one image's pixels are in
    memory at a time.
    """
    if isinstance(arguments, str):
        raise TypeError("check_images() takes a sequence of arguments, not one string")
    problems = count_problems(len(arguments), low=1, high=MAX_IMAGES)
    refs: list[ImageRef] = []
    for argument in arguments:
        ref, found = check_image(argument, base_dir=base_dir)
        problems.extend(found)
        if ref is not None:
            refs.append(ref)
    if problems:
        raise InputError(problems)
    return refs


def check_image(
    argument: str, *, base_dir: Path | None = None, checks: ImageChecks | None = None
) -> tuple[ImageRef | None, list[Problem]]:
    """Check one argument: the image (or None) and its problems, one line each.

    A relative path is resolved against ``base_dir`` when given (a batch file's
    folder), else against the working directory. With ``checks``, a file that
    run has checked already is not read again (see `ImageChecks`).
    """
    name = display_name(argument)
    if not argument.strip():
        return None, [
            _problem(
                name,
                rules.IMAGE_MISSING,
                "empty argument — expected an image file path or an http(s) URL",
            )
        ]
    url_verdict = _check_url(argument, name)
    if url_verdict is not None:
        return url_verdict
    path = Path(argument).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if checks is not None:
        return checks.local(argument, name, path)
    return _check_local(argument, name, path)


class ImageChecks:
    """One run's memo of local image checks: each distinct file is read and decoded once.

    A thousand-job batch names the same few files again and again; checking
    each once per run instead of once per job is most of what a rerun or a
    dry run costs. A file counts as the same while its device, inode, size and
    modification and change times are (rewriting a file in place changes its
    times). A later argument naming it gets the first verdict, said of its own
    name. Safe because nothing is trusted at sending time: the bytes are
    hashed again as they go (`LocalImage.iter_base64`), and a file changed
    since its check aborts its create.
    """

    def __init__(self) -> None:
        self._verdicts: dict[
            tuple[int, int, int, int, int], tuple[str, LocalImage | None, list[Problem]]
        ] = {}

    def local(
        self, argument: str, name: str, path: Path
    ) -> tuple[LocalImage | None, list[Problem]]:
        """`check_image`'s verdict on a local path, from the memo when the file was seen."""
        try:
            st = path.stat()
        except (OSError, ValueError):
            return _check_local(argument, name, path)  # it says why, in its words
        if not stat.S_ISREG(st.st_mode):
            return _check_local(argument, name, path)
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        seen = self._verdicts.get(key)
        if seen is None:
            image, problems = _check_local(argument, name, path)
            self._verdicts[key] = (name, image, problems)
            return image, problems
        first_name, image, problems = seen
        if image is not None:
            image = replace(image, argument=argument, path=path)
        return image, [p.about(name) if p.subject == first_name else p for p in problems]


# --- URLs --------------------------------------------------------------------------------------

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]+):")
_URL_LIKE_SCHEMES = {"http", "https", "ftp", "ftps", "sftp", "file", "data", "s3", "gs", "blob"}
_URL_ADVICE = "only http:// and https:// URLs (or local files) are accepted"


def _check_url(argument: str, name: str) -> tuple[ImageRef | None, list[Problem]] | None:
    """None when the argument is not a URL (then it is a path)."""
    match = _SCHEME.match(argument)
    if match is None:
        return None
    scheme = match.group(1).lower()
    rest = argument[match.end() :]
    if scheme not in ("http", "https"):
        if scheme == "data":
            return None, [
                _problem(
                    name,
                    rules.IMAGE_URL,
                    "is a data: URL — give the image's file path instead "
                    "(mivid encodes local files itself)",
                )
            ]
        if rest.startswith("//") or scheme in _URL_LIKE_SCHEMES:
            return None, [
                _problem(
                    name, rules.IMAGE_URL, f'unsupported URL scheme "{scheme}" — {_URL_ADVICE}'
                )
            ]
        return None  # "photo:1.png" is a file name
    if not rest.startswith("//"):
        return None, [
            _problem(name, rules.IMAGE_URL, f"is not a valid URL — expected {scheme}://host/path")
        ]
    if any(ch.isspace() or not ch.isprintable() for ch in argument):
        return None, [
            _problem(
                name,
                rules.IMAGE_URL,
                "URL contains spaces or control characters — percent-encode them (%20)",
            )
        ]
    try:
        parts = urlsplit(argument)
        host = parts.hostname
        _ = parts.port
    except ValueError as exc:
        return None, [
            _problem(
                name, rules.IMAGE_URL, f"is not a valid URL ({exc}) — expected {scheme}://host/path"
            )
        ]
    if not host:
        return None, [
            _problem(name, rules.IMAGE_URL, f"URL has no host — expected {scheme}://host/path")
        ]
    return RemoteImage(url=argument, argument=argument), []


# --- local files -------------------------------------------------------------------------------


class _DecodeError(Exception):
    """The file cannot be decoded; the message is the short reason."""


@dataclass(frozen=True)
class Inspection:
    """What decoding learned: the format, the size as displayed, problems found."""

    format: str
    width: int | None
    height: int | None
    problems: list[Problem]


def _check_local(argument: str, name: str, path: Path) -> tuple[LocalImage | None, list[Problem]]:
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer.
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None, [_problem(name, rules.IMAGE_MISSING, "no such file")]
    except NotADirectoryError:
        return None, [
            _problem(name, rules.IMAGE_MISSING, "no such file (a part of the path is not a folder)")
        ]
    except IsADirectoryError:
        return None, [
            _problem(name, rules.IMAGE_UNREADABLE, "is a folder — expected a JPEG or PNG file")
        ]
    except OSError as exc:
        return None, [_problem(name, rules.IMAGE_UNREADABLE, f"cannot be read ({_os_reason(exc)})")]
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        return None, [_problem(name, rules.IMAGE_UNREADABLE, f"cannot be read ({_os_reason(exc)})")]
    if stat.S_ISDIR(st.st_mode) or not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            return None, [
                _problem(name, rules.IMAGE_UNREADABLE, "is a folder — expected a JPEG or PNG file")
            ]
        return None, [
            _problem(
                name,
                rules.IMAGE_UNREADABLE,
                "is not a regular file (a device, pipe or socket) — expected a JPEG or PNG file",
            )
        ]
    with os.fdopen(fd, "rb") as handle:
        try:
            if st.st_size > MAX_IMAGE_BYTES:
                return None, _oversized(name, st.st_size, handle.read(_HEAD_BYTES))
            data = read_up_to(handle, MAX_IMAGE_BYTES + 1)
        except OSError as exc:
            return None, [
                _problem(name, rules.IMAGE_UNREADABLE, f"cannot be read ({_os_reason(exc)})")
            ]
    if len(data) > MAX_IMAGE_BYTES:  # it grew after fstat
        return None, _oversized(name, len(data), data[:_HEAD_BYTES])
    if not data:
        return None, [_problem(name, rules.IMAGE_FORMAT, f"is empty (0 bytes) — {FORMAT_RULE}")]
    size = len(data)
    digest = hashlib.sha256(data).hexdigest()
    seen = inspect_bytes(name, data)
    del data
    if seen.problems or seen.width is None or seen.height is None:
        return None, seen.problems
    image = LocalImage(
        argument=argument,
        path=path,
        size=size,
        width=seen.width,
        height=seen.height,
        format=seen.format,
        sha256=digest,
    )
    return image, []


def _oversized(name: str, size: int, head: bytes) -> list[Problem]:
    """The size problem, plus what the header alone tells (kind, dimensions)."""
    mb = f"{size / _MB:.1f}"
    shown = f"{size} bytes" if float(mb) <= MAX_IMAGE_BYTES / _MB else f"{mb} MB"
    problems = [
        _problem(
            name,
            rules.IMAGE_BYTES,
            f"{shown} — must be at most 10 MB ({MAX_IMAGE_BYTES} bytes)",
            bytes=size,
            limit=MAX_IMAGE_BYTES,
        )
    ]
    kind = _sniff(head)
    if kind not in ("JPEG", "PNG"):
        problems.append(_kind_problem(name, kind))
        return problems
    try:
        width, height = _png_ihdr_size(head) if kind == "PNG" else _jpeg_header_size(head)
    except Exception:  # the header is unreadable too; the size line says enough
        return problems
    problems.extend(size_problems(name, width, height))
    return problems


def inspect_bytes(name: str, data: bytes) -> Inspection:
    """Decode an image's bytes as `check_image` does; every problem names it `name`."""
    kind = _sniff(data)
    if kind == "JPEG":
        return _inspect_jpeg(name, data)
    if kind == "PNG":
        return _inspect_png(name, data)
    return Inspection(kind, None, None, [_kind_problem(name, kind)])


def size_problems(name: str, width: int, height: int) -> list[Problem]:
    """The size rules (each side, width:height) a `width`×`height` image breaks."""
    problems = []
    if width < MIN_SIDE or height < MIN_SIDE:
        problems.append(
            _problem(
                name,
                rules.IMAGE_SIDE,
                f"{width}×{height} px — each side must be at least {MIN_SIDE} px",
                width=width,
                height=height,
                limit=MIN_SIDE,
            )
        )
    if not (2 * width <= 5 * height and 2 * height <= 5 * width):
        problems.append(
            _problem(
                name,
                rules.IMAGE_RATIO,
                f"{width}×{height} px is {_ratio_text(width, height)} — {_RATIO_RULE}",
                width=width,
                height=height,
            )
        )
    return problems


def count_problems(count: int, *, low: int, high: int) -> list[Problem]:
    """Too few or too many images for an endpoint that takes `low` to `high`."""
    if count < low:
        return [
            Problem(
                "",
                rules.IMAGE_COUNT,
                f"no images given — {low} to {high} are required",
                {"count": 0},
            )
        ]
    if count > high:
        return [
            Problem(
                "",
                rules.IMAGE_COUNT,
                f"got {count} images — at most {high} are allowed",
                {"count": count, "limit": high},
            )
        ]
    return []


def _problem(name: str, rule: str, detail: str, **figures: object) -> Problem:
    return Problem(name, rule, detail, figures)


def _ratio_text(width: int, height: int) -> str:
    """'3.00:1' or '1:3.00', with enough digits never to print an out-of-range 2.50."""
    if height == 0 or width == 0:
        return f"{width}:{height}"
    ratio = Fraction(max(width, height), min(width, height))
    text = f"{float(ratio):.2f}"
    digits = 2
    while Fraction(text) == Fraction(5, 2) and ratio != Fraction(5, 2) and digits < 12:
        digits += 1
        text = f"{float(ratio):.{digits}f}"
    return f"{text}:1" if width >= height else f"1:{text}"


def _pixel_cap_problem(name: str, width: int, height: int) -> Problem | None:
    if width * height <= MAX_PIXELS:
        return None
    return _problem(
        name,
        rules.IMAGE_PIXELS,
        f"{width}×{height} px is {width * height / 1e6:.1f} megapixels — too many to "
        f"check safely; at most {MAX_PIXELS / 1e6:.1f} megapixels ({MAX_PIXELS} px)",
    )


def _decode_problem(name: str, reason: str) -> Problem:
    return _problem(name, rules.IMAGE_DECODE, f"cannot be decoded (truncated or corrupt): {reason}")


# --- what the bytes are ------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}


def _sniff(data: bytes) -> str:
    """'JPEG', 'PNG', or a phrase naming what the content really is ('a GIF image')."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(_PNG_SIGNATURE):
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "a GIF image"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "a WebP image"
    if data[:4] == b"RIFF" and data[8:11] == b"AVI":
        return "an AVI video"
    if data[4:8] == b"ftyp":
        return _sniff_iso_media(data)
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "a TIFF image"
    bmp_headers = (12, 16, 40, 52, 56, 64, 108, 124)
    if (
        data[:2] == b"BM"
        and len(data) >= 18
        and struct.unpack_from("<I", data, 14)[0] in bmp_headers
    ):
        return "a BMP image"
    if data.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")):
        return "a JPEG 2000 image"
    if data.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "a JPEG XL image"
    if data[:4] == b"8BPS":
        return "a Photoshop (PSD) file"
    if data[:5] == b"%PDF-":
        return "a PDF document"
    if data[:4] == b"\x00\x00\x01\x00":
        return "an ICO icon"
    if data[:4] == b"qoif":
        return "a QOI image"
    if data[:4] == b"PK\x03\x04":
        return "a ZIP archive"
    text = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<"):
        if b"<svg" in text:
            return "an SVG image"
        if b"<html" in text or text.startswith(b"<!doctype html"):
            return "an HTML page"
    return "unrecognised"


def _sniff_iso_media(data: bytes) -> str:
    box_size = struct.unpack_from(">I", data, 0)[0]
    brands_end = min(len(data), box_size if 16 <= box_size <= 4096 else 64)
    brands = {data[i : i + 4] for i in range(8, brands_end - 3, 4)} - {data[12:16]}
    if brands & {b"avif", b"avis"}:
        return "an AVIF image"
    if brands & _HEIF_BRANDS:
        return "a HEIC image"
    if brands & {b"mif1", b"msf1"}:
        return "a HEIF image"
    if brands & {b"crx "}:
        return "a Canon CR3 raw file"
    if brands & {b"qt  "}:
        return "a QuickTime video"
    return "an MP4/ISO media file"


def _kind_problem(name: str, kind: str) -> Problem:
    if kind == "unrecognised":
        return _problem(
            name,
            rules.IMAGE_FORMAT,
            f"is not a JPEG or PNG image (content not recognised) — {FORMAT_RULE}",
        )
    return _problem(name, rules.IMAGE_FORMAT, f"is {kind} — {FORMAT_RULE}", kind=kind)


# --- JPEG --------------------------------------------------------------------------------------


class _EofTrackingBytes(io.BytesIO):
    """Remembers whether a reader asked for bytes past the end: a JPEG decoder only does
    that when the file is truncated (Pillow would otherwise pad it if
    ``ImageFile.LOAD_TRUNCATED_IMAGES`` were set anywhere in the process)."""

    read_past_end = False

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        if size != 0 and not chunk:
            self.read_past_end = True
        return chunk


def _orientation_swaps(exif_orientation: object) -> bool:
    """EXIF orientations 5–8 rotate by 90°: the displayed width is the stored height."""
    return exif_orientation in (5, 6, 7, 8)


def _inspect_jpeg(name: str, data: bytes) -> Inspection:
    from PIL import Image, JpegImagePlugin, MpoImagePlugin, UnidentifiedImageError

    stream = _EofTrackingBytes(data)
    # Pillow's bomb *warning* comes from the declared size at open time, before anything
    # is decoded; we decode at 1/8 scale, and our own caps below decide. Its *error*
    # (a global threshold) is reported.
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            image = Image.open(stream, formats=["JPEG"])
        except Image.DecompressionBombError as exc:
            return Inspection(
                "JPEG",
                None,
                None,
                [_problem(name, rules.IMAGE_PIXELS, f"too many pixels to check safely ({exc})")],
            )
        except Exception as exc:
            if stream.read_past_end or stream.tell() >= len(data):
                reason = "the file ends inside the JPEG header"
            elif isinstance(exc, UnidentifiedImageError):
                reason = "no readable JPEG frame header (damaged before the image data)"
            else:
                reason = _reason(exc)
            return Inspection("JPEG", None, None, [_decode_problem(name, reason)])
        with image:
            width, height = image.size
            if _orientation_swaps(_jpeg_orientation(image)):
                width, height = height, width
            problems = size_problems(name, width, height)
            cap = _pixel_cap_problem(name, width, height)
            if cap is not None:
                return Inspection("JPEG", width, height, [*problems, cap])
            layers = image.layer if isinstance(image, JpegImagePlugin.JpegImageFile) else []
            if image.info.get("progressive"):
                need = _coefficient_bytes(image.size, layers)
                if need > PROGRESSIVE_MAX_BYTES:
                    problems.append(
                        _problem(
                            name,
                            rules.IMAGE_PIXELS,
                            f"{width}×{height} px progressive JPEG needs about "
                            f"{need / _MB:.0f} MB to check — at most "
                            f"{PROGRESSIVE_MAX_BYTES // _MB} MB; save it as a baseline "
                            "(non-progressive) JPEG or scale it down",
                        )
                    )
                    return Inspection("JPEG", width, height, problems)
            try:
                image.draft(None, (1, 1))  # the smallest scale libjpeg offers (1/8)
                image.load()
            except Exception as exc:
                problems.append(_decode_problem(name, _reason(exc)))
            else:
                if stream.read_past_end:
                    problems.append(_decode_problem(name, "the image data ends early"))
                elif isinstance(image, MpoImagePlugin.MpoImageFile):
                    frames_problem = _mpo_frames_problem(image, len(data))
                    if frames_problem is not None:
                        problems.append(_decode_problem(name, frames_problem))
    return Inspection("JPEG", width, height, problems)


def _mpo_frames_problem(image: MpoImageFile, file_size: int) -> str | None:
    """Only an MPO's first picture is decoded (the one viewers and the service show);
    the others must at least be where the MP index says, whole."""
    try:
        entries = (image.mpinfo or {})[0xB002]
        for frame in range(image.n_frames):
            image.seek(frame)
            if image.offset + int(entries[frame]["Size"]) > file_size:
                return f"picture {frame + 1} of {image.n_frames} ends early"
    except Exception as exc:
        return _reason(exc)
    return None


def _jpeg_orientation(image: PILImage) -> object:
    try:
        return image.getexif().get(0x0112)
    except Exception:  # broken EXIF does not make the picture unusable
        return None


def _coefficient_bytes(size: tuple[int, int], layers: list[tuple[int, int, int, int]]) -> int:
    """What libjpeg allocates to decode a progressive JPEG: 64 coefficients × 2 bytes
    for every 8×8 block of every component, at full resolution."""
    width, height = size
    if not layers:
        return width * height * 2 * 3
    h_max = max(layer[1] for layer in layers) or 1
    v_max = max(layer[2] for layer in layers) or 1
    total = 0
    for _, h_samp, v_samp, _ in layers:
        comp_w = -(-width * h_samp // h_max)
        comp_h = -(-height * v_samp // v_max)
        total += -(-comp_w // 8) * -(-comp_h // 8) * 128
    return total


def _jpeg_header_size(head: bytes) -> tuple[int, int]:
    """The displayed size from the first bytes of a JPEG (for oversized files)."""
    from PIL import Image

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with Image.open(io.BytesIO(head), formats=["JPEG"]) as image:
            width, height = image.size
            if _orientation_swaps(_jpeg_orientation(image)):
                width, height = height, width
    return width, height


# --- PNG ---------------------------------------------------------------------------------------

_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
_PNG_FILTERS = bytes(range(5))


@dataclass(frozen=True)
class _Ihdr:
    width: int
    height: int
    bit_depth: int
    color_type: int
    interlaced: bool


def _parse_ihdr(body: bytes | memoryview) -> _Ihdr:
    if len(body) != 13:
        raise _DecodeError(f"IHDR chunk has {len(body)} bytes, not 13")
    width, height, depth, color, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
    if not (0 < width < 2**31 and 0 < height < 2**31):
        raise _DecodeError(f"invalid size {width}×{height} in IHDR")
    if depth not in _PNG_DEPTHS.get(color, ()):
        raise _DecodeError(f"invalid colour type {color} / bit depth {depth} in IHDR")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise _DecodeError("unknown compression, filter or interlace method in IHDR")
    return _Ihdr(width, height, depth, color, interlace == 1)


def _png_ihdr_size(head: bytes) -> tuple[int, int]:
    if head[12:16] != b"IHDR":
        raise _DecodeError("the first chunk is not IHDR")
    ihdr = _parse_ihdr(head[16:29])
    return ihdr.width, ihdr.height


class _PngPixels:
    """Inflates IDAT data in bounded slices, checking each scanline's filter byte and
    that the total is exactly what IHDR implies. Holds at most ~1 MB at a time."""

    def __init__(self, ihdr: _Ihdr) -> None:
        bits = _PNG_CHANNELS[ihdr.color_type] * ihdr.bit_depth
        passes = _ADAM7 if ihdr.interlaced else ((0, 0, 1, 1),)
        self.rows: list[tuple[int, int, int]] = []  # (first byte, end, row stride) per pass
        offset = 0
        for x0, y0, dx, dy in passes:
            pass_w = (ihdr.width - x0 + dx - 1) // dx if ihdr.width > x0 else 0
            pass_h = (ihdr.height - y0 + dy - 1) // dy if ihdr.height > y0 else 0
            if pass_w and pass_h:
                stride = 1 + (pass_w * bits + 7) // 8
                self.rows.append((offset, offset + stride * pass_h, stride))
                offset += stride * pass_h
        self.expected = offset
        self.produced = 0
        self._pass = 0
        self._inflater = zlib.decompressobj()

    def feed(self, data: memoryview) -> None:
        for start in range(0, len(data), _INFLATE_IN):
            if self._inflater.eof:
                return  # bytes after the end of the zlib stream are ignored, as libpng does
            pending: bytes | memoryview = data[start : start + _INFLATE_IN]
            while True:
                try:
                    out = self._inflater.decompress(pending, _INFLATE_OUT)
                except zlib.error as exc:
                    raise _DecodeError(f"corrupt compressed image data ({exc})") from exc
                if out:
                    self._take(out)
                pending = self._inflater.unconsumed_tail
                if self._inflater.eof or (not pending and len(out) < _INFLATE_OUT):
                    break

    def _take(self, out: bytes) -> None:
        base, end = self.produced, self.produced + len(out)
        if end > self.expected:
            raise _DecodeError("more image data than the size in IHDR allows")
        while self._pass < len(self.rows):
            first, stop, stride = self.rows[self._pass]
            lo, hi = max(base, first), min(end, stop)
            row = first + -(-(lo - first) // stride) * stride
            if row < hi and out[row - base : hi - base : stride].translate(None, _PNG_FILTERS):
                raise _DecodeError("invalid scanline filter type")
            if stop > end:
                break
            self._pass += 1
        self.produced = end

    def finish(self) -> None:
        if not self._inflater.eof or self.produced != self.expected:
            raise _DecodeError(
                f"the image data ends early ({self.produced} of {self.expected} bytes of pixels)"
            )


def _verify_png(data: bytes, ihdr: _Ihdr) -> bytes | None:
    """Walk every chunk after IHDR; return the eXIf payload if any. Raises `_DecodeError`."""
    view = memoryview(data)
    pixels = _PngPixels(ihdr)
    pos, end_of_data = 33, len(data)
    seen_plte = seen_idat = idat_ended = False
    exif: bytes | None = None
    while True:
        if pos + 12 > end_of_data:
            raise _DecodeError("the file ends before the PNG end marker (IEND)")
        length, kind = struct.unpack_from(">I4s", data, pos)
        if length >= 2**31 or not kind.isalpha():
            raise _DecodeError(f"damaged chunk header at byte {pos}")
        body_end = pos + 8 + length
        label = kind.decode("ascii")
        if body_end + 4 > end_of_data:
            raise _DecodeError(f"the file ends inside the {label} chunk")
        (crc,) = struct.unpack_from(">I", data, body_end)
        if zlib.crc32(view[pos + 4 : body_end]) != crc:
            raise _DecodeError(f"checksum (CRC) mismatch in the {label} chunk at byte {pos}")
        body = view[pos + 8 : body_end]
        pos = body_end + 4
        if kind == b"IDAT":
            if idat_ended:
                raise _DecodeError("IDAT chunks are not consecutive")
            seen_idat = True
            pixels.feed(body)
            continue
        if seen_idat:
            idat_ended = True
        if kind == b"IEND":
            break
        if kind == b"IHDR":
            raise _DecodeError("a second IHDR chunk")
        if kind == b"PLTE":
            if seen_idat or length % 3 or not 3 <= length <= 768:
                raise _DecodeError("invalid palette (PLTE) chunk")
            seen_plte = True
        elif kind == b"eXIf":
            exif = bytes(body)
        elif kind[0] < 0x61 and kind not in (b"IHDR", b"PLTE", b"IDAT", b"IEND"):
            raise _DecodeError(f"unknown critical chunk {label}")
    if not seen_idat:
        raise _DecodeError("no image data (IDAT)")
    if ihdr.color_type == 3 and not seen_plte:
        raise _DecodeError("palette image without a palette (PLTE)")
    pixels.finish()
    return exif


def _inspect_png(name: str, data: bytes) -> Inspection:
    try:
        if len(data) < 33 or data[12:16] != b"IHDR":
            raise _DecodeError("the file ends or is damaged inside the PNG header (IHDR)")
        (crc,) = struct.unpack_from(">I", data, 29)
        if zlib.crc32(data[12:29]) != crc:
            raise _DecodeError("checksum (CRC) mismatch in the IHDR chunk")
        ihdr = _parse_ihdr(data[16:29])
    except _DecodeError as exc:
        return Inspection("PNG", None, None, [_decode_problem(name, str(exc))])
    width, height = ihdr.width, ihdr.height
    cap = _pixel_cap_problem(name, width, height)
    if cap is not None:
        return Inspection("PNG", width, height, [*size_problems(name, width, height), cap])
    try:
        exif = _verify_png(data, ihdr)
        if width * height <= FULL_DECODE_MAX_PIXELS:
            _decode_png_fully(data)
    except _DecodeError as exc:
        return Inspection(
            "PNG",
            width,
            height,
            [*size_problems(name, width, height), _decode_problem(name, str(exc))],
        )
    if exif is not None and _orientation_swaps(_exif_orientation(exif)):
        width, height = height, width
    return Inspection("PNG", width, height, size_problems(name, width, height))


def _decode_png_fully(data: bytes) -> None:
    """Pillow's full decode as a second opinion (small PNGs only)."""
    from PIL import Image

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                image.load()
        except Image.DecompressionBombError:
            return  # Pillow's guard, lowered by someone, declines; the streamed check stands
        except Exception as exc:
            raise _DecodeError(_reason(exc)) from exc


def _exif_orientation(payload: bytes) -> object:
    from PIL import Image

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            exif = Image.Exif()
            exif.load(payload)
            return exif.get(0x0112)
        except Exception:  # broken EXIF does not make the picture unusable
            return None


# --- small helpers -----------------------------------------------------------------------------


def display_name(argument: str) -> str:
    """The argument as typed, unless it would break the one-line-per-problem layout."""
    shown = argument if argument and argument.isprintable() else repr(argument)
    return shown if len(shown) <= 120 else shown[:100] + "…"


#: Pillow's words for what went wrong, in mivid's (a person should not need to know Pillow).
_PILLOW_WORDS = (
    (
        "image file is truncated",
        "the file ends early: it is probably incomplete (a copy or download that stopped?)",
    ),
    ("broken data stream", "the image data is damaged"),
)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    for pillow, ours in _PILLOW_WORDS:
        if text.lower().startswith(pillow):
            return ours
    text = re.sub(r" ?<_io\.BytesIO object at 0x[0-9a-f]+>", "", text)
    return text if len(text) <= 120 else text[:117] + "…"


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or str(exc) or type(exc).__name__


def _changed(name: str, how: str) -> Problem:
    return _problem(
        name, rules.IMAGE_CHANGED, f"changed since it was checked ({how}) — run the command again"
    )


def read_up_to(handle: BinaryIO, size: int) -> bytes:
    """Read `size` bytes, fewer only at the end of the file."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = handle.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)
