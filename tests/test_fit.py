"""`--fit`: every size rule and their combinations, EXIF, transparency, and what is left alone."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from imagefactory import (
    make_cmyk_jpeg,
    make_disguised,
    make_exif_rotated_jpeg,
    make_grayscale_png,
    make_jpeg,
    make_la_png,
    make_oversized_png,
    make_palette_png,
    make_png,
    make_png16,
    make_rgba_png,
    make_truncated_jpeg,
    make_truncated_png,
    picture,
)
from mivid import fit as fitting
from mivid import images
from mivid.fit import (
    FittedImage,
    _encode_within_limit,
    crop_box,
    padded_size,
    upscaled_size,
)
from mivid.images import MAX_IMAGE_BYTES, LocalImage, RemoteImage
from mivid.request_body import CreateBody


def check_image(argument: str, **options: Any) -> tuple[Any, list[str]]:
    """`mivid.images.check_image`, its problems as the lines a person reads."""
    ref, found = images.check_image(argument, **options)
    return ref, [problem.text for problem in found]


def fit_image(argument: str, **options: Any) -> tuple[Any, list[str], list[str]]:
    """`mivid.fit.fit_image`, its problems as the lines a person reads."""
    image, found, notes = fitting.fit_image(argument, **options)
    return image, [problem.text for problem in found], notes


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def allowed(width: int, height: int) -> bool:
    return min(width, height) >= 300 and 2 * width <= 5 * height and 2 * height <= 5 * width


def fit(path: Path, mode: str = "pad") -> tuple[FittedImage, str]:
    """Fit a file that needs it; check the original is untouched and the copy passes images.py."""
    before = file_hash(path)
    image, problems, notes = fit_image(str(path), mode=mode)
    assert problems == []
    assert isinstance(image, FittedImage), image
    assert len(notes) == 1
    assert file_hash(path) == before == image.original_sha256
    assert_sendable(image, path.parent)
    return image, notes[0]


def assert_sendable(image: FittedImage, folder: Path) -> None:
    """The copy passes the same checks a file does, and decodes to what it claims."""
    copy = folder / f"sent-{image.sha256[:8]}.{image.format.lower()}"
    copy.write_bytes(image.data)
    checked, problems = check_image(str(copy))
    assert problems == []
    assert isinstance(checked, LocalImage)
    assert (checked.width, checked.height, checked.format) == (
        image.width,
        image.height,
        image.format,
    )
    assert image.size <= MAX_IMAGE_BYTES
    assert image.sha256 == hashlib.sha256(image.data).hexdigest()
    with Image.open(io.BytesIO(image.data)) as decoded:
        decoded.load()
        assert decoded.size == (image.width, image.height)
        assert decoded.format == image.format


def decode(image: FittedImage) -> Image.Image:
    with Image.open(io.BytesIO(image.data)) as decoded:
        decoded.load()
        copy: Image.Image = decoded.copy()
        return copy


def pixel(value: object) -> tuple[int, ...]:
    """A pixel as a tuple of channels (Pillow's getpixel is typed loosely)."""
    assert isinstance(value, tuple)
    return value


def near(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


# --- left alone ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["pad", "crop"])
def test_a_conforming_image_is_the_file_itself(tmp_path: Path, mode: str) -> None:
    path = make_jpeg(tmp_path / "ok.jpg", (640, 480))
    image, problems, notes = fit_image(str(path), mode=mode)
    assert isinstance(image, LocalImage)
    assert (problems, notes) == ([], [])
    sent = base64.b64decode(b"".join(image.iter_base64()))
    assert sent == path.read_bytes()


def test_extreme_but_allowed_sizes_are_left_alone(tmp_path: Path) -> None:
    for size in [(750, 300), (300, 750), (300, 300)]:
        path = make_png(tmp_path / f"{size[0]}x{size[1]}.png", size)
        image, _, notes = fit_image(str(path))
        assert isinstance(image, LocalImage)
        assert notes == []


def test_urls_pass_through(tmp_path: Path) -> None:
    image, problems, notes = fit_image("https://example.com/a.jpg")
    assert image == RemoteImage(
        url="https://example.com/a.jpg", argument="https://example.com/a.jpg"
    )
    assert (problems, notes) == ([], [])
    image, problems, notes = fit_image("ftp://example.com/a.jpg")
    assert image is None
    assert problems and "ftp" in problems[0]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: make_truncated_png(p, (100, 900)), "cannot be decoded"),
        (lambda p: make_truncated_jpeg(p, (3000, 900)), "cannot be decoded"),
        (lambda p: make_disguised(p, "BMP", (3000, 900)), "BMP"),
        (lambda p: p, "no such file"),
    ],
    ids=["truncated-png", "truncated-jpeg", "bmp", "missing"],
)
def test_what_fit_cannot_repair_is_still_refused(tmp_path: Path, make, expected: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path / "broken.png")
    before = path.read_bytes() if path.exists() else None
    image, problems, notes = fit_image(str(path))
    assert image is None
    assert notes == []
    assert problems
    assert any(expected in line for line in problems)
    assert all(line.startswith(str(path)) for line in problems)
    # the size rules --fit would fix are not reported as problems
    assert not any("at least 300" in line or "width:height" in line for line in problems)
    if before is not None:
        assert path.read_bytes() == before


def test_unknown_mode_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fit mode"):
        fit_image(str(tmp_path / "a.png"), mode="stretch")


# --- ratio ---------------------------------------------------------------------------------------


def test_wide_image_padded_with_the_edge_colour(tmp_path: Path) -> None:
    picture_ = Image.new("RGB", (3000, 1000), (200, 30, 30))
    picture_.paste((20, 40, 220), (0, 500, 3000, 1000))  # red above, blue below
    path = tmp_path / "wide.png"
    picture_.save(path)
    image, note = fit(path)
    assert (image.width, image.height, image.format) == (3000, 1200, "JPEG")
    assert re.fullmatch(
        r"\S+wide\.png: padded 3000×1000 → 3000×1200 \(2\.5:1\) with edge colour; "
        r"sending JPEG quality 92, \d+ KB",
        note,
    ), note
    sent = decode(image).convert("RGB")
    assert near(pixel(sent.getpixel((1500, 5))), (200, 30, 30))  # the top band: top edge's red
    assert near(pixel(sent.getpixel((1500, 1195))), (20, 40, 220))  # the bottom band: blue
    assert near(pixel(sent.getpixel((1500, 300))), (200, 30, 30))  # the picture, centred
    assert near(pixel(sent.getpixel((1500, 900))), (20, 40, 220))


def test_wide_image_cropped_around_the_centre(tmp_path: Path) -> None:
    picture_ = Image.new("RGB", (3000, 1000), (0, 0, 0))
    picture_.paste((255, 255, 255), (250, 0, 2750, 1000))  # the centre 2500 px are white
    path = tmp_path / "wide.png"
    picture_.save(path)
    image, note = fit(path, "crop")
    assert (image.width, image.height) == (2500, 1000)
    assert "cropped 3000×1000 → 2500×1000 (2.5:1) around the centre" in note
    low, _high = decode(image).convert("L").getextrema()
    assert isinstance(low, (int, float)) and low > 230  # only the white centre is left


def test_tall_image_padded_and_cropped(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "tall.jpg", (400, 1500))
    padded, note = fit(path, "pad")
    assert (padded.width, padded.height) == (600, 1500)
    assert "(1:2.5)" in note
    cropped, _ = fit(path, "crop")
    assert (cropped.width, cropped.height) == (400, 1000)


# --- small ---------------------------------------------------------------------------------------


def test_small_image_upscaled_so_the_short_side_is_300(tmp_path: Path) -> None:
    path = make_png(tmp_path / "small.png", (200, 200))
    image, note = fit(path)
    assert (image.width, image.height) == (300, 300)
    assert "upscaled 200×200 → 300×300 (Lanczos)" in note
    path = make_jpeg(tmp_path / "low.jpg", (500, 250))
    image, _ = fit(path)
    assert (image.width, image.height) == (600, 300)


def test_narrow_and_small_cropped_then_upscaled(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "narrow.jpg", (200, 900))
    image, note = fit(path, "crop")
    assert (image.width, image.height) == (300, 750)
    assert "cropped 200×900 → 200×500 (1:2.5) around the centre, upscaled 200×500 → 300×750" in note


def test_narrow_and_small_padded_needs_no_upscale(tmp_path: Path) -> None:
    # padding alone brings the short side to 360 px: no invented pixels, same framing
    path = make_jpeg(tmp_path / "narrow.jpg", (200, 900))
    image, note = fit(path, "pad")
    assert (image.width, image.height) == (360, 900)
    assert "upscaled" not in note
    assert "padded 200×900 → 360×900 (1:2.5)" in note


def test_small_and_narrow_upscaled_and_padded(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "tiny.jpg", (100, 600))
    image, note = fit(path, "pad")
    assert (image.width, image.height) == (300, 750)
    assert "upscaled 100×600 → 125×750 (Lanczos), padded 125×750 → 300×750 (1:2.5)" in note


def test_a_thin_sliver_does_not_blow_up(tmp_path: Path) -> None:
    # upscaling first would make 300×21156 and pad it to 8463×21156 (179 megapixels)
    path = make_jpeg(tmp_path / "sliver.jpg", (50, 3526))
    image, _ = fit(path, "pad")
    assert (image.width, image.height) == (1411, 3526)
    image, _ = fit(path, "crop")
    assert (image.width, image.height) == (300, 750)


# --- bytes ---------------------------------------------------------------------------------------


def test_over_10_mb_png_re_encoded_as_jpeg(tmp_path: Path) -> None:
    path = make_oversized_png(tmp_path / "noise.png")
    assert path.stat().st_size > MAX_IMAGE_BYTES
    image, note = fit(path)
    assert (image.width, image.height, image.format) == (1900, 1900, "JPEG")
    assert re.search(
        r"noise\.png: re-encoded 10\.\d MB → \d(\.\d)? MB as JPEG quality 92$", note
    ), note


def test_over_10_mb_jpeg_re_encoded(tmp_path: Path) -> None:
    noise = Image.frombytes("RGB", (1800, 1800), os.urandom(1800 * 1800 * 3))
    path = tmp_path / "noise.jpg"
    noise.save(path, "JPEG", quality=100, subsampling=0)
    assert path.stat().st_size > MAX_IMAGE_BYTES
    image, _ = fit(path)
    assert image.size < path.stat().st_size
    assert (image.width, image.height) == (1800, 1800)


def test_quality_steps_then_downscale(tmp_path: Path) -> None:
    noise = Image.frombytes("RGB", (900, 900), os.urandom(900 * 900 * 3))
    sizes: dict[int, int] = {}
    for level in (92, 85, 75):
        buffer = io.BytesIO()
        noise.save(buffer, "JPEG", quality=level, optimize=True)
        sizes[level] = len(buffer.getvalue())
    steps: list[str] = []
    # a limit between the q85 and q92 sizes: the second step is enough
    encoded, quality, _ = _encode_within_limit(
        noise, False, None, steps, (sizes[92] + sizes[85]) // 2
    )
    assert quality == 85
    assert (encoded.width, encoded.height) == (900, 900)
    assert steps == []
    # below even q75: downscaled, never under 300 px
    limit = sizes[75] // 3
    encoded, quality, _ = _encode_within_limit(noise, False, None, steps, limit)
    assert len(encoded.data) <= limit
    assert 300 <= encoded.width < 900
    assert steps and steps[0].startswith("downscaled 900×900 → ")


def test_too_big_with_transparency_downscaled_as_png() -> None:
    # (a real RGBA PNG over 10 MB takes seconds to write; the loop is the same at any limit)
    noise = Image.frombytes("RGBA", (600, 600), os.urandom(600 * 600 * 4))
    steps: list[str] = []
    encoded, quality, _ = _encode_within_limit(noise, True, None, steps, 600 * 600)
    assert quality is None
    assert encoded.format == "PNG"
    assert len(encoded.data) <= 600 * 600
    assert 300 <= encoded.width < 600
    assert steps == [f"downscaled 600×600 → {encoded.width}×{encoded.height} to stay under 352 KB"]
    with Image.open(io.BytesIO(encoded.data)) as decoded:
        assert decoded.mode == "RGBA"


# --- what the user sees --------------------------------------------------------------------------


def test_exif_orientation_applied_before_anything_else(tmp_path: Path) -> None:
    # stored 300×1000, shown turned as 1000×300: padding must add rows, not columns
    path = make_exif_rotated_jpeg(tmp_path / "phone.jpg", stored=(300, 1000), orientation=6)
    image, note = fit(path)
    assert (image.width, image.height) == (1000, 400)
    assert note.startswith(f"{path}: turned upright (EXIF orientation 6), padded 1000×300")
    sent = decode(image)
    assert sent.getexif().get(0x0112) in (None, 1)  # no stale orientation left
    with Image.open(path) as original:
        upright = ImageOps.exif_transpose(original).convert("RGB")
    # the picture's middle row as the user sees it is the sent image's middle row (after the pad)
    for x in (100, 500, 900):
        assert near(
            pixel(sent.convert("RGB").getpixel((x, 200))), pixel(upright.getpixel((x, 150))), 20
        )


def test_transparency_kept_and_padding_transparent(tmp_path: Path) -> None:
    path = make_rgba_png(tmp_path / "cutout.png", (1500, 400))
    image, note = fit(path)
    assert (image.format, image.width, image.height) == ("PNG", 1500, 600)
    assert "with transparent pixels; sending PNG" in note
    sent = decode(image)
    assert sent.mode == "RGBA"
    alpha = sent.getchannel("A")
    assert alpha.getpixel((750, 0)) == 0  # padding
    assert alpha.getpixel((750, 599)) == 0
    with Image.open(path) as original:
        assert alpha.getpixel((750, 100 + 200)) == original.getchannel("A").getpixel((750, 200))
    cropped, _ = fit(path, "crop")
    assert cropped.format == "PNG"
    assert decode(cropped).mode == "RGBA"


def test_an_alpha_channel_without_transparent_pixels_is_sent_as_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "opaque-rgba.png"
    picture((200, 200), "RGBA").save(path)
    image, _ = fit(path)
    assert image.format == "JPEG"


@pytest.mark.parametrize(
    "make",
    [make_cmyk_jpeg, make_grayscale_png, make_palette_png, make_png16, make_la_png],
    ids=["cmyk", "grey", "palette", "16-bit", "grey+alpha"],
)
def test_every_colour_mode_comes_out_decodable(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path / "odd", (120, 900))
    image, _ = fit(path)
    assert (image.width, image.height) == (360, 900)
    assert decode(image).getextrema()  # pixels, not an empty canvas


def test_sixteen_bit_grey_keeps_its_tones(tmp_path: Path) -> None:
    path = make_png16(tmp_path / "deep.png", (200, 200))
    image, _ = fit(path)
    low, high = decode(image).convert("L").getextrema()
    assert isinstance(low, (int, float)) and isinstance(high, (int, float))
    assert low < 30
    assert high > 220


def test_relative_path_against_base_dir(tmp_path: Path) -> None:
    make_png(tmp_path / "small.png", (200, 200))
    image, problems, notes = fit_image("small.png", mode="pad", base_dir=tmp_path)
    assert isinstance(image, FittedImage)
    assert problems == []
    assert notes[0].startswith("small.png: ")


# --- the request body --------------------------------------------------------------------------


def test_fitted_image_streams_into_the_create_body(tmp_path: Path) -> None:
    image, _ = fit(make_png(tmp_path / "wide.png", (3000, 1000)))
    pieces = list(image.iter_base64(chunk_size=1000))
    assert len(pieces) > 1
    assert b"".join(pieces) == base64.b64encode(image.data)
    assert image.base64_length() == len(base64.b64encode(image.data))
    url = RemoteImage(url="https://example.com/b.jpg", argument="https://example.com/b.jpg")
    body = CreateBody({"model_name": "kling-v1-6", "prompt": "waves"}, [image, url])
    raw = b"".join(body)
    assert len(raw) == body.content_length
    parsed = json.loads(raw)
    assert base64.b64decode(parsed["image_list"][0]["image"]) == image.data
    assert parsed["image_list"][1] == {"image": "https://example.com/b.jpg"}
    preview = body.preview(shorten_images=True)
    assert image.sha256[:12] in preview["image_list"][0]["image"]


# --- properties ----------------------------------------------------------------------------------

sides = st.integers(min_value=1, max_value=20_000)


@given(sides, sides)
def test_geometry_always_lands_within_the_rules(width: int, height: int) -> None:
    left, top, right, bottom = crop_box(width, height)
    cw, ch = right - left, bottom - top
    assert left >= 0 and top >= 0 and right <= width and bottom <= height
    assert 2 * cw <= 5 * ch and 2 * ch <= 5 * cw
    assert abs((width - cw) - 2 * left) <= 1 and abs((height - ch) - 2 * top) <= 1  # centred
    pw, ph = padded_size(width, height)
    assert pw >= width and ph >= height
    assert 2 * pw <= 5 * ph and 2 * ph <= 5 * pw
    assert pw == width or ph == height  # only one direction grows
    uw, uh = upscaled_size(cw, ch)
    assert min(uw, uh) >= 300
    assert 2 * uw <= 5 * uh and 2 * uh <= 5 * uw  # upscaling keeps the ratio in range
    if min(cw, ch) < 300:
        assert min(uw, uh) == 300


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    width=st.integers(min_value=50, max_value=4000),
    height=st.integers(min_value=50, max_value=4000),
    mode=st.sampled_from(["pad", "crop"]),
)
def test_any_size_comes_out_within_the_rules(
    tmp_path: Path, width: int, height: int, mode: str
) -> None:
    path = tmp_path / f"{width}x{height}.jpg"
    picture((width, height)).save(path, "JPEG", quality=70)
    before = file_hash(path)
    image, problems, notes = fit_image(str(path), mode=mode)
    assert problems == []
    assert file_hash(path) == before
    if allowed(width, height):
        assert isinstance(image, LocalImage)
        assert notes == []
        return
    assert isinstance(image, FittedImage)
    assert allowed(image.width, image.height)
    assert_sendable(image, tmp_path)
    if mode == "pad":  # nothing of the picture is lost
        assert image.width >= width or image.height >= height
