"""`add-ids`: write the derived ids of cards that have none into their sources, and nothing else.
A command above the pipeline: it reads what parse made and rewrites source files."""

from __future__ import annotations

import enum
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import Diagnostic, Diagnostics, Severity
from .ids import distinct_derived_ids
from .load import load_sources
from .options import _load_yaml
from .parse import parse_source
from .records import BuildConfig, CardSource, ParsedFile
from .render import markdown

_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


def _split_lines(text: str) -> list[str]:
    """Lines with their own line endings, split exactly as the parser counts them."""
    parts = _LINE_BREAK.split(text)
    lines = [parts[i] + (parts[i + 1] if i + 1 < len(parts) else "") for i in range(0, len(parts), 2)]
    return lines if lines[-1] else lines[:-1]


def written_id(card_id: str) -> str:
    """An id as add-ids writes it: plain, unless YAML would read the plain word as something else
    (`yes`, `on` and `null` are a boolean and nothing, `0x1f` the number 31): then quoted."""
    try:
        plain = _load_yaml("{id: " + card_id + "}") == {"id": card_id}
    except Exception:  # noqa: BLE001 - any doubt: quote it
        plain = False
    return card_id if plain else f'"{card_id}"'


def insert_ids(original: str, cards: list[CardSource]) -> str:
    """The file's text with an id added to each card that lacks one; every other byte unchanged."""
    lines = _split_lines(original)
    ending = next((m.group(0) for m in _LINE_BREAK.finditer(original)), "\n")
    for card in sorted(cards, key=lambda c: c.heading_end, reverse=True):
        shown = written_id(card.meta.id)
        if card.options_comment_line is not None:
            index = card.options_comment_line - 1
            lines[index] = lines[index].replace("<!--", f"<!-- id: {shown},", 1)
        else:
            if card.heading_end > 0 and not _LINE_BREAK.search(lines[card.heading_end - 1]):
                lines[card.heading_end - 1] += ending  # the heading was the file's last line
            lines.insert(card.heading_end, f"<!-- id: {shown} -->{ending}")
    return "".join(lines)


def distinct_ids(files: list[ParsedFile]) -> list[ParsedFile]:
    """Every file with the cards that have no id given distinct ones (distinct_derived_ids)."""
    metas = [card.meta for file in files for card in file.cards]
    ids = iter(distinct_derived_ids([(meta.id, meta.id_is_derived, meta.topic) for meta in metas]))
    return [
        replace(file, cards=tuple(replace(card, meta=replace(card.meta, id=next(ids))) for card in file.cards))
        for file in files
    ]


def write_atomically(path: Path, data: bytes) -> None:
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(name, path.stat().st_mode & 0o7777)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


class ChangedMeanwhile(Exception):
    """The file is not the text its cards were parsed from (it was saved in the meantime)."""


def add_ids(path: Path, cards: list[CardSource], parsed_text: str | None = None) -> int:
    """Rewrite one file with ids for `cards` (those without an id). Returns how many were added.

    `parsed_text` is the text the cards' line numbers come from: when the file no longer holds it
    (saved in the meantime), nothing is written and ChangedMeanwhile is raised."""
    missing = [card for card in cards if card.meta.id_is_derived]
    if not missing:
        return 0
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    if parsed_text is not None and text.replace("\r\n", "\n").replace("\r", "\n") != parsed_text:
        raise ChangedMeanwhile(str(path))
    updated = insert_ids(text, missing)
    write_atomically(path, (b"\xef\xbb\xbf" if bom else b"") + updated.encode("utf-8"))
    return len(missing)


class FileStatus(enum.Enum):
    WRITTEN = "written"  # ids added (or none needed: count 0)
    SYMLINK = "symlink"  # cards without ids, in a symbolic link: not changed
    CHANGED_MEANWHILE = "changed-meanwhile"  # saved while add-ids ran: not changed


@dataclass(frozen=True)
class FileOutcome:
    path: Path
    status: FileStatus
    added: int = 0


@dataclass(frozen=True)
class AddIdsOutcome:
    """What add-ids did: each file in the order it was handled, and the problems the content has."""

    files: tuple[FileOutcome, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def added(self) -> int:
        return sum(file.added for file in self.files)

    @property
    def skipped(self) -> int:
        """Files that changed while add-ids ran, so got no ids."""
        return sum(1 for file in self.files if file.status is FileStatus.CHANGED_MEANWHILE)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)


def _add_ids_to_file(file: ParsedFile) -> FileOutcome:
    path = file.source.path
    if path.is_symlink() and any(card.meta.id_is_derived for card in file.cards):
        # writing would replace the link by a copy: the ids go into the file it points to
        return FileOutcome(path, FileStatus.SYMLINK)
    try:
        return FileOutcome(path, FileStatus.WRITTEN, add_ids(path, list(file.cards), file.source.text))
    except ChangedMeanwhile:
        return FileOutcome(path, FileStatus.CHANGED_MEANWHILE)


def add_missing_ids(config: BuildConfig, on_file: Callable[[FileOutcome], None] | None = None) -> AddIdsOutcome:
    """Give every card of the content that has no id the one its question gives now, file by file.
    Problems elsewhere in the content never stop it: a card that has a heading (and options that can
    be read) gets its id. `on_file` is told each file's outcome as soon as it is known."""
    diagnostics = Diagnostics()
    md = markdown()
    sources = load_sources(config.content_dir, diagnostics)
    parsed = distinct_ids([parse_source(source, diagnostics, md, keep_broken=True) for source in sources])
    outcomes: list[FileOutcome] = []
    for file in parsed:
        outcome = _add_ids_to_file(file)
        outcomes.append(outcome)
        if on_file is not None:
            on_file(outcome)
    return AddIdsOutcome(tuple(outcomes), tuple(diagnostics.items))
