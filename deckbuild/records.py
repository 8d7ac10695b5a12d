"""Frozen records passed between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import Diagnostic, SourceLocation

if TYPE_CHECKING:  # for annotations only: the parse stage's records hold markdown-it's tokens
    from markdown_it.token import Token

DIFFICULTIES = ("beginner", "intermediate", "advanced", "expert")
DEFAULT_VALUE = 3  # interview value, 1 (trivia) to 5 (core), of a card that states none


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A decoded Markdown file: LF line endings, no byte-order mark."""

    path: Path  # as the build was given it; messages show it relative to the working directory
    text: str


@dataclass(frozen=True, slots=True)
class MediaFile:
    name: str  # the name inside the package: <stem>-<hash><suffix>
    path: Path


@dataclass(frozen=True, slots=True)
class OptionSource:
    tokens: tuple[Token, ...]
    correct: bool


@dataclass(frozen=True, slots=True)
class ReferenceSource:
    """One link of a card's reference line: its address and the tokens of its label."""

    url: str
    label_tokens: tuple[Token, ...]


@dataclass(frozen=True, slots=True)
class CardMeta:
    """What a card is at every stage: where it was written, its identity, and what its options and its
    file's front matter say about it. The parsed card (CardSource) and the rendered one (Card) share it."""

    location: SourceLocation
    id: str
    id_is_derived: bool
    topic: str
    difficulty: str | None
    tags: tuple[str, ...]
    question_text: str
    retired: bool = False
    cloze_numbers: tuple[int, ...] = ()  # non-empty for a cloze card
    media: tuple[MediaFile, ...] = ()
    shuffle_options: bool = True  # False: the options keep their source order (`shuffle: false`)
    lint_ignore: tuple[str, ...] = ()  # lint rules the card's options silence (with a reason)
    value: int = DEFAULT_VALUE  # interview value, 1 (trivia) to 5 (core): the order of new cards
    guid: str = ""  # a note identity kept from another tool (`guid:`); empty: derived from the id


@dataclass(frozen=True, slots=True)
class CardSource:
    """One card's parts as markdown-it tokens, with everything the build needs to know about it."""

    meta: CardMeta
    question_tokens: tuple[Token, ...]  # the heading's inline children
    context_tokens: tuple[Token, ...]
    answer_tokens: tuple[Token, ...]
    options: tuple[OptionSource, ...]
    options_comment_line: int | None  # where the id belongs, for `add-ids`
    heading_end: int  # 0-based index of the first line after the heading
    env: dict[str, Any] = field(compare=False, hash=False)
    references: tuple[ReferenceSource, ...] = ()  # the card's closing `Reference:` line


@dataclass(frozen=True, slots=True)
class ParsedFile:
    source: SourceFile
    topic: str
    title: str | None
    cards: tuple[CardSource, ...]


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a multiple-choice card, in source order."""

    html: str
    correct: bool


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """A fenced or indented code block of a card, as the learner sees it (cloze markers removed)."""

    line: int  # the source line of its first line of code
    language: str
    text: str
    part: str  # "context" (shown with the question), "answer", or "option"


@dataclass(frozen=True, slots=True)
class Card:
    """One card as parsed from its source, with its HTML parts already rendered."""

    meta: CardMeta
    question_html: str
    context_html: str
    answer_html: str
    options: tuple[Option, ...] = ()  # non-empty for a multiple-choice card
    source_digest: str = ""  # what the author wrote for this card; the lock tells toolchain changes by it
    code_blocks: tuple[CodeBlock, ...] = ()
    reference_html: str = ""  # the links of the card's `Reference:` line, shown on the back
    references: tuple[str, ...] = ()  # their addresses, for the checks that read them

    @property
    def is_multiple_choice(self) -> bool:
        return bool(self.options)

    @property
    def is_cloze(self) -> bool:
        return bool(self.meta.cloze_numbers)

    @property
    def duplicate_key(self) -> tuple[str, str]:
        """What a learner is asked: the question and what is shown with it (a cloze's text)."""
        shown = self.context_html + (self.answer_html if self.is_cloze else "")
        return self.meta.question_text.casefold(), shown


@dataclass(frozen=True, slots=True)
class FileResult:
    """Everything one source file gives: its cards (rendered) and the problems found in it."""

    path: Path
    topic: str
    title: str | None
    cards: tuple[Card, ...]
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class DeckSpec:
    """A deck this repository releases, from the configuration."""

    name: str
    file_name: str
    namespace: str
    description: str
    topics: tuple[str, ...] = ()  # empty: every topic
    difficulties: tuple[str, ...] = ()  # empty: every difficulty, and cards with none
    order: str = "value"  # "value": by interview value, topics interleaved; "topic": topic by topic
    subdecks: bool = False  # one subdeck per topic (Anki then gathers new cards subdeck by subdeck)
    unconfigured: bool = False  # made up for a folder without configuration: its namespace is the folder's name
    shuffle_options: bool = True  # multiple-choice options in an order drawn from the card's id
    source_url: str = ""  # a link template for each card's file, with {path}; empty: no link

    def includes(self, card: Card) -> bool:
        if self.topics and card.meta.topic not in self.topics:
            return False
        if self.difficulties and card.meta.difficulty not in self.difficulties:
            return False
        return True


@dataclass(frozen=True, slots=True)
class LintSettings:
    """`[tool.build_deck.lint]` as configured and validated: each rule named there, `False` (off),
    `True` (on, at its default threshold) or its threshold. A rule not named keeps its default;
    lintrules.py reads these against the rules' registry."""

    values: tuple[tuple[str, bool | float], ...] = ()

    @classmethod
    def from_values(cls, values: dict[str, bool | float]) -> LintSettings:
        return cls(tuple(sorted(values.items())))


@dataclass(frozen=True, slots=True)
class BuildConfig:
    content_dir: Path
    media_dir: Path
    out_dir: Path
    decks: tuple[DeckSpec, ...]
    version: str
    lock_path: Path | None
    lint: LintSettings | None = None  # [tool.build_deck.lint]; None: every rule at its default


@dataclass(frozen=True, slots=True)
class NoteRecord:
    """A note ready to be packaged: every field is final HTML."""

    guid: str  # the identity kept from another tool; empty: the package stage derives it from the id
    card_id: str
    notetype: str  # key into notetypes.NOTETYPES
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck_name: str
    modified: int  # seconds since the epoch when its content last changed
    card_ords: tuple[int, ...] = (0,)  # the cards Anki makes of it: one per cloze number, else one
    positions: tuple[int, ...] = ()  # each card's new-card position (Anki's `due`); empty: the note's place

    @property
    def card_count(self) -> int:
        return len(self.card_ords)


@dataclass(frozen=True, slots=True)
class DeckPlan:
    spec: DeckSpec
    notes: tuple[NoteRecord, ...]
    description: str
    notetype_modified: dict[str, int]
    media: tuple[MediaFile, ...] = ()

    @property
    def card_count(self) -> int:
        return sum(note.card_count for note in self.notes)


@dataclass(frozen=True, slots=True)
class PlannedDecks:
    """What the plan stage gives: each deck's plan, and the lock entries a build would write
    (key -> (content hash, modification time, source digest))."""

    plans: tuple[DeckPlan, ...]
    lock_entries: dict[str, tuple[str, int, str]]
    changed_by_toolchain: int  # notes whose HTML changed although their source did not


@dataclass(frozen=True, slots=True)
class Content:
    """Everything read from a content folder, validated."""

    files: tuple[FileResult, ...]
    cards: tuple[Card, ...]
    topic_titles: dict[str, str]
    diagnostics: tuple[Diagnostic, ...]
    sources: tuple[SourceFile, ...] = ()  # the files as read (deckbuild.uptodate digests them)


@dataclass(frozen=True, slots=True)
class DeckResult:
    path: Path
    notes: int
    cards: int
    written: bool = True  # False when the file on disk already held exactly this deck


@dataclass(frozen=True, slots=True)
class BuildReport:
    decks: tuple[DeckResult, ...]
    diagnostics: tuple[Diagnostic, ...]
    seconds: float
    plans: tuple[DeckPlan, ...] = ()  # what was packaged, for the preview
    toolchain_change: str | None = None  # said once when the lock was rendered by other versions
    cards: tuple[Card, ...] = ()  # every card read, for the preview's lint findings (watch)


def first_line(token: Token) -> int:
    """The 1-based source line where a block token starts (markdown-it's `map`); 1 for a token that
    carries no position (inline children never do)."""
    return token.map[0] + 1 if token.map else 1
