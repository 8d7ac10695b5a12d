"""References: a card's closing `Reference:` paragraph, taken out of the answer into a field of its own.

An author ends a card with a line such as

    Reference: [functools.wraps](https://docs.python.org/3/library/functools.html#functools.wraps)

(or `References:` and several links separated by `;` or `,`). The parse stage moves that paragraph
out of the card's body, checks that it holds only https links, and keeps the link tokens; the
render stage shows them small on the back of the card, labelled, like every other field sanitised.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

from markdown_it.token import Token

from .cloze import has_cloze
from .errors import Diagnostics, SourceLocation
from .records import ReferenceSource

_LEAD = re.compile(r"^\s*References?\s*:\s*", re.I)
_SEPARATOR = re.compile(r"^[\s;,]*(?:and[\s;,]*)?$", re.I)
MAX_REFERENCES = 5


def is_reference_paragraph(tokens: list[Token], start: int) -> bool:
    """Whether tokens[start:start + 3] is a top-level paragraph that opens with `Reference:`."""
    if start < 0 or start + 3 > len(tokens):
        return False
    opening, inline, closing = tokens[start:start + 3]
    if opening.type != "paragraph_open" or opening.level != 0 or closing.type != "paragraph_close":
        return False
    children = inline.children or []
    return bool(children) and children[0].type == "text" and bool(_LEAD.match(children[0].content))


def split_references(
    body: list[Token], path: Path, diagnostics: Diagnostics
) -> tuple[list[Token], tuple[ReferenceSource, ...]]:
    """The body without its closing reference paragraph, and that paragraph's links.

    Only the last block of a card counts (HTML comments after it are passed over): a `Reference:`
    paragraph anywhere else is ordinary answer text, with a warning saying where it belongs.
    """
    end = len(body)
    while end and body[end - 1].type == "html_block" and body[end - 1].content.lstrip().startswith("<!--"):
        end -= 1
    start = end - 3
    for index in range(len(body) - 2):
        if index != start and is_reference_paragraph(body, index):
            diagnostics.warning(
                _location(path, body[index]),
                "a Reference: line counts only as the last paragraph of a card: move it to the end",
                kind="reference-not-last",
            )
    if not is_reference_paragraph(body, start):
        return body, ()
    links = _links(body[start + 1], _location(path, body[start]), diagnostics)
    return body[:start] + body[end:], links


def _links(inline: Token, location: SourceLocation, diagnostics: Diagnostics) -> tuple[ReferenceSource, ...]:
    children = list(inline.children or [])
    lead = _LEAD.match(children[0].content)
    assert lead is not None
    rest = children[0].content[lead.end():]
    items: list[ReferenceSource] = []
    stray: list[str] = [rest] if rest.strip() else []
    index = 1
    while index < len(children):
        token = children[index]
        if token.type != "link_open":
            if token.type in ("text", "softbreak"):
                if not _SEPARATOR.match(token.content):
                    stray.append(token.content)
            else:
                stray.append(token.content or token.type)
            index += 1
            continue
        depth, close = 1, index + 1
        while close < len(children) and depth:
            depth += {"link_open": 1, "link_close": -1}.get(children[close].type, 0)
            close += 1
        url = str(token.attrGet("href") or "")
        label = tuple(children[index + 1:close - 1])
        problem = reference_problem(url)
        if problem:
            diagnostics.error(location, f"reference '{url}': {problem}")
        elif any(has_cloze(t.content or "") for t in label):
            diagnostics.error(
                location, "a cloze marker in a reference's label would show as text: put clozes in the answer"
            )
        elif not any((t.content or "").strip() for t in label):
            diagnostics.error(location, f"reference '{url}' has no label: write [what the page is](address)")
        else:
            items.append(ReferenceSource(url, label))
        index = close
    if stray:
        diagnostics.error(
            location,
            "a Reference: line holds only links, [label](https://...), separated by ; or , "
            f"(found text '{' '.join(s.strip() for s in stray)[:60]}')",
        )
    if not items and not stray:
        diagnostics.error(location, "a Reference: line needs at least one link: [label](https://...)")
    if len(items) > MAX_REFERENCES:
        diagnostics.error(
            location, f"more than {MAX_REFERENCES} references on one card: keep the ones that back the answer"
        )
    return tuple(items)


def reference_problem(url: str) -> str | None:
    """Why an address cannot be a card's reference, or None when it can."""
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        return "an address holds no spaces or control characters"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https":
        return "a reference must be an https:// address"
    if not parts.hostname or "." not in parts.hostname or parts.username or parts.password:
        return "a reference needs a host name (https://docs.python.org/3/...), without a user or password"
    return None


def _location(path: Path, token: Token) -> SourceLocation:
    return SourceLocation(path, (token.map[0] + 1) if token.map else 1)
