"""The safety policy for card HTML: an allow-list, applied to every field the build writes.

Anki shows cards in a web view that runs JavaScript. Whatever a source file holds, only the tags
and attributes below can reach a card: no scripts, event handlers, frames, objects, embeds, style
sheets, SVG, or javascript:/data: URLs. Code blocks are escaped by the highlighter, so HTML in code
is shown as text.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Mapping

import nh3

from .tex import unsafe_formulas

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
# classes that make MathJax typeset inside code, or skip our math (mathjax_process, tex2jax_ignore)
_MATHJAX_CLASS = re.compile(r"(?:mathjax|tex2jax)", re.I)




def sanitize_html(html_text: str, images: Mapping[str, str] | None = None) -> str:
    """The allow-listed HTML. An image keeps its `src` only when `images` maps it to a packaged
    media name (the parse stage resolved it), and then gets that name: every other source (a
    URL, `//host/x`, `/\\host/x`, another deck's file, Anki's own `/_anki/` pages) is removed."""
    known = images or {}

    def allow(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            return known.get(value)
        if tag == "input" and attribute == "type" and value != "checkbox":
            return None
        if attribute == "class":
            return " ".join(name for name in value.split() if not _MATHJAX_CLASS.match(name)) or None
        return value

    return nh3.clean(
        html_text,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=allow,
        link_rel=None,  # the same links as cards without raw HTML get
        strip_comments=True,
    )


def raw_image_sources(fragment: str) -> list[str]:
    """The `src` of every image the sanitizer would see in a piece of raw HTML, as it sees it
    (entities decoded): each must be resolved to a packaged file."""
    found: list[str] = []

    def collect(tag: str, attribute: str, value: str) -> str:
        if tag == "img" and attribute == "src":
            found.append(value)
        return value

    nh3.clean(fragment, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, attribute_filter=collect)
    return found


# --- the last step for every field, tag and name --------------------------------------------------

_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Anki reads these in any field or attribute: sound files it plays, LaTeX it runs, its own AV tags
_ANKI_MARKUP = re.compile(r"\[(?=/?(?:sound:|latex\]|\$\$?\]|anki:))", re.I)
_TAG = re.compile(r"(<[^>]*>)")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z0-9]*)")
_MATHJAX_SKIPS = ("pre", "code")  # MathJax's default skipHtmlTags that our cards use
_MATHJAX_JOINS = ("br", "wbr")  # tags MathJax reads through when it looks for a formula


# the same characters for bytes.translate, which finds them in ASCII text several times faster
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20)) + b"\x7f"


def strip_control_characters(text: str) -> str:
    """Without C0 control characters (tab, line feed and carriage return kept) and DEL: U+001F is
    Anki's field separator, and the others have no place in a card."""
    if text.isascii() and len(text.encode("ascii").translate(None, _CONTROL_BYTES)) == len(text):
        return text  # none there (most texts): no regex walk
    return _CONTROL_CHARACTERS.sub("", text)


def finish_field(field_html: str, sounds: frozenset[str] = frozenset(), cloze: bool = False) -> str:
    """A field as it is packaged: no control characters, no text Anki reads as its own markup
    (`[sound:`, `[latex]`, `[$]`, `[$$]`, `[anki:` get an entity for their `[`), and no formula
    MathJax would find outside our own checked math that uses a command off the allow-list.

    A `cloze` field (shown through Anki's `{{cloze:...}}` filter) also gets `_guard_cloze_field`.

    Works on the HTML that our renderer and the sanitizer write: there `<` and `>` appear only
    around tags (text and attribute values have them escaped)."""
    text = strip_control_characters(field_html)
    if cloze:
        text = _guard_cloze_field(text)
    text = _guard_text_math(text)
    if "[" not in text:  # every piece of Anki's markup starts with one
        return text
    if not sounds:
        return _ANKI_MARKUP.sub("&#91;", text)
    # `sounds` are the card's packaged sound files: their tags are ours, every other one is text
    return _ANKI_MARKUP.sub(
        lambda match: "[" if _is_our_sound(text, match.start(), sounds) else "&#91;", text
    )


def _is_our_sound(text: str, start: int, sounds: frozenset[str]) -> bool:
    end = text.find("]", start)
    return text.startswith("[sound:", start) and end > 0 and text[start + len("[sound:"):end] in sounds


# Anki's cloze filter, after it has revealed or hidden the card's clozes, finds `\(` or `\[` in the
# HTML source (attributes and code included) up to the first `\)` or `\]`, and removes every tag
# in between so that clozes inside a formula work. Text there may then join into a formula, a tag
# or Anki's own markup that no field check saw.
_ANKI_MATH_OPENER = re.compile(r"\\[(\[]")
_ANKI_MATH_CLOSER = re.compile(r"\\[)\]]")
# what Anki's cloze filter could change between an opener and its closer: tags, cloze markers
_CLOZE_REWRITES = re.compile(r"[<>]|\{\{|\}\}|::")
# a cloze hint Anki would show as `[hint]`: text it then reads as its own markup
# (Anki closes a hint with its own `]`: `{{c1::a::latex}}` shows `[latex]`)
_MARKUP_HINT = re.compile(r"::(?=/?(?:sound:|(?:latex|\$\$?)(?:\]|\}\})|anki:))(.)", re.I | re.S)


def _guard_cloze_field(field_html: str) -> str:
    r"""A cloze field in which Anki's cloze filter changes no formula and makes no markup.

    Every `\(` or `\[` in the source must begin a stretch, up to the first `\)` or `\]`, that
    holds no tag and no cloze marker (`{{`, `}}`, `::`): there the filter's tag removal finds
    nothing, and no cloze starts, ends or is replaced. Our own math is such a stretch (its text
    is escaped, and the parse stage refuses cloze markers in a cloze card's formulas). Any other
    opener is made text: in a tag an entity for its backslash, in text an empty element after it.
    So the formulas MathJax reads on every card of the note are those of the field, cut where
    Anki puts its cloze elements, and the text-math check of the field covers them.

    A hint that Anki would show as `[sound:...]`, `[latex]`, `[$]`, `[$$]` or `[anki:...]` gets
    an entity for its first character: Anki then shows it as the same text and plays nothing."""
    if "::" in field_html:
        field_html = _MARKUP_HINT.sub(lambda m: f"::&#{ord(m.group(1))};", field_html)
    if "\\" not in field_html:
        return field_html
    tags = [m.span() for m in _TAG.finditer(field_html)]
    closers = [m.start() for m in _ANKI_MATH_CLOSER.finditer(field_html)]
    # prefix counts of the offsets where a tag bracket (one character) or a cloze marker (two) starts
    brackets, markers = [0], [0]
    for i, char in enumerate(field_html):
        brackets.append(brackets[-1] + (char in "<>"))
        markers.append(markers[-1] + (field_html[i:i + 2] in ("{{", "}}", "::")))
    out: list[str] = []
    last, tag = 0, 0
    for match in _ANKI_MATH_OPENER.finditer(field_html):
        start, inner = match.start(), match.end()
        after = bisect.bisect_left(closers, inner)
        if after < len(closers):
            end = closers[after]
            if brackets[end] == brackets[inner] and (end - 1 <= inner or markers[end - 1] == markers[inner]):
                continue  # a stretch the cloze filter leaves as it is
        while tag < len(tags) and tags[tag][1] <= start:
            tag += 1
        in_tag = tag < len(tags) and tags[tag][0] < start
        out += [field_html[last:start], "&#92;" if in_tag else "\\<span></span>"]
        last = start + 1
    out.append(field_html[last:])
    return "".join(out)


def _guard_text_math(field_html: str) -> str:
    if "\\" not in field_html:
        return field_html
    parts = _TAG.split(field_html)  # even indexes: text; odd: tags
    runs: list[list[int]] = [[]]  # the text MathJax reads as one string
    skipping = 0
    for index, part in enumerate(parts):
        if index % 2 == 0:
            if part and not skipping:
                runs[-1].append(index)
            continue
        match = _TAG_NAME.match(part)
        name = match.group(1).lower() if match else ""
        if name in _MATHJAX_JOINS:
            continue
        runs.append([])
        if name in _MATHJAX_SKIPS:
            skipping = max(0, skipping + (-1 if part.startswith("</") else 1))
    for run in runs:
        texts = [html.unescape(parts[i]) for i in run]
        bad = unsafe_formulas("".join(texts))  # sorted offsets: one walk along them (linear time)
        start, next_bad = 0, 0
        for i, text in zip(run, texts, strict=True):
            cuts = []
            while next_bad < len(bad) and bad[next_bad] < start + len(text):
                cuts.append(bad[next_bad] - start + 1)
                next_bad += 1
            if cuts:  # an empty element right after the backslash: MathJax finds no delimiter there
                pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
                parts[i] = "<span></span>".join(html.escape(piece, quote=False) for piece in pieces)
            start += len(text)
    return "".join(parts)
