"""The pipeline in one screen: load -> parse -> render -> plan -> package."""

from __future__ import annotations

import functools
import html
import itertools
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import __version__
from .errors import Diagnostic, Diagnostics, Severity, SourceLocation, display_path
from .cache import RenderCache
from .checks import check_cards
from .load import load_sources
from .lock import ModificationLock, content_hash
from .media import report_unused_media
from .notetypes import BASIC, CLOZE, MULTIPLE_CHOICE, NOTETYPES, card_css
from .records import BuildConfig, Card, DeckPlan, DeckSpec, FileResult, NoteRecord, SourceFile
from .render import render_file
from .sanitize import finish_field, strip_control_characters

RETIRED_NOTICE = (
    "This card has been retired from the deck: it is no longer updated. "
    "You can suspend or delete it."
)


@dataclass(frozen=True, slots=True)
class Content:
    """Everything read from a content folder, validated."""

    files: tuple[FileResult, ...]
    cards: tuple[Card, ...]
    topic_titles: dict[str, str]
    diagnostics: tuple[Diagnostic, ...]


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


PARALLEL_MIN_CHARACTERS = 200_000  # below this much text to render, worker start-up costs more than it saves


def render_files(
    sources: list[SourceFile],
    media_dir: Path,
    cache: RenderCache,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[FileResult]:
    """Each file's cards, from the cache or rendered (on several cores when there is enough work)."""
    keys = [cache.key(source, media_dir) for source in sources]
    results: list[FileResult | None] = [cache.get(key) for key in keys]
    todo = [index for index, result in enumerate(results) if result is None]
    if progress:
        progress(len(sources) - len(todo))
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if len(todo) < 2 or sum(len(sources[i].text) for i in todo) < PARALLEL_MIN_CHARACTERS:
        workers = 1
    if workers > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(todo))) as pool:
            rendered = pool.map(render_file, [sources[i] for i in todo], itertools.repeat(media_dir), chunksize=4)
            for index, result in zip(todo, rendered, strict=True):
                results[index] = result
                if progress:
                    progress(1)
    else:
        for index in todo:
            results[index] = render_file(sources[index], media_dir)
            if progress:
                progress(1)
    for index in todo:
        result = results[index]
        # An error may come from outside the file (a missing image): such a result is never cached,
        # so that fixing the cause is seen even when the Markdown itself did not change.
        if result is not None and not any(d.severity is Severity.ERROR for d in result.diagnostics):
            cache.put(keys[index], result)
    return results  # type: ignore[return-value]


def read_content(
    config: BuildConfig,
    strict: bool = False,
    cache: RenderCache | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    lock: ModificationLock | None = None,
) -> Content:
    """Load, parse, render and check every card; raise DeckError listing every problem found.

    `lock` is the build's lock when the caller has read it already (otherwise it is read here).
    """
    diagnostics = Diagnostics()
    sources = load_sources(config.content_dir, diagnostics)
    files = render_files(sources, config.media_dir, cache or RenderCache(None), jobs, progress)
    for result in files:
        diagnostics.extend(result.diagnostics)
    cards = [card for result in files for card in result.cards]
    check_cards(cards, diagnostics)
    folder = SourceLocation(display_path(config.content_dir), 0)
    if sources and not cards and not diagnostics.has_errors():
        diagnostics.error(folder, "no cards found: every card starts with a level-2 heading (## Question)")
    elif not sources and not diagnostics.has_errors():
        diagnostics.error(folder, "no .md files found")
    if lock is None:
        lock = ModificationLock.read(config.lock_path, now=0)
    check_vanished(config, lock, cards, diagnostics)
    report_unused_media(config.media_dir, {media.path for card in cards for media in card.media}, diagnostics)
    diagnostics.raise_if_errors(strict)
    titles: dict[str, str] = {}
    for result in files:
        if result.title:
            titles.setdefault(result.topic, result.title)
    return Content(tuple(files), tuple(cards), titles, tuple(diagnostics.items))


def check_vanished(
    config: BuildConfig, lock: ModificationLock, cards: list[Card], diagnostics: Diagnostics
) -> None:
    """An id the previous build packaged must be retired, not deleted: Anki never deletes notes."""
    present = {card.id for card in cards}
    previous = sorted(lock.previous_keys())
    for spec in config.decks:
        prefix = f"{spec.namespace}/"
        for key in previous:
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
    source = html.escape(source_path(card, content_dir))  # no line: a note must not change when another card moves it
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
    return _relative_source(card.location.path, str(content_dir))


@functools.lru_cache(maxsize=4096)
def _relative_source(shown: str, content_dir: str) -> str:
    path = Path(shown).resolve()
    root = Path(content_dir).resolve()
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
        fields = tuple(finish_field(field) for field in fields)  # the last step for every field
        tags = tuple(strip_control_characters(tag) for tag in _tags(spec, card))
        deck_name = spec.name
        if spec.subdecks:
            deck_name = f"{spec.name}::{content.topic_titles.get(card.topic, card.topic)}"
        deck_name = strip_control_characters(deck_name)
        modified = lock.modified(f"{spec.namespace}/{card.id}", content_hash(notetype, fields, tags))
        ords = tuple(number - 1 for number in card.cloze_numbers) or (0,)
        notes.append(NoteRecord(note_guid(spec.namespace, card.id), notetype, fields, tags, deck_name, modified, ords))
    notetype_modified = {
        key: lock.modified(f"notetype/{key}", content_hash(contract, card_css()))
        for key, contract in NOTETYPES.items()
    }
    description = finish_field(
        f"{html.escape(spec.description)}<br><br>Version {html.escape(config.version)} &middot; "
        f"{sum(note.card_count for note in notes)} cards &middot; built from Markdown with build_deck {__version__}."
    ).strip()
    media_by_name = {m.name: m for card in content.cards if spec.includes(card) for m in reversed(card.media)}
    media = tuple(sorted(media_by_name.values(), key=lambda m: m.name))
    return DeckPlan(
        spec=spec, notes=tuple(notes), description=description, notetype_modified=notetype_modified, media=media
    )


def build(
    config: BuildConfig,
    strict: bool = False,
    cache: RenderCache | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> BuildReport:
    from .package import package_is_current, record_package, stage_package, staged_outputs

    started = time.perf_counter()
    cache = cache or RenderCache(None)
    lock = ModificationLock.read(config.lock_path)
    content = read_content(config, strict, cache, jobs, progress, lock)
    plans = [plan_deck(spec, content, config, lock) for spec in config.decks]
    results = []
    with staged_outputs(config.out_dir) as staged:
        for plan in plans:
            current = package_is_current(plan, config.out_dir, cache.folder)
            path = current or stage_package(plan, config.out_dir, staged)
            results.append(DeckResult(path, len(plan.notes), plan.card_count, written=current is None))
        if config.lock_path is not None:
            _stage_text(config.lock_path, lock.to_text(), staged)
    for plan, result in zip(plans, results, strict=True):
        if result.written:
            record_package(plan, result.path, cache.folder)
    return BuildReport(tuple(results), content.diagnostics, time.perf_counter() - started, tuple(plans))


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
