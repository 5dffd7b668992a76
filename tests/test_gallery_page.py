"""The gallery's building blocks a page's safety rests on: escaping, file names as links, previews.

`tests/cli/test_gallery.py` runs the command; these check, over many inputs,
that any text reads back exactly as drawn, that no accepted file name can
point outside the folder, and that every kind of image mivid accepts gets a
small upright preview (and a broken one none).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from PIL import Image

import imagefactory as factory
from htmltree import parse
from mivid.gallery import is_plain_name, url_label
from mivid.gallery_html import attr, href, text
from mivid.gallery_images import BOX, make_thumbnail

PAGE = "file:///home/me/videos/index.html"


def shown(value: str) -> str:
    r"""What the page must show for `value`: controls as \xNN, lone surrogates as U+FFFD."""
    out = []
    for char in value.replace("\r\n", "\n"):
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        elif (code < 32 and char not in "\t\n") or 0x7F <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(char)
    return "".join(out)


@given(st.text())
@example("<script>alert(1)</script>")
@example("[bold]x[/bold] & &amp; &#x3c; \x1b[31m\x00\x07\x9b\r\n\ud800")
@example("</p><p>")
def test_text_reads_back_as_itself_and_opens_no_tag(value: str) -> None:
    root = parse(f"<p>{text(value)}</p>")
    paragraph = root.only("p")
    assert paragraph.text() == shown(value)
    assert {element.tag for element in paragraph.iter()} <= {"p", "span"}
    assert all(span.classes == ["ctl"] for span in paragraph.find_all("span"))


def shown_in_attribute(value: str) -> str:
    r"""What an attribute must hold for `value`: every control as \xNN, lone surrogates as U+FFFD.

    Unlike text, CR LF is not one line break here: an attribute holds names (files,
    images) whose every character matters, so CR and LF are each drawn. No raw CR
    ever reaches the parser, whose CR LF normalisation therefore changes nothing.
    """
    return "".join(
        "\ufffd"
        if 0xD800 <= ord(char) <= 0xDFFF
        else f"\\x{ord(char):02x}"
        if ord(char) < 32 or 0x7F <= ord(char) <= 0x9F
        else char
        for char in value
    )


@given(st.text())
@example('" onmouseover="alert(1)')
@example("'><script>x</script>\n\t\x00")
@example("\r\n")  # once failed: the test expected text's CR LF → LF, which attributes don't do
def test_attr_reads_back_as_itself_and_adds_no_attribute(value: str) -> None:
    element = parse(f'<a title="{attr(value)}">x</a>').only("a")
    assert list(element.attrs) == ["title"]
    assert element.attrs["title"] == shown_in_attribute(value)


names = st.text(min_size=1, max_size=40) | st.sampled_from(
    ["..", ".", "../x.mp4", "/etc/passwd", "a/b.mp4", "a\\b.mp4", "C:x.mp4", "c:\\x.mp4",
     "javascript:alert(1)", "x.mp4?y#z", "%2e%2e", "//host/x", "\\\\host\\x", "~", "x\x00.mp4"]
)  # fmt: skip


@given(names)
def test_an_accepted_file_name_links_to_a_file_in_the_folder(name: str) -> None:
    if not is_plain_name(name):
        return
    assert PurePosixPath(name).parent == PurePosixPath(".")
    link = href(name)
    parts = urlsplit(link)
    assert not parts.scheme and not parts.netloc and not parts.query and not parts.fragment
    resolved = urlsplit(urljoin(PAGE, link))
    assert resolved.scheme == "file"
    assert PurePosixPath(unquote(resolved.path)).parent == PurePosixPath("/home/me/videos")
    assert unquote(resolved.path).rsplit("/", 1)[1] == name


@pytest.mark.parametrize(
    "name", ["..", ".", "", "../x.mp4", "/etc/passwd", "a/b.mp4", "a\\b.mp4", "x\x00.mp4",
             "index.html", ".mivid-gallery"]
)  # fmt: skip
def test_names_outside_the_folder_or_its_own_files_are_refused(name: str) -> None:
    assert not is_plain_name(name)


@given(st.text())
@example("https://cdn.example/a/b/cat.png?X-Amz-Signature=secret#frag")
def test_a_url_is_shown_without_its_query_or_fragment(url: str) -> None:
    label = url_label(url)  # may be signed: never the part after "?"
    assert "?" not in label and "#" not in label
    assert url_label("https://cdn.example/a/cat.png?sig=s") == "cdn.example/…/cat.png"


@pytest.mark.parametrize(
    ("make", "displayed"),
    [
        (factory.make_jpeg, (640, 480)),
        (factory.make_progressive_jpeg, (640, 480)),
        (factory.make_cmyk_jpeg, (640, 480)),
        (factory.make_grayscale_jpeg, (640, 480)),
        (factory.make_exif_rotated_jpeg, (1100, 400)),  # stored 400×1100, shown turned
        (factory.make_mpo, (640, 480)),
        (factory.make_png16, (640, 480)),
        (factory.make_palette_png, (640, 480)),
        (factory.make_rgba_png, (640, 480)),
        (factory.make_la_png, (640, 480)),
        (factory.make_trns_png, (640, 480)),
        (factory.make_rgba64_png, (640, 480)),
        (factory.make_interlaced_png, (640, 480)),
    ],
)
def test_every_kind_of_image_gets_a_small_upright_jpeg_preview(
    make: Callable[[Path], Path], displayed: tuple[int, int], tmp_path: Path
) -> None:
    data = make(tmp_path / "image").read_bytes()
    made = make_thumbnail(data)
    assert made is not None
    jpeg, width, height = made
    assert max(width, height) == BOX
    assert abs(width / height - displayed[0] / displayed[1]) < 0.02
    with Image.open(io.BytesIO(jpeg)) as preview:
        assert (preview.format, preview.mode, preview.size) == ("JPEG", "RGB", (width, height))
        assert not preview.info.get("exif")  # nothing of the original's metadata
    assert make_thumbnail(data) == made  # the same bytes, the same preview


@pytest.mark.parametrize(
    "make", [factory.make_truncated_jpeg, factory.make_corrupt_png, factory.make_empty]
)
def test_a_broken_image_gets_no_preview(make: Callable[[Path], Path], tmp_path: Path) -> None:
    assert make_thumbnail(make(tmp_path / "image").read_bytes()) is None
