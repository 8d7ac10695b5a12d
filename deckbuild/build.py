"""The pipeline in one screen: load -> parse -> render -> plan -> package."""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .cache import RenderCache
from .checks import check_cards, check_vanished, with_distinct_ids
from .config import namespace_notes
from .errors import Diagnostics, Severity, SourceLocation, display_path
from .lint import LintReport, lint_cards, warn_in_check
from .load import load_sources
from .lock import ModificationLock, check_frozen, check_lock_path, exclusive
from .media import MediaResolver, report_unused_media
from .package import (
    clean_stale_temporaries,
    package_is_current,
    record_package,
    stage_package,
    stage_text,
    staged_outputs,
)
from .parse import parse_source
from .plan import deck_cards, plan_decks
from .preview import write_preview
from .records import BuildConfig, BuildReport, Card, Content, DeckPlan, DeckResult, FileResult, SourceFile
from .render import markdown, render_parsed
from .uptodate import remember, unchanged
from .workers import run_each


def process_file(source: SourceFile, media_dir: Path, content_dir: Path | None = None) -> FileResult:
    """One file through the parse and render stages: the unit of caching and of parallel work."""
    diagnostics = Diagnostics()
    md = markdown()
    parsed = parse_source(source, diagnostics, md, MediaResolver(media_dir, content_dir))
    if not parsed.cards and source.text.strip():
        diagnostics.warning(
            SourceLocation(source.path, 1),
            "no cards in this file: a card starts with a level-2 heading (## Question)",
            kind="no-cards",
        )
    return render_parsed(source, parsed, diagnostics, md)


@contextlib.contextmanager
def paused_collector() -> Iterator[None]:
    """Python's cyclic garbage collector paused while records are made by the ten thousand (cached
    files read, cards checked, decks planned): they hold no reference cycles, and every collection
    meanwhile would walk all of them again (a tenth of a rebuild with nothing changed). It runs
    again afterwards. Never around rendering: that runs in the worker processes, which inherit it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def render_files(
    sources: list[SourceFile],
    media_dir: Path,
    cache: RenderCache,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    content_dir: Path | None = None,
) -> list[FileResult]:
    """Each file's cards, from the cache or parsed and rendered (on several cores when there is enough work)."""
    keys = [cache.key(source, media_dir, content_dir) for source in sources]
    with paused_collector():
        results: list[FileResult | None] = [cache.get(key) for key in keys]
    todo = [index for index, result in enumerate(results) if result is None]
    if progress:
        progress(len(sources) - len(todo))
    work = functools.partial(process_file, media_dir=media_dir, content_dir=content_dir)
    rendered = run_each(work, [sources[i] for i in todo], lambda source: len(source.text), jobs, progress)
    for index, result in zip(todo, rendered, strict=True):
        results[index] = result
        # An error may come from outside the file (a missing image): such a result is never cached,
        # so that fixing the cause is seen even when the Markdown itself did not change.
        if not any(d.severity is Severity.ERROR for d in result.diagnostics):
            cache.put(keys[index], result)
    return [result for result in results if result is not None]


def read_content(
    config: BuildConfig,
    strict: bool = False,
    cache: RenderCache | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    lock: ModificationLock | None = None,
    loaded: tuple[list[SourceFile], Diagnostics] | None = None,
) -> Content:
    """Load, parse, render and check every card; raise DeckError listing every problem found.

    `lock` is the build's lock and `loaded` the sources with the messages of loading them, when the
    caller has read them already (otherwise they are read here).
    """
    diagnostics = Diagnostics()
    if loaded is None:
        sources = load_sources(config.content_dir, diagnostics)
    else:
        sources, load_messages = loaded
        diagnostics.extend(load_messages)
    files = render_files(sources, config.media_dir, cache or RenderCache(None), jobs, progress, config.content_dir)
    for result in files:
        diagnostics.extend(result.diagnostics)
    with paused_collector():
        cards = with_distinct_ids([card for result in files for card in result.cards], diagnostics)
        check_cards(cards, diagnostics)
        warn_in_check(cards, config.lint, deck_cards(config, cards), diagnostics)
    folder = SourceLocation(config.content_dir, 0)
    if sources and not cards and not diagnostics.has_errors():
        diagnostics.error(folder, "no cards found: every card starts with a level-2 heading (## Question)")
    elif not sources and not diagnostics.has_errors():
        diagnostics.error(folder, "no .md files found")
    if lock is None:
        lock = ModificationLock.read(config.lock_path, now=0)
    check_vanished(config, lock, cards, diagnostics)
    report_unused_media(config.media_dir, {media.path for card in cards for media in card.meta.media}, diagnostics)
    diagnostics.raise_if_errors(strict)
    titles: dict[str, str] = {}
    for result in files:
        if result.title:
            titles.setdefault(result.topic, result.title)
    return Content(tuple(files), tuple(cards), titles, tuple(diagnostics.items), tuple(sources))


def plan_without_writing(config: BuildConfig, cache: RenderCache | None = None) -> tuple[Content, tuple[DeckPlan, ...]]:
    """Read the content and plan its decks, writing nothing (the lock is only read): the preview."""
    lock = ModificationLock.read(config.lock_path)
    content = read_content(config, cache=cache, lock=lock)
    return content, plan_decks(content, config, lock.entries, lock.now).plans


def check_content(
    config: BuildConfig, strict: bool = False, cache: RenderCache | None = None, run_lint: bool = False
) -> tuple[Content, LintReport | None]:
    """What `check` does: every card read and checked as a build would, nothing written; with
    `run_lint`, the card-quality report too."""
    content = read_content(config, strict=strict, cache=cache)
    if not run_lint:
        return content, None
    return content, lint_cards(content.cards, config.lint, deck_cards(config, content.cards))


@dataclass(frozen=True)
class PreviewOutcome:
    content: Content
    plans: tuple[DeckPlan, ...]
    lint: LintReport
    index: Path  # the site's first page
    cards: int


def build_preview(config: BuildConfig, target: Path, cache: RenderCache | None = None) -> PreviewOutcome:
    """What `preview` does: the decks planned as a build would plan them (the lock only read) and
    written as a static site in `target`, each card with its lint findings."""
    content, plans = plan_without_writing(config, cache)
    report, index, total = write_site(config, content.cards, plans, target)
    return PreviewOutcome(content, plans, report, index, total)


def write_site(
    config: BuildConfig, cards: list[Card] | tuple[Card, ...], plans: Sequence[DeckPlan], target: Path
) -> tuple[LintReport, Path, int]:
    """The preview site of decks already planned, each card with its lint findings: the report, the
    site's first page and the number of cards shown (`preview`, and `watch` after each build)."""
    report = lint_cards(cards, config.lint, deck_cards(config, cards))
    index, total = write_preview(list(plans), target, report.by_card())
    return report, index, total


def build(
    config: BuildConfig,
    strict: bool = False,
    cache: RenderCache | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    frozen: bool = False,
    reuse: bool = False,
) -> BuildReport:
    """Build every deck. With `frozen`, a build that would change the lock fails and writes nothing
    (a release must never stamp notes that the author did not see change). With `reuse`, a build
    on exactly the files the last one left (deckbuild.uptodate) returns that build's report at once;
    its report then holds no plans and no cards."""
    started = time.perf_counter()
    cache = cache or RenderCache(None)
    check_lock_path(config)
    with exclusive(config.lock_path, _say_waiting):
        others = [config.lock_path] if config.lock_path else []
        load_messages = Diagnostics()
        sources = load_sources(config.content_dir, load_messages)  # read once, for the check and the build
        if (
            reuse and not load_messages.has_errors()
            and (report := unchanged(config, (strict, frozen), cache.folder, sources, started))
        ):
            clean_stale_temporaries(config.out_dir, others)
            return report
        lock = ModificationLock.read(config.lock_path)
        content = read_content(config, strict, cache, jobs, progress, lock, (sources, load_messages))
        with paused_collector():
            planned = plan_decks(content, config, lock.entries, lock.now)
        plans = planned.plans
        new_lock = lock.with_entries(planned.lock_entries, planned.changed_by_toolchain)
        lock_text = new_lock.to_text()
        if frozen:
            check_frozen(config, new_lock, lock_text)
        clean_stale_temporaries(config.out_dir, others)
        results = []
        try:
            with staged_outputs(config.out_dir) as staged:
                for plan in plans:
                    current = package_is_current(plan, config.out_dir, cache.folder)
                    path = current or stage_package(plan, config.out_dir, staged)
                    results.append(DeckResult(path, len(plan.notes), plan.card_count, written=current is None))
                if config.lock_path is not None and lock.text != lock_text:
                    stage_text(config.lock_path, lock_text, staged)
        except OSError as exc:
            if exc.filename is None:  # a full disk names no file: name the folder being written
                exc.filename = display_path(config.out_dir)
            raise
        report = BuildReport(
            tuple(results), content.diagnostics + namespace_notes(config), time.perf_counter() - started,
            tuple(plans), new_lock.toolchain_change(), content.cards,
        )
        packaged = [media.path for plan in plans for media in plan.media]
        remember(config, (strict, frozen), cache.folder, content.sources, packaged, report)
    for plan, result in zip(plans, results, strict=True):
        if result.written:
            record_package(plan, result.path, cache.folder)
    return report


def _say_waiting(guard: Path) -> None:
    print(f"{display_path(guard)}: note: another build is using this lock; waiting for it to finish", file=sys.stderr)
