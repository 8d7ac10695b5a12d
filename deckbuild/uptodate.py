"""The up-to-date check: a build started on exactly the files that the last successful build left
gives the same decks and the same lock again, so it may say so without reading a card.

After a successful build, `remember` writes a signed record (in the cache folder, beside the render
cache) of the state the build left: a digest of the tool and its libraries, the Python, the working
folder, the configuration, the options that change the outcome, the sources as the build read
them, the folders of sources and media (each folder's own modification time changes when an entry is
added, removed or renamed in it), the size and time of every media file packaged, the lock's bytes
and the decks' bytes. It keeps the report's messages too. `unchanged` takes the same digest of the
folders as they are now; when it is the recorded one, it returns that report with nothing written.

A build is a fixed point of the files it leaves: with the same sources, lock and configuration
it plans the same notes (a note's time changes only when its content does) and writes nothing. Any
doubt (no record, a folder tree too large to walk quickly, a source that cannot be read, a build
without a lock, whose times come from the clock) means no answer, and the build runs in full.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .cache import (
    read_private_file,
    read_signed_record,
    sign_record,
    tool_fingerprint,
    trusted_folder,
    write_private_file,
)
from .command import command_name
from .errors import Diagnostic, Severity, SourceLocation
from .lock import current_time
from .records import BuildConfig, BuildReport, DeckResult, SourceFile

STATE_FORMAT = 1
MAX_FOLDERS = 2_000  # folders below the content and media folders walked at most; more: no answer


def remember(
    config: BuildConfig,
    options: tuple[bool, ...],
    cache_folder: Path | None,
    sources: Iterable[SourceFile],
    media: Iterable[Path],
    report: BuildReport,
) -> None:
    """Record the state a successful build left (`sources` as it read them, `media` the files it
    packaged), so that the next build on the same files can skip. Called while the build still
    holds the lock, after its files are in place. A report that tells of a toolchain change is not
    recorded: the next build would not tell it again."""
    if cache_folder is None or config.lock_path is None or report.toolchain_change:
        return
    record = _record_path(config, cache_folder, create=True)
    if record is None:
        return
    media_paths = sorted({str(path) for path in media})
    state = _state(config, options, list(sources), media_paths, [deck.path for deck in report.decks])
    if state is None:
        return
    data = {
        "state": state,
        "media": media_paths,
        "decks": [[str(deck.path), deck.notes, deck.cards] for deck in report.decks],
        "diagnostics": [
            [str(d.location.path), d.location.line, d.severity.value, d.message, d.kind] for d in report.diagnostics
        ],
    }
    try:
        signed = sign_record(data)
        if signed is not None:
            write_private_file(record, signed.encode("utf-8"))
    except OSError:
        pass  # the record only saves time: a build that cannot write it has still succeeded


def unchanged(
    config: BuildConfig, options: tuple[bool, ...], cache_folder: Path | None, sources: list[SourceFile],
    started: float,
) -> BuildReport | None:
    """The report of the last build when every file it left is as it left it (`sources`: the content
    as loaded now, without errors); nothing is written then, and its seconds count from `started`, a
    `time.perf_counter()`. None when anything may differ."""
    if cache_folder is None or config.lock_path is None:
        return None
    current_time()  # SOURCE_DATE_EPOCH is checked as a build checks it (an error is the build's error)
    record = _record_path(config, cache_folder)
    data = None if record is None else read_private_file(record)
    if data is None:
        return None
    try:
        recorded = read_signed_record(data.decode("utf-8"))
        if not isinstance(recorded, dict):
            return None
        decks = tuple(DeckResult(Path(path), notes, cards, written=False) for path, notes, cards in recorded["decks"])
        diagnostics = tuple(
            Diagnostic(SourceLocation(Path(path), line), Severity(severity), message, kind)
            for path, line, severity, message, kind in recorded["diagnostics"]
        )
        media = recorded["media"]
        if not all(isinstance(path, str) for path in media):
            return None
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None  # a record of another shape (another version's) is no answer
    if _state(config, options, sources, media, [deck.path for deck in decks]) != recorded["state"]:
        return None
    return BuildReport(decks, diagnostics, time.perf_counter() - started)


def _record_path(config: BuildConfig, cache_folder: Path, create: bool = False) -> Path | None:
    """One record per configuration and working folder (so that two projects sharing a cache, or
    one built with two sets of options, keep theirs)."""
    folder = trusted_folder(cache_folder, "builds", create=create)
    name = hashlib.sha256(f"{os.getcwd()}\x00{config!r}".encode("utf-8", "surrogateescape")).hexdigest()
    return None if folder is None else folder / f"{name}.json"


def _state(
    config: BuildConfig, options: tuple[bool, ...], sources: list[SourceFile], media: list[str], decks: list[Path]
) -> str | None:
    """The digest of everything a build's outcome depends on; None when it cannot be taken quickly."""
    assert config.lock_path is not None
    digest = hashlib.sha256(f"deckbuild state {STATE_FORMAT}".encode())
    for part in (tool_fingerprint(), sys.version, os.getcwd(), command_name(), repr(config), repr(options),
                 os.environ.get("SOURCE_DATE_EPOCH", "")):
        _add(digest, part)
    for source in sources:
        _add(digest, str(source.path))
        _add(digest, source.text)
    folders = _folder_times([config.content_dir, config.media_dir])
    if folders is None:
        return None
    _add(digest, folders)
    for path in media:
        _add(digest, f"{path} {_stamp(Path(path))}")
    for written in [config.lock_path, *decks]:
        try:
            _add(digest, hashlib.sha256(written.read_bytes()).hexdigest())
        except OSError:
            _add(digest, "absent")
    return digest.hexdigest()


def _add(digest: Any, text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    digest.update(b"%d:" % len(data))  # length first: where one part ends is never in doubt
    digest.update(data)


def _stamp(path: Path) -> str:
    try:
        info = os.stat(path)
    except OSError:
        return "absent"
    return f"{info.st_size} {info.st_mtime_ns} {info.st_ino} {info.st_dev}"


def _folder_times(roots: list[Path]) -> str | None:
    """Each folder below the roots (links to folders not followed) with its modification time, or
    None past MAX_FOLDERS."""
    lines = []
    for root in dict.fromkeys(roots):
        lines.append(f"root {root} {_stamp(root)}")
        for folder, _, _ in os.walk(root):
            lines.append(f"{folder} {_stamp(Path(folder))}")
            if len(lines) > MAX_FOLDERS:
                return None
    return "\n".join(lines)
