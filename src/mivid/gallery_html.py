"""The gallery page itself: cards → one self-contained HTML document.

Every text on the page comes from a user (prompts, file names) or the service
(reasons, ids), so every text goes through `text()` or `attr()`: HTML-escaped,
control characters drawn visibly, lone surrogates replaced. Every `href` and
`src` is a percent-encoded plain file name in the page's folder, a file in its
preview folder, or a `#card-…` fragment; nothing points at the network.

The style and the small script are inline and allowed by their SHA-256 in a
Content-Security-Policy that forbids everything else (no network, no other
script, no plugins), so the page works from `file://` and offline, and a
mistake in escaping could still not run a script. Without JavaScript the page
shows every card, newest first; the script adds the filter box (words of the
prompt), the oldest-first order and grouping by shared reference images.

The output is a pure function of the cards: no time of making, no random ids.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone
from urllib.parse import quote

from mivid import __version__
from mivid.gallery import GENERATOR, Card, CardImage, clean, url_label
from mivid.gallery_images import CHANGED, MISSING, NO_PREVIEW, OK, URL

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # keeps tab and newline
_CONTROL_IN_ATTRIBUTE = re.compile("[\x00-\x1f\x7f-\x9f]")

ROLE_LABELS = {"first_frame": "first frame", "end_frame": "end frame", "reference": "reference"}
ASPECT_CLASSES = {"16:9": "ar-16-9", "9:16": "ar-9-16", "1:1": "ar-1-1"}

STYLE = """
:root { color-scheme: light dark; --bg: #f4f4f5; --card: #ffffff; --text: #18181b;
  --muted: #5b5b66; --line: #e0e0e6; --accent: #2563eb; --bad: #b42318; --badbg: #fef3f2; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #141417; --card: #1f1f24; --text: #f1f1f4; --muted: #a0a0ab;
    --line: #34343c; --accent: #7aa2ff; --bad: #ff8a80; --badbg: #3a1d1b; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif; }
header { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: .6rem 1.2rem;
  align-items: center; padding: .7rem 1.2rem; background: var(--card);
  border-bottom: 1px solid var(--line); }
h1 { font-size: 1.05rem; margin: 0; font-weight: 600; }
h1 small { color: var(--muted); font-weight: 400; }
.controls { display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; margin-left: auto; }
input[type=search], select { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line);
  border-radius: 6px; background: var(--bg); color: var(--text); }
input[type=search] { width: 18rem; max-width: 70vw; }
#shown { color: var(--muted); font-size: .9rem; }
main { padding: 1rem 1.2rem 2rem; }
.grid { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr));
  align-items: start; }
.group { margin-bottom: 1.6rem; }
.group h2 { font-size: .95rem; font-weight: 600; margin: 0 0 .6rem; color: var(--muted);
  overflow-wrap: anywhere; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  overflow: hidden; display: flex; flex-direction: column; }
.card:target { outline: 3px solid var(--accent); }
.card.failed { border-color: var(--bad); }
video, .novideo { display: block; width: 100%; aspect-ratio: 16 / 9; background: #000; }
.ar-9-16 { aspect-ratio: 9 / 16; max-height: 480px; }
.ar-1-1 { aspect-ratio: 1 / 1; max-height: 480px; }
.novideo { display: flex; flex-direction: column; justify-content: center; gap: .3rem;
  padding: 1rem; background: var(--bg); color: var(--muted); text-align: center; }
.failed .novideo { background: var(--badbg); color: var(--bad); }
.novideo strong { font-size: 1.05rem; }
.body { padding: .8rem .9rem .9rem; display: flex; flex-direction: column; gap: .6rem; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: isolate; }
.prompt { margin: 0; font-size: 1rem; }
.negative { margin: 0; color: var(--muted); }
.label { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .04em;
  margin-right: .4rem; }
.unknown { color: var(--muted); font-style: italic; }
.ctl { font-family: ui-monospace, monospace; font-size: .85em; color: var(--bad); }
.refs { display: flex; flex-wrap: wrap; gap: .5rem; list-style: none; margin: 0; padding: 0; }
.refs figure { margin: 0; width: 104px; }
.refs img, .refs .noimage { display: block; width: 104px; height: 78px; object-fit: cover;
  border-radius: 6px; border: 1px solid var(--line); background: var(--bg); }
.refs .noimage { display: flex; align-items: center; justify-content: center; padding: .2rem;
  color: var(--muted); font-size: .72rem; line-height: 1.2; text-align: center; }
.refs figcaption { font-size: .72rem; color: var(--muted); line-height: 1.25; margin-top: .2rem;
  overflow-wrap: anywhere; }
.refs figcaption .role { color: var(--text); font-weight: 600; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; margin: 0;
  font-size: .85rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; unicode-bidi: isolate; }
a { color: var(--accent); }
#none { color: var(--muted); text-align: center; }
[hidden] { display: none !important; }
""".strip()

SCRIPT = """
(function () {
  "use strict";
  var main = document.getElementById("cards");
  var filter = document.getElementById("filter");
  var order = document.getElementById("order");
  var shown = document.getElementById("shown");
  var none = document.getElementById("none");
  var cards = Array.prototype.slice.call(main.querySelectorAll("article.card"));
  var prompts = cards.map(function (card) {
    var prompt = card.querySelector(".prompt");
    return prompt ? prompt.textContent.toLowerCase() : "";
  });
  function grid(list) {
    var box = document.createElement("div");
    box.className = "grid";
    list.forEach(function (card) { box.appendChild(card); });
    return box;
  }
  function arrange() {
    while (main.firstChild) { main.removeChild(main.firstChild); }
    if (order.value === "group") {
      var groups = {}, keys = [];
      cards.forEach(function (card) {
        var key = card.getAttribute("data-group");
        if (!groups[key]) { groups[key] = []; keys.push(key); }
        groups[key].push(card);
      });
      keys.forEach(function (key) {
        var section = document.createElement("section");
        var heading = document.createElement("h2");
        section.className = "group";
        heading.textContent = groups[key][0].getAttribute("data-group-label");
        section.appendChild(heading);
        section.appendChild(grid(groups[key]));
        main.appendChild(section);
      });
    } else {
      main.appendChild(grid(order.value === "oldest" ? cards.slice().reverse() : cards));
    }
    apply();
  }
  function apply() {
    var words = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var count = 0;
    cards.forEach(function (card, index) {
      var match = words.every(function (word) { return prompts[index].indexOf(word) !== -1; });
      card.hidden = !match;
      if (match) { count += 1; }
    });
    Array.prototype.forEach.call(main.querySelectorAll("section.group"), function (section) {
      section.hidden = !section.querySelector("article.card:not([hidden])");
    });
    shown.textContent = words.length ? count + " of " + cards.length + " shown" : "";
    none.hidden = count > 0;
  }
  // index.html?order=group&filter=boat opens in that view (links, bookmarks, screenshots).
  var asked = new URLSearchParams(window.location.search);
  if (["newest", "oldest", "group"].indexOf(asked.get("order")) !== -1) {
    order.value = asked.get("order");
  }
  if (asked.get("filter")) { filter.value = asked.get("filter"); }
  filter.addEventListener("input", apply);
  order.addEventListener("change", arrange);
  document.getElementById("controls").hidden = false;
  if (order.value !== "newest" || filter.value) { arrange(); }
})();
""".strip()


def _digest(source: str) -> str:
    return base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()


# 'self' alone does not cover sibling files under file:// in every browser; `file:` does,
# and neither reaches the network.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    "img-src 'self' file:; media-src 'self' file:; "
    f"style-src 'sha256-{_digest(STYLE)}'; script-src 'sha256-{_digest(SCRIPT)}'; "
    "base-uri 'none'; form-action 'none'"
)


def text(value: str) -> str:
    r"""`value` as HTML text: escaped, control characters drawn as `\xNN` (tab, newline kept)."""
    escaped = html.escape(clean(value).replace("\r\n", "\n"), quote=True)
    return _CONTROL.sub(
        lambda match: f'<span class="ctl">\\x{ord(match.group()):02x}</span>', escaped
    )


def attr(value: str) -> str:
    r"""`value` as a quoted attribute's content: escaped, every control character as `\xNN`."""
    shown = _CONTROL_IN_ATTRIBUTE.sub(lambda match: f"\\x{ord(match.group()):02x}", clean(value))
    return html.escape(shown, quote=True)


def href(name: str) -> str:
    """A file name in the page's folder (or its preview folder) as a relative URL."""
    return "/".join(quote(part, safe="") for part in name.split("/"))


def render_page(cards: Sequence[Card], *, title: str) -> str:
    """The whole page for `cards` (already in order, newest first)."""
    anchors = _anchors(cards)
    group_sizes = Counter(card.group for card in cards)
    failed = sum(1 for card in cards if card.failed)
    count = f"{len(cards)} video{'s' if len(cards) != 1 else ''}"
    if failed:
        count = (
            f"{len(cards) - failed} video{'s' if len(cards) - failed != 1 else ''}, {failed} failed"
        )
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta name="generator" content="{GENERATOR}">',
        f'<meta http-equiv="Content-Security-Policy" content="{attr(CONTENT_SECURITY_POLICY)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{text(title)} · mivid gallery</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{text(title)} <small>{count} · made by mivid {text(__version__)}</small></h1>",
        '<div class="controls" id="controls" hidden>',
        '<input type="search" id="filter" placeholder="Filter by words in the prompt" '
        'aria-label="Filter by words in the prompt" autocomplete="off">',
        '<select id="order" aria-label="Order">'
        '<option value="newest" selected>Newest first</option>'
        '<option value="oldest">Oldest first</option>'
        '<option value="group">Grouped by reference images</option>'
        "</select>",
        '<span id="shown" aria-live="polite"></span>',
        "</div>",
        "</header>",
        '<main id="cards">',
        '<div class="grid">',
    ]
    for card in cards:
        parts.append(_card(card, anchors, group_sizes[card.group]))
    parts += [
        "</div>",
        "</main>",
        '<p id="none" hidden>No prompt has all of these words.</p>',
        f"<script>{SCRIPT}</script>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _anchors(cards: Sequence[Card]) -> dict[str, str]:
    """The card each task id and external id is shown on first (for "made from" links)."""
    anchors: dict[str, str] = {}
    for card in cards:
        for key in (card.task_id, card.external_task_id):
            if key is not None:
                anchors.setdefault(key, card.anchor)
    return anchors


def _card(card: Card, anchors: dict[str, str], group_size: int) -> str:
    label = f"{card.group_label} — {group_size} video{'s' if group_size != 1 else ''}"
    classes = "card failed" if card.failed else "card"
    parts = [
        f'<article class="{classes}" id="{card.anchor}" data-group="{attr(card.group)}" '
        f'data-group-label="{attr(label)}">',
        _media(card),
        '<div class="body">',
        _prompts(card),
        _images(card.images),
        _facts(card, anchors),
        "</div>",
        "</article>",
    ]
    return "\n".join(part for part in parts if part)


def _media(card: Card) -> str:
    if card.video is None:
        reason = card.reason or "the service gave no reason"
        return (
            '<div class="novideo"><strong>Failed</strong>'
            f'<span class="text reason">{text(reason)}</span></div>'
        )
    if card.video.file is None:
        return (
            '<div class="novideo">video not shown: its sidecar names no file in this folder</div>'
        )
    if card.video.state != "ok":
        return f'<div class="novideo">video file missing: {text(card.video.file)}</div>'
    aspect = ASPECT_CLASSES.get(card.aspect_ratio or "", "")
    extra = f' class="{aspect}"' if aspect else ""
    if card.poster is not None:  # a preview in the hidden folder: a name mivid made
        extra += f' poster="{attr(href(card.poster))}"'
    return f'<video controls preload="metadata" src="{attr(href(card.video.file))}"{extra}></video>'


def _prompts(card: Card) -> str:
    if card.prompt is None:
        prompt = '<p class="prompt unknown">prompt unknown (made by another client)</p>'
    else:
        prompt = f'<p class="prompt text">{text(card.prompt)}</p>'
    if card.negative_prompt:
        return (
            f'{prompt}\n<p class="negative"><span class="label">Negative</span>'
            f'<span class="text">{text(card.negative_prompt)}</span></p>'
        )
    return prompt


def _images(images: Sequence[CardImage] | None) -> str:
    if images is None:
        return '<p class="unknown">reference images unknown (made by another client)</p>'
    if not images:
        return ""
    items = "\n".join(_image(image, number) for number, image in enumerate(images, start=1))
    return f'<ol class="refs">\n{items}\n</ol>'


def _image(image: CardImage, number: int) -> str:
    # Numbered as the prompt names it (`<<<image_2>>>`: the create's order), then its role.
    role = f"image {number} ({ROLE_LABELS.get(image.role, image.role)})"
    name = image.name if image.name is not None else url_label(image.url or "")
    caption = f'<span class="role">{text(role)}</span> {text(_last_part(name))}'
    if image.fitted:
        caption += " (fitted)"
    if image.state == OK and image.thumbnail is not None:
        size = ""
        if image.width and image.height:
            size = f' width="{image.width}" height="{image.height}"'
        picture = (
            f'<img src="{attr(href(image.thumbnail))}"{size} alt="{attr(role)}: {attr(name)}" '
            f'title="{attr(name)}" loading="lazy" decoding="async">'
        )
    else:
        picture = f'<span class="noimage" title="{attr(name)}">{_missing_text(image.state)}</span>'
    return f"<li><figure>{picture}<figcaption>{caption}</figcaption></figure></li>"


def _missing_text(state: str) -> str:
    if state in (CHANGED, MISSING):
        return "image changed or missing"
    if state == URL:
        return "image sent as a URL"
    if state == NO_PREVIEW:
        return "no preview"
    return "image not recorded"


def _last_part(name: str) -> str:
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or name


def _facts(card: Card, anchors: dict[str, str]) -> str:
    rows: list[tuple[str, str]] = []
    if card.failed:
        rows.append(("status", '<span class="text">failed</span>'))
    elif card.status not in (None, "succeed", "succeeded"):
        rows.append(("status", _value(card.status)))
    rows += [
        ("model", _value(card.model)),
        ("mode", _value(card.mode)),
        ("duration", _value(f"{card.duration} s" if card.duration else None)),
        ("aspect ratio", _value(card.aspect_ratio)),
        ("units", _value(card.units)),
        ("made", _time(card.created_at)),
        ("task id", _value(card.task_id)),
        ("external id", _value(card.external_task_id)),
    ]
    if card.made_from is not None:
        target = anchors.get(card.made_from)
        shown = text(card.made_from)
        rows.append(("made from", f'<a href="#{target}">{shown}</a>' if target else shown))
    files = []
    if card.video is not None and card.video.file is not None and card.video.state == "ok":
        files.append(f'<a href="{attr(href(card.video.file))}">{text(card.video.file)}</a>')
    files.append(f'<a href="{attr(href(card.sidecar))}">{text(card.sidecar)}</a>')
    rows.append(("files", " · ".join(files)))
    body = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return f"<dl>{body}</dl>"


def _value(value: str | None) -> str:
    return text(value) if value else '<span class="unknown">unknown</span>'


def _time(moment: str | None) -> str:
    if moment is None:
        return '<span class="unknown">unknown</span>'
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return text(moment)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    shown = parsed.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f'<time datetime="{attr(moment)}">{shown}</time>'
