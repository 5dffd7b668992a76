"""`--fit`: a conforming in-memory copy of a local image that breaks a size rule.

The service refuses images over 10 MB, with a side under 300 px, or with a
width:height outside 1:2.5 … 2.5:1, and does no cropping itself. With `--fit`
such a local image is fixed in memory — the file on disk is never written —
and one line per image says what changed. Everything else is as without it:

* an image that already conforms is sent byte for byte (`LocalImage`);
* URLs pass through; a missing, unreadable, undecodable or non-JPEG/PNG file
  is refused with the same lines `mivid.images` gives (fit cannot repair a
  broken file).

What is done, in this order, to the picture as the user sees it:

1. **EXIF orientation** is applied first (and the tag dropped with the rest of
   the metadata; the ICC colour profile is kept).
2. **Crop** (`--fit-mode crop`): the centre part at the nearest allowed ratio,
   then upscaled with Lanczos so the short side is 300 px when it is shorter.
3. **Pad** (`--fit-mode pad`, the default) to the nearest allowed ratio, the
   picture centred; upscaled first (Lanczos) only as much as the padded image
   needs for 300 px sides (see `pad_scaled_size`). Each new band is filled with the mean colour of the
   picture's edge next to it: seamless on the plain backgrounds product and
   studio shots have, and calm bars of the scene's own tone on photos (a
   blurred stretch of the image tends to look like content a video model then
   animates). Images with transparency are padded with transparent pixels.
4. **Encode**: PNG when the picture has transparent pixels, else JPEG quality
   92 (baseline). Over 10 MB, JPEG quality steps down (85, 75), then the
   picture is downscaled (never below 300 px) until it fits.

The result is checked with the very checks `mivid.images` applies to files,
so what is sent satisfies every rule and decodes. One image's pixels are in
memory at a time; Pillow is imported only when an image needs fitting.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import os
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mivid import problems as rules
from mivid.images import (
    MAX_IMAGE_BYTES,
    MIN_SIDE,
    ImageChecks,
    ImageRef,
    check_image,
    display_name,
    inspect_bytes,
    read_up_to,
)
from mivid.problems import Problem

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

FIT_MODES = ("pad", "crop")
#: --fit reads files up to this size (a bigger one is refused as before).
FIT_MAX_INPUT_BYTES = 200 * 1024 * 1024
#: At most this many pixels are decoded (bigger JPEGs are decoded at 1/2, 1/4 or 1/8 scale).
FIT_MAX_PIXELS = 50_000_000
JPEG_QUALITIES = (92, 85, 75)
#: Quality used while downscaling, once the quality steps were not enough.
DOWNSCALE_QUALITY = 85

_MB = 1024 * 1024


@dataclass(frozen=True)
class FittedImage:
    """An in-memory image made from a local file by `--fit`; sent instead of the file."""

    argument: str
    path: Path
    data: bytes
    width: int
    height: int
    format: str
    original_sha256: str
    note: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        """Of the bytes sent (`original_sha256` is the file's)."""
        return hashlib.sha256(self.data).hexdigest()

    def base64_length(self) -> int:
        return 4 * ((self.size + 2) // 3)

    def iter_base64(self, chunk_size: int = 3 * 256 * 1024) -> Iterator[bytes]:
        """The bytes as bare Base64, in pieces that concatenate to the whole."""
        step = max(3, chunk_size - chunk_size % 3)
        view = memoryview(self.data)
        for start in range(0, len(view), step):
            yield base64.b64encode(view[start : start + step])


FitRef = ImageRef | FittedImage


def fit_image(
    argument: str,
    *,
    mode: str = "pad",
    base_dir: Path | None = None,
    checks: ImageChecks | None = None,
) -> tuple[FitRef | None, list[Problem], list[str]]:
    """Check one argument and fit it when only size rules are broken.

    Returns ``(image, problems, notes)``: the image to send (the original
    `LocalImage`/`RemoteImage` when it conforms, else a `FittedImage`) or
    None, the problem lines (as `check_image` words them), and the lines
    saying what was changed (one per fitted image).
    """
    if mode not in FIT_MODES:
        raise ValueError(f"fit mode must be one of {FIT_MODES}, not {mode!r}")
    ref, problems = check_image(argument, base_dir=base_dir, checks=checks)
    if ref is not None or not problems or "://" in argument:
        return ref, problems, []
    path = Path(argument).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    name = display_name(argument)
    data = _read_regular_file(path)
    if not data:  # gone, unreadable, not a file, empty: check_image said why
        return None, problems, []
    if len(data) > FIT_MAX_INPUT_BYTES:
        return None, [*problems, _too_big_to_fit(name, len(data))], []
    seen = inspect_bytes(name, data)
    if seen.width is None or seen.height is None:
        return None, seen.problems, []
    fixable = [problem for problem in seen.problems if problem.rule in rules.SIZE_RULES]
    unfixable = [problem for problem in seen.problems if problem.rule not in rules.SIZE_RULES]
    if unfixable:
        return None, unfixable, []
    if seen.format == "PNG" and seen.width * seen.height > FIT_MAX_PIXELS:
        # A PNG cannot be decoded at reduced scale the way a JPEG can.
        return None, [*fixable, _too_many_pixels(name, seen.width, seen.height)], []
    fitted = _fit_bytes(argument, path, name, data, mode)
    return fitted, [], [fitted.note]


def _read_regular_file(path: Path) -> bytes | None:
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            return read_up_to(handle, FIT_MAX_INPUT_BYTES + 1)
        except OSError:
            return None


def _too_many_pixels(name: str, width: int, height: int) -> Problem:
    return Problem(
        name,
        rules.FIT_LIMIT,
        f"{width}×{height} px PNG is too large for --fit "
        f"(at most {FIT_MAX_PIXELS // 1_000_000} megapixels); scale it down first",
    )


def _too_big_to_fit(name: str, size: int) -> Problem:
    return Problem(
        name,
        rules.FIT_LIMIT,
        f"{size / _MB:.1f} MB — too large for --fit "
        f"(at most {FIT_MAX_INPUT_BYTES // _MB} MB); scale it down first",
    )


# --- geometry ----------------------------------------------------------------------------------


def _ratio_ok(width: int, height: int) -> bool:
    """The service's rule, in integers: 1:2.5 ≤ width:height ≤ 2.5:1."""
    return 2 * width <= 5 * height and 2 * height <= 5 * width


def crop_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The centred box at the nearest allowed ratio (the whole picture when it is allowed)."""
    if 2 * width > 5 * height:
        new_width = 5 * height // 2
        left = (width - new_width) // 2
        return left, 0, left + new_width, height
    if 2 * height > 5 * width:
        new_height = 5 * width // 2
        top = (height - new_height) // 2
        return 0, top, width, top + new_height
    return 0, 0, width, height


def padded_size(width: int, height: int) -> tuple[int, int]:
    """The smallest canvas at an allowed ratio that holds the picture."""
    return max(width, -(-2 * height // 5)), max(height, -(-2 * width // 5))


def pad_scaled_size(width: int, height: int) -> tuple[int, int]:
    """The picture's size before padding, so the padded canvas has sides of at least
    `MIN_SIDE` (upscaled) and at most `FIT_MAX_PIXELS` pixels (downscaled).

    Padding first and upscaling only what is still short keeps the framing the
    same as "upscale, then pad" would, with no invented pixels: a 200×900 picture
    becomes 360×900, not 540×1350, and a 50×3500 one 1400×3500, not 8400×21000.
    """
    canvas_width, canvas_height = padded_size(width, height)
    short = min(canvas_width, canvas_height)
    if short < MIN_SIDE:
        scale = MIN_SIDE / short
        return max(1, round(width * scale)), max(1, round(height * scale))
    if canvas_width * canvas_height > FIT_MAX_PIXELS:
        scale = math.sqrt(FIT_MAX_PIXELS / (canvas_width * canvas_height))
        return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
    return width, height


def upscaled_size(width: int, height: int) -> tuple[int, int]:
    """The size with the short side at `MIN_SIDE` (unchanged when it is long enough)."""
    short = min(width, height)
    if short >= MIN_SIDE:
        return width, height
    if width <= height:
        return MIN_SIDE, max(MIN_SIDE, round(height * MIN_SIDE / width))
    return max(MIN_SIDE, round(width * MIN_SIDE / height)), MIN_SIDE


def _ratio_label(width: int, height: int) -> str:
    if width >= height:
        return f"{_trim(width, height)}:1"
    return f"1:{_trim(height, width)}"


def _trim(long: int, short: int) -> str:
    # Truncate (not round) so an allowed 2.4996 never shows as an out-of-range "2.5".
    thousandths = long * 1000 // short
    return f"{thousandths // 1000}.{thousandths % 1000:03d}".rstrip("0").rstrip(".")


def _megabytes(size: int) -> str:
    if size >= _MB:
        return f"{size / _MB:.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(size / 1024))} KB"


# --- the pixels --------------------------------------------------------------------------------


def _fit_bytes(argument: str, path: Path, name: str, data: bytes, mode: str) -> FittedImage:
    from PIL import Image, ImageOps

    steps: list[str] = []
    original_sha256 = hashlib.sha256(data).hexdigest()
    # Pillow's bomb warning is about the declared size; `inspect_bytes` already
    # refused anything over our own pixel cap before we got here.
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with Image.open(io.BytesIO(data), formats=["JPEG", "PNG"]) as opened:
            stored = opened.size
            if opened.format == "JPEG":
                _draft_under_cap(opened)
            opened.load()
            if opened.size != stored:
                steps.append(f"decoded at reduced scale {stored[0]}×{stored[1]} → {_dims(opened)}")
            source_mode = opened.mode
            icc_profile = opened.info.get("icc_profile")
            orientation = _orientation(opened)
            picture = ImageOps.exif_transpose(opened)
    if orientation not in (None, 1):
        steps.append(f"turned upright (EXIF orientation {orientation})")
    picture, transparent = _normalise(picture)
    if not _same_colour_space(source_mode, picture.mode):
        icc_profile = None  # a CMYK or grey profile would misdescribe RGB pixels

    if mode == "crop" and not _ratio_ok(*picture.size):
        before = _dims(picture)
        picture = picture.crop(crop_box(*picture.size))
        steps.append(
            f"cropped {before} → {_dims(picture)} ({_ratio_label(*picture.size)}) around the centre"
        )
    target = upscaled_size(*picture.size) if mode == "crop" else pad_scaled_size(*picture.size)
    if target != picture.size:
        before = _dims(picture)
        bigger = target[0] > picture.width
        picture = picture.resize(target, Image.Resampling.LANCZOS)
        steps.append(
            f"upscaled {before} → {_dims(picture)} (Lanczos)"
            if bigger
            else f"downscaled {before} → {_dims(picture)} to keep the padded image under "
            f"{FIT_MAX_PIXELS // 1_000_000} megapixels"
        )
    canvas = padded_size(*picture.size)
    canvas = (max(MIN_SIDE, canvas[0]), max(MIN_SIDE, canvas[1]))
    if canvas != picture.size:
        before = _dims(picture)
        picture = _pad(picture, transparent, canvas)
        fill = "transparent pixels" if transparent else "edge colour"
        steps.append(
            f"padded {before} → {_dims(picture)} ({_ratio_label(*picture.size)}) with {fill}"
        )

    encoded, quality, picture = _encode_within_limit(picture, transparent, icc_profile, steps)
    del picture
    label = f"JPEG quality {quality}" if quality is not None else "PNG"
    sent = _megabytes(len(encoded.data))
    if len(data) > MAX_IMAGE_BYTES:
        outcome = f"re-encoded {_megabytes(len(data))} → {sent} as {label}"
    else:
        outcome = f"sending {label}, {sent}"
    note = f"{name}: {'; '.join([', '.join(steps), outcome] if steps else [outcome])}"
    fitted = FittedImage(
        argument=argument,
        path=path,
        data=encoded.data,
        width=encoded.width,
        height=encoded.height,
        format=encoded.format,
        original_sha256=original_sha256,
        note=note,
    )
    _assert_conforms(name, fitted)
    return fitted


def _same_colour_space(before: str, after: str) -> bool:
    colour = ("RGB", "RGBA", "RGBa", "RGBX")
    grey = ("L", "LA", "La")
    return (before in colour and after in colour) or (before in grey and after == "L")


def _orientation(image: PILImage) -> object:
    try:
        return image.getexif().get(0x0112)
    except Exception:  # broken EXIF: exif_transpose ignores it too
        return None


def _draft_under_cap(image: PILImage) -> None:
    """Decode a huge JPEG at 1/2, 1/4 or 1/8 scale (libjpeg does it for free)."""
    width, height = image.size
    scale = 1
    while (
        scale < 8
        and (width // scale) * (height // scale) > FIT_MAX_PIXELS
        and min(width, height) // (scale * 2) >= MIN_SIDE
    ):
        scale *= 2
    if scale > 1:
        image.draft(image.mode, (-(-width // scale), -(-height // scale)))


def _dims(image: PILImage) -> str:
    return f"{image.width}×{image.height}"


def _normalise(image: PILImage) -> tuple[PILImage, bool]:
    """L or RGB for opaque pictures, RGBA when some pixel is transparent."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        low, _ = rgba.getchannel("A").getextrema()
        if isinstance(low, (int, float)) and low < 255:
            return rgba, True
        image = rgba.convert("L" if image.mode in ("LA", "La", "L") else "RGB")
    if image.mode in ("L", "RGB"):
        return image, False
    if image.mode == "1":
        return image.convert("L"), False
    if image.mode.startswith("I"):  # 16-bit grey: keep the tones, not the low byte
        return image.convert("I").point(lambda value: value * (1 / 257)).convert("L"), False
    return image.convert("RGB"), False


def _pad(image: PILImage, transparent: bool, size: tuple[int, int]) -> PILImage:
    """The picture centred on a canvas of `size`, the new bands filled."""
    from PIL import Image

    width, height = size
    left = (width - image.width) // 2
    top = (height - image.height) // 2
    if transparent:
        canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        canvas.paste(image, (left, top))
        return canvas
    canvas = Image.new(image.mode, (width, height))
    band = max(1, min(8, min(image.size) // 100))
    right, bottom = left + image.width, top + image.height
    fills = []
    if height > image.height:  # bands above and below
        fills += [
            (_edge_colour(image, (0, 0, image.width, band)), (0, 0, width, top)),
            (
                _edge_colour(image, (0, image.height - band, image.width, image.height)),
                (0, bottom, width, height),
            ),
        ]
    if width > image.width:  # bands left and right
        fills += [
            (_edge_colour(image, (0, 0, band, image.height)), (0, 0, left, height)),
            (
                _edge_colour(image, (image.width - band, 0, image.width, image.height)),
                (right, 0, width, height),
            ),
        ]
    for colour, box in fills:
        if box[2] > box[0] and box[3] > box[1]:
            canvas.paste(colour, box)
    canvas.paste(image, (left, top))
    return canvas


def _edge_colour(image: PILImage, box: tuple[int, int, int, int]) -> int | tuple[int, ...]:
    from PIL import Image

    mean = image.crop(box).resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    if isinstance(mean, tuple):
        return tuple(int(channel) for channel in mean)
    assert isinstance(mean, (int, float))
    return int(mean)


@dataclass(frozen=True)
class _Encoded:
    data: bytes
    width: int
    height: int
    format: str


def _save(image: PILImage, transparent: bool, quality: int | None, icc: bytes | None) -> bytes:
    buffer = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if transparent:
        image.save(buffer, format="PNG", **extra)
    else:
        image.save(buffer, format="JPEG", quality=quality, optimize=True, **extra)
    return buffer.getvalue()


def _encode_within_limit(
    image: PILImage,
    transparent: bool,
    icc: bytes | None,
    steps: list[str],
    limit: int = MAX_IMAGE_BYTES,
) -> tuple[_Encoded, int | None, PILImage]:
    """Encode; over `limit` bytes, lower the JPEG quality, then downscale until it fits."""
    from PIL import Image

    fmt = "PNG" if transparent else "JPEG"
    qualities: tuple[int | None, ...] = (None,) if transparent else JPEG_QUALITIES
    data = b""
    quality: int | None = None
    for quality in qualities:
        data = _save(image, transparent, quality, icc)
        if len(data) <= limit:
            return _Encoded(data, image.width, image.height, fmt), quality, image
    if not transparent:
        quality = DOWNSCALE_QUALITY
        data = _save(image, transparent, quality, icc)
    original = _dims(image)
    source = image
    while len(data) > limit:
        # Bytes grow with the pixel count: aim 10 % under the limit, at least 10 % smaller.
        factor = min(0.9, math.sqrt(0.9 * limit / len(data)))
        short = min(image.size)
        factor = max(factor, MIN_SIDE / short)
        if factor >= 1:  # cannot happen for real pictures: 300 px sides are far below 10 MB
            raise AssertionError(f"cannot bring {original} under {limit} bytes above 300 px")
        size = (
            max(MIN_SIDE, round(image.width * factor)),
            max(MIN_SIDE, round(image.height * factor)),
        )
        image = source.resize(size, Image.Resampling.LANCZOS)
        data = _save(image, transparent, quality, icc)
    steps.append(f"downscaled {original} → {_dims(image)} to stay under {_megabytes(limit)}")
    return _Encoded(data, image.width, image.height, fmt), quality, image


def _assert_conforms(name: str, fitted: FittedImage) -> None:
    """The same checks `mivid.images` applies to a file, on the bytes to be sent."""
    seen = inspect_bytes(name, fitted.data)
    problems = [problem.text for problem in seen.problems]
    if fitted.size > MAX_IMAGE_BYTES:
        problems.append(f"{fitted.size} bytes")
    if (seen.format, seen.width, seen.height) != (fitted.format, fitted.width, fitted.height):
        problems.append(f"is {seen.format} {seen.width}×{seen.height}")
    if problems:
        raise AssertionError(f"--fit made an image that breaks the rules: {'; '.join(problems)}")
