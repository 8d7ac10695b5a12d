"""The pipeline in one screen: load -> parse -> render -> plan -> package."""

from __future__ import annotations

import html
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import Diagnostic, Diagnostics, SourceLocation, display_path
from .load import load_sources
from .lock import ModificationLock, content_hash
from .media import MediaResolver
from .notetypes import BASIC, CLOZE, MULTIPLE_CHOICE, NOTETYPES, card_css
from .parse import CardSource, ParsedFile, check_cards, make_markdown, parse_source
from .records import BuildConfig, Card, DeckPlan, DeckSpec, NoteRecord
from .render import install_render_rules, render_card

RETIRED_NOTICE = (
    "This card has been retired from the deck: it is no longer updated. "
    "You can suspend or delete it."
)


@dataclass(frozen=True, slots=True)
class Content:
    """Everything read from a content folder, validated."""

    files: tuple[ParsedFile, ...]
    cards: tuple[Card, ...]
    topic_titles: dict[str, str]
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class DeckResult:
    path: Path
    notes: int
    cards: int


@dataclass(frozen=True, slots=True)
class BuildReport:
    decks: tuple[DeckResult, ...]
    diagnostics: tuple[Diagnostic, ...]
    seconds: float


def read_content(config: BuildConfig, strict: bool = False) -> Content:
    """Load, parse, check and render every card; raise DeckError listing every problem found."""
    diagnostics = Diagnostics()
    md = install_render_rules(make_markdown())
    media = MediaResolver(config.media_dir)
    sources = load_sources(config.content_dir, diagnostics)
    files = [parse_source(source, diagnostics, md, media) for source in sources]
    card_sources: list[CardSource] = [card for parsed in files for card in parsed.cards]
    check_cards(card_sources, diagnostics)
    if sources and not card_sources and not diagnostics.has_errors():
        diagnostics.error(
            SourceLocation(display_path(config.content_dir), 0),
            "no cards found: every card starts with a level-2 heading (## Question)",
        )
    elif not sources and not diagnostics.has_errors():
        diagnostics.error(SourceLocation(display_path(config.content_dir), 0), "no .md files found")
    check_vanished(config, card_sources, diagnostics)
    media.report_unused(diagnostics)
    diagnostics.raise_if_errors(strict)
    titles: dict[str, str] = {}
    for parsed in files:
        if parsed.title:
            titles.setdefault(parsed.topic, parsed.title)
    cards = tuple(render_card(md, card) for card in card_sources)
    return Content(tuple(files), cards, titles, tuple(diagnostics.items))


def check_vanished(config: BuildConfig, cards: list[CardSource], diagnostics: Diagnostics) -> None:
    """An id the previous build packaged must be retired, not deleted: Anki never deletes notes."""
    lock = ModificationLock.read(config.lock_path, now=0)
    present = {card.id for card in cards}
    for spec in config.decks:
        prefix = f"{spec.namespace}/"
        for key in sorted(lock.previous_keys()):
            if key.startswith(prefix) and key[len(prefix):] not in present:
                diagnostics.warning(
                    SourceLocation(display_path(config.lock_path), 0),
                    f"card '{key[len(prefix):]}' of deck '{spec.name}' was built before but is gone from the "
                    "sources; keep it with `retired: true` in its options so that users' copies are marked",
                )


def _tags(spec: DeckSpec, card: Card) -> tuple[str, ...]:
    tags = [f"{spec.namespace}::topic::{card.topic}"]
    if card.difficulty:
        tags.append(f"{spec.namespace}::difficulty::{card.difficulty}")
    if card.retired:
        tags.append(f"{spec.namespace}::status::retired")
    tags.extend(card.tags)
    return tuple(dict.fromkeys(tags))


def _fields(card: Card, content_dir: Path) -> tuple[str, tuple[str, ...]]:
    notice = html.escape(RETIRED_NOTICE) if card.retired else ""
    source = html.escape(f"{source_path(card, content_dir)}:{card.location.line}")
    if card.is_cloze:
        # the text with the clozes is the part before the --- break, or the whole card without one
        text, extra = (card.context_html, card.answer_html) if card.context_html else (card.answer_html, "")
        return CLOZE.key, (card.id, card.question_html, text, extra, notice, source)
    if not card.is_multiple_choice:
        return BASIC.key, (card.id, card.question_html, card.context_html, card.answer_html, notice, source)
    choices = "".join(f"<li>{option.html}</li>" for option in card.options)
    marked = "".join(
        f'<li class="{"correct" if option.correct else "wrong"}">{option.html}</li>' for option in card.options
    )
    return MULTIPLE_CHOICE.key, (
        card.id,
        card.question_html,
        card.context_html,
        f'<ol class="choices">{choices}</ol>',
        f'<ol class="choices">{marked}</ol>',
        card.answer_html,
        notice,
        source,
    )


def source_path(card: Card, content_dir: Path) -> str:
    """The card's file relative to the content folder's parent: the same wherever the build runs."""
    path = Path(card.location.path).resolve()
    root = content_dir.resolve()
    try:
        return (Path(root.name) / path.relative_to(root)).as_posix()
    except ValueError:
        return path.name


def plan_deck(
    spec: DeckSpec, content: Content, config: BuildConfig, lock: ModificationLock
) -> DeckPlan:
    from .package import note_guid  # genanki is imported by the package stage only

    notes = []
    for card in content.cards:
        if not spec.includes(card):
            continue
        notetype, fields = _fields(card, config.content_dir)
        tags = _tags(spec, card)
        deck_name = spec.name
        if spec.subdecks:
            deck_name = f"{spec.name}::{content.topic_titles.get(card.topic, card.topic)}"
        modified = lock.modified(f"{spec.namespace}/{card.id}", content_hash(notetype, fields, tags))
        count = len(card.cloze_numbers) or 1
        notes.append(
            NoteRecord(note_guid(spec.namespace, card.id), notetype, fields, tags, deck_name, modified, count)
        )
    notetype_modified = {
        key: lock.modified(f"notetype/{key}", content_hash(contract, card_css()))
        for key, contract in NOTETYPES.items()
    }
    description = (
        f"{html.escape(spec.description)}<br><br>Version {html.escape(config.version)} &middot; "
        f"{sum(note.card_count for note in notes)} cards &middot; built from Markdown with build_deck {__version__}."
    ).strip()
    media = tuple(dict.fromkeys(m for card in content.cards if spec.includes(card) for m in card.media))
    return DeckPlan(
        spec=spec, notes=tuple(notes), description=description, notetype_modified=notetype_modified, media=media
    )


def build(config: BuildConfig, strict: bool = False) -> BuildReport:
    from .package import stage_package, staged_outputs

    started = time.perf_counter()
    content = read_content(config, strict)
    lock = ModificationLock.read(config.lock_path)
    plans = [plan_deck(spec, content, config, lock) for spec in config.decks]
    results = []
    with staged_outputs(config.out_dir) as staged:
        for plan in plans:
            path = stage_package(plan, config.out_dir, staged)
            results.append(DeckResult(path, len(plan.notes), plan.card_count))
        if config.lock_path is not None:
            _stage_text(config.lock_path, lock.to_text(), staged)
    return BuildReport(tuple(results), content.diagnostics, time.perf_counter() - started)


def _stage_text(path: Path, text: str, staged: dict[Path, Path]) -> None:
    from .package import public_mode

    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(name, public_mode())
    staged[path] = Path(name)
