"""The safety policy for card HTML: an allow-list, applied to every field the build writes.

Anki shows cards in a web view that runs JavaScript. Whatever a source file holds, only the tags
and attributes below can reach a card: no scripts, event handlers, frames, objects, embeds, style
sheets, SVG, or javascript:/data: URLs. Code blocks are escaped by the highlighter, so HTML in code
is shown as text.
"""

from __future__ import annotations

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "ins", "kbd", "li", "mark", "ol", "p", "pre",
    "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "u", "ul", "wbr",
}
_CLASSED = ("code", "div", "li", "ol", "pre", "span", "ul", "input")
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "input": {"type", "checked", "disabled"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
    **{tag: {"class"} for tag in _CLASSED if tag not in ("input", "ol")},
}
ALLOWED_ATTRIBUTES["input"] = ALLOWED_ATTRIBUTES["input"] | {"class"}
ALLOWED_ATTRIBUTES["ol"] = ALLOWED_ATTRIBUTES["ol"] | {"class"}
URL_SCHEMES = {"http", "https", "mailto"}


def _drop_remote_images(tag: str, attribute: str, value: str) -> str | None:
    # A card never loads anything from the network: images must be files packaged in the deck.
    if tag == "img" and attribute == "src" and ":" in value.split("/", 1)[0]:
        return None
    if tag == "input" and attribute == "type" and value != "checkbox":
        return None
    return value


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_drop_remote_images,
        link_rel=None,  # the same links as cards without raw HTML get
        strip_comments=True,
    )
