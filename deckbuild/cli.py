"""The command line: the only module that imports click. Heavy imports wait until a command runs."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, TypeVar

import click

from . import __version__

EXIT_CONTENT = 1
EXIT_INTERNAL = 3
BUG_REPORT = "internal error in build_deck {version}: {error}. Please report it as a bug (rerun with --debug for the traceback)."

F = TypeVar("F", bound=Callable[..., object])

if TYPE_CHECKING:
    from .records import BuildConfig

_dir = click.Path(file_okay=False, path_type=Path)


def content_option(f: F) -> F:
    return click.option(
        "--content", type=_dir, default=None,
        help="Folder of Markdown cards.  [default: content/, or [tool.build_deck] content]",
    )(f)


def media_option(f: F) -> F:
    return click.option(
        "--media", type=_dir, default=None, help="Folder of images the cards use.  [default: media/]"
    )(f)


def strict_option(f: F) -> F:
    return click.option("--strict", is_flag=True, help="Treat warnings as errors.")(f)


def _print_diagnostics(diagnostics: object) -> None:
    for diagnostic in diagnostics:  # type: ignore[attr-defined]
        click.echo(str(diagnostic), err=True)


PROGRESS_MIN_FILES = 20  # fewer files than this build in a moment: no bar


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for long builds, only when stderr is a terminal (never in CI logs)."""
    stream = sys.stderr
    if total < PROGRESS_MIN_FILES or not stream.isatty() or os.environ.get("CI"):
        yield None
        return
    with click.progressbar(length=total, label="rendering", file=stream, show_pos=True) as bar:
        yield bar.update


def _run(ctx: click.Context, action: Callable[[], int]) -> None:
    """Turn our errors into `path:line: error: ...` lines and exit codes; anything else is a bug."""
    from .errors import DeckError

    try:
        code = action()
    except DeckError as exc:
        _print_diagnostics(exc.diagnostics)
        errors = sum(1 for d in exc.diagnostics if d.severity.value == "error")
        warnings = len(exc.diagnostics) - errors
        click.echo(f"failed: {errors} error(s), {warnings} warning(s); nothing was written", err=True)
        ctx.exit(EXIT_CONTENT)
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was written", err=True)
        ctx.exit(130)
    except OSError as exc:  # the machine, not the content: a folder that cannot be written, a full disk
        where = exc.filename or "?"
        click.echo(f"{where}: error: {exc.strerror or exc}; nothing was written", err=True)
        ctx.exit(EXIT_CONTENT)
    except Exception as exc:  # noqa: BLE001 - the last line of defence, reported as a bug
        if ctx.find_root().params.get("debug"):
            traceback.print_exc()
        click.echo(BUG_REPORT.format(version=__version__, error=f"{type(exc).__name__}: {exc}"), err=True)
        ctx.exit(EXIT_INTERNAL)
    ctx.exit(code)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="build_deck")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Build Anki decks (.apkg) from Markdown question-and-answer files.

    With no command, runs `build` with its defaults.

    Safety: a deck holds only allow-listed HTML, images that are packaged files, math with
    allow-listed TeX commands, no text Anki plays or typesets ([sound:], [latex]) and no control
    characters; nothing read from the render cache is trusted. README.md, "Safety", says more.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(build)


@main.command()
@content_option
@media_option
@click.option("--out", type=_dir, default=None, help="Folder the decks are written to.  [default: dist/]")
@click.option(
    "--lock", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="File remembering when each note last changed.  [default: build_deck.lock, or OUT/build_deck.lock]",
)
@strict_option
@click.option("--no-cache", is_flag=True, help="Render every card afresh, ignoring the cache.")
@click.option(
    "--cache-dir", type=_dir, default=None,
    help="Where rendered cards are cached.  [default: $BUILD_DECK_CACHE_DIR or ~/.cache/build_deck]",
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Processes for rendering.  [default: one per core, when there is enough work]")
@click.pass_context
def build(ctx: click.Context, content: Path | None = None, media: Path | None = None,
          out: Path | None = None, lock: Path | None = None, strict: bool = False,
          no_cache: bool = False, cache_dir: Path | None = None, jobs: int | None = None) -> None:
    """Build every configured deck into the output folder.

    Without configuration (or with --content pointing elsewhere) the folder becomes one deck.
    A failed build leaves the output folder exactly as it was.
    """
    def action() -> int:
        from .build import build as run_build
        from .config import load_config
        from .errors import display_path

        from .cache import RenderCache, default_cache_dir
        from .load import find_markdown_files

        config = load_config(content, media, out, lock_path=lock)
        cache = RenderCache(None if no_cache else (cache_dir or default_cache_dir()))
        with _progress(len(find_markdown_files(config.content_dir)) if config.content_dir.is_dir() else 0) as step:
            report = run_build(config, strict=strict, cache=cache, jobs=jobs, progress=step)
        _print_diagnostics(report.diagnostics)
        for deck in report.decks:
            note = "" if deck.written else " (unchanged)"
            click.echo(f"{display_path(deck.path)}: {deck.notes} notes, {deck.cards} cards{note}")
        total = sum(deck.cards for deck in report.decks)
        click.echo(f"built {len(report.decks)} deck(s), {total} cards in {report.seconds:.2f} s")
        return 0

    _run(ctx, action)


@main.command()
@content_option
@media_option
@strict_option
@click.pass_context
def check(ctx: click.Context, content: Path | None, media: Path | None, strict: bool) -> None:
    """Validate everything a build would, and write nothing."""
    def action() -> int:
        from .build import read_content
        from .cache import RenderCache, default_cache_dir
        from .config import load_config

        config = load_config(content, media)
        result = read_content(config, strict=strict, cache=RenderCache(default_cache_dir(), writable=False))
        _print_diagnostics(result.diagnostics)
        notes = len(result.cards)
        cards = sum(len(card.cloze_numbers) or 1 for card in result.cards)  # a cloze note makes one card per number
        click.echo(f"ok: {notes} notes ({cards} cards) in {len(result.files)} file(s)", err=True)
        return 0

    _run(ctx, action)


@main.command("add-ids")
@content_option
@click.pass_context
def add_ids_command(ctx: click.Context, content: Path | None) -> None:
    """Write an id into every card that has none (the id its question gives now).

    Rewrites only the files that need it, atomically, adding one id per card and changing
    nothing else. Ids keep a card's review history when its question is reworded later.
    """
    def action() -> int:
        from .checks import check_cards
        from .config import load_config
        from .errors import Diagnostics
        from .ids import add_ids
        from .load import load_sources
        from .parse import parse_source
        from .render import markdown, render_card

        config = load_config(content)
        diagnostics = Diagnostics()
        md = markdown()
        parsed = [parse_source(source, diagnostics, md) for source in load_sources(config.content_dir, diagnostics)]
        check_cards([render_card(md, card) for file in parsed for card in file.cards], diagnostics)
        diagnostics.raise_if_errors()
        added = 0
        for file in parsed:
            count = add_ids(file.source.path, list(file.cards))
            if count:
                click.echo(f"{file.source.display}: added {count} id(s)")
            added += count
        click.echo(f"added {added} id(s)")
        return 0

    _run(ctx, action)


@main.command()
@content_option
@media_option
@click.option("--out", type=_dir, default=None, help="Folder of the site.  [default: dist/preview/]")
@click.pass_context
def preview(ctx: click.Context, content: Path | None, media: Path | None, out: Path | None) -> None:
    """Write a static site showing every card's front and back as Anki shows them.

    Open OUT/index.html in a browser: it works offline, from file://. Filter by topic and
    difficulty, search, switch night mode, narrow to a phone's width.
    """
    def action() -> int:
        from .errors import display_path

        config, content_read, plans = _plan_everything(content, media)
        from .preview import write_preview

        target = out or config.out_dir / "preview"
        index, total = write_preview(plans, target)
        _print_diagnostics(content_read.diagnostics)
        click.echo(f"{display_path(index)}: {total} cards in {len(plans)} deck(s)")
        return 0

    _run(ctx, action)


@main.command()
@content_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def stats(ctx: click.Context, content: Path | None, as_json: bool) -> None:
    """Print how many cards there are per topic and difficulty, with totals."""
    def action() -> int:
        import json as json_module

        from .build import read_content
        from .cache import RenderCache, default_cache_dir
        from .config import load_config
        from .stats import count_cards, format_table

        config = load_config(content)
        result = read_content(config, cache=RenderCache(default_cache_dir(), writable=False))
        counts = count_cards(result.cards)
        click.echo(json_module.dumps(counts, indent=2) if as_json else format_table(counts))
        return 0

    _run(ctx, action)


@main.command()
@content_option
@media_option
@click.option("--out", type=_dir, default=None, help="Folder the decks are written to.  [default: dist/]")
@click.option("--preview/--no-preview", default=True, show_default=True, help="Refresh the preview site too.")
@click.pass_context
def watch(ctx: click.Context, content: Path | None, media: Path | None, out: Path | None, preview: bool) -> None:
    """Rebuild (and refresh the preview) whenever a source or media file changes.

    Keeps running after a content error: fix the file and save, and it builds again. Ctrl-C stops.
    """
    def action() -> int:
        from watchfiles import watch as watch_changes

        from .config import load_config

        config = load_config(content, media, out)
        _rebuild(config, preview)
        folders = [str(p) for p in (config.content_dir, config.media_dir) if p.is_dir()]
        announced = False
        # yield_on_timeout: the first (empty) batch comes once the watcher is really listening, so
        # "watching" is never printed before a change can be seen.
        for changes in watch_changes(*folders, raise_interrupt=False, yield_on_timeout=True, rust_timeout=500):
            if not announced:
                click.echo(f"watching {', '.join(folders)} (Ctrl-C to stop)", err=True)
                announced = True
            if changes:
                _rebuild(config, preview)
        return 0

    _run(ctx, action)


def _plan_everything(content: Path | None, media: Path | None):
    """Read the content and plan its decks without writing anything (the lock is only read)."""
    from .build import plan_deck, read_content
    from .cache import RenderCache, default_cache_dir
    from .config import load_config
    from .lock import ModificationLock

    config = load_config(content, media)
    content_read = read_content(config, cache=RenderCache(default_cache_dir()))
    lock = ModificationLock.read(config.lock_path)
    return config, content_read, [plan_deck(spec, content_read, config, lock) for spec in config.decks]


def _rebuild(config: "BuildConfig", preview: bool) -> None:
    """One build for `watch`: content errors are printed, and watching goes on."""
    import time

    from .build import build as run_build
    from .cache import RenderCache, default_cache_dir
    from .errors import DeckError, display_path

    started = time.strftime("%H:%M:%S")
    try:
        report = run_build(config, cache=RenderCache(default_cache_dir()))
        _print_diagnostics(report.diagnostics)
        cards = sum(deck.cards for deck in report.decks)
        click.echo(f"[{started}] built {len(report.decks)} deck(s), {cards} cards in {report.seconds:.2f} s", err=True)
        if preview:
            from .preview import write_preview

            index, _ = write_preview(list(report.plans), config.out_dir / "preview")
            click.echo(f"[{started}] preview: {display_path(index)}", err=True)
    except DeckError as exc:
        _print_diagnostics(exc.diagnostics)
        click.echo(f"[{started}] build failed; waiting for the next change", err=True)


@main.command("release-notes")
@content_option
@click.option(
    "--previous-lock", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="The lock file of the previous release (for example from `git show v1.0.0:build_deck.lock`).",
)
@click.pass_context
def release_notes(ctx: click.Context, content: Path | None, previous_lock: Path) -> None:
    """Print Markdown release notes: the cards added, changed and retired since the previous release."""
    def action() -> int:
        from .build import read_content
        from .config import load_config
        from .release import compare_with, format_notes

        config = load_config(content)
        click.echo(format_notes(config.version, compare_with(config, read_content(config), previous_lock)))
        return 0

    _run(ctx, action)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
