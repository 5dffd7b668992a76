"""A small DOM for tests, built with the standard library's html.parser.

`parse(text)` returns the document's root `Element`; `find_all`, `find`, `text`
and `attrs` are enough to check a generated page the way a browser would read
it (entities decoded, raw text inside <script> and <style> kept as is).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def iter(self) -> Iterator[Element]:
        """This element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, *, cls: str | None = None) -> list[Element]:
        return [
            element
            for element in self.iter()
            if (tag is None or element.tag == tag) and (cls is None or cls in element.classes)
        ]

    def find(self, tag: str | None = None, *, cls: str | None = None) -> Element | None:
        found = self.find_all(tag, cls=cls)
        return found[0] if found else None

    def only(self, tag: str | None = None, *, cls: str | None = None) -> Element:
        found = self.find_all(tag, cls=cls)
        assert len(found) == 1, f"expected one <{tag} class={cls}>, found {len(found)}"
        return found[0]

    def text(self) -> str:
        """The text content, as a browser's `textContent` gives it."""
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def where(self, test: Callable[[Element], bool]) -> list[Element]:
        return [element for element in self.iter() if test(element)]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        if len(set(names)) != len(names):
            self.errors.append(f"<{tag}> repeats an attribute: {names}")
        element = Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self.stack[-1].tag != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1].tag}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(text: str) -> Element:
    """The document's root; AssertionError when tags do not nest (a sign of broken escaping)."""
    builder = _Builder()
    builder.feed(text)
    builder.close()
    assert not builder.errors, builder.errors
    assert builder.stack == [builder.root], f"unclosed: {[e.tag for e in builder.stack[1:]]}"
    return builder.root
