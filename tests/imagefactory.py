"""Real image files for tests, written with Pillow (or by hand where Pillow cannot).

Plain functions, importable from any test (``from imagefactory import make_jpeg``).
Each takes the path to write and returns it. Good images first, then broken
ones, then the huge ones (kept cheap: flat content, low quality, 1-bit PNG).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Iterable
from itertools import chain
from pathlib import Path
from typing import Any

from PIL import Image

Size = tuple[int, int]

# --- good images -----------------------------------------------------------------------------


def picture(size: Size = (640, 480), mode: str = "RGB") -> Image.Image:
    """A deterministic, non-flat picture (gradients), converted to `mode`."""
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    vertical = Image.linear_gradient("L").resize(size)
    diagonal = Image.radial_gradient("L").resize(size)
    rgb = Image.merge("RGB", (horizontal, vertical, diagonal))
    if mode == "RGB":
        return rgb
    if mode == "I;16":  # 16-bit samples v·257 (the same two bytes: endianness-proof)
        raw = vertical.tobytes()
        return Image.frombytes(mode, size, bytes(chain.from_iterable(zip(raw, raw, strict=True))))
    return rgb.convert(mode)


#: Encoded files by what made them: the suite makes the same few pictures thousands of
#: times, and encoding one (a 640×480 PNG: about 25 ms) costs more than writing its bytes.
_MADE: dict[str, bytes] = {}
_CACHED_MAX = 2 << 20


def _saved(path: Path, kind: str, size: Size, mode: str, kw: dict[str, Any]) -> Path:
    """`picture(size, mode)` saved as `kind` at `path`: encoded once a process, then copied."""
    key = repr((kind, size, mode, sorted(kw.items())))
    data = _MADE.get(key)
    if data is None:
        buffer = io.BytesIO()
        picture(size, mode).save(buffer, kind, **kw)
        data = buffer.getvalue()
        if len(data) <= _CACHED_MAX:  # a huge picture is made again rather than kept
            _MADE[key] = data
    path.write_bytes(data)
    return path


def make_jpeg(path: Path, size: Size = (640, 480), *, mode: str = "RGB", **kw: Any) -> Path:
    """A JPEG; extra keywords go to Pillow's ``save`` (quality, progressive, exif, …)."""
    return _saved(path, "JPEG", size, mode, kw)


def make_png(path: Path, size: Size = (640, 480), mode: str = "RGB", **kw: Any) -> Path:
    """A PNG in any Pillow mode (RGB, RGBA, L, LA, P, 1, I;16, …)."""
    return _saved(path, "PNG", size, mode, kw)


def make_progressive_jpeg(path: Path, size: Size = (640, 480)) -> Path:
    return make_jpeg(path, size, progressive=True, quality=85)


def make_cmyk_jpeg(path: Path, size: Size = (640, 480)) -> Path:
    return make_jpeg(path, size, mode="CMYK")


def make_grayscale_jpeg(path: Path, size: Size = (640, 480)) -> Path:
    return make_jpeg(path, size, mode="L")


def make_exif_rotated_jpeg(path: Path, stored: Size = (400, 1100), orientation: int = 6) -> Path:
    """Stored `stored` (w×h); with orientation 5–8 a viewer shows it turned (1100×400)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return make_jpeg(path, stored, exif=exif.tobytes())


def make_mpo(path: Path, size: Size = (640, 480), frames: int = 2) -> Path:
    """A multi-picture JPEG as phones write it (Pillow saves MPO with save_all)."""
    first = picture(size)
    others = [picture(size).rotate(180) for _ in range(frames - 1)]
    first.save(path, "MPO", save_all=True, append_images=others)
    return path


def make_png16(path: Path, size: Size = (640, 480)) -> Path:
    """A 16-bit grayscale PNG (Pillow mode I;16)."""
    return make_png(path, size, mode="I;16")


def make_palette_png(path: Path, size: Size = (640, 480)) -> Path:
    return make_png(path, size, mode="P")


def make_grayscale_png(path: Path, size: Size = (640, 480)) -> Path:
    return make_png(path, size, mode="L")


def make_rgba_png(path: Path, size: Size = (640, 480)) -> Path:
    image = picture(size)
    image.putalpha(Image.linear_gradient("L").resize(size))
    image.save(path, "PNG")
    return path


def make_la_png(path: Path, size: Size = (640, 480)) -> Path:
    return make_png(path, size, mode="LA")


def make_trns_png(path: Path, size: Size = (640, 480)) -> Path:
    """An RGB PNG with a tRNS chunk (one colour is transparent)."""
    picture(size).save(path, "PNG", transparency=(0, 0, 0))
    assert b"tRNS" in path.read_bytes()
    return path


def make_rgba64_png(path: Path, size: Size = (640, 480)) -> Path:
    """A 16-bit-per-sample RGBA PNG (Pillow reads these but cannot write them)."""
    width, height = size
    rows = (bytes([y % 256, 0x80]) * 4 * width for y in range(height))  # vertical gradient
    return write_png(path, size, rows, bit_depth=16, color_type=6)


def make_interlaced_png(path: Path, size: Size = (640, 480)) -> Path:
    """An Adam7-interlaced RGB PNG. Pillow cannot write interlaced PNGs; `write_png` can."""
    image = picture(size)
    width, height = size
    data = image.tobytes()
    rows = [data[y * width * 3 : (y + 1) * width * 3] for y in range(height)]
    return write_png(path, size, rows, color_type=2, interlaced=True)


# --- a hand-written PNG encoder (interlacing, huge flat images, exact layouts) --------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_png(
    path: Path,
    size: Size,
    rows: Iterable[bytes],
    *,
    bit_depth: int = 8,
    color_type: int = 2,
    interlaced: bool = False,
    extra_chunks: Iterable[tuple[bytes, bytes]] = (),
    level: int = 6,
    filter_type: int = 0,
) -> Path:
    """Write a PNG from unfiltered rows (each ⌈width × bits per pixel / 8⌉ bytes).

    Rows are streamed through zlib, so a huge flat image costs little memory.
    Interlacing needs 8-bit samples and all rows in memory (small images only).
    Each row is marked with `filter_type` (0 = None; 5 and above are invalid PNG).
    """
    mark = bytes([filter_type])
    width, height = size
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, int(interlaced))
    compressor = zlib.compressobj(level)
    idat: list[bytes] = []
    if interlaced:
        assert bit_depth == 8, "interlacing is written for 8-bit samples only"
        pixel = _CHANNELS[color_type]
        all_rows = list(rows)
        for x0, y0, dx, dy in _ADAM7:
            if width <= x0 or height <= y0:
                continue
            for y in range(y0, height, dy):
                row = all_rows[y]
                picked = b"".join(row[x * pixel : (x + 1) * pixel] for x in range(x0, width, dx))
                idat.append(compressor.compress(mark + picked))
    else:
        for row in rows:
            idat.append(compressor.compress(mark + row))
    idat.append(compressor.flush())
    data = b"".join(idat)
    with path.open("wb") as out:
        out.write(PNG_SIGNATURE + png_chunk(b"IHDR", ihdr))
        for kind, body in extra_chunks:
            out.write(png_chunk(kind, body))
        for start in range(0, len(data), 1 << 16):
            out.write(png_chunk(b"IDAT", data[start : start + (1 << 16)]))
        out.write(png_chunk(b"IEND", b""))
    return path


def make_flat_png(path: Path, size: Size, *, bit_depth: int = 1, gray: int = 1) -> Path:
    """A flat grayscale PNG of any size, written streamed (20000×20000 in ~0.2 s)."""
    width, _ = size
    row_bytes = (width * bit_depth + 7) // 8
    fill = 0xFF if gray else 0x00
    row = bytes([fill]) * row_bytes
    return write_png(path, size, (row for _ in range(size[1])), bit_depth=bit_depth, color_type=0)


def pad_png_to(path: Path, total_bytes: int) -> Path:
    """Grow a PNG to exactly `total_bytes` with a private ancillary chunk before IEND."""
    data = path.read_bytes()
    assert data.endswith(png_chunk(b"IEND", b""))
    padding = total_bytes - len(data) - 12
    assert padding >= 0, f"{path.name} is already {len(data)} bytes"
    head = data[:-12]
    path.write_bytes(head + png_chunk(b"mvPd", b"\x00" * padding) + png_chunk(b"IEND", b""))
    assert path.stat().st_size == total_bytes
    return path


# --- broken and wrong files ------------------------------------------------------------------


def make_empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def truncate(path: Path, keep: float | int = 0.5) -> Path:
    """Cut a file: keep a fraction (float) or a number of bytes (int)."""
    data = path.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep
    path.write_bytes(data[:cut])
    return path


def make_truncated_jpeg(path: Path, size: Size = (640, 480), keep: float = 0.6) -> Path:
    return truncate(make_jpeg(path, size), keep)


def make_truncated_png(path: Path, size: Size = (640, 480), keep: float = 0.6) -> Path:
    return truncate(make_png(path, size), keep)


def corrupt(path: Path, offset: int, length: int = 16, byte: int = 0x5A) -> Path:
    """Overwrite `length` bytes at `offset` (negative offsets count from the end)."""
    data = bytearray(path.read_bytes())
    start = offset % len(data)
    data[start : start + length] = bytes([byte]) * len(data[start : start + length])
    path.write_bytes(bytes(data))
    return path


def make_corrupt_png(path: Path, size: Size = (640, 480)) -> Path:
    """Bytes in the middle of the compressed pixels overwritten (the IDAT CRC no longer fits)."""
    make_png(path, size)
    return corrupt(path, path.stat().st_size // 2)


def make_corrupt_jpeg(path: Path, size: Size = (640, 480)) -> Path:
    """A JPEG whose Huffman table segment (DHT) is garbage: libjpeg cannot decode it.

    (Garbage in the entropy-coded data itself only makes libjpeg *warn* and
    paint grey blocks: no decoder can tell those pictures from real ones.)
    """
    make_jpeg(path, size)
    data = bytearray(path.read_bytes())
    dht = data.index(b"\xff\xc4")
    data[dht + 4 : dht + 4 + 17] = b"\xff" * 17  # 17 tables-worth of impossible code counts
    path.write_bytes(bytes(data))
    return path


def _pillow_bytes(format_name: str, size: Size = (640, 480), **kw: Any) -> bytes:
    out = io.BytesIO()
    image = picture(size)
    if format_name == "GIF":
        image = image.convert("P")
    image.save(out, format_name, **kw)
    return out.getvalue()


def heic_like_bytes() -> bytes:
    """An ISO-BMFF header with HEIC brands (Pillow cannot write HEIC; the header is what counts)."""
    ftyp = b"ftyp" + b"heic" + b"\x00\x00\x00\x00" + b"mif1heic"
    return struct.pack(">I", len(ftyp) + 4) + ftyp + b"\x00" * 200


def svg_bytes(size: Size = (640, 480)) -> bytes:
    width, height = size
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect width="{width}" height="{height}" fill="teal"/></svg>\n'
    ).encode()


#: The content the user might mislabel `.png`, and the phrase the checker should use.
OTHER_FORMATS: dict[str, str] = {
    "GIF": "a GIF image",
    "WEBP": "a WebP image",
    "AVIF": "an AVIF image",
    "HEIC": "a HEIC image",
    "BMP": "a BMP image",
    "TIFF": "a TIFF image",
    "SVG": "an SVG image",
}


def other_format_bytes(format_name: str, size: Size = (640, 480)) -> bytes:
    """Real bytes of another format (Pillow-written where Pillow can; see OTHER_FORMATS)."""
    if format_name == "HEIC":
        return heic_like_bytes()
    if format_name == "SVG":
        return svg_bytes(size)
    return _pillow_bytes(format_name, size)


def make_disguised(path: Path, format_name: str, size: Size = (640, 480)) -> Path:
    """Another format's bytes under `path` (typically named `.png`)."""
    path.write_bytes(other_format_bytes(format_name, size))
    return path


def make_oversized_png(path: Path, size: Size = (1900, 1900)) -> Path:
    """An incompressible (noise) PNG: 1900×1900 RGB ≈ 10.8 MB, over the 10 MB limit."""
    noise = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    noise.save(path, "PNG", compress_level=1)
    return path


# --- huge pixel counts in small files --------------------------------------------------------


def make_huge_jpeg(path: Path, size: Size = (12000, 9000), *, progressive: bool = False) -> Path:
    """A ~108-megapixel grayscale JPEG of ~1.3 MB (flat, lowest quality)."""
    Image.new("L", size, 128).save(path, "JPEG", quality=5, progressive=progressive)
    return path


def make_huge_png(path: Path, size: Size = (20000, 20000)) -> Path:
    """A flat 1-bit PNG of 400 megapixels in a few kB (fully decoded it would need GBs)."""
    return make_flat_png(path, size)


# --- a corpus of real-world and broken files -------------------------------------------------

#: 10 MB, the contract's limit on an image file.
LIMIT_BYTES = 10 * 1024 * 1024


def write_corpus(folder: Path) -> dict[str, bool]:
    """Write a corpus of images into `folder`: file name → whether the rules accept it.

    Every real-world variant above, the broken ones, other formats named `.png`,
    and each size rule on both sides of its limit (cheap files: flat 1-bit PNGs).
    """
    folder.mkdir(parents=True, exist_ok=True)
    good: dict[str, Any] = {
        "baseline.jpg": make_jpeg,
        "progressive.jpg": make_progressive_jpeg,
        "cmyk.jpg": make_cmyk_jpeg,
        "gray.jpg": make_grayscale_jpeg,
        "rotated.jpg": lambda path: make_exif_rotated_jpeg(path, (480, 900)),
        "phone.mpo": make_mpo,
        "rgb.png": make_png,
        "deep.png": make_png16,
        "rgba64.png": make_rgba64_png,
        "palette.png": make_palette_png,
        "gray.png": make_grayscale_png,
        "interlaced.png": make_interlaced_png,
        "rgba.png": make_rgba_png,
        "la.png": make_la_png,
        "trns.png": make_trns_png,
    }
    bad: dict[str, Any] = {
        "empty.png": make_empty,
        "truncated.jpg": make_truncated_jpeg,
        "truncated.png": make_truncated_png,
        "corrupt.png": make_corrupt_png,
        "corrupt.jpg": make_corrupt_jpeg,
        "gif.png": lambda path: make_disguised(path, "GIF"),
        "webp.png": lambda path: make_disguised(path, "WEBP"),
        "heic.jpg": lambda path: make_disguised(path, "HEIC"),
        "svg.png": lambda path: make_disguised(path, "SVG"),
        "huge.png": make_huge_png,
    }
    verdicts: dict[str, bool] = {}
    for name, make in good.items():
        make(folder / name)
        verdicts[name] = True
    for name, make in bad.items():
        make(folder / name)
        verdicts[name] = False
    sizes = {
        "side-300.png": ((300, 300), True),
        "side-299.png": ((299, 600), False),
        "ratio-2.5.png": ((750, 300), True),
        "ratio-2.51.png": ((753, 300), False),
        "ratio-1-2.6.png": ((300, 780), False),
    }
    for name, (size, accepted) in sizes.items():
        make_flat_png(folder / name, size)
        verdicts[name] = accepted
    pad_png_to(make_flat_png(folder / "bytes-10mb.png", (640, 480)), LIMIT_BYTES)
    pad_png_to(make_flat_png(folder / "bytes-over.png", (640, 480)), LIMIT_BYTES + 1)
    verdicts.update({"bytes-10mb.png": True, "bytes-over.png": False})
    return verdicts
