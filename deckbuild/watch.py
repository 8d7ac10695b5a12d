"""`watch`: rebuild whenever a source or media file changes. Each rebuild builds, refreshes the
preview and pushes to Anki; a content error is shown and watching goes on."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from watchfiles import watch as watch_changes

from .build import build, write_site
from .cache import RenderCache
from .errors import DeckError, Diagnostic, display_path
from .push import PushError, push_package
from .records import BuildConfig


def watch_and_rebuild(
    config: BuildConfig,
    new_cache: Callable[[], RenderCache],
    preview: bool,
    push_to: str | None,
    say: Callable[[str], None],
    show: Callable[[Iterable[Diagnostic]], None],
) -> None:
    """Build once, then again after every change to the content or media folder, until Ctrl-C or
    SIGTERM. `new_cache` gives each rebuild its render cache; `say` and `show` as for `rebuild`."""
    rebuild(config, new_cache(), preview, push_to, say, show)
    folders = [str(p) for p in (config.content_dir, config.media_dir) if p.is_dir()]
    announced = False
    # yield_on_timeout: the first (empty) batch comes once the watcher is really listening, so
    # "watching" is never said before a change can be seen. Ctrl-C or SIGTERM ends the loop.
    with stop_on_terminate() as stop:
        for changes in watch_changes(*folders, stop_event=stop, raise_interrupt=False,
                                     yield_on_timeout=True, rust_timeout=500):
            if not announced:
                say(f"watching {', '.join(folders)} (Ctrl-C to stop)")
                announced = True
            if changes:
                rebuild(config, new_cache(), preview, push_to, say, show)


def rebuild(
    config: BuildConfig,
    cache: RenderCache,
    preview: bool,
    push_to: str | None,
    say: Callable[[str], None],
    show: Callable[[Iterable[Diagnostic]], None],
) -> bool:
    """Build (and refresh the preview, and push) once; `say` is told each step, `show` the
    diagnostics. False when the content has errors."""
    started = time.strftime("%H:%M:%S")
    try:
        _build_and_show(config, cache, preview, push_to, say, show, started)
    except DeckError as exc:
        show(exc.diagnostics)
        say(f"[{started}] build failed; waiting for the next change")
        return False
    return True


@contextlib.contextmanager
def stop_on_terminate() -> Iterator[threading.Event]:
    """An event that SIGTERM sets, for the duration of the block: `watch` stops cleanly on it as on
    Ctrl-C. A shell starts a background job with SIGINT ignored, so Ctrl-C may never arrive; SIGTERM
    (`kill`, a service manager, a test) always does."""
    stop = threading.Event()

    def on_terminate(signum: int, frame: object) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_terminate)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def _build_and_show(
    config: BuildConfig,
    cache: RenderCache,
    preview: bool,
    push_to: str | None,
    say: Callable[[str], None],
    show: Callable[[Iterable[Diagnostic]], None],
    started: str,
) -> None:
    report = build(config, cache=cache)
    show(report.diagnostics)
    cards = sum(deck.cards for deck in report.decks)
    say(f"[{started}] built {len(report.decks)} deck(s), {cards} cards in {report.seconds:.2f} s")
    if preview:
        _, index, _ = write_site(config, report.cards, report.plans, config.out_dir / "preview")
        say(f"[{started}] preview: {display_path(index)}")
    if push_to:
        try:
            for deck in report.decks:
                push_package(deck.path, push_to)
                say(f"[{started}] pushed {display_path(deck.path)} to Anki")
        except PushError as exc:
            say(f"[{started}] push: error: {exc}")
