"""The pipeline in one screen: load -> parse -> render -> plan -> package."""

from __future__ import annotations

import dataclasses
import ctypes
import functools
import hashlib
import html
import itertools
import multiprocessing
import multiprocessing.process
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import __version__
from .errors import Diagnostic, Diagnostics, Severity, SourceLocation, display_path
from .cache import RenderCache
from .checks import check_cards, with_distinct_ids
from .lint import warn_in_check
from .load import load_sources
from .lock import LockError, ModificationLock, content_hash, exclusive
from .media import is_audio, report_unused_media
from .order import card_positions, note_order
from .notetypes import BASIC, CLOZE, MULTIPLE_CHOICE, NOTETYPES, card_css
from .records import BuildConfig, Card, DeckPlan, DeckSpec, FileResult, NoteRecord, SourceFile
from .render import render_file
from .sanitize import finish_field, strip_control_characters

CORE_VALUE = 5  # the cards a short plan studies: tagged <namespace>::core
CORE_TAG = "core"

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
    toolchain_change: str | None = None  # said once when the lock was rendered by other versions
    cards: tuple[Card, ...] = ()  # every card read, for the preview's lint findings (watch)


PARALLEL_MIN_CHARACTERS = 200_000  # below this much text to render, worker start-up costs more than it saves


def available_cores() -> int:
    """The cores this process may run on: more rendering processes than that only cost memory."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def die_with_parent() -> None:
    """Run in each rendering worker: end it when the build process dies, even by `kill -9`, which
    would otherwise leave it blocked forever on the pipe to its parent. On Linux the kernel kills it
    (PR_SET_PDEATHSIG); everywhere a thread also waits for the parent's end and exits."""
    if sys.platform == "linux":
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the thread below still notices
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    if not parent.is_alive():  # it died before the signal was asked for
        os._exit(1)
    threading.Thread(target=_exit_when_gone, args=(parent,), name="parent-watch", daemon=True).start()


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _exit_when_gone(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()  # waits on a pipe that the parent's end closes
    os._exit(1)


def render_files(
    sources: list[SourceFile],
    media_dir: Path,
    cache: RenderCache,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    content_dir: Path | None = None,
) -> list[FileResult]:
    """Each file's cards, from the cache or rendered (on several cores when there is enough work)."""
    keys = [cache.key(source, media_dir, content_dir) for source in sources]
    results: list[FileResult | None] = [cache.get(key) for key in keys]
    todo = [index for index, result in enumerate(results) if result is None]
    if progress:
        progress(len(sources) - len(todo))
    workers = min(jobs, available_cores()) if jobs is not None else available_cores()
    if len(todo) < 2 or sum(len(sources[i].text) for i in todo) < PARALLEL_MIN_CHARACTERS:
        workers = 1
    if workers > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), initializer=die_with_parent) as pool:
            rendered = pool.map(render_file, [sources[i] for i in todo], itertools.repeat(media_dir),
                                itertools.repeat(content_dir), chunksize=4)
            for index, result in zip(todo, rendered, strict=True):
                results[index] = result
                if progress:
                    progress(1)
    else:
        for index in todo:
            results[index] = render_file(sources[index], media_dir, content_dir)
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
    files = render_files(sources, config.media_dir, cache or RenderCache(None), jobs, progress, config.content_dir)
    for result in files:
        diagnostics.extend(result.diagnostics)
    cards = with_distinct_ids([card for result in files for card in result.cards], diagnostics)
    check_cards(cards, diagnostics)
    warn_in_check(cards, config.lint, deck_cards(config, cards), diagnostics)
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


def deck_cards(config: BuildConfig, cards: list[Card] | tuple[Card, ...]) -> list[tuple[str, list[Card]]]:
    """Each configured deck's name and cards, with options in the order the deck shows them: what
    the deck-wide lint rules judge (a shuffled quiz is judged as shuffled)."""
    return [
        (f"deck '{spec.name}'", [shown_options(spec, card) for card in cards if spec.includes(card)])
        for spec in config.decks
    ]


def shown_options(spec: DeckSpec, card: Card) -> Card:
    """The card with its options in the deck's order (shuffled by card id unless turned off)."""
    if not (card.is_multiple_choice and spec.shuffle_options and card.shuffle_options):
        return card
    return dataclasses.replace(card, options=tuple(card.options[i] for i in option_order(card.id, len(card.options))))


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
    if card.value == CORE_VALUE and not card.retired:
        tags.append(f"{spec.namespace}::{CORE_TAG}")
    if card.retired:
        tags.append(f"{spec.namespace}::status::retired")
    tags.extend(card.tags)
    return tuple(dict.fromkeys(tags))


def option_order(card_id: str, count: int) -> list[int]:
    """A shuffled order of a card's options, drawn from its id: the same in every build."""
    return sorted(range(count), key=lambda i: hashlib.sha256(f"build_deck options {card_id} {i}".encode()).digest())


def source_html(topic_title: str, path: str, url_template: str) -> str:
    """The Source field: the card's topic (shown small above the question) and its file, linked
    when the deck has a source link template. No line number: a note must not change when another
    card moves it."""
    file = html.escape(path)
    if url_template:
        url = url_template.replace("{path}", urllib.parse.quote(path))
        file = f'<a href="{html.escape(url)}">{file}</a>'
    return f'<span class="topic">{html.escape(topic_title)}</span> <span class="file">{file}</span>'


def _fields(card: Card, content_dir: Path, spec: DeckSpec, topic_title: str) -> tuple[str, tuple[str, ...]]:
    notice = html.escape(RETIRED_NOTICE) if card.retired else ""
    source = source_html(topic_title, source_path(card, content_dir), spec.source_url)
    if card.is_cloze:
        # the text with the clozes is the part before the --- break, or the whole card without one
        text, extra = (card.context_html, card.answer_html) if card.context_html else (card.answer_html, "")
        return CLOZE.key, (card.id, card.question_html, text, extra, notice, source, card.reference_html)
    if not card.is_multiple_choice:
        return BASIC.key, (
            card.id, card.question_html, card.context_html, card.answer_html, notice, source, card.reference_html
        )
    options = shown_options(spec, card).options
    choices = "".join(f"<li>{option.html}</li>" for option in options)
    marked = "".join(
        f'<li class="{"correct" if option.correct else "wrong"}">{option.html}</li>' for option in options
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
        card.reference_html,
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
        number = _NUMBER.match(Path(result.display).name)
        names[result.topic] = f"{number.group(1)} {title}" if number else title
    for card in content.cards:  # a topic named only in a card's options comes after the files' topics
        order.setdefault(card.topic, len(order))
        names.setdefault(card.topic, content.topic_titles.get(card.topic, card.topic))
    return order, names


@functools.lru_cache(maxsize=None)
def _cloze_filtered(notetype: str) -> frozenset[str]:
    """The fields a note type's templates show through Anki's cloze filter (`{{cloze:Text}}`)."""
    templates = " ".join(front + back for _, _, front, back in NOTETYPES[notetype].templates)
    return frozenset(name.strip() for name in re.findall(r"\{\{cloze:([^{}]+)\}\}", templates))


def plan_deck(
    spec: DeckSpec, content: Content, config: BuildConfig, lock: ModificationLock
) -> DeckPlan:
    from .package import note_guid  # genanki is imported by the package stage only

    topic_rank, subdeck_names = learning_order(content)
    # New cards are shown in the order of their positions (deckbuild.order): by interview value with
    # the topics interleaved, or topic by topic; beginner before expert within a topic either way.
    cards = note_order([card for card in content.cards if spec.includes(card)], topic_rank, spec.order)
    records = []
    for card in cards:
        notetype, fields = _fields(card, config.content_dir, spec, content.topic_titles.get(card.topic, card.topic))
        sounds = frozenset(media.name for media in card.media if is_audio(media.name))
        cloze_fields = _cloze_filtered(notetype)
        fields = tuple(  # the last step for every field
            finish_field(field, sounds, cloze=name in cloze_fields)
            for field, name in zip(fields, NOTETYPES[notetype].field_names, strict=True)
        )
        tags = tuple(strip_control_characters(tag) for tag in _tags(spec, card))
        deck_name = spec.name
        if spec.subdecks:
            deck_name = f"{spec.name}::{subdeck_names[card.topic]}"
        deck_name = strip_control_characters(deck_name)
        modified = lock.modified(f"{spec.namespace}/{card.id}", content_hash(notetype, fields, tags), card.source_digest)
        ords = tuple(number - 1 for number in card.cloze_numbers) or (0,)
        records.append(NoteRecord(card.guid or note_guid(spec.namespace, card.id), notetype, fields, tags, deck_name, modified, ords))
    positions = card_positions([(record.deck_name, record.card_count) for record in records])
    notes = [dataclasses.replace(record, positions=place) for record, place in zip(records, positions, strict=True)]
    notetype_modified = {
        key: lock.modified(f"notetype/{key}", content_hash(contract, card_css()))
        for key, contract in NOTETYPES.items()
    }
    description = finish_field(
        f"{html.escape(spec.description)}<br><br>Version {html.escape(config.version)} &middot; "
        f"{sum(note.card_count for note in notes)} cards &middot; built from Markdown with deckbuild {__version__}."
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
    frozen: bool = False,
) -> BuildReport:
    """Build every deck. With `frozen`, a build that would change the lock fails and writes nothing
    (a release must never stamp notes that the author did not see change)."""
    from .package import (
        clean_stale_temporaries, package_is_current, record_package, stage_package, staged_outputs,
    )

    started = time.perf_counter()
    cache = cache or RenderCache(None)
    _check_lock_path(config)
    with exclusive(config.lock_path, _say_waiting):
        lock = ModificationLock.read(config.lock_path)
        content = read_content(config, strict, cache, jobs, progress, lock)
        plans = [plan_deck(spec, content, config, lock) for spec in config.decks]
        lock_text = lock.to_text()
        if frozen:
            _check_frozen(config, lock, lock_text)
        clean_stale_temporaries(config.out_dir, [config.lock_path] if config.lock_path else [])
        results = []
        try:
            with staged_outputs(config.out_dir) as staged:
                for plan in plans:
                    current = package_is_current(plan, config.out_dir, cache.folder)
                    path = current or stage_package(plan, config.out_dir, staged)
                    results.append(DeckResult(path, len(plan.notes), plan.card_count, written=current is None))
                if config.lock_path is not None and lock.text != lock_text:
                    _stage_text(config.lock_path, lock_text, staged)
        except OSError as exc:
            if exc.filename is None:  # a full disk names no file: name the folder being written
                exc.filename = display_path(config.out_dir)
            raise
    for plan, result in zip(plans, results, strict=True):
        if result.written:
            record_package(plan, result.path, cache.folder)
    return BuildReport(
        tuple(results), content.diagnostics + _namespace_notes(config), time.perf_counter() - started, tuple(plans),
        lock.toolchain_change(), content.cards,
    )


def _namespace_notes(config: BuildConfig) -> tuple[Diagnostic, ...]:
    """A deck built without configuration is told, once, where its notes' identity comes from
    (about the set-up, not the content: --strict does not make it an error)."""
    notes = Diagnostics()
    for spec in config.decks:
        if spec.unconfigured:
            notes.warning(
                SourceLocation(display_path(config.content_dir), 0),
                f"no configuration: the deck's namespace '{spec.namespace}' comes from the folder's name, so the "
                "notes of another folder with that name and the same card ids would overwrite these in Anki",
                kind="namespace",
            )
    return tuple(notes.items)


def _say_waiting(guard: Path) -> None:
    print(f"{display_path(guard)}: note: another build is using this lock; waiting for it to finish", file=sys.stderr)


def _check_lock_path(config: BuildConfig) -> None:
    """The lock is written by every build: it must not be a deck, a source or a media file.
    Paths are compared resolved (`dist/../dist/x.apkg` is `dist/x.apkg`, a link is its target)."""
    if config.lock_path is None:
        return
    lock = Path(os.path.realpath(config.lock_path))
    decks = {Path(os.path.realpath(config.out_dir / spec.file_name)) for spec in config.decks}
    if lock in decks:
        raise LockError(config.lock_path, "the lock path is also a deck's output file: give --lock another file")
    for folder, what, suffixes in ((config.content_dir, "a source", {".md"}), (config.media_dir, "a media", None)):
        if Path(os.path.realpath(folder)) in lock.parents and (suffixes is None or lock.suffix.lower() in suffixes):
            raise LockError(
                config.lock_path,
                f"the lock path would be {what} file in {display_path(folder)}, and a build never changes "
                "those: give --lock a file outside it",
            )
    if lock.is_dir():
        raise LockError(config.lock_path, "the lock path is a folder: give --lock a file")


def _check_frozen(config: BuildConfig, lock: ModificationLock, lock_text: str) -> None:
    path = config.lock_path
    if path is None:
        raise LockError("--frozen", "--frozen needs a lock file to compare with")
    if lock.text == lock_text:
        return
    reason = "does not exist" if lock.text is None else "would change"
    if lock.text is not None:
        before = lock.original
        changed = sorted(k for k in lock.entries if before.get(k, (None,))[0] != lock.entries[k][0])
        if changed:
            shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
            reason += f": {len(changed)} note(s) changed ({shown})"
        elif lock.toolchain_change():
            reason += ": the toolchain differs"
    from .command import command_name

    raise LockError(
        path,
        f"--frozen: the lock {reason}; nothing was written. Run `{command_name()} build` and commit "
        f"{display_path(path)}",
    )


def _stage_text(path: Path, text: str, staged: dict[Path, Path]) -> None:
    """Stage the lock's new text beside it; a failure names the lock's folder (not the output's)
    and leaves no temporary file."""
    from .package import make_temporary, public_mode

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = make_temporary(path.parent, path)
        staged[path] = temporary  # removed with the others if anything fails
        with os.fdopen(os.open(temporary, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)), "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, public_mode())
    except OSError as exc:
        if exc.filename is None:
            exc.filename = display_path(path.parent)
        raise
