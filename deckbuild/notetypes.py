"""The note-type contract: ids, fields and templates that released decks depend on.

Anki matches note types by id, and fields and templates by their ids. Changing a field here makes
every user's Anki create a copy of the note type and stop updating notes: tests/golden/notetypes.json
freezes this contract, and a change to it must be deliberate and released as a breaking change.
CSS, template text and the sort field may change freely: imports update the existing note type in
place (tests/test_learner.py imports a sort-field change into an old collection).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from .highlight import style_sheet


@dataclass(frozen=True, slots=True)
class NoteTypeContract:
    key: str
    id: int
    name: str
    fields: tuple[tuple[str, int], ...]  # (name, field id)
    templates: tuple[tuple[str, int, str, str], ...]  # (name, template id, front, back)
    sort_field: str  # the browser's first column: the question, never the id slug
    is_cloze: bool = False

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    @property
    def sort_index(self) -> int:
        return self.field_names.index(self.sort_field)

    def ordered_fields(self, by_name: Mapping[str, str]) -> tuple[str, ...]:
        """The note's fields in the contract's order, from a mapping of field name to HTML that
        must name each of the contract's fields exactly once."""
        missing = [name for name in self.field_names if name not in by_name]
        unknown = sorted(set(by_name) - set(self.field_names))
        if missing or unknown:
            raise ValueError(f"note type '{self.key}' fields: missing {missing}, unknown {unknown}")
        return tuple(by_name[name] for name in self.field_names)


_NOTICE = '{{#Notice}}<div class="notice">{{Notice}}</div>{{/Notice}}'
# The Source field holds the topic's title and the card's file (a link when the deck has a source
# link template): the topic is shown small above the question, the file at the bottom of the back.
_TOPIC = '<div class="topic-line">{{Source}}</div>'
_SOURCE = '<div class="source">{{Id}} &middot; {{Source}}</div>'
# Where the card's fact can be checked: the links of its `Reference:` line, small, on the back.
_REFERENCE = (
    '{{#Reference}}<div class="reference"><span class="reference-label">Reference</span> '
    "{{Reference}}</div>{{/Reference}}\n"
)

BASIC = NoteTypeContract(
    key="basic",
    id=1_718_330_261,
    name="Markdown Q&A (build_deck)",
    fields=(
        ("Id", 1_718_330_262),
        ("Question", 1_718_330_263),
        ("Context", 1_718_330_264),
        ("Answer", 1_718_330_265),
        ("Notice", 1_718_330_266),
        ("Source", 1_718_330_267),
        ("Reference", 1_718_330_269),
    ),
    sort_field="Question",
    templates=(
        (
            "Card 1",
            1_718_330_268,
            _NOTICE + _TOPIC + '<div class="question">{{Question}}</div>'
            '{{#Context}}<div class="context">{{Context}}</div>{{/Context}}',
            '{{FrontSide}}\n<hr id="answer">\n<div class="answer">{{Answer}}</div>\n' + _REFERENCE + _SOURCE,
        ),
    ),
)

MULTIPLE_CHOICE = NoteTypeContract(
    key="multiple-choice",
    id=1_718_330_271,
    name="Multiple choice (build_deck)",
    fields=(
        ("Id", 1_718_330_272),
        ("Question", 1_718_330_273),
        ("Context", 1_718_330_274),
        ("Options", 1_718_330_275),
        ("Marked", 1_718_330_276),
        ("Explanation", 1_718_330_277),
        ("Notice", 1_718_330_278),
        ("Source", 1_718_330_279),
        ("Reference", 1_718_330_281),
    ),
    sort_field="Question",
    templates=(
        (
            "Choose",
            1_718_330_280,
            _NOTICE + _TOPIC + '<div class="question">{{Question}}</div>'
            '{{#Context}}<div class="context">{{Context}}</div>{{/Context}}'
            '<div class="options">{{Options}}</div>',
            _NOTICE + _TOPIC + '<div class="question">{{Question}}</div>'
            '{{#Context}}<div class="context">{{Context}}</div>{{/Context}}'
            '\n<hr id="answer">\n<div class="options">{{Marked}}</div>'
            '\n<div class="answer">{{Explanation}}</div>\n' + _REFERENCE + _SOURCE,
        ),
    ),
)

CLOZE = NoteTypeContract(
    key="cloze",
    id=1_718_330_291,
    name="Markdown cloze (build_deck)",
    fields=(
        ("Id", 1_718_330_292),
        ("Heading", 1_718_330_293),
        ("Text", 1_718_330_294),
        ("Extra", 1_718_330_295),
        ("Notice", 1_718_330_296),
        ("Source", 1_718_330_297),
        ("Reference", 1_718_330_299),
    ),
    sort_field="Heading",
    templates=(
        (
            "Cloze",
            1_718_330_298,
            _NOTICE + _TOPIC + '<div class="question">{{Heading}}</div><div class="cloze-text">{{cloze:Text}}</div>',
            _NOTICE + _TOPIC + '<div class="question">{{Heading}}</div><div class="cloze-text">{{cloze:Text}}</div>'
            '\n<hr id="answer">\n{{#Extra}}<div class="answer">{{Extra}}</div>{{/Extra}}\n' + _REFERENCE + _SOURCE,
        ),
    ),
    is_cloze=True,
)

NOTETYPES = {contract.key: contract for contract in (BASIC, MULTIPLE_CHOICE, CLOZE)}


@functools.lru_cache(maxsize=1)
def card_css() -> str:
    base = resources.files("deckbuild").joinpath("resources", "card.css").read_text(encoding="utf-8")
    return base + "\n" + style_sheet()
