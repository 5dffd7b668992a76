"""The local image checks: every rule, the message shapes, real-world files, bounded decoding."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from imagefactory import (
    OTHER_FORMATS,
    corrupt,
    make_cmyk_jpeg,
    make_corrupt_jpeg,
    make_corrupt_png,
    make_disguised,
    make_empty,
    make_exif_rotated_jpeg,
    make_flat_png,
    make_grayscale_jpeg,
    make_grayscale_png,
    make_huge_jpeg,
    make_huge_png,
    make_interlaced_png,
    make_jpeg,
    make_la_png,
    make_mpo,
    make_oversized_png,
    make_palette_png,
    make_png,
    make_png16,
    make_progressive_jpeg,
    make_rgba64_png,
    make_rgba_png,
    make_trns_png,
    pad_png_to,
    png_chunk,
    truncate,
    write_png,
)
from mivid import images
from mivid.errors import InputError
from mivid.images import (
    MAX_IMAGE_BYTES,
    LocalImage,
    RemoteImage,
    check_images,
)


def check_image(argument: str, **options: Any) -> tuple[Any, list[str]]:
    """`mivid.images.check_image`, its problems as the lines a person reads."""
    ref, found = images.check_image(argument, **options)
    return ref, [problem.text for problem in found]


FORMAT_RULE = "must be JPEG or PNG (judged by content, not by name)"
RATIO_RULE = "width:height must be between 1:2.5 and 2.5:1"
UNDECODABLE = "cannot be decoded (truncated or corrupt): "


def problems_of(name: str, folder: Path) -> list[str]:
    ref, problems = check_image(name, base_dir=folder)
    assert (ref is None) == bool(problems)
    return problems


def accepted(name: str, folder: Path) -> LocalImage:
    ref, problems = check_image(name, base_dir=folder)
    assert problems == []
    assert isinstance(ref, LocalImage)
    return ref


def flat(folder: Path, name: str, width: int, height: int) -> str:
    """A tiny-on-disk 1-bit PNG of any size: fast for boundary tests."""
    make_flat_png(folder / name, (width, height))
    return name


# --- real-world files are accepted ---------------------------------------------------------

GOOD: dict[str, tuple[Callable[[Path], Path], str]] = {
    "baseline.jpg": (make_jpeg, "JPEG"),
    "progressive.jpg": (make_progressive_jpeg, "JPEG"),
    "cmyk.jpg": (make_cmyk_jpeg, "JPEG"),
    "gray.jpg": (make_grayscale_jpeg, "JPEG"),
    "phone.mpo": (make_mpo, "JPEG"),
    "rgb.png": (make_png, "PNG"),
    "deep.png": (make_png16, "PNG"),
    "rgba64.png": (make_rgba64_png, "PNG"),
    "palette.png": (make_palette_png, "PNG"),
    "gray.png": (make_grayscale_png, "PNG"),
    "interlaced.png": (make_interlaced_png, "PNG"),
    "rgba.png": (make_rgba_png, "PNG"),
    "la.png": (make_la_png, "PNG"),
    "trns.png": (make_trns_png, "PNG"),
}


@pytest.mark.parametrize("name", list(GOOD))
def test_real_world_variants_are_accepted(tmp_path: Path, name: str) -> None:
    make, expected_format = GOOD[name]
    path = make(tmp_path / name)
    image = accepted(name, tmp_path)
    data = path.read_bytes()
    assert (image.width, image.height) == (640, 480)
    assert image.format == expected_format
    assert image.size == len(data)
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert image.path == tmp_path / name
    assert image.argument == name


def test_the_factory_writes_what_it_claims(tmp_path: Path) -> None:
    with Image.open(make_png16(tmp_path / "a.png")) as im:
        assert im.mode == "I;16"
    with Image.open(make_cmyk_jpeg(tmp_path / "b.jpg")) as im:
        assert im.mode == "CMYK"
    with Image.open(make_progressive_jpeg(tmp_path / "c.jpg")) as im:
        assert im.info.get("progressive")
    with Image.open(make_mpo(tmp_path / "d.jpg")) as im:
        assert im.format == "MPO"
        assert getattr(im, "n_frames", 1) == 2
    interlaced = make_interlaced_png(tmp_path / "e.png")
    assert interlaced.read_bytes()[28] == 1  # IHDR interlace method: Adam7
    with Image.open(interlaced) as im:
        assert im.info.get("interlace") == 1
        im.load()
        assert im.tobytes() == Image.open(make_png(tmp_path / "f.png")).tobytes()
    with Image.open(make_palette_png(tmp_path / "g.png")) as im:
        assert im.mode == "P"


@pytest.mark.parametrize(
    ("stored", "orientation", "seen"),
    [
        ((400, 900), 6, (900, 400)),
        ((400, 900), 8, (900, 400)),
        ((400, 900), 5, (900, 400)),
        ((400, 900), 3, (400, 900)),
        ((400, 900), 1, (400, 900)),
    ],
)
def test_exif_orientation_gives_the_size_people_see(
    tmp_path: Path, stored: tuple[int, int], orientation: int, seen: tuple[int, int]
) -> None:
    make_exif_rotated_jpeg(tmp_path / "turned.jpg", stored, orientation)
    image = accepted("turned.jpg", tmp_path)
    assert (image.width, image.height) == seen


def test_messages_use_the_orientation_too(tmp_path: Path) -> None:
    make_exif_rotated_jpeg(tmp_path / "turned.jpg")  # stored 400×1100, orientation 6
    assert problems_of("turned.jpg", tmp_path) == [
        f"turned.jpg: 1100×400 px is 2.75:1 — {RATIO_RULE}"
    ]


def test_png_exif_orientation_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    rows = [b"\x80" * 400] * 900
    write_png(
        tmp_path / "p.png", (400, 900), rows, color_type=0, extra_chunks=[(b"eXIf", exif.tobytes())]
    )
    image = accepted("p.png", tmp_path)
    assert (image.width, image.height) == (900, 400)


def test_broken_exif_is_ignored(tmp_path: Path) -> None:
    make_jpeg(tmp_path / "x.jpg", exif=b"Exif\x00\x00MM\x00*garbage")
    assert accepted("x.jpg", tmp_path).width == 640


@pytest.mark.parametrize(
    ("make", "name", "expected"),
    [
        (make_png, "png-named.jpg", "PNG"),
        (make_jpeg, "jpeg-named.png", "JPEG"),
        (make_jpeg, "no-extension", "JPEG"),
        (make_png, "odd.GIF", "PNG"),
    ],
)
def test_the_name_does_not_matter(
    tmp_path: Path, make: Callable[[Path], Path], name: str, expected: str
) -> None:
    make(tmp_path / name)
    assert accepted(name, tmp_path).format == expected


# --- wrong kind of file ----------------------------------------------------------------------


@pytest.mark.parametrize("format_name", list(OTHER_FORMATS))
def test_other_formats_are_refused_by_content(tmp_path: Path, format_name: str) -> None:
    make_disguised(tmp_path / "fake.png", format_name)
    assert problems_of("fake.png", tmp_path) == [
        f"fake.png: is {OTHER_FORMATS[format_name]} — {FORMAT_RULE}"
    ]


@pytest.mark.parametrize(
    "content", [b"hello, world\n", b"\x00" * 100, b"\x89PN", b"<html><body>hi</body></html>"]
)
def test_unrecognised_content_is_refused(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "x.png").write_bytes(content)
    (problem,) = problems_of("x.png", tmp_path)
    assert problem.startswith("x.png: is ")
    assert problem.endswith(f" — {FORMAT_RULE}")


def test_empty_file(tmp_path: Path) -> None:
    make_empty(tmp_path / "empty.jpg")
    assert problems_of("empty.jpg", tmp_path) == [f"empty.jpg: is empty (0 bytes) — {FORMAT_RULE}"]


# --- paths that are not image files ----------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert problems_of("missing.jpg", tmp_path) == ["missing.jpg: no such file"]
    assert problems_of("missing/inner.jpg", tmp_path) == ["missing/inner.jpg: no such file"]


def test_path_through_a_file(tmp_path: Path) -> None:
    make_jpeg(tmp_path / "a.jpg")
    (problem,) = problems_of("a.jpg/b.jpg", tmp_path)
    assert problem.startswith("a.jpg/b.jpg: no such file")


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    assert problems_of("photos", tmp_path) == ["photos: is a folder — expected a JPEG or PNG file"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.jpg")
    assert problems_of("pipe.jpg", tmp_path) == [
        "pipe.jpg: is not a regular file (a device, pipe or socket) — expected a JPEG or PNG file"
    ]


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 000 does not stop root (CI containers), so refuse the open itself.
    make_jpeg(tmp_path / "secret.jpg")
    real_open = os.open

    def refusing_open(path: os.PathLike[str] | str, flags: int, *args: int) -> int:
        if Path(path).name == "secret.jpg":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing_open)
    assert problems_of("secret.jpg", tmp_path) == ["secret.jpg: cannot be read (permission denied)"]


def test_relative_paths_resolve_against_base_dir(tmp_path: Path) -> None:
    (tmp_path / "batch").mkdir()
    make_jpeg(tmp_path / "batch" / "a.jpg")
    image = accepted("a.jpg", tmp_path / "batch")
    assert image.path == tmp_path / "batch" / "a.jpg"
    assert image.argument == "a.jpg"
    absolute = str(tmp_path / "batch" / "a.jpg")
    assert accepted(absolute, tmp_path / "elsewhere").path == Path(absolute)


def test_relative_paths_default_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_jpeg(tmp_path / "here.jpg")
    monkeypatch.chdir(tmp_path)
    ref, problems = check_image("here.jpg")
    assert problems == []
    assert isinstance(ref, LocalImage)


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    make_jpeg(tmp_path / "me.jpg")
    assert accepted("~/me.jpg", tmp_path / "elsewhere").path == tmp_path / "me.jpg"


def test_unprintable_argument_stays_on_one_line(tmp_path: Path) -> None:
    (problem,) = problems_of("bad\nname.jpg", tmp_path)
    assert "\n" not in problem
    assert problem == "'bad\\nname.jpg': no such file"


# --- dimensions ------------------------------------------------------------------------------


def test_too_small(tmp_path: Path) -> None:
    make_jpeg(tmp_path / "small.jpg", (128, 128))
    assert problems_of("small.jpg", tmp_path) == [
        "small.jpg: 128×128 px — each side must be at least 300 px"
    ]


def test_too_wide_and_too_tall(tmp_path: Path) -> None:
    make_png(tmp_path / "wide.png", (3000, 1000), mode="L")
    make_png(tmp_path / "tall.png", (1000, 3000), mode="L")
    assert problems_of("wide.png", tmp_path) == [f"wide.png: 3000×1000 px is 3.00:1 — {RATIO_RULE}"]
    assert problems_of("tall.png", tmp_path) == [f"tall.png: 1000×3000 px is 1:3.00 — {RATIO_RULE}"]


@pytest.mark.parametrize(
    ("size", "ok"),
    [
        ((300, 300), True),
        ((299, 300), False),
        ((300, 299), False),
        ((750, 300), True),  # exactly 2.5:1
        ((300, 750), True),  # exactly 1:2.5
        ((751, 300), False),
        ((300, 751), False),
        ((2500, 1000), True),
        ((2501, 1000), False),
    ],
)
def test_boundaries(tmp_path: Path, size: tuple[int, int], ok: bool) -> None:
    name = flat(tmp_path, "b.png", *size)
    assert (problems_of(name, tmp_path) == []) is ok


def test_an_out_of_range_ratio_never_reads_as_2_50(tmp_path: Path) -> None:
    name = flat(tmp_path, "w.png", 2501, 1000)
    assert problems_of(name, tmp_path) == [f"w.png: 2501×1000 px is 2.501:1 — {RATIO_RULE}"]
    name = flat(tmp_path, "t.png", 300, 751)
    assert problems_of(name, tmp_path) == [f"t.png: 300×751 px is 1:2.503 — {RATIO_RULE}"]


def test_small_and_out_of_ratio_are_both_reported(tmp_path: Path) -> None:
    name = flat(tmp_path, "strip.png", 100, 400)
    assert problems_of(name, tmp_path) == [
        "strip.png: 100×400 px — each side must be at least 300 px",
        f"strip.png: 100×400 px is 1:4.00 — {RATIO_RULE}",
    ]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(width=st.integers(1, 1200), height=st.integers(1, 1200))
def test_the_dimension_rules_are_exactly_the_contract(
    tmp_path: Path, width: int, height: int
) -> None:
    name = flat(tmp_path, "h.png", width, height)
    ref, problems = check_image(name, base_dir=tmp_path)
    allowed = width >= 300 and height >= 300 and 2 * width <= 5 * height and 2 * height <= 5 * width
    assert (problems == []) is allowed
    assert all(line.startswith(f"h.png: {width}×{height} px ") for line in problems)
    if allowed:
        assert isinstance(ref, LocalImage)
        assert (ref.width, ref.height) == (width, height)


# --- file size -------------------------------------------------------------------------------


def test_exactly_10_mib_is_accepted_one_byte_more_is_not(tmp_path: Path) -> None:
    pad_png_to(make_png(tmp_path / "edge.png"), MAX_IMAGE_BYTES)
    assert accepted("edge.png", tmp_path).size == MAX_IMAGE_BYTES
    pad_png_to(make_png(tmp_path / "over.png"), MAX_IMAGE_BYTES + 1)
    assert problems_of("over.png", tmp_path) == [
        "over.png: 10485761 bytes — must be at most 10 MB (10485760 bytes)"
    ]


def test_too_big(tmp_path: Path) -> None:
    make_oversized_png(tmp_path / "big.png")
    size = (tmp_path / "big.png").stat().st_size
    assert problems_of("big.png", tmp_path) == [
        f"big.png: {size / 1024 / 1024:.1f} MB — must be at most 10 MB (10485760 bytes)"
    ]


def test_too_big_also_reports_what_the_header_says(tmp_path: Path) -> None:
    pad_png_to(make_png(tmp_path / "big-small.png", (200, 200)), 12 * 1024 * 1024)
    assert problems_of("big-small.png", tmp_path) == [
        "big-small.png: 12.0 MB — must be at most 10 MB (10485760 bytes)",
        "big-small.png: 200×200 px — each side must be at least 300 px",
    ]
    gif = make_disguised(tmp_path / "big.gif.png", "GIF").read_bytes()
    (tmp_path / "big.gif.png").write_bytes(gif + b"\x00" * (11 * 1024 * 1024))
    size_line, kind_line = problems_of("big.gif.png", tmp_path)
    assert size_line.startswith("big.gif.png: 11.")
    assert kind_line == f"big.gif.png: is a GIF image — {FORMAT_RULE}"
    path = make_jpeg(tmp_path / "big.jpg", (1000, 3000))
    path.write_bytes(path.read_bytes() + b"\x00" * MAX_IMAGE_BYTES)
    problems = problems_of("big.jpg", tmp_path)
    assert problems[1:] == [f"big.jpg: 1000×3000 px is 1:3.00 — {RATIO_RULE}"]


# --- truncated and corrupt files -------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.02, 0.3, 0.6, 0.95])
@pytest.mark.parametrize("make", [make_jpeg, make_progressive_jpeg, make_png, make_interlaced_png])
def test_truncated_files_are_refused(
    tmp_path: Path, make: Callable[[Path], Path], keep: float
) -> None:
    truncate(make(tmp_path / "cut.img"), keep)
    (problem,) = problems_of("cut.img", tmp_path)
    assert problem.startswith(f"cut.img: {UNDECODABLE}")


@pytest.mark.parametrize("make", [make_jpeg, make_progressive_jpeg, make_png, make_mpo])
def test_losing_only_the_last_byte_is_noticed(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    path = make(tmp_path / "cut.img")
    truncate(path, path.stat().st_size - 1)
    (problem,) = problems_of("cut.img", tmp_path)
    assert problem.startswith(f"cut.img: {UNDECODABLE}")


@pytest.mark.parametrize("make", [make_jpeg, make_progressive_jpeg, make_png])
def test_truncation_is_caught_even_if_pillow_is_told_to_pad(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Callable[[Path], Path]
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    truncate(make(tmp_path / "cut.img"), 0.7)
    (problem,) = problems_of("cut.img", tmp_path)
    assert problem.startswith(f"cut.img: {UNDECODABLE}")


def test_mpo_with_a_missing_second_picture_is_refused(tmp_path: Path) -> None:
    path = make_mpo(tmp_path / "phone.jpg")
    truncate(path, 0.75)  # the first picture is whole, the second is cut
    (problem,) = problems_of("phone.jpg", tmp_path)
    assert problem == f"phone.jpg: {UNDECODABLE}picture 2 of 2 ends early"


def test_corrupt_files_are_refused(tmp_path: Path) -> None:
    make_corrupt_png(tmp_path / "bad.png")
    make_corrupt_jpeg(tmp_path / "bad.jpg")
    assert problems_of("bad.png", tmp_path)[0].startswith(f"bad.png: {UNDECODABLE}checksum (CRC)")
    assert problems_of("bad.jpg", tmp_path)[0].startswith(f"bad.jpg: {UNDECODABLE}")


def test_jpeg_cut_before_its_frame_header(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "head.jpg")
    truncate(path, 40)
    assert problems_of("head.jpg", tmp_path) == [
        f"head.jpg: {UNDECODABLE}the file ends inside the JPEG header"
    ]


def _png_from_parts(path: Path, *chunks: bytes) -> str:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(chunks))
    return path.name


def _ihdr(width: int = 400, height: int = 400, depth: int = 8, color: int = 0) -> bytes:
    return png_chunk(b"IHDR", bytes.fromhex(f"{width:08x}{height:08x}{depth:02x}{color:02x}000000"))


@pytest.mark.parametrize(
    ("chunks", "reason"),
    [
        ([_ihdr()], "the file ends before the PNG end marker (IEND)"),
        ([_ihdr(), png_chunk(b"IEND", b"")], "no image data (IDAT)"),
        ([_ihdr(depth=3)], "invalid colour type 0 / bit depth 3 in IHDR"),
        ([_ihdr(width=0)], "invalid size 0×400 in IHDR"),
        ([_ihdr(color=3), png_chunk(b"IDAT", b""), png_chunk(b"IEND", b"")], "palette image"),
        ([_ihdr(), png_chunk(b"ABCD", b"x"), png_chunk(b"IEND", b"")], "unknown critical chunk"),
        ([png_chunk(b"CgBI", b"\x50\x00\x20\x06")], "PNG header (IHDR)"),
        ([_ihdr(), png_chunk(b"IDAT", b"not zlib"), png_chunk(b"IEND", b"")], "corrupt compressed"),
    ],
)
def test_png_structure_problems(tmp_path: Path, chunks: list[bytes], reason: str) -> None:
    name = _png_from_parts(tmp_path / "s.png", *chunks)
    (problem,) = problems_of(name, tmp_path)
    assert problem.startswith(f"s.png: {UNDECODABLE}")
    assert reason in problem


@pytest.mark.parametrize(
    ("rows", "filter_type", "reason"),
    [
        (399, 0, "ends early"),
        (401, 0, "more image data than the size in IHDR allows"),
        (400, 5, "invalid scanline filter type"),
    ],
)
@pytest.mark.parametrize("interlaced", [False, True])
def test_png_pixel_data_must_match_the_header(
    tmp_path: Path, rows: int, filter_type: int, reason: str, interlaced: bool
) -> None:
    path = write_png(
        tmp_path / "p.png",
        (400, rows),
        [b"\x00" * 400] * rows,
        color_type=0,
        filter_type=filter_type,
        interlaced=interlaced,
    )
    if rows != 400:  # rewrite the height in IHDR (and its CRC) to claim 400 rows
        data = bytearray(path.read_bytes())
        data[20:24] = (400).to_bytes(4, "big")
        data[29:33] = png_chunk(b"IHDR", bytes(data[16:29]))[-4:]
        path.write_bytes(bytes(data))
    (problem,) = problems_of("p.png", tmp_path)
    assert problem.startswith(f"p.png: {UNDECODABLE}")
    assert reason in problem


def test_damaged_chunk_checksum_outside_pixels(tmp_path: Path) -> None:
    path = make_png(tmp_path / "c.png")
    corrupt(path, -10, length=2)  # inside the last IDAT's CRC / IEND
    (problem,) = problems_of("c.png", tmp_path)
    assert problem.startswith(f"c.png: {UNDECODABLE}")


# --- huge pixel counts: bounded time and memory ------------------------------------------------


@pytest.fixture(scope="module")
def huge_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("huge")
    make_huge_jpeg(folder / "huge.jpg")  # 12000×9000 = 108 MP, ~1.3 MB
    make_huge_png(folder / "huge.png")  # 20000×20000 = 400 MP, 1-bit
    make_flat_png(folder / "large.png", (10000, 10000))  # 100 MP: streamed, not fully decoded
    return folder


def test_huge_jpeg_is_checked_at_reduced_scale(huge_files: Path) -> None:
    # pytest turns warnings into errors: Pillow's DecompressionBombWarning must not escape.
    image = accepted("huge.jpg", huge_files)
    assert (image.width, image.height) == (12000, 9000)


def test_huge_png_beyond_the_pixel_cap_is_refused(huge_files: Path) -> None:
    assert problems_of("huge.png", huge_files) == [
        "huge.png: 20000×20000 px is 400.0 megapixels — too many to check safely; "
        "at most 179.0 megapixels (178956970 px)"
    ]


def test_large_png_is_verified_streamed(huge_files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_full_decode(data: bytes) -> None:
        raise AssertionError("a 100 MP PNG must not be fully decoded")

    monkeypatch.setattr(images, "_decode_png_fully", no_full_decode)
    image = accepted("large.png", huge_files)
    assert (image.width, image.height) == (10000, 10000)


def test_large_truncated_png_is_refused(huge_files: Path, tmp_path: Path) -> None:
    data = (huge_files / "large.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    (problem,) = problems_of("cut.png", tmp_path)
    assert problem.startswith(f"cut.png: {UNDECODABLE}")


def test_huge_jpeg_is_refused_above_our_cap(
    huge_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 100_000_000)
    assert problems_of("huge.jpg", huge_files) == [
        "huge.jpg: 12000×9000 px is 108.0 megapixels — too many to check safely; "
        "at most 100.0 megapixels (100000000 px)"
    ]


def test_our_cap_holds_even_if_pillows_guard_is_off(
    huge_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    monkeypatch.setattr(images, "MAX_PIXELS", 100_000_000)
    (problem,) = problems_of("huge.jpg", huge_files)
    assert "too many to check safely" in problem


def test_a_lowered_pillow_guard_is_a_problem_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_jpeg(tmp_path / "a.jpg")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    (problem,) = problems_of("a.jpg", tmp_path)
    assert problem.startswith("a.jpg: too many pixels to check safely (")


def test_a_lowered_pillow_guard_leaves_png_to_the_streamed_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_png(tmp_path / "a.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert accepted("a.png", tmp_path).width == 640


def test_progressive_jpeg_needing_too_much_memory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_jpeg(tmp_path / "p.jpg", (2000, 1500), progressive=True)
    make_jpeg(tmp_path / "b.jpg", (2000, 1500))
    monkeypatch.setattr(images, "PROGRESSIVE_MAX_BYTES", 1024 * 1024)
    (problem,) = problems_of("p.jpg", tmp_path)
    assert problem.startswith("p.jpg: 2000×1500 px progressive JPEG needs about 9 MB to check")
    assert "save it as a baseline (non-progressive) JPEG" in problem
    assert problems_of("b.jpg", tmp_path) == []  # baseline decodes at 1/8 scale: no such cost


# --- several arguments -----------------------------------------------------------------------


def test_every_problem_is_collected_in_one_go(tmp_path: Path) -> None:
    make_jpeg(tmp_path / "ok.jpg")
    make_jpeg(tmp_path / "small.jpg", (128, 128))
    make_png(tmp_path / "wide.png", (3000, 1000), mode="L")
    make_disguised(tmp_path / "fake.png", "GIF")
    truncate(make_jpeg(tmp_path / "cut.jpg"), 0.5)
    with pytest.raises(InputError) as caught:
        check_images(
            [
                "ok.jpg",
                "small.jpg",
                "wide.png",
                "fake.png",
                "cut.jpg",
                "missing.jpg",
                "ftp://host/a.png",
            ],
            base_dir=tmp_path,
        )
    problems = caught.value.problems
    assert problems[:4] == [
        "got 7 images — at most 4 are allowed",
        "small.jpg: 128×128 px — each side must be at least 300 px",
        f"wide.png: 3000×1000 px is 3.00:1 — {RATIO_RULE}",
        f"fake.png: is a GIF image — {FORMAT_RULE}",
    ]
    assert problems[4].startswith(f"cut.jpg: {UNDECODABLE}")
    assert problems[5:] == [
        "missing.jpg: no such file",
        'ftp://host/a.png: unsupported URL scheme "ftp" — '
        "only http:// and https:// URLs (or local files) are accepted",
    ]
    assert caught.value.exit_code == 2


def test_check_images_returns_refs_in_order(tmp_path: Path) -> None:
    make_jpeg(tmp_path / "a.jpg")
    make_png(tmp_path / "b.png")
    refs = check_images(["a.jpg", "https://example.com/x.png", "b.png"], base_dir=tmp_path)
    assert [ref.argument for ref in refs] == ["a.jpg", "https://example.com/x.png", "b.png"]
    assert isinstance(refs[1], RemoteImage)


def test_image_count(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        check_images([])
    assert caught.value.problems == ["no images given — 1 to 4 are required"]
    urls = [f"https://example.com/{i}.png" for i in range(5)]
    with pytest.raises(InputError) as caught:
        check_images(urls)
    assert caught.value.problems == ["got 5 images — at most 4 are allowed"]
    assert len(check_images(urls[:4])) == 4


def test_a_single_string_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        check_images("a.jpg")


# --- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a.png",
        "http://example.com/a.jpg?size=large&sig=abc%20def#frag",
        "HTTPS://Example.COM/Photo.JPG",
        "https://user:pw@cdn.example.com:8443/x",
        "http://[2001:db8::1]/a.png",
        "https://example.com/no-extension",
    ],
)
def test_urls_pass_through_untouched(url: str) -> None:
    assert check_image(url) == (RemoteImage(url=url, argument=url), [])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://example.com/a.png", 'unsupported URL scheme "ftp"'),
        ("file:///tmp/a.png", 'unsupported URL scheme "file"'),
        ("s3://bucket/a.png", 'unsupported URL scheme "s3"'),
        ("http:///a.png", "URL has no host"),
        ("https://", "URL has no host"),
        ("http:/example.com/a.png", "is not a valid URL"),
        ("https://exa mple.com/a.png", "URL contains spaces"),
        ("http://example.com:99999/a.png", "is not a valid URL"),
        ("http://[::1/a.png", "is not a valid URL"),
        ("data:image/png;base64,iVBORw0KGgo=", "is a data: URL"),
    ],
)
def test_bad_urls_are_refused(url: str, expected: str) -> None:
    ref, problems = check_image(url)
    assert ref is None
    (problem,) = problems
    assert problem.startswith(f"{url}: {expected}")


def test_empty_argument() -> None:
    assert check_image("") == (
        None,
        ["'': empty argument — expected an image file path or an http(s) URL"],
    )


def test_a_colon_in_a_file_name_is_still_a_file(tmp_path: Path) -> None:
    make_jpeg(tmp_path / "shot:1.jpg")
    assert accepted("shot:1.jpg", tmp_path).format == "JPEG"


# --- Base64 streaming ------------------------------------------------------------------------


def _local(path: Path, data: bytes) -> LocalImage:
    path.write_bytes(data)
    return LocalImage(
        argument=path.name,
        path=path,
        size=len(data),
        width=300,
        height=300,
        format="PNG",
        sha256=hashlib.sha256(data).hexdigest(),
    )


def test_iter_base64_of_a_checked_image(tmp_path: Path) -> None:
    path = make_jpeg(tmp_path / "a.jpg")
    image = accepted("a.jpg", tmp_path)
    text = b"".join(image.iter_base64())
    assert text == base64.b64encode(path.read_bytes())
    assert not text.startswith(b"data:")
    assert b"\n" not in text
    assert len(text) == image.base64_length()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=5000), chunk_size=st.integers(1, 7000))
def test_iter_base64_concatenates_to_the_whole_file(
    tmp_path: Path, data: bytes, chunk_size: int
) -> None:
    image = _local(tmp_path / "blob", data)
    pieces = list(image.iter_base64(chunk_size))
    assert b"".join(pieces) == base64.b64encode(data)
    assert image.base64_length() == len(base64.b64encode(data))
    assert all(b"=" not in piece for piece in pieces[:-1])  # padding only at the very end


def test_iter_base64_refuses_a_file_that_changed_size(tmp_path: Path) -> None:
    image = _local(tmp_path / "a.png", b"x" * 100)
    (tmp_path / "a.png").write_bytes(b"x" * 101)
    with pytest.raises(InputError, match=r"a\.png: changed since it was checked \(100 → 101"):
        next(image.iter_base64())


def test_iter_base64_refuses_a_file_whose_bytes_changed(tmp_path: Path) -> None:
    image = _local(tmp_path / "a.png", b"x" * 100)
    (tmp_path / "a.png").write_bytes(b"y" * 100)
    with pytest.raises(InputError, match="its content differs"):
        list(image.iter_base64())


def test_iter_base64_refuses_a_vanished_file(tmp_path: Path) -> None:
    image = _local(tmp_path / "a.png", b"x" * 100)
    (tmp_path / "a.png").unlink()
    with pytest.raises(InputError, match="cannot be read any more"):
        list(image.iter_base64())


def test_local_image_is_immutable(tmp_path: Path) -> None:
    image = _local(tmp_path / "a.png", b"x")
    with pytest.raises(AttributeError):
        image.size = 2  # type: ignore[misc]


# --- robustness ------------------------------------------------------------------------------


def _mutations() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, and bytes that get deep into the JPEG and PNG readers."""
    seeds = []
    for fmt in ("PNG", "JPEG"):
        out = io.BytesIO()
        Image.linear_gradient("L").resize((320, 320)).save(out, fmt)
        seeds.append(out.getvalue())
    seeded = st.tuples(
        st.sampled_from(seeds),
        st.integers(0, 20000),
        st.binary(min_size=1, max_size=8),
        st.integers(1, 20000),
    ).map(lambda t: (t[0][: t[1]] + t[2] + t[0][t[1] + len(t[2]) :])[: t[3]])
    prefixed = st.tuples(
        st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"\xff\xd8\xff\xe0", b"RIFF"]),
        st.binary(max_size=300),
    ).map(lambda t: t[0] + t[1])
    return st.one_of(st.binary(max_size=300), prefixed, seeded)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_mutations())
def test_arbitrary_bytes_give_clean_problem_lines(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "x.png").write_bytes(data)
    ref, problems = check_image("x.png", base_dir=tmp_path)
    if ref is None:
        assert problems
        for line in problems:
            assert line.startswith("x.png: ")
            assert "\n" not in line
    else:
        assert problems == []
        assert isinstance(ref, LocalImage)
        assert ref.size == len(data)


def test_importing_the_module_does_not_import_pillow() -> None:
    code = "import sys, mivid.images; print('PIL' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(Path(images.__file__).parents[1])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout.strip() == "False"
