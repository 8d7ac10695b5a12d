"""The command line: the only module that imports click. Heavy imports wait until a command runs."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from . import __version__

EXIT_OK = 0
EXIT_CONTENT = 1  # the content (or the machine: a full disk) stops the command
EXIT_USAGE = 2  # as click: wrong usage, or a Python without the dependencies
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports a process ended by SIGINT (128 + 2)
BUG_REPORT = (
    "internal error in deckbuild {version}: {error}. Please report it as a bug (rerun with --debug for the traceback)."
)

F = TypeVar("F", bound=Callable[..., object])

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .addids import FileOutcome
    from .cache import RenderCache
    from .errors import Diagnostic
    from .records import DeckResult

class _Folder(click.Path):
    """A folder option: an empty value is refused (it would silently mean the current folder)."""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path is not a folder (write . for the current folder)", param, ctx)
        return super().convert(value, param, ctx)


_dir = _Folder(file_okay=False, path_type=Path)
PUSH_URL = "http://127.0.0.1:8765"  # AnkiConnect's default address


def _with_scheme(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An address without a scheme (`localhost:8765`) is AnkiConnect's plain HTTP one."""
    if value is None or "://" in value:
        return value
    return f"http://{value.strip()}"


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


SUMMARY_AFTER = 3  # more warnings of one kind than this are summarised (unless --verbose)
KIND_LABELS = {
    "missing-id": "cards without an id",
    "missing-difficulty": "cards without a difficulty",
    "no-cards": "files without a card",
    "ignored-key": "front-matter keys ignored",
    "wide-code": "code lines wider than the phone width",  # on the question side
    "unknown-language": "code blocks in an unknown language",
    "setext-heading": "lines of text above --- read as headings",
    "foreign-note-id": "Obsidian_to_Anki note ids ignored",
    "introduction": "introductions (text before a file's first card, on no card)",
}
_QUOTED = re.compile(r"'[^']*'|`[^`]*`")


def _summary_kind(diagnostic: Diagnostic) -> str:
    """What repeats: the warning's own kind, or its message with every quoted part left out (so that
    `unknown language 'a'` and `unknown language 'b'` are one kind)."""
    return diagnostic.kind or _QUOTED.sub("'…'", diagnostic.message)


def _summary_label(kind: str) -> str:
    if kind in KIND_LABELS:
        return KIND_LABELS[kind]
    shown = kind if len(kind) <= 60 else kind[:59] + "…"
    return f'warnings like "{shown}"'


def _printable(text: str) -> str:
    """A path for the terminal: bytes of a name that are not UTF-8 written as \\xNN."""
    return os.fsencode(text).decode("utf-8", "backslashreplace") if os.name != "nt" else text


def _command_name() -> str:
    from .command import command_name

    return command_name()


def _hint(kind: str) -> str | None:
    ctx = click.get_current_context(silent=True)
    content = ctx.params.get("content") if ctx else None
    where = f" --content {content}" if content else ""
    return {
        "missing-id": f"run `{_command_name()} add-ids{where}` to write ids into the sources (it changes nothing else)",
        "missing-difficulty": "set `difficulty:` in a file's front matter to give all its cards one",
        "no-cards": "a card starts with a level-2 heading (`## Question`); files without one are left out",
        "ignored-key": "front-matter keys that deckbuild does not use are ignored (an error under --strict)",
        "wide-code": "break long code lines (or raise `wide-code` in [tool.build_deck.lint]); `check --lint` lists "
                     "every card-quality finding",
        "namespace": f"run `{_command_name()} init` to write a configuration with a namespace of its own "
                     "(or add [tool.build_deck] to pyproject.toml)",
    }.get(kind)


def _verbosity() -> str:
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get("build_deck.verbosity", "normal") if ctx else "normal"


def _print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    """Errors always; warnings unless --quiet, each kind summarised beyond a few unless --verbose,
    then one hint per kind saying how to fix them all."""
    verbosity = _verbosity()
    shown: dict[str, int] = {}
    for diagnostic in diagnostics:
        if diagnostic.severity.value == "warning" and verbosity == "quiet":
            continue
        if diagnostic.severity.value == "warning":
            kind = _summary_kind(diagnostic)
            shown[kind] = shown.get(kind, 0) + 1
            if verbosity != "verbose" and shown[kind] > SUMMARY_AFTER:
                continue
        click.echo(str(diagnostic), err=True)
    for kind, count in shown.items():
        if count > SUMMARY_AFTER and verbosity != "verbose":
            label = _summary_label(kind)
            more = count - SUMMARY_AFTER
            click.echo(f"... and {more} more {label} ({count} in all; --verbose shows every one)", err=True)
        hint = _hint(kind)
        if hint:
            click.echo(f"hint: {hint}", err=True)


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta["build_deck.verbosity"] = param.name


def verbosity_options(f: F) -> F:
    f = click.option("--verbose", "-v", is_flag=True, expose_value=False, callback=_set_verbosity,
                     help="Show every warning, not a summary of repeated ones.")(f)
    return click.option("--quiet", "-q", is_flag=True, expose_value=False, callback=_set_verbosity,
                        help="Show errors only.")(f)


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


def _failure_line(diagnostics: list[Diagnostic], writes: bool) -> str:
    """The last line of a failed run. Under --strict with no error, it names the warnings that became
    errors (by kind, or by place for a warning of no kind), never "0 error(s)"."""
    errors = sum(1 for d in diagnostics if d.severity.value == "error")
    warnings = [d for d in diagnostics if d.severity.value == "warning"]
    tail = "; nothing was written" if writes else ""
    if errors or not warnings:
        return f"failed: {errors} error(s), {len(warnings)} warning(s){tail}"
    kinds: dict[str, int] = {}
    for warning in warnings:
        if warning.kind:
            kinds[warning.kind] = kinds.get(warning.kind, 0) + 1
    named = [f"{KIND_LABELS.get(kind, kind)}: {count}" for kind, count in kinds.items()]
    places = [str(w.location) for w in warnings if not w.kind]
    if places:
        shown = ", ".join(places[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")
        named.append(f"{'others' if named else 'at'} {shown}")
    return f"failed under --strict: its {len(warnings)} warning(s) count as errors ({'; '.join(named)}){tail}"


def _run(ctx: click.Context, action: Callable[[], int], writes: bool = True) -> None:
    """Turn our errors into `path:line: error: ...` lines and exit codes; anything else is a bug.
    `writes`: the command writes files, so a failure says that nothing was written."""
    from .errors import DeckError

    tail = "; nothing was written" if writes else ""
    try:
        code = action()
    except DeckError as exc:
        _print_diagnostics(exc.diagnostics)
        click.echo(_failure_line(exc.diagnostics, writes), err=True)
        ctx.exit(EXIT_CONTENT)
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was written" if writes else "interrupted", err=True)
        ctx.exit(EXIT_INTERRUPTED)
    except OSError as exc:  # the machine, not the content: a folder that cannot be written, a full disk
        where = exc.filename or "?"
        click.echo(f"{where}: error: {exc.strerror or exc}{tail}", err=True)
        ctx.exit(EXIT_CONTENT)
    except ModuleNotFoundError as exc:  # the environment, not a bug: a dependency is not installed
        if ctx.find_root().params.get("debug"):
            traceback.print_exc()
        library = (exc.name or "?").split(".")[0]  # the package to install, not the submodule that failed
        click.echo(
            f"error: the library '{library}' that deckbuild needs is not installed in this Python "
            f"({sys.executable}): run `pip install -r requirements/build.txt` in a checkout, or "
            "`pip install deckbuild`",
            err=True,
        )
        ctx.exit(EXIT_USAGE)
    except Exception as exc:  # noqa: BLE001 - the last line of defence, reported as a bug
        if ctx.find_root().params.get("debug"):
            traceback.print_exc()
        click.echo(BUG_REPORT.format(version=__version__, error=f"{type(exc).__name__}: {exc}"), err=True)
        ctx.exit(EXIT_INTERNAL)
    ctx.exit(code)


class _BuildByDefault(click.Group):
    """With no command, the program is `build`: options that are not the program's own (`--content X`,
    `--no-cache`, `-v`) are `build`'s, so `deckbuild --content X` is `deckbuild build --content X`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        own = {name for param in self.get_params(ctx) for name in (*param.opts, *param.secondary_opts)}
        position = 0
        while position < len(args) and args[position] in own:
            position += 1  # the program's own options are flags: none takes a value
        if position < len(args) and args[position].startswith("-") and args[position] != "--":
            args = [*args[:position], "build", *args[position:]]
        return super().parse_args(ctx, args)


@click.group(cls=_BuildByDefault, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckbuild")
@click.option("--debug", is_flag=True, help="Show the traceback of an internal error.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Build Anki decks (.apkg) from Markdown question-and-answer files.

    With no command, runs `build`: `deckbuild --content notes` is `deckbuild build --content notes`.

    Safety: a deck holds only allow-listed HTML, images and sounds that are packaged files, math
    with allow-listed TeX commands, no other text Anki plays or typesets ([sound:], [latex]) and
    no control characters; nothing read from the render cache is trusted. README.md, "Safety",
    says more.
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
              help="Processes for rendering, at most one per core.  [default: one per core, when there is enough work]")
@click.option(
    "--frozen", is_flag=True,
    help="Fail, writing nothing, if the lock would change (for releases: every changed note was committed).",
)
@verbosity_options
@click.pass_context
def build(ctx: click.Context, content: Path | None = None, media: Path | None = None,
          out: Path | None = None, lock: Path | None = None, strict: bool = False,
          no_cache: bool = False, cache_dir: Path | None = None, jobs: int | None = None,
          frozen: bool = False) -> None:
    """Build every configured deck into the output folder.

    Without configuration (or with --content pointing elsewhere) the folder becomes one deck.
    A failed build leaves the output folder exactly as it was. The lock records when each note
    last changed and which versions rendered it; commit it with the content. A build started on
    exactly the files the last build left prints that build's report again without reading a card
    (--no-cache reads everything).
    """
    def action() -> int:
        from .build import build as run_build
        from .config import load_config
        from .errors import display_path
        from .load import find_markdown_files
        from .workers import available_cores

        config = load_config(content, media, out, lock_path=lock)
        cache = _cache(cache_dir, enabled=not no_cache)
        if jobs is not None and jobs > (cores := available_cores()):
            click.echo(f"note: --jobs {jobs} is more than the {cores} cores available: "
                       f"rendering uses at most {cores} processes", err=True)
        with _progress(len(find_markdown_files(config.content_dir)) if config.content_dir.is_dir() else 0) as step:
            report = run_build(config, strict=strict, cache=cache, jobs=jobs, progress=step, frozen=frozen, reuse=True)
        _print_diagnostics(report.diagnostics)
        if report.toolchain_change and config.lock_path is not None:  # a change is told from the lock
            click.echo(f"{display_path(config.lock_path)}: note: {report.toolchain_change}", err=True)
        for deck in report.decks:
            note = "" if deck.written else " (unchanged)"
            click.echo(f"{_printable(display_path(deck.path))}: {deck.notes} notes, {deck.cards} cards{note}")
        total = sum(deck.cards for deck in report.decks)
        click.echo(f"built {len(report.decks)} deck(s), {total} cards in {report.seconds:.2f} s")
        return EXIT_OK

    _run(ctx, action)


@main.command()
@content_option
@media_option
@strict_option
@verbosity_options
@click.option(
    "--lint", "run_lint", is_flag=True,
    help="Also check card quality (docs/LINT.md): print `path:line: lint[rule]: message` lines on stdout, "
         "sorted, then a count per rule. Findings fail the check (exit 1) only with --strict.",
)
@click.pass_context
def check(ctx: click.Context, content: Path | None, media: Path | None, strict: bool, run_lint: bool) -> None:
    """Validate everything a build would, and write nothing.

    Code lines wider than a phone shows and multiple-choice answers biased to one position or
    to the longest option are warnings. --lint adds the card-quality rules; configure them in
    [tool.build_deck.lint] of pyproject.toml, silence one on a card with
    <!-- id: ..., lint: {ignore: [rule], why: "reason"} -->.
    """
    def action() -> int:
        from .build import check_content
        from .config import load_config

        config = load_config(content, media)
        result, report = check_content(config, strict=strict, cache=_cache(writable=False), run_lint=run_lint)
        _print_diagnostics(result.diagnostics)
        notes = len(result.cards)
        # a cloze note makes one card per number
        cards = sum(len(card.meta.cloze_numbers) or 1 for card in result.cards)
        click.echo(f"ok: {notes} notes ({cards} cards) in {len(result.files)} file(s)", err=True)
        if report is None:
            return EXIT_OK
        for finding in report.findings:
            click.echo(str(finding))
        click.echo(report.summary())
        return EXIT_CONTENT if strict and report.findings else EXIT_OK

    _run(ctx, action, writes=False)


@main.command("add-ids")
@content_option
@verbosity_options
@click.pass_context
def add_ids_command(ctx: click.Context, content: Path | None) -> None:
    """Write an id into every card that has none (the id its question gives now).

    Rewrites only the files that need it, atomically, adding one id per card and changing
    nothing else. Ids keep a card's review history when its question is reworded later.
    Problems elsewhere in the content never stop it: every card that has a heading (and options
    that can be read) gets its id, and the problems are listed after.
    """
    def action() -> int:
        from .addids import add_missing_ids
        from .config import load_config

        outcome = add_missing_ids(load_config(content), on_file=_say_file_outcome)
        _print_diagnostics(outcome.diagnostics)
        click.echo(f"added {outcome.added} id(s)")
        if outcome.errors:
            click.echo(f"{outcome.errors} error(s) above are still to fix (the ids were written all the same); "
                       f"`{_command_name()} check` lists every problem", err=True)
        return EXIT_CONTENT if outcome.skipped else EXIT_OK

    _run(ctx, action)


@main.command()
@content_option
@media_option
@click.option("--out", type=_dir, default=None, help="Folder of the site.  [default: dist/preview/]")
@click.pass_context
def preview(ctx: click.Context, content: Path | None, media: Path | None, out: Path | None) -> None:
    """Write a static site showing every card's front and back as Anki shows them.

    Open OUT/index.html in a browser: it works offline, from file://. Filter by topic and
    difficulty, search, switch night mode, narrow to a phone's width. Each card shows its lint
    findings (see `check --lint`), and a switch shows only the cards that have some.
    """
    def action() -> int:
        from .build import build_preview
        from .config import load_config
        from .errors import display_path

        config = load_config(content, media)
        site = build_preview(config, out or config.out_dir / "preview", _cache())
        _print_diagnostics(site.content.diagnostics)
        click.echo(f"lint: {len(site.lint.findings)} finding(s) shown on the cards they concern", err=True)
        click.echo(f"{display_path(site.index)}: {site.cards} cards in {len(site.plans)} deck(s)")
        return EXIT_OK

    _run(ctx, action)


@main.command()
@content_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def stats(ctx: click.Context, content: Path | None, as_json: bool) -> None:
    """Print how many cards there are per topic and difficulty, with totals."""
    def action() -> int:
        import json as json_module

        from .config import load_config
        from .stats import content_stats, format_table

        counts = content_stats(load_config(content), _cache(writable=False))
        click.echo(json_module.dumps(counts, indent=2) if as_json else format_table(counts))
        return EXIT_OK

    _run(ctx, action, writes=False)


@main.command()
@content_option
@media_option
@click.option("--out", type=_dir, default=None, help="Folder the decks are written to.  [default: dist/]")
@click.option("--preview/--no-preview", default=True, show_default=True, help="Refresh the preview site too.")
@click.option("--push", "push_to", is_flag=False, flag_value=PUSH_URL, default=None, metavar="[URL]",
              callback=_with_scheme,
              help=f"After each build, import the decks into the running Anki through AnkiConnect.  [URL: {PUSH_URL}]")
@verbosity_options
@click.pass_context
def watch(ctx: click.Context, content: Path | None, media: Path | None, out: Path | None, preview: bool,
          push_to: str | None = None) -> None:
    """Rebuild (and refresh the preview) whenever a source or media file changes.

    Keeps running after a content error: fix the file and save, and it builds again. Ctrl-C stops.
    With --push, every good build is imported into Anki desktop (AnkiConnect), seconds after a save.
    """
    def action() -> int:
        from .config import load_config
        from .watch import watch_and_rebuild

        watch_and_rebuild(load_config(content, media, out), _cache, preview, push_to,
                          say=lambda line: click.echo(line, err=True), show=_print_diagnostics)
        return EXIT_OK

    _run(ctx, action)


def _cache(folder: Path | None = None, enabled: bool = True, writable: bool = True) -> RenderCache:
    """The render cache every command uses: `folder`, else $BUILD_DECK_CACHE_DIR or the user's cache
    folder; a disabled one renders everything afresh (--no-cache)."""
    from .cache import RenderCache, default_cache_dir

    return RenderCache((folder or default_cache_dir()) if enabled else None, writable=writable)


def _say_file_outcome(file: FileOutcome) -> None:
    """One line of add-ids about one file, as soon as it is handled."""
    from .addids import FileStatus
    from .errors import shown_path

    where = shown_path(file.path)
    if file.status is FileStatus.SYMLINK:
        click.echo(f"{where}: warning: a symbolic link: not changed (add ids in the file it points to)", err=True)
    elif file.status is FileStatus.CHANGED_MEANWHILE:
        click.echo(f"{where}: error: the file changed while add-ids ran; nothing was written to it: "
                   "run add-ids again", err=True)
    elif file.added:
        click.echo(f"{where}: added {file.added} id(s)")


@main.command("push")
@content_option
@media_option
@click.option("--out", type=_dir, default=None, help="Folder the decks are written to.  [default: dist/]")
@click.option("--url", default=PUSH_URL, show_default=True, callback=_with_scheme,
              help="Where AnkiConnect listens (`localhost:8765` means http://localhost:8765).")
@verbosity_options
@click.pass_context
def push_command(ctx: click.Context, content: Path | None, media: Path | None, out: Path | None, url: str) -> None:
    """Build, then import every deck into the running Anki desktop.

    Uses the AnkiConnect add-on's importPackage action (made for AnkiConnect 6), which imports
    exactly as File > Import does: notes are matched by identity, never duplicated.
    """
    def action() -> int:
        from .config import load_config
        from .errors import display_path
        from .push import build_and_push

        def say_pushed(deck: DeckResult) -> None:
            click.echo(f"{display_path(deck.path)}: {deck.notes} notes imported into Anki")

        error = build_and_push(load_config(content, media, out), _cache(), url, show=_print_diagnostics,
                               on_pushed=say_pushed)
        if error is not None:
            click.echo(f"push: error: {error}", err=True)
            return EXIT_CONTENT
        return EXIT_OK

    _run(ctx, action)


@main.command("init")
@click.argument("folder", required=False, default=".", type=_dir)
@click.option("--name", default=None, help="The deck's name.  [default: the folder's name]")
@click.pass_context
def init_command(ctx: click.Context, folder: Path, name: str | None) -> None:
    """Start a deck repository in FOLDER (default: here).

    Writes pyproject.toml (the deck's name and a namespace with a random part, so that no other
    deck's notes share its identities), a sample card in content/, .gitignore and a GitHub
    workflow that checks every push and publishes tagged releases. Never overwrites a file.
    """
    def action() -> int:
        from .errors import display_path
        from .init import init_deck

        for path in init_deck(folder, name):
            click.echo(f"wrote {display_path(path)}")
        where = "" if folder.resolve() == Path.cwd().resolve() else f"cd {display_path(folder)} && "
        command = _command_name()
        started = Path(sys.argv[0])
        if where and command == "python build_deck.py" and started.name == "build_deck.py":
            command = f"python {started.resolve()}"  # this checkout's build_deck.py, from the new folder
        click.echo(f"next: {where}{command} build")
        return EXIT_OK

    _run(ctx, action)


@main.command("convert")
@click.option("--from", "tool", required=True,
              type=click.Choice(["ankdown", "md2anki", "markdown-anki-decks", "inka2", "obsidian"]),
              help="The tool whose Markdown SRC holds (obsidian: Obsidian_to_Anki).")
@click.argument("source", metavar="SRC", type=_Folder(file_okay=False, exists=True, path_type=Path))
@click.option("--out", type=_dir, required=True, help="Folder to write build_deck Markdown into (new or empty).")
@click.option("--force", is_flag=True, help="Write into OUT even if it holds files that convert did not write.")
@click.pass_context
def convert_command(ctx: click.Context, tool: str, source: Path, out: Path, force: bool) -> None:
    """Rewrite another tool's cards as build_deck Markdown in OUT; SRC is only read.

    Carries ids, decks (as topics), tags, clozes, math, images and sounds, and the other tool's note
    identity where its files let it be computed (docs/MIGRATING.md says for which tools), so that a
    deck imported before is updated. Prints one line for each construct it could not carry.
    """
    def action() -> int:
        from .convert import ConvertError, convert
        from .errors import display_path

        try:
            conversion, files, notes = convert(tool, source, out, force)
        except ConvertError as exc:
            click.echo(f"{exc}; nothing was written", err=True)
            return EXIT_CONTENT
        for line in conversion.sorted_lost():
            click.echo(line, err=True)
        click.echo(f"{display_path(out)}: {notes} notes in {files} file(s), {len(conversion.media)} media file(s) "
                   f"converted from {tool}; {len(conversion.lost)} construct(s) not carried")
        if notes:
            click.echo(f"next: {_command_name()} check --content {display_path(out)}", err=True)
        return EXIT_OK

    _run(ctx, action)


@main.command("release-notes")
@content_option
@click.option(
    "--previous-lock", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="The lock file of the previous release (for example from `git show v1.0.0:build_deck.lock`).",
)
@click.option("--summary", is_flag=True, help="Only the number of cards added, changed and retired per deck.")
@click.pass_context
def release_notes(ctx: click.Context, content: Path | None, previous_lock: Path, summary: bool = False) -> None:
    """Print Markdown release notes: the cards added, changed and retired since the previous release,
    then how learners download, import and update each deck."""
    def action() -> int:
        from .config import load_config
        from .release import release_notes as notes

        click.echo(notes(load_config(content), previous_lock, summary=summary))
        return EXIT_OK

    _run(ctx, action, writes=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
