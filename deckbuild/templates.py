"""Anki's card templates, rendered the way Anki renders them, for the preview.

Supports what our note types use: `{{Field}}`, `{{#Field}}...{{/Field}}`, `{{^Field}}...{{/Field}}`,
`{{FrontSide}}` and `{{cloze:Field}}`.
"""

from __future__ import annotations

import re

_SECTION = re.compile(r"\{\{([#^])([^}]+)\}\}(.*?)\{\{/\2\}\}", re.S)
_FIELD = re.compile(r"\{\{(?:(cloze):)?([^#^/{}][^{}]*)\}\}")
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)\}\}", re.S)
_TAG = re.compile(r"<[^>]*>")  # field HTML escapes < and > everywhere but around tags


def render_clozes(text: str, active: int, back: bool) -> str:
    """The cloze field for card number `active`: its spans hidden on the front, revealed on the back."""

    tags = [m.span() for m in _TAG.finditer(text)]

    def replace(match: re.Match[str]) -> str:
        if any(start < edge < end for start, end in tags for edge in (match.start(), match.end() - 1)):
            return match.group(0)  # a marker inside a tag is not a cloze (the build rejects it)
        number, body = int(match.group(1)), match.group(2)
        content, _, hint = body.partition("::")
        if number != active:
            return f'<span class="cloze-inactive" data-ordinal="{number}">{content}</span>'
        if back:
            return f'<span class="cloze" data-ordinal="{number}">{content}</span>'
        return f'<span class="cloze" data-ordinal="{number}">[{hint or "..."}]</span>'

    return _CLOZE.sub(replace, text)


def render_template(
    template: str, fields: dict[str, str], front_side: str = "", cloze: int = 0, back: bool = False
) -> str:
    def section(match: re.Match[str]) -> str:
        kind, name, body = match.group(1), match.group(2).strip(), match.group(3)
        filled = bool(fields.get(name, "").strip())
        return body if filled == (kind == "#") else ""

    previous = None
    while previous != template:  # sections may nest
        previous, template = template, _SECTION.sub(section, template)

    def field(match: re.Match[str]) -> str:
        filter_name, name = match.group(1), match.group(2).strip()
        if name == "FrontSide":
            return front_side
        value = fields.get(name, "")
        return render_clozes(value, cloze, back) if filter_name == "cloze" else value

    return _FIELD.sub(field, template)
