"""Package stage: notes -> .apkg files. The only module that imports genanki, and only in the
functions that use it: a rebuild that writes no package (nothing changed) never loads it and its
dependencies (asyncio among them), a twentieth of such a rebuild's time.

genanki stamps every note, card and zip entry with the wall clock and leaves its temporary
database behind; here each note gets its own modification time, ids come from the build's own
clock, the zip has fixed dates, order and compression, and the database lives in a folder that
is removed. The same notes give the same bytes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import html
import itertools
import json
import operator
import os
import re
import secrets
import shutil
import sqlite3
import string
import zipfile
from collections.abc import Iterator
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
from .errors import display_path
from .notetypes import NOTETYPES, NoteTypeContract, card_css
from .records import DeckPlan, NoteRecord

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 6


# Anki's 91 characters for a guid, in the order of their values (genanki's guid_for writes the same).
GUID_DIGITS = string.ascii_letters + string.digits + "!#$%&()*+,-./:;<=>?@[]^_`{|}~"


def note_guid(namespace: str, card_id: str) -> str:
    """A note's identity: the deck's namespace and the card's id, never its text. The first 8 bytes
    of the SHA-256 of `namespace__card_id`, as a number in base 91: what genanki's `guid_for` gives
    for the two values (every note this tool ever packaged has it). Worked out here so that no
    library upgrade can change an identity that learners' review history hangs on;
    tests/test_package_stage.py compares the two."""
    number = int.from_bytes(hashlib.sha256(f"{namespace}__{card_id}".encode()).digest()[:8], "big")
    digits = []
    while number:
        number, digit = divmod(number, 91)
        digits.append(GUID_DIGITS[digit])
    return "".join(reversed(digits))


_TAG = re.compile(r"<[^>]*>")
_SORT_INDEX = {key: contract.sort_index for key, contract in NOTETYPES.items()}  # worked out once, not per note


def sort_text(record: NoteRecord) -> str:
    """What Anki's browser sorts and shows in its first column: the sort field as plain text."""
    value = record.fields[_SORT_INDEX[record.notetype]]
    return html.unescape(_TAG.sub("", value)).strip()


def deck_id(name: str) -> int:
    digest = hashlib.sha256(f"build_deck deck {name}".encode()).digest()
    return (1 << 40) + int.from_bytes(digest[:6], "big")


def _model(contract: NoteTypeContract) -> Any:
    """The note type as genanki describes it (a genanki.Model)."""
    import genanki

    return genanki.Model(
        model_id=contract.id,
        name=contract.name,
        fields=[{"name": name, "id": field_id} for name, field_id in contract.fields],
        templates=[
            {"name": name, "id": template_id, "qfmt": front, "afmt": back}
            for name, template_id, front, back in contract.templates
        ],
        css=card_css(),
        model_type=genanki.Model.CLOZE if contract.is_cloze else genanki.Model.FRONT_BACK,
        sort_field_index=contract.sort_index,
    )


def _build_database(plan: DeckPlan, database: Path) -> None:
    """genanki writes the collection, note types and decks; notes and cards go in by executemany,
    which is several times faster than genanki's note-by-note loop for large decks."""
    import genanki

    models = {key: _model(contract) for key, contract in NOTETYPES.items()}
    top = genanki.Deck(deck_id(plan.spec.name), plan.spec.name, plan.description)
    decks = {plan.spec.name: top}
    for record in plan.notes:
        if record.deck_name not in decks:
            decks[record.deck_name] = genanki.Deck(deck_id(record.deck_name), record.deck_name)
    deck_ids = {name: deck_id(name) for name in decks}
    for model in models.values():
        top.add_model(model)  # every note type travels, so a deck of one kind still updates the others

    stamp = max([record.modified for record in plan.notes] + list(plan.notetype_modified.values()) + [0])
    first_id = stamp * 1000 + 1  # never 0, which Anki's collection cannot hold (SOURCE_DATE_EPOCH=0)
    notes: list[tuple[object, ...]] = []  # rows of Anki's `notes` and `cards` tables
    cards: list[tuple[object, ...]] = []
    for position, record in enumerate(plan.notes):
        note_id = first_id + position
        notes.append((
            note_id, record.guid or note_guid(plan.spec.namespace, record.card_id),
            NOTETYPES[record.notetype].id, record.modified, -1,
            f" {' '.join(record.tags)} ", "\x1f".join(record.fields), sort_text(record), 0, 0, "",
        ))
        # a new card's `due` is its position: Anki hands out new cards from the lowest up
        dues = record.positions or (position,) * record.card_count
        for ordinal, due in zip(record.card_ords, dues, strict=True):
            cards.append((
                first_id + len(plan.notes) + len(cards), note_id, deck_ids[record.deck_name], ordinal,
                record.modified, -1, 0, 0, due, 0, 0, 0, 0, 0, 0, 0, 0, "",
            ))
    connection = sqlite3.connect(database)
    try:
        cursor = connection.cursor()
        # a scratch file, thrown away if the build stops: no journal on disk and no waiting for the
        # disk to confirm each write (the database's bytes are the same)
        cursor.execute("PRAGMA journal_mode = MEMORY")
        cursor.execute("PRAGMA synchronous = OFF")
        genanki.Package(list(decks.values())).write_to_db(cursor, stamp, itertools.count(first_id))
        cursor.executemany("INSERT INTO notes VALUES (?,?,?,?,?,?,?,?,?,?,?)", notes)
        cursor.executemany("INSERT INTO cards VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cards)
        (models_json,) = cursor.execute("SELECT models FROM col").fetchone()
        stored = json.loads(models_json)
        for contract in NOTETYPES.values():
            stored[str(contract.id)]["mod"] = plan.notetype_modified.get(contract.key, stamp)
        cursor.execute("UPDATE col SET models = ?", (json.dumps(stored, sort_keys=True),))
        connection.commit()
    finally:
        connection.close()


def _zip_entry(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data, compresslevel=ZIP_LEVEL)


def write_package(plan: DeckPlan, target: Path) -> None:
    """Write one deck to `target` (normally a temporary file that the caller renames).

    genanki's database is made in a private scratch folder beside `target` (never in the system's
    temporary folder, which other users share), named so that a later build knows it as its own."""
    scratch = make_temporary(target.parent, target, directory=True)
    try:
        database = scratch / "collection.anki2"
        try:
            _build_database(plan, database)
        except sqlite3.OperationalError as exc:  # a full disk, seen through SQLite
            raise OSError(errno.EIO, f"the deck's database could not be written ({exc})") from exc
        media = sorted(plan.media, key=lambda m: m.name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        stream = os.fdopen(os.open(target, flags, 0o600), "wb")
        with stream, zipfile.ZipFile(stream, "w") as archive:
            _zip_entry(archive, "collection.anki2", database.read_bytes())
            index = {str(number): item.name for number, item in enumerate(media)}
            _zip_entry(archive, "media", json.dumps(index, sort_keys=True).encode("utf-8"))
            for number, item in enumerate(media):
                _zip_entry(archive, str(number), item.path.read_bytes())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# Every attribute of a note but its field texts, read in one call (derived from the record, so an
# attribute added to NoteRecord is digested too); the texts are hashed as the package stores them,
# joined by U+001F (Anki's separator), without a repr's escaping.
_NOTE_FIELDS = tuple(field.name for field in dataclasses.fields(NoteRecord) if field.name != "fields")
_note_attributes = operator.attrgetter(*_NOTE_FIELDS)


def plan_digest(plan: DeckPlan) -> str:
    """Everything that goes into a package: equal digests give equal bytes."""
    digest = hashlib.sha256(tool_fingerprint().encode())
    digest.update(repr((plan.spec, plan.description, sorted(plan.notetype_modified.items()))).encode())
    for note in plan.notes:
        digest.update(repr(_note_attributes(note)).encode())
        texts = "\x1f".join(note.fields).encode("utf-8", "surrogatepass")
        digest.update(b"%d:" % len(texts))  # its length first: where one note's texts end is never in doubt
        digest.update(texts)
    for media in sorted(plan.media, key=lambda m: m.name):
        stat = media.path.stat()
        digest.update(repr((media.name, str(media.path), stat.st_size, stat.st_mtime_ns)).encode())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record_path(cache_folder: Path, target: Path, create: bool = False) -> Path | None:
    """Where the signed record of a deck file lives, or None when the cache folder is not the user's own."""
    folder = trusted_folder(cache_folder, "packages", create=create)
    name = hashlib.sha256(str(target.absolute()).encode("utf-8", "surrogateescape")).hexdigest()
    return None if folder is None else folder / f"{name}.json"


def package_is_current(plan: DeckPlan, out_dir: Path, cache_folder: Path | None) -> Path | None:
    """The deck's path when the file there already holds exactly this plan (so writing is skipped)."""
    target = out_dir / plan.spec.file_name
    if cache_folder is None or not target.is_file():
        return None
    path = _record_path(cache_folder, target)
    data = None if path is None else read_private_file(path)
    if data is None:
        return None
    try:
        record = read_signed_record(data.decode("utf-8"))
        if record["plan"] == plan_digest(plan) and record["file"] == _file_digest(target):
            return target
    except (OSError, ValueError, KeyError, TypeError):  # a record not signed by this user is None
        pass
    return None


def record_package(plan: DeckPlan, target: Path, cache_folder: Path | None) -> None:
    if cache_folder is None:
        return
    try:
        signed = sign_record({"plan": plan_digest(plan), "file": _file_digest(target)})
        record = _record_path(cache_folder, target, create=True) if signed is not None else None
        if signed is not None and record is not None:
            write_private_file(record, signed.encode("utf-8"))
    except OSError:
        pass


def public_mode() -> int:
    """The mode a newly created file gets under the current umask (mkstemp makes files private)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


# `.<final name>.build_deck-<pid>-<random>-<check>.tmp`: the check is a digest of the rest, so a
# file someone named like ours by hand (`.notes.build_deck-4000000-draft.tmp`) is never taken for one.
_TEMPORARY = re.compile(
    r"\.(?P<final>.+)\.build_deck-(?P<pid>[0-9]+)-(?P<token>[0-9a-f]{16})-(?P<check>[0-9a-f]{16})\.tmp"
)


def _temporary_check(final_name: str, pid: str, token: str) -> str:
    text = f"build_deck temporary\x00{final_name}\x00{pid}\x00{token}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def make_temporary(folder: Path, final: Path, directory: bool = False) -> Path:
    """A new private temporary file (or folder) in `folder` for `final`, created exclusively (never
    through a link), carrying the build's process id and a check that marks it as this tool's own."""
    pid = str(os.getpid())
    while True:
        token = secrets.token_hex(8)
        path = folder / f".{final.name}.build_deck-{pid}-{token}-{_temporary_check(final.name, pid, token)}.tmp"
        try:
            if directory:
                path.mkdir(mode=0o700)
            else:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
        except FileExistsError:
            continue
        return path


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or no way to tell: leave its files alone
    return True


def is_own_temporary(path: Path) -> bool:
    """Whether `path` is a temporary file or folder that a build_deck build made (by its name and
    check) and that belongs to this user."""
    match = _TEMPORARY.fullmatch(path.name)
    if match is None or match["check"] != _temporary_check(match["final"], match["pid"], match["token"]):
        return False
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return os.name == "nt" or info.st_uid == os.geteuid()


def clean_stale_temporaries(out_dir: Path, others: list[Path]) -> list[Path]:
    """Remove what killed builds left in the output folder (and beside the lock): only files and
    folders this tool made (named with its check, owned by this user) whose process is gone."""
    removed = []
    for folder in {out_dir, *(p.parent for p in others)}:
        if not folder.is_dir():
            continue
        for path in folder.glob(".*.build_deck-*-*.tmp"):
            if not is_own_temporary(path):
                continue
            pid = int(_TEMPORARY.fullmatch(path.name)["pid"])  # type: ignore[index]
            if pid == os.getpid() or _process_alive(pid):
                continue
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed.append(path)
    return removed


@contextlib.contextmanager
def staged_outputs(out_dir: Path) -> Iterator[dict[Path, Path]]:
    """Collect final path -> temporary file; rename them all into place only if the block succeeds.

    A failed or interrupted build (Ctrl-C included) removes its temporary files and leaves every
    existing file in `out_dir` as it was.
    """
    staged: dict[Path, Path] = {}
    try:
        yield staged
    except BaseException:
        for temporary in staged.values():
            with contextlib.suppress(OSError):
                temporary.unlink()
        raise
    for final, temporary in staged.items():
        os.replace(temporary, final)


def stage_package(plan: DeckPlan, out_dir: Path, staged: dict[Path, Path]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / plan.spec.file_name
    temporary = make_temporary(out_dir, final)
    staged[final] = temporary
    os.chmod(temporary, public_mode())
    write_package(plan, temporary)
    return final


def stage_text(path: Path, text: str, staged: dict[Path, Path]) -> None:
    """Stage the lock's new text beside it; a failure names the lock's folder (not the output's)
    and leaves no temporary file."""
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
