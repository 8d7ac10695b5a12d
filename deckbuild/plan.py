"""The plan stage: rendered cards -> the notes of each deck (fields, tags, deck names, order) and the
lock entries those notes give.

Planning is a pure function: it reads the previous lock's entries and returns the new ones, so that
`build`, `preview` and `release-notes` can all plan without any of them changing a lock by accident.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import html
import operator
import re
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path

from . import __version__
from .lock import LockEntry, content_hash, next_entry
from .media import is_audio
from .notetypes import BASIC, CLOZE, MULTIPLE_CHOICE, NOTETYPES, NoteTypeContract, card_css
from .order import card_positions, note_order
from .records import BuildConfig, Card, Content, DeckPlan, DeckSpec, NoteRecord, PlannedDecks
from .sanitize import finish_field, strip_control_characters

CORE_VALUE = 5  # the cards a short plan studies: tagged <namespace>::core
CORE_TAG = "core"

RETIRED_NOTICE = (
    "This card has been retired from the deck: it is no longer updated. "
    "You can suspend or delete it."
)


def deck_cards(config: BuildConfig, cards: list[Card] | tuple[Card, ...]) -> list[tuple[str, list[Card]]]:
    """Each configured deck's name and cards, with options in the order the deck shows them: what
    the deck-wide lint rules judge (a shuffled quiz is judged as shuffled)."""
    return [
        (f"deck '{spec.name}'", [shown_options(spec, card) for card in cards if spec.includes(card)])
        for spec in config.decks
    ]


def shown_options(spec: DeckSpec, card: Card) -> Card:
    """The card with its options in the deck's order (shuffled by card id unless turned off)."""
    if not (card.is_multiple_choice and spec.shuffle_options and card.meta.shuffle_options):
        return card
    shuffled = option_order(card.meta.id, len(card.options))
    return dataclasses.replace(card, options=tuple(card.options[i] for i in shuffled))


def _tags(spec: DeckSpec, card: Card) -> tuple[str, ...]:
    tags = [f"{spec.namespace}::topic::{card.meta.topic}"]
    if card.meta.difficulty:
        tags.append(f"{spec.namespace}::difficulty::{card.meta.difficulty}")
    if card.meta.value == CORE_VALUE and not card.meta.retired:
        tags.append(f"{spec.namespace}::{CORE_TAG}")
    if card.meta.retired:
        tags.append(f"{spec.namespace}::status::retired")
    tags.extend(card.meta.tags)
    return tuple(dict.fromkeys(tags))


def option_order(card_id: str, count: int) -> list[int]:
    """A shuffled order of a card's options, drawn from its id: the same in every build."""
    return sorted(range(count), key=lambda i: hashlib.sha256(f"build_deck options {card_id} {i}".encode()).digest())


@functools.lru_cache(maxsize=4096)
def source_html(topic_title: str, path: str, url_template: str) -> str:
    """The Source field: the card's topic (shown small above the question) and its file, linked
    when the deck has a source link template. No line number: a note must not change when another
    card moves it."""
    file = html.escape(path)
    if url_template:
        url = url_template.replace("{path}", urllib.parse.quote(path))
        file = f'<a href="{html.escape(url)}">{file}</a>'
    return f'<span class="topic">{html.escape(topic_title)}</span> <span class="file">{file}</span>'


def _fields(card: Card, content_dir: Path, spec: DeckSpec, topic_title: str) -> tuple[NoteTypeContract, dict[str, str]]:
    """The card's note type and its fields by name (the contract orders them)."""
    common = {
        "Id": card.meta.id,
        "Notice": html.escape(RETIRED_NOTICE) if card.meta.retired else "",
        "Source": source_html(topic_title, source_path(card, content_dir), spec.source_url),
        "Reference": card.reference_html,
    }
    if card.is_cloze:
        # the text with the clozes is the part before the --- break, or the whole card without one
        text, extra = (card.context_html, card.answer_html) if card.context_html else (card.answer_html, "")
        return CLOZE, {**common, "Heading": card.question_html, "Text": text, "Extra": extra}
    if not card.is_multiple_choice:
        return BASIC, {
            **common, "Question": card.question_html, "Context": card.context_html, "Answer": card.answer_html
        }
    options = shown_options(spec, card).options
    choices = "".join(f"<li>{option.html}</li>" for option in options)
    marked = "".join(
        f'<li class="{"correct" if option.correct else "wrong"}">{option.html}</li>' for option in options
    )
    return MULTIPLE_CHOICE, {
        **common,
        "Question": card.question_html,
        "Context": card.context_html,
        "Options": f'<ol class="choices">{choices}</ol>',
        "Marked": f'<ol class="choices">{marked}</ol>',
        "Explanation": card.answer_html,
    }


def source_path(card: Card, content_dir: Path) -> str:
    """The card's file relative to the content folder's parent: the same wherever the build runs."""
    return _relative_source(card.meta.location.path, str(content_dir))


@functools.lru_cache(maxsize=4096)
def _relative_source(source: Path, content_dir: str) -> str:
    path = source.resolve()
    root = Path(content_dir).resolve()
    try:
        return (Path(root.name) / path.relative_to(root)).as_posix()
    except ValueError:
        return path.name


_NUMBER = re.compile(r"^(\d+)")


def learning_order(content: Content) -> tuple[dict[str, int], dict[str, str]]:
    """Each topic's place in the deck and its subdeck's name.

    Topics come in the order of their files (the first file declaring a topic places it), and a
    numbered file (`01-core-types.md`) gives its number to the subdeck (`01 Core types`): Anki shows
    subdecks, and with its default options gathers new cards, in the order of their names.
    """
    order: dict[str, int] = {}
    names: dict[str, str] = {}
    for result in content.files:
        if result.topic in order:
            continue
        order[result.topic] = len(order)
        title = content.topic_titles.get(result.topic, result.topic)
        number = _NUMBER.match(result.path.name)
        names[result.topic] = f"{number.group(1)} {title}" if number else title
    for card in content.cards:  # a topic named only in a card's options comes after the files' topics
        order.setdefault(card.meta.topic, len(order))
        names.setdefault(card.meta.topic, content.topic_titles.get(card.meta.topic, card.meta.topic))
    return order, names


@functools.cache
def _cloze_filtered(notetype: str) -> frozenset[str]:
    """The fields a note type's templates show through Anki's cloze filter (`{{cloze:Text}}`)."""
    templates = " ".join(front + back for _, _, front, back in NOTETYPES[notetype].templates)
    return frozenset(name.strip() for name in re.findall(r"\{\{cloze:([^{}]+)\}\}", templates))


def _in_contract_order(contract: NoteTypeContract, by_name: dict[str, str]) -> tuple[str, ...]:
    """`contract.ordered_fields(by_name)`, its check of the names made once per set of names."""
    return _field_getter(contract, tuple(by_name))(by_name)


@functools.cache
def _field_getter(contract: NoteTypeContract, names: tuple[str, ...]) -> Callable[[dict[str, str]], tuple[str, ...]]:
    contract.ordered_fields(dict.fromkeys(names, ""))  # a name missing or unknown: ValueError
    return operator.itemgetter(*contract.field_names)


class _Finisher:
    """`finish_field` and `strip_control_characters` for one plan, each distinct text worked on once:
    many repeat (empty fields, a file's Source, the tags, the deck's name). Both are pure functions."""

    def __init__(self) -> None:
        self._fields: dict[tuple[str, frozenset[str], bool], str] = {}
        self._texts: dict[str, str] = {}

    def field(self, text: str, sounds: frozenset[str], cloze: bool) -> str:
        key = (text, sounds, cloze)
        finished = self._fields.get(key)
        if finished is None:
            finished = self._fields[key] = finish_field(text, sounds, cloze=cloze)
        return finished

    def text(self, text: str) -> str:
        stripped = self._texts.get(text)
        if stripped is None:
            stripped = self._texts[text] = strip_control_characters(text)
        return stripped


class _Stamps:
    """The lock entries while the decks are planned: the previous ones, each replaced when its
    note is planned (a key planned twice, as a note type is for every deck, is stamped once)."""

    def __init__(self, previous: Mapping[str, LockEntry], now: int) -> None:
        self.entries = dict(previous)
        self.now = now
        self.changed_by_toolchain = 0

    def modified(self, key: str, digest: str, source: str = "") -> int:
        entry, by_toolchain = next_entry(self.entries.get(key), digest, source, self.now)
        self.entries[key] = entry
        self.changed_by_toolchain += by_toolchain
        return entry[1]


def plan_decks(
    content: Content, config: BuildConfig, previous: Mapping[str, LockEntry], now: int
) -> PlannedDecks:
    """Every configured deck's plan, and the lock entries the build would write (`previous` with
    each planned note's entry replaced); nothing passed in is changed."""
    stamps = _Stamps(previous, now)
    plans = tuple(_plan_deck(spec, content, config, stamps) for spec in config.decks)
    return PlannedDecks(plans, stamps.entries, stamps.changed_by_toolchain)


def _plan_deck(spec: DeckSpec, content: Content, config: BuildConfig, stamps: _Stamps) -> DeckPlan:
    topic_rank, subdeck_names = learning_order(content)
    # New cards are shown in the order of their positions (deckbuild.order): by interview value with
    # the topics interleaved, or topic by topic; beginner before expert within a topic either way.
    cards = note_order([card for card in content.cards if spec.includes(card)], topic_rank, spec.order)
    finish = _Finisher()
    drafts = []
    for card in cards:
        topic_title = content.topic_titles.get(card.meta.topic, card.meta.topic)
        contract, by_name = _fields(card, config.content_dir, spec, topic_title)
        notetype = contract.key
        sounds = frozenset(media.name for media in card.meta.media if is_audio(media.name))
        cloze_fields = _cloze_filtered(notetype)
        fields = _in_contract_order(contract, {  # the last step for every field
            name: finish.field(field, sounds, name in cloze_fields) for name, field in by_name.items()
        })
        tags = tuple(finish.text(tag) for tag in _tags(spec, card))
        deck_name = finish.text(f"{spec.name}::{subdeck_names[card.meta.topic]}" if spec.subdecks else spec.name)
        key = f"{spec.namespace}/{card.meta.id}"
        modified = stamps.modified(key, content_hash(notetype, fields, tags), card.source_digest)
        ords = tuple(number - 1 for number in card.meta.cloze_numbers) or (0,)
        drafts.append((card, notetype, fields, tags, deck_name, modified, ords))
    positions = card_positions([(deck_name, len(ords)) for *_, deck_name, _, ords in drafts])
    notes = [
        NoteRecord(card.meta.guid, card.meta.id, notetype, fields, tags, deck_name, modified, ords, place)
        for (card, notetype, fields, tags, deck_name, modified, ords), place in zip(drafts, positions, strict=True)
    ]
    notetype_modified = {
        key: stamps.modified(f"notetype/{key}", content_hash(contract, card_css()))
        for key, contract in NOTETYPES.items()
    }
    description = finish_field(
        f"{html.escape(spec.description)}<br><br>Version {html.escape(config.version)} &middot; "
        f"{sum(note.card_count for note in notes)} cards &middot; built from Markdown with deckbuild {__version__}."
    ).strip()
    media_by_name = {m.name: m for card in content.cards if spec.includes(card) for m in reversed(card.meta.media)}
    media = tuple(sorted(media_by_name.values(), key=lambda m: m.name))
    return DeckPlan(
        spec=spec, notes=tuple(notes), description=description, notetype_modified=notetype_modified, media=media
    )
